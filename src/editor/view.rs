//! Zoom and scroll of the timeline and music lane, shared by both so they stay aligned: which
//! stretch of the montage is in view, and the mapping between time and pixels. No GUI types,
//! so the behaviour (zoom around the pointer, scroll limits, following the playhead) is tested
//! without a window.

use crate::time::{TICKS_PER_SECOND, Ticks};

/// The narrowest stretch the lanes can show: a quarter of a second, so at 30 fps a frame
/// spans about a tenth of the lane's width (frames and beats can be told apart and grabbed).
pub const MIN_SPAN: Ticks = TICKS_PER_SECOND / 4;
/// Where a followed playhead lands after the view pages (fraction of the width from the left).
const FOLLOW_MARGIN: f64 = 0.1;

/// The stretch of the montage in view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TimelineView {
    /// First instant in view.
    start: Ticks,
    /// Length in view; `None` shows everything (the default, and after "Fit").
    span: Option<Ticks>,
    /// While playing, the view pages along with the playhead.
    pub follow: bool,
}

impl TimelineView {
    /// A view showing all of a montage, following the playhead.
    pub fn new() -> Self {
        Self {
            start: 0,
            span: None,
            follow: true,
        }
    }

    /// The visible stretch `(start, end)` of a montage lasting `duration`.
    pub fn visible(&self, duration: Ticks) -> (Ticks, Ticks) {
        let duration = duration.max(1);
        let span = self
            .span
            .map_or(duration, |s| s.clamp(MIN_SPAN.min(duration), duration));
        let start = self.start.clamp(0, duration - span);
        (start, start + span)
    }

    /// True when everything is in view.
    pub fn is_fit(&self) -> bool {
        self.span.is_none()
    }

    /// Horizontal position of `t` in a lane starting at pixel `left`, `width` wide.
    pub fn x_of(&self, t: Ticks, left: f32, width: f32, duration: Ticks) -> f32 {
        let (start, end) = self.visible(duration);
        left + width * ((t - start) as f64 / (end - start) as f64) as f32
    }

    /// The instant at pixel `x` of a lane starting at `left`, `width` wide (clamped to the
    /// visible stretch).
    pub fn time_at(&self, x: f32, left: f32, width: f32, duration: Ticks) -> Ticks {
        let (start, end) = self.visible(duration);
        let fraction = f64::from(((x - left) / width.max(1.0)).clamp(0.0, 1.0));
        start + ((end - start) as f64 * fraction).round() as Ticks
    }

    /// Zooms by `factor` (above 1 zooms in) keeping `anchor` (the instant under the
    /// pointer) where it is on screen.
    pub fn zoom_around(&mut self, factor: f64, anchor: Ticks, duration: Ticks) {
        if !(factor.is_finite() && factor > 0.0) {
            return;
        }
        let duration = duration.max(1);
        let (start, end) = self.visible(duration);
        let span = end - start;
        let new_span =
            ((span as f64 / factor).round() as Ticks).clamp(MIN_SPAN.min(duration), duration);
        if new_span >= duration {
            self.fit();
            return;
        }
        let anchor = anchor.clamp(start, end);
        let fraction = (anchor - start) as f64 / span as f64;
        let new_start = anchor - (new_span as f64 * fraction).round() as Ticks;
        self.span = Some(new_span);
        self.start = new_start.clamp(0, duration - new_span);
    }

    /// Shows `span` of the montage centred where the view is centred now.
    pub fn set_span(&mut self, span: Ticks, duration: Ticks) {
        let (start, end) = self.visible(duration);
        let factor = (end - start) as f64 / span.max(1) as f64;
        self.zoom_around(factor, start + (end - start) / 2, duration);
    }

    /// Scrolls by `dt` (positive: later), stopping at either end.
    pub fn scroll_by(&mut self, dt: Ticks, duration: Ticks) {
        let (start, end) = self.visible(duration);
        let span = end - start;
        if self.span.is_some() {
            self.start = (start + dt).clamp(0, duration.max(1) - span);
        }
    }

    /// Shows the whole montage.
    pub fn fit(&mut self) {
        self.start = 0;
        self.span = None;
    }

    /// Brings `t` into view (paging, so the picture does not slide every frame) when it
    /// has left it; does nothing when everything is in view.
    pub fn reveal(&mut self, t: Ticks, duration: Ticks) {
        let (start, end) = self.visible(duration);
        if self.span.is_none() || (start..end).contains(&t) {
            return;
        }
        let span = end - start;
        let new_start = t - (span as f64 * FOLLOW_MARGIN).round() as Ticks;
        self.start = new_start.clamp(0, duration.max(1) - span);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Ticks = 60 * TICKS_PER_SECOND;

    #[test]
    fn zoom_keeps_the_instant_under_the_pointer_in_place() {
        let mut view = TimelineView::new();
        let duration = 3 * MINUTE;
        let anchor = 100 * TICKS_PER_SECOND;
        let x_before = view.x_of(anchor, 0.0, 1200.0, duration);
        view.zoom_around(8.0, anchor, duration);
        let (start, end) = view.visible(duration);
        assert_eq!(end - start, duration / 8);
        let x_after = view.x_of(anchor, 0.0, 1200.0, duration);
        assert!((x_before - x_after).abs() < 0.5, "{x_before} vs {x_after}");
        // time_at inverts x_of.
        let t = view.time_at(x_after, 0.0, 1200.0, duration);
        assert!(
            (t - anchor).abs() < TICKS_PER_SECOND / 100,
            "{t} vs {anchor}"
        );
    }

    #[test]
    fn zoom_stops_at_a_quarter_second_and_at_the_whole_song() {
        let mut view = TimelineView::new();
        let duration = 3 * MINUTE;
        view.zoom_around(1e9, MINUTE, duration);
        let (start, end) = view.visible(duration);
        assert_eq!(end - start, MIN_SPAN);
        // At 30 fps a frame then spans a ninth of a 1200-pixel lane.
        let frame = TICKS_PER_SECOND / 30;
        let px = view.x_of(start + frame, 0.0, 1200.0, duration)
            - view.x_of(start, 0.0, 1200.0, duration);
        assert!(px > 100.0, "{px} px per frame");
        view.zoom_around(1e-9, MINUTE, duration);
        assert!(view.is_fit());
        assert_eq!(view.visible(duration), (0, duration));
    }

    #[test]
    fn scrolling_stops_at_both_ends_and_the_playhead_is_followed() {
        let mut view = TimelineView::new();
        let duration = 3 * MINUTE;
        view.scroll_by(MINUTE, duration);
        assert_eq!(
            view.visible(duration),
            (0, duration),
            "fit-all does not scroll"
        );
        view.set_span(10 * TICKS_PER_SECOND, duration);
        view.scroll_by(-10 * MINUTE, duration);
        assert_eq!(view.visible(duration).0, 0);
        view.scroll_by(10 * MINUTE, duration);
        assert_eq!(view.visible(duration).1, duration);
        view.scroll_by(-10 * MINUTE, duration);
        view.reveal(95 * TICKS_PER_SECOND, duration);
        let (start, end) = view.visible(duration);
        assert!(start < 95 * TICKS_PER_SECOND && 95 * TICKS_PER_SECOND < end);
        assert_eq!(start, 94 * TICKS_PER_SECOND, "pages with a margin");
        // Inside the view nothing moves.
        view.reveal(96 * TICKS_PER_SECOND, duration);
        assert_eq!(view.visible(duration).0, start);
    }
}
