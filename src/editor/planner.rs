//! Replanning off the UI thread: the newest request supersedes older ones, and the UI
//! takes the result of the latest request when it lands (usually the next frame).

use std::sync::Arc;
use std::time::Instant;

use crate::analysis::music::MusicAnalysis;
use crate::jobs::{BackgroundThread, ThreadContext};
use crate::plan::{Constraints, PlanIndex, PlanSettings, Style, Timeline};

/// Everything one planning run needs, owned so it can cross threads.
pub struct PlanRequest {
    /// Increases with every request; results of older ones are dropped.
    pub generation: u64,
    /// Selection data for the analysed clips.
    pub index: Arc<PlanIndex>,
    /// The song.
    pub music: Arc<MusicAnalysis>,
    /// The resolved style.
    pub style: Style,
    /// Style overrides, seed, frame rate.
    pub settings: PlanSettings,
    /// Locks, exclusions, moved cuts.
    pub constraints: Constraints,
}

/// A finished planning run.
pub struct PlanOutcome {
    /// Which request this answers.
    pub generation: u64,
    /// The plan, or why there is none.
    pub result: Result<Timeline, String>,
    /// Wall time of the run.
    pub millis: f32,
}

/// The planning thread (a [`BackgroundThread`]): the newest request supersedes any still
/// waiting, and only the answer to the latest request is taken.
pub struct Planner {
    thread: Option<BackgroundThread<PlanRequest, PlanOutcome>>,
    latest: u64,
    answered: u64,
    /// Wall time of the last completed plan, for the performance window.
    pub last_millis: f32,
}

impl Planner {
    /// Starts the planning thread; `waker` is called when a plan lands.
    pub fn new(waker: Arc<dyn Fn() + Send + Sync>) -> Self {
        let thread = BackgroundThread::spawn(
            "planner",
            16,
            waker,
            |requests: crossbeam_channel::Receiver<PlanRequest>,
             ctx: ThreadContext<PlanOutcome>| {
                while let Ok(first) = requests.recv() {
                    if ctx.token().is_cancelled() {
                        return;
                    }
                    // Only the newest waiting request matters.
                    let request = requests.try_iter().last().unwrap_or(first);
                    let started = Instant::now();
                    let result = crate::plan::plan_with_index(
                        &request.index,
                        &request.music,
                        &request.style,
                        &request.settings,
                        &request.constraints,
                    )
                    .map_err(|e| e.to_string());
                    let outcome = PlanOutcome {
                        generation: request.generation,
                        result,
                        millis: started.elapsed().as_secs_f32() * 1000.0,
                    };
                    if !ctx.emit(outcome) {
                        return;
                    }
                }
            },
        );
        let thread = thread
            .map_err(|e| tracing::error!("cannot start the planning thread: {e}"))
            .ok();
        Self {
            thread,
            latest: 0,
            answered: 0,
            last_millis: 0.0,
        }
    }

    /// Queues a plan; returns false if the planning thread is gone.
    pub fn submit(&mut self, mut request: PlanRequest) -> bool {
        self.latest += 1;
        request.generation = self.latest;
        self.thread.as_ref().is_some_and(|t| t.send(request))
    }

    /// The result of the latest request, once it has landed.
    pub fn poll(&mut self) -> Option<PlanOutcome> {
        let mut newest = None;
        for outcome in self
            .thread
            .as_ref()
            .map(BackgroundThread::drain)
            .unwrap_or_default()
        {
            if outcome.generation == self.latest {
                self.answered = outcome.generation;
                self.last_millis = outcome.millis;
                newest = Some(outcome);
            }
        }
        newest
    }

    /// True while the latest request has not been answered.
    pub fn is_pending(&self) -> bool {
        self.thread.is_some() && self.answered < self.latest
    }
}
