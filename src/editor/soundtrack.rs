//! The montage's sound for the preview, mixed off the UI thread the way the export mixes it
//! ([`crate::render::mix_soundtrack`]): the music from the plan's place in the song, the
//! clips' own sound under it, and the music ducked while that sound is loud. Playing this
//! instead of the bare song lets the user hear the ducking before exporting, and hear what
//! the export will write.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use crate::jobs::{BackgroundThread, ThreadContext};
use crate::media::DecodedAudio;
use crate::render::{RenderJob, RenderSettings};

/// One mix to make.
struct MixRequest {
    generation: u64,
    job: RenderJob,
    settings: RenderSettings,
}

/// What the thread answers: a mix, or why there is none.
struct MixOutcome {
    generation: u64,
    result: Result<Soundtrack, String>,
}

/// A finished mix of the whole timeline.
#[derive(Debug)]
pub struct Soundtrack {
    /// Interleaved stereo from timeline time 0.
    pub samples: Arc<Vec<f32>>,
    /// Samples per second.
    pub rate: u32,
    /// Problems that did not stop the mix (a clip whose sound cannot be read).
    pub warnings: Vec<String>,
}

/// The mixing thread (a [`BackgroundThread`]): the newest request supersedes any still
/// waiting; decoded files are kept between mixes, so a replan remixes without decoding.
pub struct SoundtrackMixer {
    thread: Option<BackgroundThread<MixRequest, MixOutcome>>,
    latest: u64,
    /// True when a mix is wanted (clip sound on); false after `clear`.
    wanted: bool,
    current: Option<Arc<Soundtrack>>,
    failure: Option<String>,
}

impl SoundtrackMixer {
    /// Starts the mixing thread; `waker` is called when a mix lands.
    pub fn new(waker: Arc<dyn Fn() + Send + Sync>) -> Self {
        let thread = BackgroundThread::spawn(
            "soundtrack",
            4,
            waker,
            |requests: crossbeam_channel::Receiver<MixRequest>, ctx: ThreadContext<MixOutcome>| {
                let mut decoded: HashMap<(PathBuf, u32), Arc<DecodedAudio>> = HashMap::new();
                while let Ok(first) = requests.recv() {
                    let request = requests.try_iter().last().unwrap_or(first);
                    let rate = request.settings.audio_rate;
                    let token = ctx.token().clone();
                    let result = crate::render::mix_soundtrack(
                        &request.job,
                        &request.settings,
                        &token,
                        &mut |path| {
                            let key = (path.to_path_buf(), rate);
                            if let Some(audio) = decoded.get(&key) {
                                return Ok(audio.clone());
                            }
                            let audio = Arc::new(crate::media::decode_audio(
                                path,
                                rate,
                                2,
                                &token,
                                &mut |_| {},
                            )?);
                            decoded.insert(key, audio.clone());
                            Ok(audio)
                        },
                    );
                    if ctx.token().is_cancelled() {
                        return;
                    }
                    // Keep only the files this timeline uses.
                    let used: Vec<&PathBuf> = std::iter::once(&request.job.music)
                        .chain(&request.job.clips)
                        .collect();
                    decoded.retain(|(path, _), _| used.contains(&path));
                    let outcome = MixOutcome {
                        generation: request.generation,
                        result: result
                            .map(|(samples, warnings)| Soundtrack {
                                samples: Arc::new(samples),
                                rate,
                                warnings,
                            })
                            .map_err(|e| e.to_string()),
                    };
                    if !ctx.emit(outcome) {
                        return;
                    }
                }
            },
        );
        let thread = thread
            .map_err(|e| tracing::error!("cannot start the soundtrack thread: {e}"))
            .ok();
        Self {
            thread,
            latest: 0,
            wanted: false,
            current: None,
            failure: None,
        }
    }

    /// Mixes `job` with `settings` (superseding any mix not yet taken).
    pub fn submit(&mut self, job: RenderJob, settings: RenderSettings) {
        self.latest += 1;
        self.wanted = true;
        // The mix of an older timeline no longer fits its cuts.
        self.current = None;
        self.failure = None;
        let request = MixRequest {
            generation: self.latest,
            job,
            settings,
        };
        if !self.thread.as_ref().is_some_and(|t| t.send(request)) {
            self.failure = Some("the soundtrack thread is gone".into());
        }
    }

    /// Forgets the current mix (the preview plays the bare song).
    pub fn clear(&mut self) {
        self.latest += 1;
        self.wanted = false;
        self.current = None;
        self.failure = None;
    }

    /// Takes in finished mixes; true when the latest one landed (or failed).
    pub fn poll(&mut self) -> bool {
        let mut landed = false;
        for outcome in self
            .thread
            .as_ref()
            .map(BackgroundThread::drain)
            .unwrap_or_default()
        {
            if outcome.generation != self.latest || !self.wanted {
                continue;
            }
            landed = true;
            match outcome.result {
                Ok(mix) => {
                    self.current = Some(Arc::new(mix));
                    self.failure = None;
                }
                Err(reason) => {
                    self.current = None;
                    self.failure = Some(reason);
                }
            }
        }
        landed
    }

    /// The latest mix, once it has landed (`None` while clip sound is off).
    pub fn current(&self) -> Option<&Arc<Soundtrack>> {
        self.current.as_ref().filter(|_| self.wanted)
    }

    /// Why the latest mix failed, if it did.
    pub fn failure(&self) -> Option<&str> {
        self.failure.as_deref()
    }

    /// True while a wanted mix has neither landed nor failed.
    pub fn is_pending(&self) -> bool {
        self.thread.is_some() && self.wanted && self.current.is_none() && self.failure.is_none()
    }
}
