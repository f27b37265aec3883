//! Music playback through rodio; without a sound card, playback runs silently on the
//! system clock and the editor says so.

use std::path::Path;
use std::time::Instant;

use crate::time::{Ticks, ticks_from_secs};

/// The audio output, when there is one.
pub struct Playback {
    sink: Option<rodio::MixerDeviceSink>,
    player: Option<rodio::Player>,
    samples: Option<(std::sync::Arc<Vec<f32>>, u32)>,
    loading: Option<crossbeam_channel::Receiver<(std::sync::Arc<Vec<f32>>, u32)>>,
    started: Option<(Instant, Ticks, f64)>,
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

    /// Plays from timeline time `from` (forward playback only makes sound).
    pub fn play_from(&mut self, from: Ticks, speed: f64) {
        self.stop();
        self.poll_loading();
        self.started = Some((Instant::now(), from, speed));
        let (Some(sink), Some((samples, rate))) = (&self.sink, &self.samples) else {
            return;
        };
        if speed <= 0.0 {
            return;
        }
        let start =
            (crate::time::samples_from_ticks(from, *rate).max(0) as usize * 2).min(samples.len());
        let source = rodio::buffer::SamplesBuffer::new(
            std::num::NonZeroU16::new(2).unwrap_or(std::num::NonZeroU16::MIN),
            std::num::NonZeroU32::new(*rate).unwrap_or(std::num::NonZeroU32::MIN),
            samples[start..].to_vec(),
        );
        let player = rodio::Player::connect_new(sink.mixer());
        player.set_speed(speed as f32);
        player.append(source);
        self.player = Some(player);
    }

    /// Stops playback.
    pub fn stop(&mut self) {
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

impl Default for Playback {
    fn default() -> Self {
        Self::new()
    }
}
