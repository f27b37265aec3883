//! Exporting from the editing session: the montage rendered on its own background thread
//! (progress, cancel), the EDL / FCPXML / OTIO written beside it, then the written file
//! checked (every cut on its frame and beat, sound on the picture). The session owns the
//! job; the export dialog only shows it.

use std::path::PathBuf;
use std::sync::Arc;

use crate::jobs::{BackgroundThread, JobError, ThreadContext};
use crate::plan::Timeline;
use crate::project::ProjectClip;
use crate::render::{RenderJob, RenderProgress, RenderSettings, SyncReport, VerifyPlan};

/// What the export thread reports.
#[derive(Debug)]
pub enum ExportEvent {
    /// Frames written so far.
    Progress(RenderProgress),
    /// The file is written (its path) or why not.
    Done(Result<PathBuf, String>),
    /// The written file checked again (after `Done`): cuts and sound as they really are.
    Verified(Result<SyncReport, String>),
}

/// Where an export stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportPhase {
    /// Rendering (and writing the timeline files).
    Rendering,
    /// Checking the written file.
    Verifying,
    /// Finished, failed or cancelled.
    Ended,
}

/// Everything one export needs, owned so it can cross to the export thread.
pub struct ExportRequest {
    /// The render job (clips by their place in its file list).
    pub job: RenderJob,
    /// Size, codec settings, sound.
    pub settings: RenderSettings,
    /// The file to write.
    pub output: PathBuf,
    /// The timeline files to write beside it (`None`: none).
    pub interchange: Option<(Timeline, Vec<ProjectClip>, PathBuf)>,
    /// What the check of the written file compares against.
    pub verify: VerifyPlan,
}

/// A running (or finished) export.
pub struct ExportJob {
    thread: BackgroundThread<(), ExportEvent>,
    phase: ExportPhase,
    progress: Option<RenderProgress>,
    result: Option<Result<PathBuf, String>>,
    verification: Option<Result<SyncReport, String>>,
}

impl ExportJob {
    /// Starts rendering `request` on the export thread.
    pub fn start(
        request: ExportRequest,
        waker: Arc<dyn Fn() + Send + Sync>,
    ) -> Result<Self, JobError> {
        let thread =
            BackgroundThread::spawn("export", 64, waker, move |_, ctx| run(request, &ctx))?;
        Ok(Self {
            thread,
            phase: ExportPhase::Rendering,
            progress: None,
            result: None,
            verification: None,
        })
    }

    /// Takes in what the thread reported; returns the events for messages to the user.
    pub fn poll(&mut self) -> Vec<ExportEvent> {
        let events = self.thread.drain();
        for event in &events {
            match event {
                ExportEvent::Progress(p) => self.progress = Some(*p),
                ExportEvent::Done(result) => {
                    self.phase = if result.is_ok() {
                        ExportPhase::Verifying
                    } else {
                        ExportPhase::Ended
                    };
                    self.result = Some(result.clone());
                }
                ExportEvent::Verified(result) => {
                    self.phase = ExportPhase::Ended;
                    self.verification = Some(result.clone());
                }
            }
        }
        events
    }

    /// Stops the render (its partial file is removed) or the check.
    pub fn cancel(&self) {
        self.thread.cancel();
    }

    /// Where the export stands.
    pub fn phase(&self) -> ExportPhase {
        self.phase
    }

    /// The last progress report while rendering.
    pub fn progress(&self) -> Option<&RenderProgress> {
        self.progress.as_ref()
    }

    /// The written file, or why there is none, once rendering ended.
    pub fn result(&self) -> Option<&Result<PathBuf, String>> {
        self.result.as_ref()
    }

    /// The check of the written file, once done.
    pub fn verification(&self) -> Option<&Result<SyncReport, String>> {
        self.verification.as_ref()
    }
}

/// The export thread's work: render, timeline files, then the check.
fn run(request: ExportRequest, ctx: &ThreadContext<ExportEvent>) {
    let cancel = ctx.token().clone();
    let mut report = |p: RenderProgress| ctx.emit_lossy(ExportEvent::Progress(p));
    let rendered = crate::render::render(
        &request.job,
        &request.settings,
        &request.output,
        &cancel,
        &mut report,
    )
    .map(|r| r.path)
    .map_err(|e| e.to_string());
    let result = rendered.and_then(|path| {
        if let Some((timeline, clips, music)) = &request.interchange {
            let timeline = crate::montage::interchange_timeline(
                timeline,
                clips,
                Some(music),
                &request.settings,
            )
            .map_err(|e| e.to_string())?;
            for ext in ["edl", "fcpxml", "otio"] {
                let side = request.output.with_extension(ext);
                crate::render::interchange::write_timeline_file(&timeline, &side)
                    .map_err(|e| e.to_string())?;
            }
        }
        Ok(path)
    });
    let written = result.is_ok();
    if !ctx.emit(ExportEvent::Done(result)) || !written {
        return;
    }
    let verified =
        crate::render::verify_export(&request.output, &request.verify, &cancel, &mut |_| {})
            .map_err(|e| e.to_string());
    ctx.emit(ExportEvent::Verified(verified));
}
