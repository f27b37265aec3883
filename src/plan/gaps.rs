//! `GapTable`: the free ranges left in each touched scene, all in one arena.
//!
//! A plan touches a few hundred scenes and each keeps a handful of ranges; one `Vec` per
//! scene cost an allocation and a free per shot. Here every scene's ranges sit in a block
//! of one shared `Vec` (moved to a bigger block at the end when they outgrow it), so a
//! plan allocates a few times in all.

use std::collections::HashMap;

use crate::time::Ticks;

/// A map keyed by scene number, with FxHash (keys are ours, not an attacker's: one
/// multiply instead of SipHash).
pub(crate) type SceneMap<V> = HashMap<usize, V, rustc_hash::FxBuildHasher>;

/// Where a scene's ranges sit in the arena.
#[derive(Debug, Clone, Copy)]
struct Block {
    start: u32,
    len: u32,
    cap: u32,
}

/// Sorted, disjoint free ranges `[a, b)` per scene, for the scenes that have any recorded.
#[derive(Debug, Default)]
pub(crate) struct GapTable {
    spans: Vec<(Ticks, Ticks)>,
    blocks: SceneMap<Block>,
}

/// Ranges a scene's block holds at first: a split or two without moving.
const FIRST_CAP: usize = 4;

impl GapTable {
    /// An empty table with room for about `scenes` touched scenes.
    pub fn with_capacity(scenes: usize) -> Self {
        Self {
            spans: Vec::with_capacity(scenes * FIRST_CAP),
            blocks: SceneMap::with_capacity_and_hasher(scenes, Default::default()),
        }
    }

    /// The ranges of scene `n`, if any were recorded.
    pub fn get(&self, n: usize) -> Option<&[(Ticks, Ticks)]> {
        let b = self.blocks.get(&n)?;
        let start = b.start as usize;
        self.spans.get(start..start + b.len as usize)
    }

    /// Removes `[lo, hi)` from the ranges of scene `n`, which are `initial` if none were
    /// recorded yet; returns the longest range left (0 when none).
    pub fn subtract(
        &mut self,
        n: usize,
        initial: &[(Ticks, Ticks)],
        lo: Ticks,
        hi: Ticks,
    ) -> Ticks {
        let spans = &mut self.spans;
        let block = self.blocks.entry(n).or_insert_with(|| {
            let cap = FIRST_CAP.max(initial.len() + 1);
            push_block(spans, initial, cap)
        });
        if block.len >= block.cap {
            // full: a split needs one more place, so move to a bigger block at the end
            let start = block.start as usize;
            let old: Vec<(Ticks, Ticks)> = spans
                .get(start..start + block.len as usize)
                .unwrap_or(&[])
                .to_vec();
            *block = push_block(spans, &old, block.cap as usize * 2);
        }
        let start = block.start as usize;
        let Some(region) = spans.get_mut(start..start + block.cap as usize) else {
            return 0;
        };
        let len = subtract(region, block.len as usize, lo, hi);
        block.len = len as u32;
        region
            .get(..len)
            .unwrap_or(&[])
            .iter()
            .map(|(a, b)| b - a)
            .max()
            .unwrap_or(0)
    }
}

/// Appends a block of `cap` places (at least one more than `ranges`) holding `ranges`.
fn push_block(spans: &mut Vec<(Ticks, Ticks)>, ranges: &[(Ticks, Ticks)], cap: usize) -> Block {
    let start = spans.len();
    spans.extend_from_slice(ranges);
    spans.resize(start + cap.max(ranges.len() + 1), (0, 0));
    Block {
        start: start as u32,
        len: ranges.len() as u32,
        cap: (spans.len() - start) as u32,
    }
}

/// Removes `[lo, hi)` from the first `len` (sorted, disjoint) ranges of `gaps`, in place;
/// returns the new count. At most one range splits in two, so `gaps` needs one spare place.
fn subtract(gaps: &mut [(Ticks, Ticks)], mut len: usize, lo: Ticks, hi: Ticks) -> usize {
    let mut k = 0;
    while k < len {
        let Some(&(a, b)) = gaps.get(k) else { break };
        if hi <= a || b <= lo {
            k += 1;
            continue;
        }
        match (a < lo, hi < b) {
            (true, true) => {
                if len >= gaps.len() {
                    // no spare place (never for a table block): keep the left part only
                    if let Some(g) = gaps.get_mut(k) {
                        *g = (a, lo);
                    }
                    k += 1;
                    continue;
                }
                gaps.copy_within(k + 1..len, k + 2);
                if let Some(g) = gaps.get_mut(k) {
                    *g = (a, lo);
                }
                if let Some(g) = gaps.get_mut(k + 1) {
                    *g = (hi, b);
                }
                len += 1;
                k += 2;
            }
            (true, false) => {
                if let Some(g) = gaps.get_mut(k) {
                    *g = (a, lo);
                }
                k += 1;
            }
            (false, true) => {
                if let Some(g) = gaps.get_mut(k) {
                    *g = (hi, b);
                }
                k += 1;
            }
            (false, false) => {
                gaps.copy_within(k + 1..len, k);
                len -= 1;
            }
        }
    }
    len
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn subtract_splits_and_removes_ranges() {
        let mut t = GapTable::with_capacity(2);
        assert_eq!(t.subtract(7, &[(0, 10), (20, 30)], 5, 25), 5);
        assert_eq!(t.get(7).unwrap(), &[(0, 5), (25, 30)]);
        assert_eq!(t.subtract(7, &[], 0, 100), 0);
        assert!(t.get(7).unwrap().is_empty());
        assert!(t.get(8).is_none());
    }

    #[test]
    fn blocks_grow_past_their_first_size() {
        let mut t = GapTable::with_capacity(1);
        t.subtract(1, &[(0, 1000)], 990, 1000);
        // every cut splits a range: more ranges than the first block holds
        for k in 0..10 {
            t.subtract(3, &[(0, 1000)], 100 * k + 10, 100 * k + 20);
        }
        let g = t.get(3).unwrap();
        assert_eq!(g.len(), 11);
        assert_eq!(g.first(), Some(&(0, 10)));
        assert_eq!(g.last(), Some(&(920, 1000)));
        assert!(g.windows(2).all(|w| w[0].1 <= w[1].0));
        assert_eq!(t.get(1).unwrap(), &[(0, 990)]);
    }
}
