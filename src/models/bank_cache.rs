//! Reuse of a group convolution's expanded filter bank between forward
//! passes that cannot change or differentiate it.
//!
//! A C4 layer turns its learned weight into a bank of four rotated copies
//! on every forward pass, so that gradients reach the learned weight. With
//! gradients off, the bank depends on the weight and bias values alone, and
//! a cached copy gives bit-identical outputs. The cache key is each
//! tensor's storage address and its version counter, which libtorch bumps
//! on every in-place change: an optimizer step, `VarStore::load` or
//! `VarStore::copy`.

use std::sync::Mutex;

use tch::Tensor;

/// Identity and version of a weight and bias pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Key {
    weight_address: usize,
    weight_version: i64,
    bias_address: usize,
    bias_version: i64,
}

impl Key {
    /// Returns the key of the pair, or `None` when libtorch keeps no
    /// version counter for one of them (inference tensors).
    fn of(weight: &Tensor, bias: &Tensor) -> Option<Self> {
        Some(Key {
            weight_address: weight.data_ptr() as usize,
            weight_version: weight.f_internal_version().ok()?,
            bias_address: bias.data_ptr() as usize,
            bias_version: bias.f_internal_version().ok()?,
        })
    }
}

/// The last expanded bank and bias of one layer, with the key of the
/// learned tensors they came from.
#[derive(Debug)]
struct Entry {
    key: Key,
    bank: Tensor,
    bias: Tensor,
}

/// A one-entry cache of an expanded filter bank and its bias.
#[derive(Debug)]
pub struct BankCache {
    enabled: bool,
    entry: Mutex<Option<Entry>>,
}

impl BankCache {
    /// Creates an empty cache; a disabled one builds the bank on every call.
    pub fn new(enabled: bool) -> Self {
        BankCache {
            enabled,
            entry: Mutex::new(None),
        }
    }

    /// Returns the bank and bias that `expand` makes from `weight` and
    /// `bias`. The previous result is reused when caching is enabled,
    /// `train` is false, gradient tracking is off and neither tensor has
    /// changed since. Otherwise `expand` runs, and its result is stored
    /// if the first three conditions hold.
    pub fn get_or_expand(
        &self,
        weight: &Tensor,
        bias: &Tensor,
        train: bool,
        expand: impl FnOnce() -> (Tensor, Tensor),
    ) -> (Tensor, Tensor) {
        if !self.enabled || train || grad_enabled() {
            return expand();
        }
        let Some(key) = Key::of(weight, bias) else {
            return expand();
        };
        // A poisoned lock only means another thread panicked while holding
        // it, and the entry is then either complete or absent.
        let mut entry = self.entry.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(cached) = entry.as_ref().filter(|cached| cached.key == key) {
            return (cached.bank.shallow_clone(), cached.bias.shallow_clone());
        }
        let (bank, expanded_bias) = expand();
        *entry = Some(Entry {
            key,
            bank: bank.shallow_clone(),
            bias: expanded_bias.shallow_clone(),
        });
        (bank, expanded_bias)
    }
}

/// Returns whether libtorch records operations for autograd on this
/// thread.
fn grad_enabled() -> bool {
    // SAFETY: at_grad_set_enabled only sets libtorch's thread-local
    // GradMode flag and returns its previous value, or -1 when the C++
    // call failed and left the flag alone. Setting the previous value back
    // restores the flag. A failure counts as enabled, which turns caching
    // off.
    let previous = unsafe { torch_sys::at_grad_set_enabled(0) };
    if previous >= 0 {
        unsafe { torch_sys::at_grad_set_enabled(previous) };
    }
    previous != 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind};

    #[test]
    fn grad_mode_is_read_back_unchanged() {
        assert!(grad_enabled());
        assert!(grad_enabled());
        let _guard = tch::no_grad_guard();
        assert!(!grad_enabled());
        assert!(!grad_enabled());
    }

    fn expand_counting(calls: &mut usize) -> (Tensor, Tensor) {
        *calls += 1;
        let options = (Kind::Float, Device::Cpu);
        (Tensor::ones([2], options), Tensor::zeros([1], options))
    }

    #[test]
    fn cache_reuses_until_weight_changes() {
        let options = (Kind::Float, Device::Cpu);
        let mut weight = Tensor::ones([2], options);
        let bias = Tensor::zeros([1], options);
        let cache = BankCache::new(true);
        let mut calls = 0;
        let _guard = tch::no_grad_guard();

        let _ = cache.get_or_expand(&weight, &bias, false, || expand_counting(&mut calls));
        let _ = cache.get_or_expand(&weight, &bias, false, || expand_counting(&mut calls));
        assert_eq!(calls, 1, "second call with unchanged weights");

        let _ = weight.g_add_scalar_(1.0);
        let _ = cache.get_or_expand(&weight, &bias, false, || expand_counting(&mut calls));
        assert_eq!(calls, 2, "call after an in-place change");
    }

    #[test]
    fn cache_is_bypassed_when_training() {
        let options = (Kind::Float, Device::Cpu);
        let weight = Tensor::ones([2], options);
        let bias = Tensor::zeros([1], options);
        let cache = BankCache::new(true);
        let mut calls = 0;
        let _guard = tch::no_grad_guard();

        let _ = cache.get_or_expand(&weight, &bias, true, || expand_counting(&mut calls));
        let _ = cache.get_or_expand(&weight, &bias, true, || expand_counting(&mut calls));
        assert_eq!(calls, 2);
    }

    #[test]
    fn cache_is_bypassed_with_gradients_on() {
        let options = (Kind::Float, Device::Cpu);
        let weight = Tensor::ones([2], options);
        let bias = Tensor::zeros([1], options);
        let cache = BankCache::new(true);
        let mut calls = 0;

        let _ = cache.get_or_expand(&weight, &bias, false, || expand_counting(&mut calls));
        let _ = cache.get_or_expand(&weight, &bias, false, || expand_counting(&mut calls));
        assert_eq!(calls, 2);
    }

    #[test]
    fn disabled_cache_always_expands() {
        let options = (Kind::Float, Device::Cpu);
        let weight = Tensor::ones([2], options);
        let bias = Tensor::zeros([1], options);
        let cache = BankCache::new(false);
        let mut calls = 0;
        let _guard = tch::no_grad_guard();

        let _ = cache.get_or_expand(&weight, &bias, false, || expand_counting(&mut calls));
        let _ = cache.get_or_expand(&weight, &bias, false, || expand_counting(&mut calls));
        assert_eq!(calls, 2);
    }
}
