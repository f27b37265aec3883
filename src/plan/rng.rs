//! A tiny seeded pseudo-random source, so a plan is a pure function of its seed.
//!
//! SplitMix64 is a handful of lines, passes BigCrush and needs no crate. The planner
//! only uses it statelessly (`unit(seed, a, b)`), so the draw for one slot or scene
//! does not depend on how many draws happened before it: a lock or an exclusion
//! elsewhere does not reshuffle the whole plan.

/// The SplitMix64 finaliser: a bijective 64-bit mix.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A uniform draw in `0.0..1.0` determined only by `(seed, a, b)`.
pub(crate) fn unit(seed: u64, a: u64, b: u64) -> f32 {
    unit_mixed(seed, a, mix(b))
}

/// `unit(seed, a, b)` given `mix(b)`: loops that draw for many `a` against one `b` hash
/// `b` once.
pub(crate) fn unit_mixed(seed: u64, a: u64, mixed_b: u64) -> f32 {
    let h = mix(seed ^ mix(a ^ mixed_b));
    // 24 high bits fit an f32 mantissa exactly.
    (h >> 40) as f32 / (1u64 << 24) as f32
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn unit_is_pinned_and_in_range() {
        // SplitMix64's published sequence from state 0: a seed gives the same plan on every
        // build and machine, and a change to the mixer (every saved seed re-rolled) fails here.
        assert_eq!(mix(0), 0xE220_A839_7B1D_CDAF);
        assert_eq!(mix(0x9E37_79B9_7F4A_7C15), 0x6E78_9E6A_A1B9_65F4);
        assert_eq!(unit(7, 0, 3), 7_826_084.0 / 16_777_216.0);
        assert_eq!(unit(7, 999, 3), 4_821_058.0 / 16_777_216.0);
        for i in 0..1000u64 {
            assert!((0.0..1.0).contains(&unit(7, i, 3)));
        }
        assert_ne!(unit(1, 2, 3), unit(2, 2, 3));
        assert_eq!(unit(5, 6, 7), unit_mixed(5, 6, mix(7)));
    }

    #[test]
    fn unit_is_roughly_uniform() {
        let mean: f32 = (0..10_000u64).map(|i| unit(42, i, 0)).sum::<f32>() / 10_000.0;
        assert!((mean - 0.5).abs() < 0.02, "{mean}");
    }
}
