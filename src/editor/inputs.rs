//! Project → planner inputs, in one place: the app's replans, the inspector's replacement
//! candidates and the CLI's `plan`/`render` all hand the planner the same clips the same way.

use std::sync::Arc;

use crate::analysis::video::ClipAnalysis;
use crate::plan::ClipInput;
use crate::project::{ClipId, Project, ProjectClip};

/// The project's analysed clips, in bin order, ready to lend to the planner.
#[derive(Debug, Clone, Default)]
pub struct PlanClips {
    clips: Vec<(ClipId, String, Arc<ClipAnalysis>)>,
}

impl PlanClips {
    /// The clips of `project` whose analysis `analysis_of` knows (the others are skipped:
    /// still analysing, failed or missing).
    pub fn new(
        project: &Project,
        mut analysis_of: impl FnMut(&ProjectClip) -> Option<Arc<ClipAnalysis>>,
    ) -> Self {
        let clips = project
            .clips
            .iter()
            .filter_map(|clip| Some((clip.id, clip.name(), analysis_of(clip)?)))
            .collect();
        Self { clips }
    }

    /// The planner's view: each clip keyed by its persistent id.
    pub fn inputs(&self) -> Vec<ClipInput<'_>> {
        self.clips
            .iter()
            .map(|(id, name, analysis)| ClipInput {
                id: id.key(),
                name,
                analysis,
            })
            .collect()
    }

    /// True when no clip is analysed yet.
    pub fn is_empty(&self) -> bool {
        self.clips.is_empty()
    }

    /// How many clips are analysed.
    pub fn len(&self) -> usize {
        self.clips.len()
    }
}
