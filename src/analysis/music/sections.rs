//! Coarse song structure from the smoothed energy: boundaries where the level moves between
//! the bars before and after (snapped to downbeats), then labels by level and position.

use crate::time::{Ticks, ticks_from_secs};

use super::dsp::mean;
use super::types::{EnergyCurve, Section, SectionLabel};

/// Splits `0..duration` into labelled sections. `downbeats` (sorted) give the block grid when
/// there are enough of them; otherwise two-second blocks are used.
pub(crate) fn sections(energy: &EnergyCurve, downbeats: &[Ticks], duration: Ticks) -> Vec<Section> {
    let curve = &energy.smoothed;
    if duration <= 0 || curve.values.is_empty() || curve.hop <= 0 {
        return Vec::new();
    }
    // Block grid: bars when tracked, else 2 s.
    let mut edges: Vec<Ticks> = if downbeats.len() >= 8 {
        let mut e = vec![0];
        e.extend(downbeats.iter().copied().filter(|&t| t > 0 && t < duration));
        e.push(duration);
        e
    } else {
        let step = ticks_from_secs(2.0);
        let mut e: Vec<Ticks> = (0..)
            .map(|k| k * step)
            .take_while(|&t| t < duration)
            .collect();
        e.push(duration);
        e
    };
    edges.dedup();
    let block_energy = |a: Ticks, b: Ticks| -> f32 {
        let lo = (a / curve.hop).max(0) as usize;
        let hi = ((b / curve.hop).max(0) as usize).clamp(lo + 1, curve.values.len().max(lo + 1));
        mean(curve.values.get(lo..hi).unwrap_or(&[]))
    };
    let blocks: Vec<f32> = edges.windows(2).map(|w| block_energy(w[0], w[1])).collect();
    let nb = blocks.len();
    if nb == 0 {
        return Vec::new();
    }
    // Novelty: difference of the mean level over the next and previous few blocks (~8 s).
    let block_secs = crate::time::secs_from_ticks(duration) / nb as f64;
    let w = ((8.0 / block_secs.max(0.1)).round() as usize).clamp(2, 8);
    let novelty: Vec<f32> = (0..nb)
        .map(|i| {
            if i == 0 {
                return 0.0;
            }
            let before = blocks.get(i.saturating_sub(w)..i).unwrap_or(&[]);
            let after = blocks.get(i..(i + w).min(nb)).unwrap_or(&[]);
            (mean(after) - mean(before)).abs()
        })
        .collect();
    let mut cuts = vec![0usize];
    let mut order: Vec<usize> = (1..nb)
        .filter(|&i| novelty.get(i).copied().unwrap_or(0.0) > 0.12)
        .collect();
    order.sort_by(|&a, &b| novelty[b].total_cmp(&novelty[a]));
    let min_len = w.max(2);
    for i in order {
        if cuts.iter().all(|&c| c.abs_diff(i) >= min_len) && nb - i >= min_len.min(nb) {
            cuts.push(i);
        }
    }
    cuts.sort_unstable();
    cuts.push(nb);
    let spans: Vec<(usize, usize, f32)> = cuts
        .windows(2)
        .map(|c| (c[0], c[1], mean(blocks.get(c[0]..c[1]).unwrap_or(&[]))))
        .collect();
    let top = spans.iter().map(|s| s.2).fold(0.0f32, f32::max).max(1e-6);
    let count = spans.len();
    let mut out: Vec<Section> = Vec::with_capacity(count);
    for (k, &(a, b, e)) in spans.iter().enumerate() {
        let prev = if k > 0 {
            spans.get(k - 1).map(|s| s.2)
        } else {
            None
        };
        let next = spans.get(k + 1).map(|s| s.2);
        let rising = {
            let inner = blocks.get(a..b).unwrap_or(&[]);
            let h = inner.len() / 2;
            inner.len() >= 2
                && mean(inner.get(h..).unwrap_or(&[])) > mean(inner.get(..h).unwrap_or(&[])) + 0.08
        };
        let label = if e >= 0.85 * top {
            SectionLabel::Climax
        } else if k == 0 && count > 1 {
            SectionLabel::Intro
        } else if k + 1 == count && count > 1 {
            SectionLabel::Outro
        } else if prev.is_some_and(|p| p >= 0.85 * top && e < p - 0.15) {
            SectionLabel::Drop
        } else if rising || next.is_some_and(|n| n > e + 0.1) {
            SectionLabel::Build
        } else if e < 0.5 * top {
            SectionLabel::Quiet
        } else {
            SectionLabel::Build
        };
        let start = edges.get(a).copied().unwrap_or(0);
        let end = edges.get(b).copied().unwrap_or(duration);
        // Merge neighbours that ended up with the same label.
        if let Some(last) = out.last_mut()
            && last.label == label
        {
            let la = (last.end - last.start) as f32;
            let lb = (end - start) as f32;
            last.energy = (last.energy * la + e * lb) / (la + lb).max(1.0);
            last.end = end;
            continue;
        }
        out.push(Section {
            start,
            end,
            label,
            energy: e,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::music::types::Curve;

    /// Silence reaches sections as zero energy (the energy curve keeps it at 0): quiet, not
    /// a climax at its own level.
    #[test]
    fn silence_is_quiet() {
        let energy = EnergyCurve {
            smoothed: Curve {
                hop: ticks_from_secs(0.1),
                values: vec![0.0; 300],
            },
            ..EnergyCurve::default()
        };
        let s = sections(&energy, &[], ticks_from_secs(30.0));
        assert!(!s.is_empty());
        assert!(s.iter().all(|s| s.label == SectionLabel::Quiet), "{s:?}");
    }

    #[test]
    fn quiet_loud_quiet_is_intro_climax_outro() {
        let hop = ticks_from_secs(0.1);
        let values: Vec<f32> = (0..900)
            .map(|i| if (300..600).contains(&i) { 1.0 } else { 0.3 })
            .collect();
        let energy = EnergyCurve {
            smoothed: Curve { hop, values },
            ..EnergyCurve::default()
        };
        let s = sections(&energy, &[], ticks_from_secs(90.0));
        let labels: Vec<SectionLabel> = s.iter().map(|s| s.label).collect();
        assert_eq!(
            labels,
            vec![
                SectionLabel::Intro,
                SectionLabel::Climax,
                SectionLabel::Outro
            ]
        );
        assert!((crate::time::secs_from_ticks(s[1].start) - 30.0).abs() <= 2.0);
    }
}
