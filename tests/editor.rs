//! The real editor driven headlessly with egui_kittest: drop generated media, wait for
//! analysis, move the scene threshold, lock a segment and re-roll, undo, save and reopen,
//! start and cancel an export.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![cfg(feature = "gui")]

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use beatcut::app::BeatcutApp;
use beatcut::cache::{Cache, CacheLimits};
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};

#[derive(Debug)]
struct DroppedPath(PathBuf);

impl egui::DroppedFile for DroppedPath {
    fn path(&self) -> &Path {
        &self.0
    }
    fn bytes(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.0).map_err(|e| e.to_string())
    }
}

/// A 12 s click track at 120 BPM and three clips with cuts between lavfi sources.
fn make_media(dir: &Path) -> (PathBuf, Vec<PathBuf>) {
    let song = dir.join("song.wav");
    common::ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "aevalsrc='0.8*sin(2*PI*880*t)*exp(-30*mod(t\\,0.5))+0.2*sin(2*PI*110*t)':s=44100:d=12",
        song.to_str().unwrap(),
    ]);
    let mut clips = Vec::new();
    for (i, (a, b)) in [
        ("testsrc2", "smptebars"),
        ("mandelbrot", "testsrc"),
        ("smptehdbars", "mandelbrot"),
    ]
    .iter()
    .enumerate()
    {
        let path = common::two_shot_clip(dir, &format!("clip{i}.mp4"), a, b, &["-g", "50"]);
        clips.push(path);
    }
    (song, clips)
}

/// An editor on the cache in `cache_dir`, keeping its recent list and autosave in the sibling
/// `data` directory (never the user's).
fn new_app(cache_dir: &Path) -> BeatcutApp {
    let cache = Cache::open(cache_dir, CacheLimits::default()).expect("cache");
    BeatcutApp::new(Arc::new(cache), Arc::new(|| {}))
        .with_data_dir(data_dir(cache_dir))
        .without_seek_proxies()
}

/// A test's working directory at a fixed place (`$TMPDIR/beatcut-kittest/NAME`, emptied
/// first, removed after): the window shows paths under it, and a snapshot must show the same
/// on every machine.
struct FixedDir(PathBuf);

impl FixedDir {
    fn new(test: &str) -> Self {
        let dir = std::env::temp_dir().join("beatcut-kittest").join(test);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("test dir");
        Self(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for FixedDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn data_dir(cache_dir: &Path) -> PathBuf {
    cache_dir.with_file_name("data")
}

fn harness(app: BeatcutApp) -> Harness<'static, BeatcutApp> {
    Harness::builder()
        .with_size(egui::Vec2::new(1400.0, 860.0))
        .build_ui_state(|ui, app: &mut BeatcutApp| app.ui(ui), app)
}

/// Sets the project's export path to `output` and opens the export dialog (Ctrl+E).
fn open_export_dialog(harness: &mut Harness<'static, BeatcutApp>, output: &Path) -> PathBuf {
    let output = output.to_path_buf();
    let path = output.clone();
    harness
        .state_mut()
        .session_mut()
        .change_project(|p| p.export.output = Some(path));
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::E);
    harness.step();
    output
}

/// Drags with the primary button from `from` to `to` in `steps` moves, one UI step each,
/// and releases (the release is processed by the next step).
fn drag(harness: &mut Harness<'static, BeatcutApp>, from: egui::Pos2, to: egui::Pos2, steps: u32) {
    let press = |pos, pressed| egui::Event::PointerButton {
        pos,
        button: egui::PointerButton::Primary,
        pressed,
        modifiers: egui::Modifiers::NONE,
    };
    let input = harness.input_mut();
    input.events.push(egui::Event::PointerMoved(from));
    input.events.push(press(from, true));
    harness.step();
    for step in 1..=steps {
        let pos = from + (to - from) * (step as f32 / steps as f32);
        harness
            .input_mut()
            .events
            .push(egui::Event::PointerMoved(pos));
        harness.step();
    }
    harness.input_mut().events.push(press(to, false));
    harness.step();
}

/// Steps the UI until `done` holds (background jobs run on their own threads meanwhile).
fn step_until(
    harness: &mut Harness<'static, BeatcutApp>,
    what: &str,
    done: impl Fn(&BeatcutApp) -> bool,
) {
    // Always step at least once so input queued by the caller (a click, a slider) is
    // processed before the condition is checked.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        harness.step();
        if done(harness.state()) {
            break;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
    harness.step();
}

/// The beat times of the editor's (repaired) grid.
fn grid_times(harness: &mut Harness<'static, BeatcutApp>) -> Vec<i64> {
    harness
        .state_mut()
        .session_mut()
        .grid()
        .expect("grid")
        .beats
        .iter()
        .map(|b| b.time)
        .collect()
}

/// The project's beat grid repairs.
fn grid_edits(app: &BeatcutApp) -> &beatcut::analysis::music::BeatGridEdits {
    &app.session().project().constraints.beat_grid
}

/// Drops the song and clips onto the window and steps until they are analysed and planned.
fn drop_and_plan(harness: &mut Harness<'static, BeatcutApp>, song: &Path, clips: &[PathBuf]) {
    let mut dropped: Vec<PathBuf> = clips.to_vec();
    dropped.push(song.to_path_buf());
    harness.input_mut().dropped_files.extend(
        dropped
            .into_iter()
            .map(|p| Arc::new(DroppedPath(p)) as egui::DroppedFileHandle),
    );
    step_until(harness, "analysis and a plan", |app| {
        app.session().timeline().is_some()
            && !app.is_busy()
            && app.session().clips().len() == clips.len()
    });
}

#[test]
fn editor_end_to_end() {
    let dir = FixedDir::new("editor_end_to_end");
    let (song, clips) = make_media(dir.path());
    let mut harness = harness(new_app(&dir.path().join("cache")));
    harness.step();
    // First run: the window says what to do.
    assert!(
        harness
            .query_all_by_label_contains("Drop video clips and a song")
            .count()
            >= 1
    );

    drop_and_plan(&mut harness, &song, &clips);
    step_until(&mut harness, "the preview", |app| app.preview_settled());
    check_snapshot(&mut harness, "e2e_planned");
    let first_plan = harness.state().session().timeline().cloned().expect("plan");
    assert!(
        first_plan.segments.len() >= 4,
        "a real plan: {} segments",
        first_plan.segments.len()
    );
    assert_eq!(
        first_plan.duration,
        harness
            .state()
            .session()
            .music()
            .and_then(|m| m.analysis.as_ref())
            .map(|a| a.duration)
            .map(|d| first_plan
                .fps
                .ticks_of_frame(first_plan.fps.nearest_frame(d)))
            .expect("music")
    );
    let scenes_before: usize = harness
        .state()
        .session()
        .clips()
        .iter()
        .filter_map(|c| c.analysis.as_ref())
        .map(|a| a.scenes.len())
        .sum();
    assert!(
        scenes_before >= 6,
        "cuts found in the three clips: {scenes_before} scenes"
    );
    assert!(harness.query_all_by_label_contains("clip0.mp4").count() >= 1);
    assert!(harness.query_all_by_label_contains("BPM").count() >= 1);

    // Move the scene threshold to its maximum: fewer cuts, the plan changes at once.
    harness
        .get_by_role_and_label(egui::accesskit::Role::Slider, "Scene threshold")
        .set_value_accesskit(1.0);
    let plans_before = harness.state().session().plans_made();
    step_until(&mut harness, "the replan", |app| !app.is_busy());
    let scenes_after: usize = harness
        .state()
        .session()
        .clips()
        .iter()
        .filter_map(|c| c.analysis.as_ref())
        .map(|a| a.scenes.len())
        .sum();
    assert!(
        scenes_after < scenes_before,
        "threshold 1.0 merges scenes: {scenes_before} -> {scenes_after}"
    );
    assert!(
        harness.state().session().plans_made() > plans_before,
        "the timeline is replanned when the threshold moves"
    );
    // Every segment now lies inside one scene of the re-detected analysis.
    let app = harness.state();
    for seg in &app.session().timeline().expect("plan").segments {
        let analysis = app
            .session()
            .clip_of(seg)
            .and_then(|c| c.analysis.as_ref())
            .expect("analysed");
        assert!(
            analysis
                .scenes
                .iter()
                .any(|s| s.start <= seg.src_in && seg.src_in < s.end),
            "segment source starts inside a scene"
        );
    }

    // Undo brings the threshold (and the scenes) back.
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    step_until(&mut harness, "the replan", |app| !app.is_busy());
    let scenes_undone: usize = harness
        .state()
        .session()
        .clips()
        .iter()
        .filter_map(|c| c.analysis.as_ref())
        .map(|a| a.scenes.len())
        .sum();
    assert_eq!(scenes_undone, scenes_before, "undo restores the threshold");

    // Select the second segment on the timeline, lock it, re-roll: it stays.
    // Selected by clicking its painted block on the timeline (an accessibility node).
    let locked = harness.state().session().timeline().expect("plan").segments[1].clone();
    harness.get_by_label_contains("Segment 2:").click();
    harness.step();
    assert_eq!(
        harness.state().session().selected(),
        Some(1),
        "the click selects it"
    );
    harness.get_by_label("Lock segment").click();
    step_until(&mut harness, "the replan", |app| !app.is_busy());
    harness.get_by_label("Re-roll").click();
    harness.step();
    step_until(&mut harness, "the re-rolled plan", |app| !app.is_busy());
    let rerolled = harness.state().session().timeline().cloned().expect("plan");
    let kept = rerolled
        .segments
        .iter()
        .find(|s| s.start == locked.start)
        .expect("locked segment survives");
    assert_eq!(
        (kept.clip, kept.src_in, kept.end),
        (locked.clip, locked.src_in, locked.end)
    );
    assert_ne!(rerolled.seed, first_plan.seed);

    // Save, reopen in a fresh editor, same plan.
    let (saved_plan, mut reopened) = save_and_reopen(&mut harness, dir.path(), "montage.beatcut");
    assert_eq!(
        reopened.state().session().timeline().expect("plan"),
        &saved_plan,
        "reopened project gives the same plan"
    );

    // Export: start from the dialog, then cancel; no partial file is left.
    let output = dir.path().join("out.mp4");
    reopened
        .state_mut()
        .session_mut()
        .change_project(|p| p.export.output = Some(output.clone()));
    reopened.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::E);
    reopened.step();
    reopened.get_by_label("Start export").click();
    reopened.step();
    reopened.step();
    assert!(reopened.state().is_exporting(), "the export did not start");
    assert!(
        reopened
            .state()
            .session()
            .notices()
            .iter()
            .all(|n| !n.text.contains("export")),
        "export ended before the cancel"
    );
    reopened.get_by_label("Cancel export").click();
    step_until(&mut reopened, "the export to stop", |app| {
        app.session()
            .notices()
            .iter()
            .any(|n| n.text.contains("export"))
    });
    assert!(!reopened.state().is_exporting());
    let ended = &reopened
        .state()
        .session()
        .notices()
        .last()
        .expect("a notice")
        .text;
    assert!(ended.contains("cancelled"), "{ended}");
    assert!(!output.exists(), "a cancelled export leaves no file");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .expect("dir")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains("partial"))
        .collect();
    assert!(leftovers.is_empty(), "no partial files: {leftovers:?}");
}

/// Saves the project as `name` in `dir`, opens it in a fresh editor and steps until it is
/// planned; returns the plan at saving and the new editor.
fn save_and_reopen(
    harness: &mut Harness<'static, BeatcutApp>,
    dir: &Path,
    name: &str,
) -> (beatcut::plan::Timeline, Harness<'static, BeatcutApp>) {
    let project_path = dir.join(name);
    harness
        .state_mut()
        .session_mut()
        .save_project(&project_path);
    // Remembered in the editor's own data directory (a test's), not the user's.
    let recent = std::fs::read_to_string(data_dir(&dir.join("cache")).join("recent.json"))
        .expect("the recent list in the editor's data directory");
    assert!(recent.contains(name), "{recent}");
    let saved_plan = harness.state().session().timeline().cloned().expect("plan");
    let mut reopened = harness_for_project(&dir.join("cache"), &project_path);
    step_until(&mut reopened, "the reopened plan", |app| {
        app.session().timeline().is_some() && !app.is_busy() && app.session().clips().len() == 3
    });
    (saved_plan, reopened)
}

fn harness_for_project(cache_dir: &Path, project: &Path) -> Harness<'static, BeatcutApp> {
    let mut app = new_app(cache_dir);
    app.open_project(project);
    harness(app)
}

#[test]
fn broken_files_are_listed_with_a_reason() {
    let dir = FixedDir::new("broken_files_are_listed_with_a_reason");
    let bad = dir.path().join("broken.mp4");
    std::fs::write(&bad, b"definitely not a video").expect("write");
    let mut harness = harness(new_app(&dir.path().join("cache")));
    harness.state_mut().add_paths(std::slice::from_ref(&bad));
    step_until(&mut harness, "the probe", |app| {
        !app.session().notices().is_empty()
    });
    let notice = &harness.state().session().notices()[0];
    assert!(
        notice.is_problem && notice.text.contains("broken.mp4"),
        "{}",
        notice.text
    );
    assert!(harness.state().session().clips().is_empty());
    check_snapshot(&mut harness, "broken_file_notice");
}

/// A grid on the off-beat repaired with one click: the plan follows, undo brings the tracked
/// grid back, and the repair survives saving and reopening.
#[test]
fn beat_grid_repair_in_the_editor() {
    let dir = FixedDir::new("beat_grid_repair_in_the_editor");
    let (song, clips) = make_media(dir.path());
    let mut harness = harness(new_app(&dir.path().join("cache")));
    harness.step();
    drop_and_plan(&mut harness, &song, &clips);
    let tracked = grid_times(&mut harness);
    assert!(tracked.len() >= 18, "{} beats", tracked.len());
    let near = |beats: &[i64], t: i64, fps: beatcut::time::FrameRate| {
        beats
            .iter()
            .any(|&b| (b - t).abs() <= fps.frame_ticks() / 2 + 1)
    };
    let cuts = |app: &BeatcutApp| -> (Vec<i64>, beatcut::time::FrameRate) {
        let t = app.session().timeline().expect("plan");
        (t.segments.iter().skip(1).map(|s| s.start).collect(), t.fps)
    };
    let (before, fps) = cuts(harness.state());
    assert!(before.len() >= 3);
    assert!(before.iter().all(|&c| near(&tracked, c, fps)));

    // One click: the grid moves half a beat and every cut goes with it.
    assert!(harness.query_all_by_label_contains("Beat grid:").count() >= 1);
    let plans = harness.state().session().plans_made();
    harness.get_by_label("Half beat").click();
    step_until(&mut harness, "the replan", |app| {
        !app.is_busy() && app.session().plans_made() > plans
    });
    assert!(
        harness
            .state()
            .session()
            .project()
            .constraints
            .beat_grid
            .half_beat_shift
    );
    let shifted = grid_times(&mut harness);
    let (after, fps) = cuts(harness.state());
    assert!(after.len() >= 3);
    for &c in &after {
        assert!(near(&shifted, c, fps), "cut at {c} is on the shifted grid");
        assert!(
            !near(&tracked, c, fps),
            "cut at {c} is still on the old grid"
        );
    }
    assert!(harness.query_all_by_label_contains("(repaired)").count() >= 1);
    step_until(&mut harness, "the preview", |app| app.preview_settled());
    check_snapshot(&mut harness, "beat_grid_repaired");

    // Save and reopen: the repair and the plan are kept.
    let (saved_plan, reopened) = save_and_reopen(&mut harness, dir.path(), "grid.beatcut");
    assert!(
        reopened
            .state()
            .session()
            .project()
            .constraints
            .beat_grid
            .half_beat_shift
    );
    assert_eq!(reopened.state().session().timeline(), Some(&saved_plan));

    // Undo: the tracked grid and cuts on it again.
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    step_until(&mut harness, "the replan", |app| {
        !app.is_busy() && app.session().project().constraints.beat_grid.is_empty()
    });
    step_until(&mut harness, "the plan on the tracked grid", |app| {
        !app.is_busy()
            && app.session().timeline().is_some_and(|t| {
                t.segments
                    .iter()
                    .skip(1)
                    .all(|s| near(&tracked, s.start, t.fps))
            })
    });

    // Drag one beat along the top of the music lane: that beat moves, the others stay.
    let lane = harness.get_by_label("Music lane").rect();
    let duration = harness.state().session().timeline().expect("plan").duration;
    let x_of = |t: i64| lane.left() + lane.width() * (t as f32 / duration as f32);
    let grabbed = tracked[6];
    let target = grabbed + (tracked[7] - grabbed) / 3;
    let y = lane.top() + 5.0;
    harness.hover_at(egui::pos2(x_of(grabbed), y));
    harness.step();
    harness.drag_at(egui::pos2(x_of(grabbed), y));
    harness.step();
    for k in 1..=4 {
        let x = x_of(grabbed) + (x_of(target) - x_of(grabbed)) * k as f32 / 4.0;
        harness.hover_at(egui::pos2(x, y));
        harness.step();
    }
    harness.drop_at(egui::pos2(x_of(target), y));
    step_until(&mut harness, "the replan", |app| {
        !app.is_busy() && !grid_edits(app).moved.is_empty()
    });
    let moved = grid_times(&mut harness);
    assert_eq!(moved.len(), tracked.len());
    let tolerance = duration / lane.width() as i64 * 2;
    assert!(
        (moved[6] - target).abs() <= tolerance,
        "dragged beat at {} for {target}",
        moved[6]
    );
    assert_eq!(moved[5], tracked[5]);
    assert_eq!(moved[7], tracked[7]);
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    step_until(&mut harness, "the undo", |app| {
        !app.is_busy() && app.session().project().constraints.beat_grid.is_empty()
    });

    // Right-click the lane: half a beat later in the section under the pointer only.
    harness.get_by_label("Music lane").click_secondary();
    // The menu opens on the frame after the click.
    harness.step();
    harness.step();
    harness
        .get_by_label("Half a beat later in this section")
        .click();
    step_until(&mut harness, "the replan", |app| {
        !app.is_busy() && !grid_edits(app).half_beat_spans.is_empty()
    });
    let spans = grid_edits(harness.state()).half_beat_spans.clone();
    let (start, end) = spans[0];
    let middle = duration / 2;
    assert!(start <= middle && middle < end, "{spans:?}");
    let shifted = grid_times(&mut harness);
    let (after, fps) = cuts(harness.state());
    for &b in tracked.iter().filter(|&&b| b > start + 1 && b < end - 1) {
        assert!(
            !near(&shifted, b, fps),
            "beat at {b} in the section did not move"
        );
    }
    for &b in tracked.iter().filter(|&&b| b < start) {
        assert!(
            near(&shifted, b, fps),
            "beat at {b} before the section moved"
        );
    }
    assert!(after.iter().all(|&c| near(&shifted, c, fps)));
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    step_until(&mut harness, "the undo", |app| {
        !app.is_busy() && app.session().project().constraints.beat_grid.is_empty()
    });

    // x2 from the buttons: twice the beats (less one).
    harness.get_by_label("x2").click();
    step_until(&mut harness, "the replan", |app| !app.is_busy());
    let doubled = harness
        .state_mut()
        .session_mut()
        .grid()
        .expect("grid")
        .beats
        .len();
    assert_eq!(doubled, 2 * tracked.len() - 1);
}

/// A clip with a dissolve: the bin counts its transition, and the segment inspector's source
/// strip shows the clip's scenes, cuts and transitions around the selected segment.
#[test]
fn transitions_show_in_the_bin_and_the_source_strip() {
    let dir = FixedDir::new("transitions_show_in_the_bin_and_the_source_strip");
    let (song, _) = make_media(dir.path());
    let clip = common::dissolve_clip(dir.path(), "dissolve.mp4", 25, (4, 5), 3);
    let mut harness = harness(new_app(&dir.path().join("cache")));
    drop_and_plan(&mut harness, &song, std::slice::from_ref(&clip));
    let transitions = harness.state().session().clips()[0]
        .analysis
        .as_ref()
        .expect("analysis")
        .transitions
        .clone();
    assert_eq!(transitions.len(), 1, "{transitions:?}");
    harness.get_by_label_contains("1 transition");
    harness.state_mut().session_mut().select(Some(0));
    harness.step();
    harness.get_by_label("Source clip: scenes 2, cuts 0, transitions 1");
    step_until(&mut harness, "the preview", |app| app.preview_settled());
    check_snapshot(&mut harness, "transition_in_the_source_strip");
}

/// Compares the window with the committed image `tests/snapshots/{name}.png` (egui_kittest;
/// `UPDATE_SNAPSHOTS=1` rewrites it). Without a wgpu adapter to render on, the check is
/// listed as not run outside CI and fails under it.
fn check_snapshot(harness: &mut Harness<'static, BeatcutApp>, name: &str) {
    match harness.try_snapshot(name) {
        Ok(()) => {}
        Err(egui_kittest::SnapshotError::RenderError { err }) => common::skip_or_fail(
            &format!("snapshot {name}"),
            &format!("a wgpu adapter to render on ({err})"),
            "make deps installs mesa-vulkan-drivers: lavapipe",
        ),
        Err(other) => panic!("{other}"),
    }
}

/// An editor planned over a generated 40 s song and six clips whose analyses are known
/// (their files do not exist: the preview settles on saying so).
fn synthetic_planned_editor(dir: &Path) -> Harness<'static, BeatcutApp> {
    use beatcut::analysis::music::{MusicParams, analyze_samples, synth};
    let params = MusicParams::default();
    let song = synth::demo_song(params.analysis_rate, 40.0, 120.0);
    let music = analyze_samples(&song, &params, &beatcut::jobs::CancelToken::new())
        .expect("music analysis");
    let app = BeatcutApp::new(Arc::new(Cache::disabled()), Arc::new(|| {}))
        .with_data_dir(dir.join("data"));
    let mut harness = harness(app);
    harness
        .state_mut()
        .session_mut()
        .set_analysed_music(PathBuf::from("/media/music/song.wav"), Arc::new(music));
    for i in 0..6 {
        harness.state_mut().session_mut().add_analysed_clip(
            PathBuf::from(format!("/media/trip/clip-{i}.mp4")),
            Arc::new(beatcut::analysis::video::synth::clip_analysis(i)),
        );
    }
    step_until(&mut harness, "the plan and the preview", |app| {
        !app.is_busy() && app.session().timeline().is_some() && app.preview_settled()
    });
    harness
}

/// The planned editor looks as committed: bin, music lane with beats and sections, timeline,
/// and with a segment selected its inspector. Fails when any of them draws differently.
#[test]
fn planned_editor_matches_its_snapshots() {
    let dir = common::temp_dir();
    let mut harness = synthetic_planned_editor(dir.path());
    check_snapshot(&mut harness, "editor_planned");
    harness.state_mut().session_mut().select(Some(2));
    step_until(&mut harness, "the preview of the selection", |app| {
        app.preview_settled()
    });
    check_snapshot(&mut harness, "editor_segment_selected");
}

/// Ctrl+wheel over the lanes zooms around the pointer, the slider zooms down to single
/// beats, segments in view stay clickable by their own nodes, and Fit shows it all again.
#[test]
fn timeline_zooms_to_single_beats_and_its_segments_stay_clickable() {
    let dir = common::temp_dir();
    let mut harness = synthetic_planned_editor(dir.path());
    let duration = harness.state().session().timeline().expect("plan").duration;
    let width = |h: &Harness<'static, BeatcutApp>| {
        let (start, end) = h.state().view().visible(duration);
        end - start
    };
    assert_eq!(width(&harness), duration, "everything in view at first");

    // Ctrl+wheel (a zoom gesture) with the pointer a quarter into the music lane.
    let lane = harness.get_by_label("Music lane").rect();
    let pointer = egui::pos2(lane.left() + lane.width() / 4.0, lane.center().y);
    let under_pointer = |h: &Harness<'static, BeatcutApp>| {
        h.state()
            .view()
            .time_at(pointer.x, lane.left(), lane.width(), duration)
    };
    let anchor = under_pointer(&harness);
    harness
        .input_mut()
        .events
        .extend([egui::Event::PointerMoved(pointer), egui::Event::Zoom(4.0)]);
    harness.step();
    harness.step();
    let zoomed = width(&harness);
    assert!(
        (zoomed - duration / 4).abs() <= duration / 100,
        "x4 zoom shows a quarter: {zoomed} of {duration}"
    );
    let drift = (under_pointer(&harness) - anchor).abs();
    assert!(
        drift < beatcut::time::TICKS_PER_SECOND / 20,
        "the instant under the pointer stays put ({drift} ticks)"
    );

    // The slider down to one second: beats half a second apart are far apart on screen.
    harness
        .get_by_role_and_label(egui::accesskit::Role::Slider, "in view")
        .set_value_accesskit(1.0);
    harness.step();
    harness.step();
    assert_eq!(width(&harness), beatcut::time::TICKS_PER_SECOND);

    // A segment in view, clicked by its node, is selected.
    let label = harness
        .query_all_by_label_contains("Segment ")
        .find_map(|node| node.accesskit_node().label())
        .expect("a segment in view has a node");
    let number: usize = label
        .trim_start_matches("Segment ")
        .split(':')
        .next()
        .and_then(|n| n.parse().ok())
        .expect("numbered");
    harness.get_by_label(&label).click();
    harness.step();
    assert_eq!(harness.state().session().selected(), Some(number - 1));
    step_until(&mut harness, "the preview", |app| app.preview_settled());
    check_snapshot(&mut harness, "editor_zoomed");

    harness.get_by_label("Fit").click();
    harness.step();
    assert_eq!(width(&harness), duration, "Fit shows everything again");
}

/// A finished export is checked on the written file, and the export dialog says what it
/// found: every cut on its frame and the sound on the picture, or what is off.
#[test]
fn export_dialog_shows_the_sync_report() {
    let dir = FixedDir::new("export_dialog_shows_the_sync_report");
    let (song, clips) = make_media(dir.path());
    let mut harness = harness(new_app(&dir.path().join("cache")));
    drop_and_plan(&mut harness, &song, &clips);
    let output = open_export_dialog(&mut harness, &dir.path().join("checked.mp4"));
    harness.get_by_label("Start export").click();
    step_until(&mut harness, "the export and its check", |app| {
        !app.is_exporting() && !app.is_verifying_export() && app.export_verification().is_some()
    });
    assert!(output.exists(), "the export was written");
    let report = match harness.state().export_verification() {
        Some(Ok(report)) => report.clone(),
        other => panic!("no sync report: {other:?}"),
    };
    assert!(report.cuts.len() >= 3, "{report:?}");
    assert_eq!(report.cuts_on_frame(), report.cuts.len(), "{report:?}");
    assert!(report.problems().is_empty(), "{:?}", report.problems());
    let av = report.av_offset_ms.expect("the export has sound");
    assert!(av.abs() <= report.frame_ms, "A/V {av} ms");
    harness.get_by_label_contains("Checked: all");
    step_until(&mut harness, "the preview", |app| app.preview_settled());
    check_snapshot(&mut harness, "export_checked");
}

/// Length 15 s from the inspector: the plan takes a stretch of the song, the song strip shows
/// it, and dragging the strip moves it (snapped to a downbeat); undo puts it back.
#[test]
fn a_short_montage_from_the_inspector_shows_and_moves_its_stretch() {
    let dir = common::temp_dir();
    let mut harness = synthetic_planned_editor(dir.path());
    harness
        .get_by_role_and_label(egui::accesskit::Role::ComboBox, "Length")
        .click();
    harness.step();
    harness.step();
    harness.get_by_label("15 s").click();
    step_until(&mut harness, "the short plan", |app| {
        !app.is_busy()
            && app
                .session()
                .timeline()
                .is_some_and(|t| t.duration == 15 * beatcut::time::TICKS_PER_SECOND)
    });
    let region = harness
        .state()
        .session()
        .timeline()
        .and_then(|t| t.region)
        .expect("a stretch of the song");
    step_until(&mut harness, "the preview", |app| app.preview_settled());
    check_snapshot(&mut harness, "editor_short_form");

    // Drag the stretch towards the start of the song.
    let strip = harness.get_by_label("Song region").rect();
    let from = egui::pos2(strip.left() + strip.width() * 0.5, strip.center().y);
    let to = egui::pos2(strip.left() + strip.width() * 0.2, strip.center().y);
    drag(&mut harness, from, to, 5);
    step_until(&mut harness, "the moved stretch", |app| {
        !app.is_busy()
            && app
                .session()
                .timeline()
                .and_then(|t| t.region)
                .is_some_and(|r| r != region)
    });
    let moved = harness
        .state()
        .session()
        .timeline()
        .unwrap()
        .region
        .unwrap();
    assert!(moved.start < region.start, "{moved:?} from {region:?}");
    let grid = harness.state_mut().session_mut().grid().expect("grid");
    assert!(
        grid.beats
            .iter()
            .any(|b| b.beat_in_bar == 0 && b.time == moved.start),
        "snapped to a downbeat"
    );
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    step_until(&mut harness, "the undo", |app| {
        !app.is_busy() && app.session().timeline().and_then(|t| t.region) == Some(region)
    });
}

/// A vertical montage from landscape clips in the editor: 9:16 and draft picked in the export
/// dialog by label, the preview shows the crop with the rest of the picture dimmed, the
/// inspector locks a segment to the centre, dragging the picture places the crop by hand,
/// undo goes back, and the exported file is 9:16 with its cuts checked.
#[test]
fn a_vertical_montage_reframes_in_the_preview_and_the_export() {
    use beatcut::reframe::Framing;
    let dir = FixedDir::new("a_vertical_montage_reframes");
    let clips = vec![
        common::subject_clip(dir.path(), "moving.mp4", "40+t*90", 6, 30),
        common::subject_clip(dir.path(), "still.mp4", "60", 6, 30),
    ];
    let song = common::click_song(dir.path(), "song.wav", 8, &[]);
    let mut harness = harness(new_app(&dir.path().join("cache")));
    drop_and_plan(&mut harness, &song, &clips);
    let output = open_export_dialog(&mut harness, &dir.path().join("vertical.mp4"));
    for (combo, choice) in [("Aspect", "9:16"), ("Preset", "draft")] {
        harness
            .get_by_role_and_label(egui::accesskit::Role::ComboBox, combo)
            .click();
        harness.step();
        harness.step();
        harness.get_by_label(choice).click();
        harness.step();
    }
    assert_eq!(
        harness.state().session().project().export.aspect,
        beatcut::render::Aspect::Portrait
    );
    harness.get_by_label("Start export").click();
    step_until(&mut harness, "the export and its check", |app| {
        !app.is_exporting() && !app.is_verifying_export() && app.export_verification().is_some()
    });
    // (Cuts between two moments of the still clip show the same picture, so the check
    // cannot see every cut here; that it ran on the file is what matters.)
    match harness.state().export_verification() {
        Some(Ok(report)) => assert!(!report.cuts.is_empty(), "{report:?}"),
        other => panic!("no sync report: {other:?}"),
    }
    let probe = beatcut::media::probe(&output).expect("probe the export");
    let video = probe.video().expect("video");
    assert_eq!((video.display_width, video.display_height), (720, 1280));
    harness.key_press(egui::Key::Escape);
    harness.step();

    // The preview shows the first segment's crop.
    harness.state_mut().session_mut().select(Some(0));
    step_until(&mut harness, "the preview", |app| app.preview_settled());
    assert!(harness.state().session().crop_window(0, 0).is_some());
    check_snapshot(&mut harness, "editor_vertical_reframe");

    harness
        .get_by_role_and_label(egui::accesskit::Role::ComboBox, "Framing")
        .click();
    harness.step();
    harness.step();
    harness.get_by_label("Centre").click();
    step_until(&mut harness, "the centre framing", |app| {
        app.session().framing(0) == Framing::Centre
    });

    // Drag the picture to the left: the crop moves right, by hand.
    let segment = harness.state().session().timeline().unwrap().segments[0].clone();
    let from = harness.get_by_label("Preview picture").rect().center();
    let to = from - egui::vec2(60.0, 0.0);
    drag(&mut harness, from, to, 4);
    harness.step();
    let framing = harness.state().session().framing(0);
    match framing {
        Framing::Fixed { x, .. } => assert!(x > 0.55, "dragged right of the centre: {x}"),
        other => panic!("dragging placed no crop: {other:?}"),
    }
    let window = harness
        .state()
        .session()
        .crop_window(0, segment.src_in)
        .unwrap();
    assert!(window.centre.0 > 0.55, "{window:?}");
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    step_until(&mut harness, "the undo", |app| {
        app.session().framing(0) == Framing::Centre
    });
}
