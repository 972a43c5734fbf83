# Prepares the environment that builds and runs eqcheck, installing what is
# missing. Source it from bash: `. setup/env.sh`.
#
# libtorch comes from the PyPI wheel torch==2.13.0 (the version tch 0.26
# binds), installed once into a virtual environment that every checkout of
# this project on the machine shares. tch builds against it through
# LIBTORCH_USE_PYTORCH=1, and build.rs bakes its library folder into the
# binaries' run path, so nothing needs LD_LIBRARY_PATH at run time.

EQCHECK_TORCH_VERSION=2.13.0
EQCHECK_VENV="${EQCHECK_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/eqcheck/torch-$EQCHECK_TORCH_VERSION}"

eqcheck_has_torch() {
    "$EQCHECK_VENV/bin/python" -c \
        "import torch, sys; sys.exit(not torch.__version__.startswith('$EQCHECK_TORCH_VERSION'))" \
        2>/dev/null
}

if ! eqcheck_has_torch; then
    echo "setup: installing torch==$EQCHECK_TORCH_VERSION into $EQCHECK_VENV (about 5 GB, once)" >&2
    python3 -m venv "$EQCHECK_VENV" || return 1 2>/dev/null || exit 1
    "$EQCHECK_VENV/bin/pip" install --quiet --disable-pip-version-check \
        "torch==$EQCHECK_TORCH_VERSION" || return 1 2>/dev/null || exit 1
fi

if ! command -v cargo >/dev/null; then
    echo "setup: cargo is missing; install Rust with rustup first" >&2
    return 1 2>/dev/null || exit 1
fi

export PATH="$EQCHECK_VENV/bin:$PATH"
export LIBTORCH_USE_PYTORCH=1

# The dataset folder: EQCHECK_DATA when set, otherwise the Leeds Butterfly
# copy that sits beside this checkout.
if [ -z "${EQCHECK_DATA:-}" ]; then
    eqcheck_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
    export EQCHECK_DATA="$(dirname "$eqcheck_root")/shared/leedsbutterfly"
fi
