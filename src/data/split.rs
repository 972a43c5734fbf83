//! A seeded train/validation split, stratified by species so that each
//! species keeps the same share in both parts.

use std::collections::BTreeMap;

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Indices into a dataset for training and validation, each sorted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    pub train: Vec<usize>,
    pub validation: Vec<usize>,
}

/// Splits sample indices by species, sending `round(n * fraction)` of each
/// species' n samples to validation. The same species list, fraction and
/// seed always give the same split.
pub fn stratified_split(species: &[u16], validation_fraction: f64, seed: u64) -> Split {
    let mut by_species: BTreeMap<u16, Vec<usize>> = BTreeMap::new();
    for (index, &s) in species.iter().enumerate() {
        by_species.entry(s).or_default().push(index);
    }

    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut split = Split {
        train: Vec::new(),
        validation: Vec::new(),
    };
    for indices in by_species.values_mut() {
        indices.shuffle(&mut rng);
        let n_validation = (indices.len() as f64 * validation_fraction).round() as usize;
        split.validation.extend(&indices[..n_validation]);
        split.train.extend(&indices[n_validation..]);
    }
    split.train.sort_unstable();
    split.validation.sort_unstable();
    split
}

#[cfg(test)]
mod tests {
    use super::*;

    fn species_list() -> Vec<u16> {
        // 55 of species 1, 100 of species 2, 10 of species 3.
        let mut species = vec![1; 55];
        species.extend(vec![2; 100]);
        species.extend(vec![3; 10]);
        species
    }

    #[test]
    fn split_is_deterministic_per_seed() {
        let species = species_list();
        assert_eq!(
            stratified_split(&species, 0.2, 7),
            stratified_split(&species, 0.2, 7)
        );
        assert_ne!(
            stratified_split(&species, 0.2, 7),
            stratified_split(&species, 0.2, 8)
        );
    }

    #[test]
    fn split_keeps_species_shares() {
        let species = species_list();
        let split = stratified_split(&species, 0.2, 1);
        let count = |indices: &[usize], s: u16| indices.iter().filter(|&&i| species[i] == s).count();
        assert_eq!(count(&split.validation, 1), 11);
        assert_eq!(count(&split.validation, 2), 20);
        assert_eq!(count(&split.validation, 3), 2);
        assert_eq!(split.train.len() + split.validation.len(), species.len());
    }

    #[test]
    fn split_parts_are_disjoint() {
        let split = stratified_split(&species_list(), 0.2, 3);
        for i in &split.validation {
            assert!(!split.train.contains(i), "index {i} is in both parts");
        }
    }
}
