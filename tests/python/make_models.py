"""Writes the small TorchScript models that tests/torchscript.rs checks.

Usage: python make_models.py OUT_DIR CANVAS

Every model takes [batch, 3, CANVAS, CANVAS] ImageNet-normalised RGB
unless its name says otherwise. Weights come from fixed seeds, so each
run writes the same models.

  seg-quarter-turn.pt       mask logits, equivariant to quarter turns by
                            construction: the mean of a small network's
                            output over the four turns of its input, each
                            turned back
  seg-plain.pt              mask logits of that small network alone
  seg-plain-probabilities.pt  the same network followed by a sigmoid
  cls-symmetric.pt          class logits (5 classes) of global mean pooling
                            over a convolution whose kernels are symmetric
                            under the 8 symmetries of the square: invariant
                            to flips and quarter turns by construction
  cls-symmetric-bgr.pt      the same classifier taking BGR values in
                            [0, 255] without normalisation
  cls-top-bottom.pt         class logits (3 classes) that compare the mean
                            of the top half of the image with the bottom
                            half: a half turn swaps classes 0 and 1
  bad-gray-input.pt         mask logits from a single-channel input
  bad-half-mask.pt          mask logits at half the canvas side
  bad-tuple.pt              a tuple of two mask logit tensors
"""

import sys
from pathlib import Path

import torch
from torch import nn
import torch.nn.functional as F

IMAGENET_MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
IMAGENET_STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)


class SmallNet(nn.Module):
    """Two 3x3 convolutions: a mask network with no symmetry."""

    def __init__(self, channels_in=3):
        super().__init__()
        self.first = nn.Conv2d(channels_in, 8, 3, padding=1)
        self.second = nn.Conv2d(8, 1, 3, padding=1)

    def forward(self, x):
        return self.second(torch.tanh(self.first(x)))


class QuarterTurnMean(nn.Module):
    """Mean of turn^-k(net(turn^k(x))) over k = 0..3."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        outputs = [torch.rot90(self.net(torch.rot90(x, k, [2, 3])), -k, [2, 3]) for k in range(4)]
        return torch.stack(outputs).mean(0)


class Sigmoid(nn.Module):
    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return torch.sigmoid(self.net(x))


class SymmetricClassifier(nn.Module):
    """Convolution with D4-symmetric kernels, ReLU, global mean, linear."""

    def __init__(self, classes=5):
        super().__init__()
        kernels = torch.randn(16, 3, 5, 5)
        symmetries = []
        for flipped in (kernels, kernels.flip(3)):
            symmetries += [torch.rot90(flipped, k, [2, 3]) for k in range(4)]
        self.kernels = nn.Parameter(torch.stack(symmetries).mean(0))
        self.bias = nn.Parameter(torch.randn(16) * 0.1)
        self.head = nn.Linear(16, classes)

    def forward(self, x):
        features = F.relu(F.conv2d(x, self.kernels, self.bias, padding=2))
        return self.head(features.mean(dim=(2, 3)))


class FromBgr255(nn.Module):
    """Takes BGR values in [0, 255] and hands the wrapped model ImageNet-normalised RGB."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        rgb = x.flip(1) / 255.0
        return self.net((rgb - IMAGENET_MEAN) / IMAGENET_STD)


class TopBottom(nn.Module):
    """Class 0 when the top half is brighter than the bottom half, class 1 otherwise."""

    def forward(self, x):
        half = x.shape[2] // 2
        difference = x[:, :, :half].mean(dim=(1, 2, 3)) - x[:, :, half:].mean(dim=(1, 2, 3))
        logits = 50.0 * difference
        return torch.stack([logits, -logits, torch.zeros_like(logits)], dim=1)


class HalfSize(nn.Module):
    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return F.avg_pool2d(self.net(x), 2)


class Pair(nn.Module):
    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        out = self.net(x)
        return out, out


def centre_foreground(net, canvas):
    """Shifts the last bias so that about half of a textured image's pixels are foreground."""
    side = canvas * 2 // 3
    image = torch.zeros(1, 3, canvas, canvas)
    start = (canvas - side) // 2
    image[:, :, start:start + side, start:start + side] = torch.rand(1, 3, side, side)
    with torch.no_grad():
        logits = net((image - IMAGENET_MEAN) / IMAGENET_STD)
        inside = logits[:, :, start:start + side, start:start + side]
        net.second.bias -= inside.median()


def save(model, path, example):
    model.eval()
    with torch.no_grad():
        traced = torch.jit.trace(model, example)
    traced.save(str(path))


def main():
    out = Path(sys.argv[1])
    canvas = int(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    example = torch.rand(2, 3, canvas, canvas)

    torch.manual_seed(0)
    plain = SmallNet()
    centre_foreground(plain, canvas)
    save(plain, out / "seg-plain.pt", example)
    save(Sigmoid(plain), out / "seg-plain-probabilities.pt", example)
    save(QuarterTurnMean(plain), out / "seg-quarter-turn.pt", example)

    torch.manual_seed(1)
    classifier = SymmetricClassifier()
    save(classifier, out / "cls-symmetric.pt", example)
    save(FromBgr255(classifier), out / "cls-symmetric-bgr.pt", example * 255.0)
    save(TopBottom(), out / "cls-top-bottom.pt", example)

    torch.manual_seed(2)
    save(SmallNet(channels_in=1), out / "bad-gray-input.pt", example[:, :1])
    save(HalfSize(plain), out / "bad-half-mask.pt", example)
    save(Pair(plain), out / "bad-tuple.pt", example)


if __name__ == "__main__":
    main()
