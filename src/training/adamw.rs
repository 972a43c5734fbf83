//! AdamW with decoupled weight decay, written on tensors so that its
//! moment estimates can be saved and a stopped run can resume exactly.
//!
//! The update is the one of Loshchilov and Hutter (2019), in the form that
//! PyTorch's `torch.optim.AdamW` computes: decay the weights, update both
//! moments, then step along the bias-corrected ratio.

use std::collections::BTreeMap;

use tch::{nn, Tensor};

use crate::error::{Error, Result};

/// Prefix of the first-moment tensors in a saved state.
const FIRST_MOMENT: &str = "adamw.m.";
/// Prefix of the second-moment tensors in a saved state.
const SECOND_MOMENT: &str = "adamw.v.";
/// Name of the step counter in a saved state.
const STEP: &str = "adamw.step";

/// Hyper-parameters of AdamW; the defaults are PyTorch's, apart from the
/// weight decay that the profile sets.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamWConfig {
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
}

impl Default for AdamWConfig {
    fn default() -> Self {
        AdamWConfig {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.01,
        }
    }
}

/// One trainable variable and its two moment estimates.
struct Slot {
    param: Tensor,
    first: Tensor,
    second: Tensor,
}

/// AdamW over the trainable variables of a [`nn::VarStore`].
pub struct AdamW {
    config: AdamWConfig,
    /// Keyed by variable name, so saved states line up by name.
    slots: BTreeMap<String, Slot>,
    step: i64,
}

impl AdamW {
    /// Creates the optimizer with zero moments for every trainable variable
    /// of `vars`.
    pub fn new(vars: &nn::VarStore, config: AdamWConfig) -> Self {
        let slots = vars
            .variables()
            .into_iter()
            .filter(|(_, param)| param.requires_grad())
            .map(|(name, param)| {
                let first = param.zeros_like();
                let second = param.zeros_like();
                (name, Slot { param, first, second })
            })
            .collect();
        AdamW { config, slots, step: 0 }
    }

    /// Number of updates taken so far.
    pub fn steps(&self) -> i64 {
        self.step
    }

    /// Clears the gradients, back-propagates `loss` and takes one update
    /// with learning rate `lr`.
    pub fn backward_step(&mut self, loss: &Tensor, lr: f64) {
        for slot in self.slots.values_mut() {
            slot.param.zero_grad();
        }
        loss.backward();
        self.update(lr);
    }

    /// Takes one update with the gradients the variables hold.
    fn update(&mut self, lr: f64) {
        let AdamWConfig {
            beta1,
            beta2,
            eps,
            weight_decay,
        } = self.config;
        self.step += 1;
        let bias1 = 1.0 - beta1.powi(self.step as i32);
        let bias2 = 1.0 - beta2.powi(self.step as i32);
        let _no_grad = tch::no_grad_guard();
        for slot in self.slots.values_mut() {
            let grad = slot.param.grad();
            if !grad.defined() {
                continue;
            }
            let _ = slot.param.g_mul_scalar_(1.0 - lr * weight_decay);
            let _ = slot.first.lerp_(&grad, 1.0 - beta1);
            let _ = slot.second.g_mul_scalar_(beta2);
            let _ = slot.second.g_add_(&(&grad * &grad * (1.0 - beta2)));
            let denom = slot.second.sqrt() / bias2.sqrt() + eps;
            let _ = slot.param.g_sub_(&(&slot.first / denom * (lr / bias1)));
        }
    }

    /// Returns the moments and the step counter as named tensors, for a
    /// checkpoint.
    pub fn state(&self) -> Vec<(String, Tensor)> {
        let mut named = Vec::with_capacity(2 * self.slots.len() + 1);
        for (name, slot) in &self.slots {
            named.push((format!("{FIRST_MOMENT}{name}"), slot.first.shallow_clone()));
            named.push((format!("{SECOND_MOMENT}{name}"), slot.second.shallow_clone()));
        }
        named.push((STEP.to_string(), Tensor::from(self.step)));
        named
    }

    /// Restores moments and the step counter saved by [`AdamW::state`]
    /// from the tensors of `path`. Every variable must have both moments,
    /// of its own shape.
    pub fn restore(&mut self, named: &BTreeMap<String, Tensor>, path: &std::path::Path) -> Result<()> {
        let invalid = |reason: String| Error::Checkpoint {
            path: path.to_path_buf(),
            reason,
        };
        let step = named
            .get(STEP)
            .ok_or_else(|| invalid(format!("optimizer state has no `{STEP}`")))?;
        let step = step.f_int64_value(&[]).map_err(|e| invalid(format!("bad `{STEP}`: {e}")))?;
        let _no_grad = tch::no_grad_guard();
        for (name, slot) in self.slots.iter_mut() {
            for (prefix, moment) in [(FIRST_MOMENT, &mut slot.first), (SECOND_MOMENT, &mut slot.second)] {
                let key = format!("{prefix}{name}");
                let saved = named
                    .get(&key)
                    .ok_or_else(|| invalid(format!("optimizer state has no `{key}`")))?;
                if saved.size() != moment.size() {
                    return Err(invalid(format!(
                        "`{key}` has shape {:?}, the model needs {:?}",
                        saved.size(),
                        moment.size()
                    )));
                }
                moment.copy_(saved);
            }
        }
        self.step = step;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::nn::{Module, OptimizerConfig};
    use tch::{Device, Kind};

    /// Returns a `[rows, cols]` tensor of fixed, varied values, without
    /// the global random generator that parallel tests share.
    fn fixed(rows: i64, cols: i64, phase: f64) -> Tensor {
        (Tensor::arange(rows * cols, (Kind::Float, Device::Cpu)) * 0.7 + phase)
            .sin()
            .reshape([rows, cols])
    }

    /// Builds a linear layer with fixed initial weights.
    fn linear(vars: &nn::VarStore, inputs: i64, outputs: i64) -> nn::Linear {
        let layer = nn::linear(vars.root() / "fc", inputs, outputs, Default::default());
        tch::no_grad(|| {
            layer.ws.shallow_clone().copy_(&fixed(outputs, inputs, 0.3));
            if let Some(bias) = &layer.bs {
                bias.shallow_clone().copy_(&fixed(1, outputs, 2.0).squeeze());
            }
        });
        layer
    }

    /// Runs `steps` updates of a small linear regression with this
    /// optimizer or libtorch's and returns the final weights.
    fn train_linear(steps: usize, own: bool) -> Tensor {
        let vars = nn::VarStore::new(Device::Cpu);
        let layer = linear(&vars, 5, 3);
        let (x, y) = (fixed(32, 5, 0.0), fixed(32, 3, 1.0));
        let lr = 0.05;
        let mut ours = AdamW::new(
            &vars,
            AdamWConfig {
                weight_decay: 0.1,
                ..Default::default()
            },
        );
        let mut theirs = nn::AdamW {
            wd: 0.1,
            ..Default::default()
        }
        .build(&vars, lr)
        .unwrap();
        for _ in 0..steps {
            let loss = (layer.forward(&x) - &y).square().mean(Kind::Float);
            if own {
                ours.backward_step(&loss, lr);
            } else {
                theirs.backward_step(&loss);
            }
        }
        layer.ws.detach().copy()
    }

    #[test]
    fn matches_libtorch_adamw() {
        let ours = train_linear(50, true);
        let theirs = train_linear(50, false);
        let gap = (&ours - &theirs).abs().max().double_value(&[]);
        assert!(gap < 1e-5, "weights differ by {gap}");
        // The run must have moved the weights, or the comparison proves nothing.
        let start = train_linear(0, true);
        assert!((&ours - &start).abs().max().double_value(&[]) > 0.1);
    }

    #[test]
    fn restored_state_continues_identically() {
        let vars = nn::VarStore::new(Device::Cpu);
        let layer = linear(&vars, 4, 2);
        let x = fixed(16, 4, 0.5);
        let loss = |l: &nn::Linear| l.forward(&x).square().mean(Kind::Float);
        let snapshot = || -> BTreeMap<String, Tensor> {
            vars.variables().into_iter().map(|(k, v)| (k, v.detach().copy())).collect()
        };
        let mut first = AdamW::new(&vars, AdamWConfig::default());
        for _ in 0..5 {
            first.backward_step(&loss(&layer), 0.01);
        }
        let saved: BTreeMap<String, Tensor> = first.state().into_iter().map(|(k, v)| (k, v.copy())).collect();
        let weights = snapshot();
        first.backward_step(&loss(&layer), 0.01);
        let continued = snapshot();

        tch::no_grad(|| {
            for (name, variable) in vars.variables() {
                variable.shallow_clone().copy_(&weights[&name]);
            }
        });
        let mut second = AdamW::new(&vars, AdamWConfig::default());
        second.restore(&saved, std::path::Path::new("state")).unwrap();
        assert_eq!(second.steps(), 5);
        second.backward_step(&loss(&layer), 0.01);
        for (name, value) in snapshot() {
            assert!(value.equal(&continued[&name]), "resumed update of {name} differs");
        }
    }

    #[test]
    fn restore_names_a_missing_moment() {
        let vars = nn::VarStore::new(Device::Cpu);
        let _layer = linear(&vars, 4, 2);
        let mut optimizer = AdamW::new(&vars, AdamWConfig::default());
        let mut named: BTreeMap<String, Tensor> = optimizer.state().into_iter().collect();
        named.remove("adamw.v.fc.weight");
        let error = optimizer.restore(&named, std::path::Path::new("run/state.safetensors")).unwrap_err();
        let text = error.to_string();
        assert!(text.contains("run/state.safetensors"), "{text}");
        assert!(text.contains("adamw.v.fc.weight"), "{text}");
    }
}
