//! Small numeric helpers shared by the music analysis stages.

/// Centred moving average over `2 * half + 1` values (fewer at the edges).
pub(crate) fn moving_average(x: &[f32], half: usize) -> Vec<f32> {
    let n = x.len();
    let mut prefix = Vec::with_capacity(n + 1);
    let mut acc = 0f64;
    prefix.push(0.0);
    for &v in x {
        acc += v as f64;
        prefix.push(acc);
    }
    (0..n)
        .map(|i| {
            let lo = i.saturating_sub(half);
            let hi = (i + half + 1).min(n);
            let sum =
                prefix.get(hi).copied().unwrap_or(acc) - prefix.get(lo).copied().unwrap_or(0.0);
            (sum / (hi - lo).max(1) as f64) as f32
        })
        .collect()
}

/// The `q`-quantile (0..=1) of `x`, 0 when empty.
pub(crate) fn quantile(x: &[f32], q: f32) -> f32 {
    if x.is_empty() {
        return 0.0;
    }
    let mut v = x.to_vec();
    let k = ((v.len() - 1) as f32 * q.clamp(0.0, 1.0)).round() as usize;
    let k = k.min(v.len() - 1);
    let (_, nth, _) = v.select_nth_unstable_by(k, f32::total_cmp);
    *nth
}

/// Mean of `x`, 0 when empty.
pub(crate) fn mean(x: &[f32]) -> f32 {
    if x.is_empty() {
        0.0
    } else {
        (x.iter().map(|&v| v as f64).sum::<f64>() / x.len() as f64) as f32
    }
}

/// Dot product with eight independent lanes so it vectorises.
#[inline]
pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut lanes = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for j in 0..8 {
            lanes[j] += x[j] * y[j];
        }
    }
    lanes.iter().sum::<f32>() + tail
}

/// The maximum of `f(a[k], b[k])` over `k` and the first `k` reaching it (`None` when
/// empty). Two passes that both vectorise: the maximum in eight lanes, then the first chunk
/// of eight holding it.
#[inline]
pub(crate) fn first_max(a: &[f32], b: &[f32], f: impl Fn(f32, f32) -> f32) -> Option<(f32, usize)> {
    let n = a.len().min(b.len());
    if n == 0 {
        return None;
    }
    let (a, b) = (a.get(..n)?, b.get(..n)?);
    let (ca, ra) = a.as_chunks::<8>();
    let (cb, rb) = b.as_chunks::<8>();
    let mut lanes = [f32::MIN; 8];
    for (x, y) in ca.iter().zip(cb) {
        for j in 0..8 {
            let v = f(x[j], y[j]);
            lanes[j] = if v > lanes[j] { v } else { lanes[j] };
        }
    }
    let mut best = f32::MIN;
    for v in lanes
        .into_iter()
        .chain(ra.iter().zip(rb).map(|(&x, &y)| f(x, y)))
    {
        best = if v > best { v } else { best };
    }
    for (c, (x, y)) in ca.iter().zip(cb).enumerate() {
        let mut hits = 0u32;
        for j in 0..8 {
            hits |= u32::from(f(x[j], y[j]) == best) << j;
        }
        if hits != 0 {
            return Some((best, c * 8 + hits.trailing_zeros() as usize));
        }
    }
    let tail = n - ra.len();
    ra.iter()
        .zip(rb)
        .position(|(&x, &y)| f(x, y) == best)
        .map(|k| (best, tail + k))
}

/// Sum with eight independent lanes so it vectorises.
#[inline]
pub(crate) fn sum(x: &[f32]) -> f32 {
    let (chunks, rest) = x.as_chunks::<8>();
    let mut lanes = [0f32; 8];
    for c in chunks {
        for j in 0..8 {
            lanes[j] += c[j];
        }
    }
    lanes.iter().sum::<f32>() + rest.iter().sum::<f32>()
}

/// Greatest common divisor.
pub(crate) fn gcd(mut a: usize, mut b: usize) -> usize {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Natural logarithm for positive normal floats, about 1e-5 absolute error, branch-free so
/// loops over spectra vectorise (libm's `ln` is the hot spot of the onset front end otherwise).
#[inline]
pub(crate) fn fast_ln(x: f32) -> f32 {
    let bits = x.max(1e-30).to_bits();
    let exponent = ((bits >> 23) & 0xff) as i32 - 127;
    let m = f32::from_bits((bits & 0x007f_ffff) | 0x3f80_0000);
    // ln(m) = 2 atanh(s) with s = (m - 1) / (m + 1) in [0, 1/3)
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let ln_m = 2.0 * s * (1.0 + s2 * (1.0 / 3.0 + s2 * (1.0 / 5.0 + s2 * (1.0 / 7.0 + s2 / 9.0))));
    exponent as f32 * std::f32::consts::LN_2 + ln_m
}

/// Maximum of `x` over `[i - left, i + right]` clipped to the slice.
pub(crate) fn max_around(x: &[f32], i: usize, left: usize, right: usize) -> f32 {
    let lo = i.saturating_sub(left).min(x.len());
    let hi = (i + right + 1).min(x.len());
    x.get(lo..hi)
        .map(|s| s.iter().copied().fold(0.0f32, f32::max))
        .unwrap_or(0.0)
}

/// Parabolic interpolation of a peak at `i` from its neighbours: offset in -0.5..=0.5.
pub(crate) fn parabolic_offset(left: f32, centre: f32, right: f32) -> f32 {
    let denom = left - 2.0 * centre + right;
    if denom.abs() < 1e-12 {
        0.0
    } else {
        (0.5 * (left - right) / denom).clamp(-0.5, 0.5)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_ln_is_close() {
        for &x in &[1e-12f32, 1e-6, 0.01, 0.5, 1.0, 1.5, 2.0, 3.7, 1e3, 1e8] {
            assert!((fast_ln(x) - x.ln()).abs() < 1e-4, "{x}");
        }
    }

    #[test]
    fn moving_average_and_quantile() {
        let x = [1.0, 2.0, 3.0, 4.0, 5.0];
        let m = moving_average(&x, 1);
        assert_eq!(m, vec![1.5, 2.0, 3.0, 4.0, 4.5]);
        assert_eq!(quantile(&x, 0.5), 3.0);
        assert_eq!(gcd(2048, 512), 512);
        assert!((parabolic_offset(1.0, 2.0, 1.0)).abs() < 1e-6);
    }

    #[test]
    fn first_max_finds_the_first_maximum() {
        let zero = [0f32; 40];
        assert_eq!(first_max(&[], &zero, |a, _| a), None);
        for n in [1, 5, 8, 17, 40] {
            for peak in 0..n {
                let mut a: Vec<f32> = (0..n).map(|i| -((i * 7 % 5) as f32)).collect();
                a[peak] = 3.0;
                assert_eq!(first_max(&a, &zero, |a, b| a + b), Some((3.0, peak)));
                // A tie later on keeps the first.
                let mut tied = a.clone();
                tied[n - 1] = 3.0;
                assert_eq!(first_max(&tied, &zero, |a, b| a + b), Some((3.0, peak)));
            }
        }
    }
}
