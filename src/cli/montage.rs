//! `beatcut plan` and `beatcut render`: the project (or the command line) analysed, planned
//! and, for `render`, exported with its timeline files and the sync report.

use super::verify::print_sync_report;
use super::*;

/// A planned montage with everything needed to render or print it.
pub(super) struct Planned {
    pub(super) project: Project,
    pub(super) music: Arc<MusicAnalysis>,
    pub(super) timeline: beatcut::plan::Timeline,
    /// Each analysed clip's analysis by its persistent id, as segments name clips.
    pub(super) analyses:
        std::collections::HashMap<usize, Arc<beatcut::analysis::video::ClipAnalysis>>,
}

pub(super) fn load_inputs(input: &MontageArgs) -> Result<Project> {
    let mut project = match &input.project {
        Some(path) => Project::load(path)?,
        None => Project::default(),
    };
    if let Some(music) = &input.music {
        project.music = Some(music.clone());
    }
    if !input.clips.is_empty() {
        // The command line's clips replace the project's: files already in the project
        // keep their ids (and locks); the others are removed with their edits.
        let keep: Vec<_> = project
            .clips
            .iter()
            .filter(|c| !input.clips.contains(&c.path))
            .map(|c| c.id)
            .collect();
        for id in keep {
            project.remove_clip(id);
        }
        for clip in &input.clips {
            project.add_clip(clip.clone());
        }
        let order =
            |c: &beatcut::project::ProjectClip| input.clips.iter().position(|p| *p == c.path);
        project.clips.sort_by_key(order);
    }
    if let Some(style) = &input.style {
        project.plan.style = style.clone();
    }
    if let Some(seed) = input.seed {
        project.plan.seed = seed;
    }
    if let Some(fps) = input.fps {
        project.plan.fps = beatcut::time::FrameRate::whole(fps);
    }
    if let Some(mode) = &input.mode {
        project.clip_params.mode = DetectMode::parse(mode).unwrap_or_default();
    }
    if let Some(sync) = input.action_sync {
        if !(0.0..=1.0).contains(&sync) {
            anyhow::bail!("--action-sync {sync}: give a value from 0 (off) to 1");
        }
        project.plan.action_sync = Some(sync);
    }
    if let Some(length) = input.length {
        if !(length.is_finite() && length > 0.0) {
            anyhow::bail!("--length {length}: give a length in seconds, above 0");
        }
        project.plan.length_secs = Some(length);
        project.plan.region_start = None;
    }
    if let Some(start) = input.region_start {
        project.plan.region_start = Some(beatcut::time::ticks_from_secs(start.max(0.0)));
    }
    input.grid.apply_to(&mut project.constraints.beat_grid)?;
    Ok(project)
}

/// Analyses and plans the project through the same editing session the editor uses (in
/// batch mode: no first looks, nothing written outside the cache).
pub(super) fn plan_montage(
    input: &MontageArgs,
    common: &CommonArgs,
    timings: &mut Timings,
) -> Result<Planned> {
    let project = load_inputs(input)?;
    let music_path = project
        .music
        .clone()
        .ok_or_else(|| anyhow::anyhow!("no music given (use --music SONG)"))?;
    if project.clips.is_empty() {
        anyhow::bail!("no clips given");
    }
    let cache = open_cache(common.no_cache);
    let mut session = beatcut::editor::Session::batch(cache.clone());
    session.open_unsaved(project);
    let interrupted = interrupted();
    timings.time("analysis and plan", || {
        session.poll_until(std::time::Duration::MAX, |s| {
            !s.is_busy() || interrupted.is_cancelled()
        })
    });
    cache.flush_stats();
    if interrupted.is_cancelled() {
        anyhow::bail!("interrupted");
    }
    let music = session.music().with_context(|| {
        let why = if music_path.exists() {
            "cannot read the song"
        } else {
            "the song's file is missing"
        };
        format!("{why}: {}", music_path.display())
    })?;
    let analysis = match (&music.analysis, music.failed) {
        (Some(analysis), false) => analysis.clone(),
        _ => anyhow::bail!("{}", music.status),
    };
    for warning in music.warnings() {
        eprintln!("warning: {}: {warning}", music_path.display());
    }
    for clip in session.clips() {
        match &clip.status {
            beatcut::editor::ClipStatus::Failed(reason) => {
                // Name the file when the reason does not.
                let file = clip.path.display().to_string();
                if reason.contains(&file) {
                    eprintln!("warning: skipping clip: {reason}");
                } else {
                    eprintln!("warning: skipping clip ({reason}): {file}");
                }
            }
            _ => {
                for warning in clip.warnings() {
                    eprintln!("warning: {}: {warning}", clip.path.display());
                }
            }
        }
    }
    let timeline = match session.timeline() {
        Some(timeline) => timeline.clone(),
        None if session.clips().iter().all(|c| c.analysis.is_none()) => {
            anyhow::bail!("none of the clips could be analysed")
        }
        None => anyhow::bail!("{}", session.plan_status()),
    };
    let project = session.project().clone();
    // What the timeline was planned on: the song with the user's grid repairs, and only
    // its stretch when the montage is shorter (timeline times).
    let repaired = if project.constraints.beat_grid.is_empty() {
        analysis
    } else {
        Arc::new(project.constraints.beat_grid.apply(&analysis).into_owned())
    };
    let music = match timeline.region {
        Some(region) => Arc::new(repaired.excerpt(region.start, region.end)),
        None => repaired,
    };
    let analyses = session
        .clips()
        .iter()
        .filter_map(|c| Some((c.id.key(), c.analysis.clone()?)))
        .collect();
    Ok(Planned {
        project,
        music,
        timeline,
        analyses,
    })
}

pub(super) fn timeline_json(planned: &Planned) -> serde_json::Value {
    let beats: Vec<beatcut::time::Ticks> = planned.music.beats.iter().map(|b| b.time).collect();
    let report = planned.timeline.report(
        |key| {
            planned
                .project
                .clip_by_key(key)
                .map(|c| c.path.display().to_string())
        },
        &beats,
        planned
            .project
            .music
            .as_ref()
            .map(|m| m.display().to_string()),
    );
    serde_json::to_value(report).unwrap_or_default()
}

pub(super) fn plan_command(
    input: &MontageArgs,
    json: bool,
    explain: bool,
    common: &CommonArgs,
) -> Result<ExitCode> {
    let mut timings = Timings::default();
    let planned = plan_montage(input, common, &mut timings)?;
    if json {
        println!("{}", timeline_json(&planned));
    } else {
        println!(
            "{} segments, {:.2} s, style {}, seed {}, {} fps, {:.1} BPM",
            planned.timeline.segments.len(),
            secs_from_ticks(planned.timeline.duration),
            planned.timeline.style,
            planned.timeline.seed,
            planned.timeline.fps,
            planned.music.tempo_bpm
        );
        for (i, s) in planned.timeline.segments.iter().enumerate() {
            let name = planned
                .project
                .clip_by_key(s.clip)
                .map(|c| c.name())
                .unwrap_or_default();
            println!(
                "{:>3}  {:>7.3}-{:<7.3}  {}  {:.3}-{:.3}{}",
                i + 1,
                secs_from_ticks(s.start),
                secs_from_ticks(s.end),
                name,
                secs_from_ticks(s.src_in),
                secs_from_ticks(s.src_out),
                if explain {
                    format!("\n       {}", s.reason)
                } else {
                    String::new()
                }
            );
        }
    }
    timings.print(common.timings);
    Ok(ExitCode::SUCCESS)
}

/// Render options beyond size: sound and how shapes are fitted.
pub(super) struct SoundAndFit {
    /// `None`: the project's.
    pub(super) clip_audio: Option<f32>,
    /// `None`: the project's.
    pub(super) duck_db: Option<f32>,
    pub(super) fade_in: f64,
    pub(super) fade_out: f64,
    /// `None`: the aspect's own fit.
    pub(super) fit: Option<beatcut::render::Fit>,
}

impl Default for SoundAndFit {
    fn default() -> Self {
        Self {
            clip_audio: Some(0.0),
            duck_db: Some(0.0),
            fade_in: 0.0,
            fade_out: 2.0,
            fit: None,
        }
    }
}

/// What `render` does besides the MP4: timeline files (JSON, EDL, FCPXML, OTIO) and the
/// sync report.
pub(super) struct RenderExtras {
    pub(super) sidecars: [Option<PathBuf>; 4],
    pub(super) verify: Option<ReportFormat>,
}

pub(super) fn render_command(
    input: &MontageArgs,
    output: &std::path::Path,
    preset: &str,
    aspect: &str,
    options: &SoundAndFit,
    extras: RenderExtras,
    common: &CommonArgs,
) -> Result<ExitCode> {
    let RenderExtras { sidecars, verify } = extras;
    let mut timings = Timings::default();
    let planned = plan_montage(input, common, &mut timings)?;
    let preset = beatcut::render::Preset::parse(preset).unwrap_or_default();
    let aspect = beatcut::render::Aspect::parse(aspect).unwrap_or_default();
    let mut settings = beatcut::render::RenderSettings::new(preset, aspect, planned.timeline.fps);
    let saved = &planned.project.export;
    let clip_audio = options.clip_audio.unwrap_or(saved.clip_audio);
    if !(0.0..=1.0).contains(&clip_audio) {
        anyhow::bail!("--clip-audio {clip_audio}: give a level from 0 to 1");
    }
    settings.clip_audio_level = clip_audio;
    let duck_db = options.duck_db.unwrap_or(saved.duck_db);
    if !(0.0..=60.0).contains(&duck_db) {
        anyhow::bail!("--duck {duck_db}: give a depth from 0 to 60 dB");
    }
    settings.duck_db = duck_db;
    settings.fade_in = beatcut::time::ticks_from_secs(options.fade_in.max(0.0));
    settings.fade_out = beatcut::time::ticks_from_secs(options.fade_out.max(0.0));
    settings.fit = options
        .fit
        .or(planned.project.export.fit)
        .unwrap_or(beatcut::render::Fit::for_aspect(aspect));
    let music_path = planned.project.music.clone().unwrap_or_default();
    let mut job =
        beatcut::montage::render_job(&planned.timeline, &planned.project.clips, &music_path)?;
    beatcut::montage::reframe_job(
        &mut job,
        &planned.timeline,
        &settings,
        &planned.project.constraints.framing,
        |key| planned.analyses.get(&key).cloned(),
    );
    let cancel = interrupted();
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} frames {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let result = timings.time("render", || {
        beatcut::render::render(&job, &settings, output, &cancel, &mut |p| {
            bar.set_length(p.frames_total);
            bar.set_position(p.frames_done);
            bar.set_message(format!("{:.0} fps, {:.0} s left", p.fps, p.eta_secs));
        })
    });
    bar.finish_and_clear();
    let report = match result {
        Ok(report) => report,
        Err(beatcut::render::RenderError::Cancelled) => {
            eprintln!("export cancelled; no file written");
            return Ok(ExitCode::from(130));
        }
        Err(e) => return Err(e.into()),
    };
    for warning in &report.warnings {
        eprintln!("warning: {warning}");
    }
    let [timeline_path, edl, fcpxml, otio] = sidecars;
    if let Some(path) = timeline_path {
        beatcut::project::write_atomically(&path, timeline_json(&planned).to_string().as_bytes())?;
    }
    let interchange = beatcut::montage::interchange_timeline(
        &planned.timeline,
        &planned.project.clips,
        Some(&music_path),
        &settings,
    )?;
    for path in [edl, fcpxml, otio].into_iter().flatten() {
        beatcut::render::interchange::write_timeline_file(&interchange, &path)?;
    }
    println!(
        "wrote {} ({} frames, {:.1} s, {} segments, {} in {:.1} s)",
        report.path.display(),
        report.frames,
        secs_from_ticks(planned.timeline.duration),
        planned.timeline.segments.len(),
        report.encoder,
        report.wall_secs
    );
    let code = match verify {
        Some(format) => {
            let plan = beatcut::render::VerifyPlan::from_timeline(
                &planned.timeline,
                planned.music.beats.iter().map(|b| b.time).collect(),
                &music_path,
            );
            let report = timings.time("verify", || {
                beatcut::render::verify_export(&report.path, &plan, &cancel, &mut |_| {})
            })?;
            print_sync_report(&report, format)
        }
        None => ExitCode::SUCCESS,
    };
    timings.print(common.timings);
    Ok(code)
}
