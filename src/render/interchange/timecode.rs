//! SMPTE timecode on a timeline's frame grid, drop-frame included.

use crate::time::FrameRate;

/// How frame counts are labelled as `HH:MM:SS:FF` at one frame rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimecodeFormat {
    /// Frames counted per timecode second (30 for 29.97).
    pub nominal_fps: i64,
    /// True for 29.97 and 59.94: frame numbers 0 and 1 (0–3 at 59.94) are skipped at the
    /// start of every minute except each tenth, so the label keeps pace with the wall clock.
    pub drop_frame: bool,
}

impl TimecodeFormat {
    /// The conventional timecode for `rate`: drop-frame for the NTSC 30000/1001 and
    /// 60000/1001 rates, non-drop-frame otherwise (23.976 included).
    pub fn for_rate(rate: FrameRate) -> Self {
        let nominal_fps = if rate.den <= 0 || rate.num <= 0 {
            30
        } else {
            let (num, den) = (i64::from(rate.num), i64::from(rate.den));
            ((num + den / 2) / den).max(1)
        };
        let ntsc = rate.den == 1001 && (rate.num == 30000 || rate.num == 60000);
        Self {
            nominal_fps,
            drop_frame: ntsc,
        }
    }

    /// Frame numbers skipped per minute in drop-frame (2 at 29.97, 4 at 59.94).
    fn dropped_per_minute(self) -> i64 {
        if self.drop_frame {
            self.nominal_fps / 15
        } else {
            0
        }
    }

    /// Formats frame `frame` (counted from 00:00:00:00) as timecode; drop-frame uses `;`
    /// before the frames field. Negative frames clamp to zero; hours wrap at 24.
    pub fn format(self, frame: i64) -> String {
        let fps = self.nominal_fps.max(1);
        let mut label = frame.max(0);
        let drop = self.dropped_per_minute();
        if drop > 0 {
            let per_minute = fps * 60 - drop;
            let per_ten_minutes = fps * 600 - drop * 9;
            let tens = label / per_ten_minutes;
            let rest = label % per_ten_minutes;
            label += drop * 9 * tens;
            if rest >= drop {
                label += drop * ((rest - drop) / per_minute);
            }
        }
        let ff = label % fps;
        let secs = label / fps;
        let separator = if self.drop_frame { ';' } else { ':' };
        format!(
            "{:02}:{:02}:{:02}{separator}{ff:02}",
            (secs / 3600) % 24,
            (secs / 60) % 60,
            secs % 60
        )
    }

    /// Frame count of the label `hours:minutes:seconds:frames` (the inverse of [`Self::format`]).
    pub fn frame_of(self, hours: i64, minutes: i64, seconds: i64, frames: i64) -> i64 {
        let fps = self.nominal_fps.max(1);
        let total_minutes = hours * 60 + minutes;
        let nominal = (total_minutes * 60 + seconds) * fps + frames;
        let drop = self.dropped_per_minute();
        nominal - drop * (total_minutes - total_minutes / 10)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_drop_frame_counts_plainly() {
        let tc = TimecodeFormat::for_rate(FrameRate::whole(24));
        assert!(!tc.drop_frame);
        assert_eq!(tc.format(24 * 3600 + 25), "01:00:01:01");
        assert_eq!(tc.frame_of(1, 0, 1, 1), 24 * 3600 + 25);
        let film = TimecodeFormat::for_rate(FrameRate {
            num: 24000,
            den: 1001,
        });
        assert_eq!((film.nominal_fps, film.drop_frame), (24, false));
    }

    #[test]
    fn drop_frame_skips_labels() {
        let tc = TimecodeFormat::for_rate(FrameRate {
            num: 30000,
            den: 1001,
        });
        assert!(tc.drop_frame);
        assert_eq!(tc.format(1799), "00:00:59;29");
        assert_eq!(tc.format(1800), "00:01:00;02");
        assert_eq!(tc.format(17982), "00:10:00;00");
        assert_eq!(tc.frame_of(1, 0, 0, 0), 107_892);
        assert_eq!(tc.format(107_892), "01:00:00;00");
        for frame in [0, 1, 1799, 1800, 3598, 17981, 17982, 107_891, 123_456] {
            let label = tc.format(frame);
            let parts: Vec<i64> = label
                .split([':', ';'])
                .map(|p| p.parse().unwrap_or(-1))
                .collect();
            assert_eq!(
                tc.frame_of(parts[0], parts[1], parts[2], parts[3]),
                frame,
                "{label}"
            );
        }
    }
}
