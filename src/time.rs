//! Integer time: every timestamp in the engine is an `i64` count of ticks.
//!
//! One tick is a *flick* (1/705,600,000 s): it divides every common frame rate
//! (24, 25, 30, 48, 50, 60, 120 and the NTSC x/1001 rates) and audio sample rate
//! (8 kHz to 192 kHz, 44.1 kHz family included) exactly, so frame and sample
//! boundaries never round and cuts never drift. Seconds as `f64` appear only at
//! the edges (JSON, display).

/// Ticks per second (flicks).
pub const TICKS_PER_SECOND: i64 = 705_600_000;

/// A point or span in time, in ticks.
pub type Ticks = i64;

/// Converts seconds to ticks (rounded to the nearest tick).
pub fn ticks_from_secs(secs: f64) -> Ticks {
    (secs * TICKS_PER_SECOND as f64).round() as Ticks
}

/// Converts ticks to seconds, for display and JSON.
pub fn secs_from_ticks(ticks: Ticks) -> f64 {
    ticks as f64 / TICKS_PER_SECOND as f64
}

/// Converts a timestamp in a rational time base (`num/den` seconds per unit) to ticks.
pub fn ticks_from_timebase(value: i64, num: i32, den: i32) -> Ticks {
    if den == 0 {
        return 0;
    }
    let wide = value as i128 * num as i128 * TICKS_PER_SECOND as i128;
    (wide / den as i128) as Ticks
}

/// Converts ticks to a timestamp in a rational time base (`num/den` seconds per unit), rounding down.
pub fn timebase_from_ticks(ticks: Ticks, num: i32, den: i32) -> i64 {
    if num == 0 {
        return 0;
    }
    let wide = ticks as i128 * den as i128;
    wide.div_euclid(num as i128 * TICKS_PER_SECOND as i128) as i64
}

/// Ticks at which sample `index` starts at `rate` samples per second.
pub fn ticks_from_samples(index: i64, rate: u32) -> Ticks {
    if rate == 0 {
        return 0;
    }
    ((index as i128 * TICKS_PER_SECOND as i128) / rate as i128) as Ticks
}

/// Index of the sample playing at `ticks` at `rate` samples per second.
pub fn samples_from_ticks(ticks: Ticks, rate: u32) -> i64 {
    ((ticks as i128 * rate as i128).div_euclid(TICKS_PER_SECOND as i128)) as i64
}

/// A frame rate as an exact fraction (frames per `den` seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FrameRate {
    /// Frames.
    pub num: i32,
    /// Per this many seconds.
    pub den: i32,
}

impl FrameRate {
    /// A whole-number frame rate such as 30.
    pub const fn whole(fps: i32) -> Self {
        Self { num: fps, den: 1 }
    }

    /// Frames per second as a float, for display.
    pub fn as_f64(self) -> f64 {
        if self.den == 0 {
            0.0
        } else {
            self.num as f64 / self.den as f64
        }
    }

    /// Duration of one frame in ticks (exact for the rates flicks were designed for).
    pub fn frame_ticks(self) -> Ticks {
        if self.num == 0 {
            return 0;
        }
        TICKS_PER_SECOND * self.den as i64 / self.num as i64
    }

    /// Start time of frame `index` on this grid.
    pub fn ticks_of_frame(self, index: i64) -> Ticks {
        if self.num == 0 {
            return 0;
        }
        ((index as i128 * self.den as i128 * TICKS_PER_SECOND as i128) / self.num as i128) as Ticks
    }

    /// Index of the frame on this grid nearest to `ticks`.
    pub fn nearest_frame(self, ticks: Ticks) -> i64 {
        let denom = self.den as i128 * TICKS_PER_SECOND as i128;
        if denom == 0 {
            return 0;
        }
        let scaled = ticks as i128 * self.num as i128;
        ((scaled + denom / 2).div_euclid(denom)) as i64
    }

    /// Index of the frame on this grid showing at `ticks` (the last frame starting at or before it).
    pub fn frame_at(self, ticks: Ticks) -> i64 {
        let denom = self.den as i128 * TICKS_PER_SECOND as i128;
        if denom == 0 {
            return 0;
        }
        (ticks as i128 * self.num as i128).div_euclid(denom) as i64
    }

    /// Best rational approximation of a float rate (common rates come out exact).
    pub fn from_f64(fps: f64) -> Self {
        for (num, den) in [(24000, 1001), (30000, 1001), (60000, 1001)] {
            if (fps - num as f64 / den as f64).abs() < 0.002 {
                return Self { num, den };
            }
        }
        if (fps - fps.round()).abs() < 0.002 {
            return Self::whole(fps.round() as i32);
        }
        Self {
            num: (fps * 1000.0).round() as i32,
            den: 1000,
        }
    }
}

impl std::fmt::Display for FrameRate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.den == 1 {
            write!(f, "{}", self.num)
        } else {
            write!(f, "{:.3}", self.as_f64())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_grid_is_exact_for_ntsc() {
        let rate = FrameRate {
            num: 30000,
            den: 1001,
        };
        let t = rate.ticks_of_frame(1000);
        assert_eq!(rate.nearest_frame(t), 1000);
        assert_eq!(rate.frame_at(t), 1000);
        assert_eq!(rate.frame_ticks() * 1000, t);
    }

    #[test]
    fn timebase_round_trip() {
        let t = ticks_from_timebase(90_000, 1, 90_000);
        assert_eq!(t, TICKS_PER_SECOND);
        assert_eq!(timebase_from_ticks(t, 1, 90_000), 90_000);
        assert_eq!(
            samples_from_ticks(ticks_from_samples(44_100, 44_100), 44_100),
            44_100
        );
    }
}
