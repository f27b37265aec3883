//! Music playback through rodio; without a sound card, playback runs silently on the
//! system clock and the editor says so. Also short snippets while scrubbing and looping
//! over the selected segment.

use std::path::Path;
use std::time::{Duration, Instant};

use super::BeatcutApp;
use crate::time::{Ticks, ticks_from_secs};

/// Length of the music snippet played at the playhead while scrubbing.
const SCRUB_SNIPPET: Duration = Duration::from_millis(80);
/// At most one scrub snippet this often (a drag moves the playhead every UI frame).
const SCRUB_EVERY: Duration = Duration::from_millis(70);
/// Fade at both ends of a snippet so it does not click.
const SCRUB_FADE: Duration = Duration::from_millis(5);

/// The audio output, when there is one.
pub struct Playback {
    sink: Option<rodio::MixerDeviceSink>,
    player: Option<rodio::Player>,
    samples: Option<(std::sync::Arc<Vec<f32>>, u32)>,
    loading: Option<crossbeam_channel::Receiver<(std::sync::Arc<Vec<f32>>, u32)>>,
    started: Option<(Instant, Ticks, f64)>,
    scrub_player: Option<rodio::Player>,
    last_scrub: Option<Instant>,
    /// Where timeline time 0 is in the song (a montage shorter than the song).
    music_start: Ticks,
    /// The montage's own mix (music, clip sound, ducking) from timeline time 0, played
    /// instead of the song when clip sound is on.
    soundtrack: Option<(std::sync::Arc<Vec<f32>>, u32)>,
}

impl Playback {
    /// Opens the default audio device (or notes that there is none).
    pub fn new() -> Self {
        let sink = match rodio::DeviceSinkBuilder::open_default_sink() {
            Ok(sink) => Some(sink),
            Err(e) => {
                tracing::warn!("no audio output ({e}); playback will be silent");
                None
            }
        };
        Self {
            sink,
            player: None,
            samples: None,
            loading: None,
            started: None,
            scrub_player: None,
            last_scrub: None,
            music_start: 0,
            soundtrack: None,
        }
    }

    /// True when sound can be played.
    pub fn available(&self) -> bool {
        self.sink.is_some()
    }

    /// Decodes the song for playback on a background thread (only when a sink exists).
    pub fn load(&mut self, path: &Path) {
        if self.sink.is_none() {
            return;
        }
        let (tx, rx) = crossbeam_channel::bounded(1);
        let path = path.to_path_buf();
        std::thread::spawn(move || {
            match crate::media::decode_audio(
                &path,
                44_100,
                2,
                &crate::jobs::CancelToken::new(),
                &mut |_| {},
            ) {
                Ok(audio) => {
                    let _ = tx.send((std::sync::Arc::new(audio.samples), audio.rate));
                }
                Err(e) => tracing::warn!("cannot load music for playback: {e}"),
            }
        });
        self.loading = Some(rx);
    }

    fn poll_loading(&mut self) {
        if let Some(rx) = &self.loading
            && let Ok(samples) = rx.try_recv()
        {
            self.samples = Some(samples);
            self.loading = None;
        }
    }

    /// Sets where timeline time 0 is in the song (the plan's region start).
    pub fn set_music_start(&mut self, music_start: Ticks) {
        self.music_start = music_start;
    }

    /// Plays the montage's mix (from timeline time 0) instead of the song from the next
    /// `play_from` or scrub; `None` goes back to the song.
    pub fn set_soundtrack(&mut self, mix: Option<(std::sync::Arc<Vec<f32>>, u32)>) {
        self.soundtrack = mix;
    }

    /// What plays at timeline time `at`: the samples, their rate, and the frame to start at.
    fn source_at(&mut self, at: Ticks) -> Option<(std::sync::Arc<Vec<f32>>, u32, usize)> {
        self.poll_loading();
        if let Some((samples, rate)) = &self.soundtrack {
            let frame = crate::time::samples_from_ticks(at, *rate).max(0) as usize;
            return Some((samples.clone(), *rate, frame));
        }
        let (samples, rate) = self.samples.as_ref()?;
        let frame = crate::time::samples_from_ticks(at + self.music_start, *rate).max(0) as usize;
        Some((samples.clone(), *rate, frame))
    }

    /// Plays from timeline time `from` (forward playback only makes sound).
    pub fn play_from(&mut self, from: Ticks, speed: f64) {
        self.stop();
        self.started = Some((Instant::now(), from, speed));
        if self.sink.is_none() || speed <= 0.0 {
            return;
        }
        let Some((samples, rate, frame)) = self.source_at(from) else {
            return;
        };
        let Some(sink) = &self.sink else {
            return;
        };
        let start = (frame * 2).min(samples.len());
        let source = rodio::buffer::SamplesBuffer::new(
            std::num::NonZeroU16::new(2).unwrap_or(std::num::NonZeroU16::MIN),
            std::num::NonZeroU32::new(rate).unwrap_or(std::num::NonZeroU32::MIN),
            samples[start..].to_vec(),
        );
        let player = rodio::Player::connect_new(sink.mixer());
        player.set_speed(speed as f32);
        player.append(source);
        self.player = Some(player);
    }

    /// Plays a short snippet of the music at timeline time `at` (scrubbing), at most one per
    /// `SCRUB_EVERY`; does nothing while playing or without sound. Returns true when a
    /// snippet started.
    pub fn scrub(&mut self, at: Ticks) -> bool {
        if self.sink.is_none()
            || self.player.is_some()
            || self
                .last_scrub
                .is_some_and(|last| last.elapsed() < SCRUB_EVERY)
        {
            return false;
        }
        let Some((samples, rate, start)) = self.source_at(at) else {
            return false;
        };
        let Some(sink) = &self.sink else {
            return false;
        };
        let snippet = scrub_snippet(&samples, rate, start);
        if snippet.is_empty() {
            return false;
        }
        if let Some(old) = self.scrub_player.take() {
            old.stop();
        }
        let source = rodio::buffer::SamplesBuffer::new(
            std::num::NonZeroU16::new(2).unwrap_or(std::num::NonZeroU16::MIN),
            std::num::NonZeroU32::new(rate).unwrap_or(std::num::NonZeroU32::MIN),
            snippet,
        );
        let player = rodio::Player::connect_new(sink.mixer());
        player.append(source);
        self.scrub_player = Some(player);
        self.last_scrub = Some(Instant::now());
        true
    }

    /// Stops playback.
    pub fn stop(&mut self) {
        if let Some(player) = self.scrub_player.take() {
            player.stop();
        }
        if let Some(player) = self.player.take() {
            player.stop();
        }
        self.started = None;
    }

    /// Current playback position from the audio clock, when audio is playing.
    pub fn position(&self) -> Option<Ticks> {
        let player = self.player.as_ref()?;
        let (_, from, speed) = self.started?;
        Some(from + ticks_from_secs(player.get_pos().as_secs_f64() * speed))
    }
}

/// `SCRUB_SNIPPET` of interleaved stereo `samples` from frame `start`, faded in and out.
fn scrub_snippet(samples: &[f32], rate: u32, start: usize) -> Vec<f32> {
    let frames = (SCRUB_SNIPPET.as_secs_f64() * f64::from(rate)) as usize;
    let fade = ((SCRUB_FADE.as_secs_f64() * f64::from(rate)) as usize).max(1);
    let from = (start * 2).min(samples.len());
    let to = (from + frames * 2).min(samples.len());
    let Some(slice) = samples.get(from..to) else {
        return Vec::new();
    };
    let len = slice.len() / 2;
    slice
        .chunks_exact(2)
        .enumerate()
        .flat_map(|(i, pair)| {
            let gain = (i.min(len.saturating_sub(i + 1)) as f32 / fade as f32).min(1.0);
            pair.iter().map(move |s| s * gain)
        })
        .collect()
}

impl BeatcutApp {
    /// Where playback at `t` (moving at `speed`) restarts when "Loop segment" is on and a
    /// segment is selected: its start going forward, its last frame going backward; `None`
    /// while inside the segment or not looping.
    pub(super) fn loop_restart(&self, t: Ticks, speed: f64) -> Option<Ticks> {
        if !self.preview.loop_segment {
            return None;
        }
        let segment = self
            .session
            .timeline()?
            .segments
            .get(self.session.selected()?)?;
        if t >= segment.start && t < segment.end {
            return None;
        }
        if speed >= 0.0 {
            Some(segment.start)
        } else {
            let frame = self.session.project().plan.fps.frame_ticks().max(1);
            Some((segment.end - frame).max(segment.start))
        }
    }
}

impl Default for Playback {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrub_snippet_is_short_and_faded() {
        let samples = vec![1.0f32; 44_100 * 2];
        let snippet = scrub_snippet(&samples, 44_100, 1000);
        assert_eq!(snippet.len(), 3528 * 2);
        assert_eq!(snippet.first().copied(), Some(0.0));
        assert!(snippet.last().copied().unwrap_or(1.0) < 0.01);
        assert_eq!(snippet.get(snippet.len() / 2).copied(), Some(1.0));
        assert!(scrub_snippet(&samples, 44_100, 1_000_000).is_empty());
    }
}
