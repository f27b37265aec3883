//! The editing session without a window: commands on real, generated media, checking that
//! every edit stays on its clip through removal, undo, relinking and reopening, that a removed
//! clip's analysis stops without being reported as a failure, that cuts move along the
//! repaired beat grid, and that partial read problems reach the user.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use beatcut::analysis::video::DetectMode;
use beatcut::cache::{Cache, CacheLimits};
use beatcut::editor::{ClipStatus, CutStep, ExportChoice, ExportPhase, GridCommand, Session};
use beatcut::plan::{Segment, Timeline};
use beatcut::project::ClipId;
use beatcut::time::{TICKS_PER_SECOND, Ticks};

const PATIENCE: Duration = Duration::from_secs(180);

/// A 16 s click track at 120 BPM and four clips, each two lavfi sources cut together.
fn make_media(dir: &Path) -> (PathBuf, Vec<PathBuf>) {
    let song = common::click_song(dir, "song.wav", 16, &[]);
    let pairs = [
        ("testsrc2", "smptebars"),
        ("mandelbrot", "testsrc"),
        ("smptehdbars", "rgbtestsrc"),
        ("yuvtestsrc", "cellauto"),
    ];
    let clips = pairs
        .iter()
        .enumerate()
        .map(|(i, (a, b))| common::two_shot_clip(dir, &format!("clip{i}.mp4"), a, b, &[]))
        .collect();
    (song, clips)
}

/// A session on the cache in `dir/cache`, its recent list and autosave in `dir/data`.
fn new_session(dir: &Path) -> Session {
    let cache = Cache::open(dir.join("cache"), CacheLimits::default()).expect("cache");
    Session::new(Arc::new(cache), Arc::new(|| {})).with_data_dir(dir.join("data"))
}

/// Polls until every clip is analysed and the plan for the current project has landed.
fn settle(session: &mut Session, clips: usize) {
    let settled = session.poll_until(PATIENCE, |s| {
        !s.is_busy()
            && s.timeline().is_some()
            && s.clips().len() == clips
            && s.clips()
                .iter()
                .all(|c| matches!(c.status, ClipStatus::Ready { .. }))
    });
    assert!(
        settled,
        "the session did not settle: {} clips, {:?}, {}",
        session.clips().len(),
        session.activity(),
        session.plan_status()
    );
}

fn planned_session(dir: &Path) -> (Session, PathBuf, Vec<PathBuf>) {
    let (song, clips) = make_media(dir);
    let mut session = new_session(dir);
    let mut files = clips.clone();
    files.push(song.clone());
    session.add_paths(&files);
    settle(&mut session, clips.len());
    // Clips join in the order they were added, whichever probe finished first.
    assert_eq!(session.project().clip_paths(), clips);
    let ids: Vec<u32> = session.project().clips.iter().map(|c| c.id.0).collect();
    assert_eq!(ids, [0, 1, 2, 3]);
    (session, song, clips)
}

/// The file a segment or lock shows, through the project's clip ids.
fn file_of(session: &Session, segment: &Segment) -> PathBuf {
    session
        .project()
        .clip_by_key(segment.clip)
        .expect("the clip of a segment is in the project")
        .path
        .clone()
}

fn id_of(session: &Session, path: &Path) -> ClipId {
    session
        .project()
        .clip_at_path(path)
        .expect("clip in project")
        .id
}

/// Locks the first segment showing `path`; returns its index.
fn lock_a_segment_of(session: &mut Session, path: &Path) -> usize {
    let index = session
        .timeline()
        .expect("plan")
        .segments
        .iter()
        .position(|s| file_of(session, s) == path)
        .unwrap_or_else(|| panic!("the plan uses {}", path.display()));
    session.lock_segment(index, true);
    index
}

/// The locks as (file, slot start, source in) — what they mean to the user.
fn locks(session: &Session) -> Vec<(PathBuf, Ticks, Ticks)> {
    let mut locks: Vec<_> = session
        .project()
        .constraints
        .locked
        .iter()
        .map(|l| (file_of(session, l), l.start, l.src_in))
        .collect();
    locks.sort();
    locks
}

fn timeline(session: &Session) -> Timeline {
    session.timeline().cloned().expect("plan")
}

#[test]
fn removing_a_clip_keeps_the_locks_of_its_neighbours_and_undo_restores_the_plan() {
    let dir = common::temp_dir();
    let (mut session, _, clips) = planned_session(dir.path());
    lock_a_segment_of(&mut session, &clips[0]);
    lock_a_segment_of(&mut session, &clips[2]);
    lock_a_segment_of(&mut session, &clips[3]);
    settle(&mut session, 4);
    let locked = locks(&session);
    assert_eq!(locked.len(), 3);
    let plan_before = timeline(&session);

    // Remove the clip between two locked ones.
    let removed = id_of(&session, &clips[1]);
    session.remove_clip(removed);
    settle(&mut session, 3);
    assert_eq!(locks(&session), locked, "every lock stays on its own clip");
    let plan = timeline(&session);
    for segment in &plan.segments {
        assert_ne!(
            file_of(&session, segment),
            clips[1],
            "the removed clip is not used"
        );
    }
    for (file, start, src_in) in &locked {
        let kept = plan
            .segments
            .iter()
            .find(|s| s.start == *start)
            .expect("a locked slot survives");
        assert_eq!((&file_of(&session, kept), kept.src_in), (file, *src_in));
    }

    // Undo: the clip is back in the bin with its analysis, and the plan is the one before.
    session.undo();
    settle(&mut session, 4);
    let back = session.clip(removed).expect("the clip is back in the bin");
    assert_eq!(back.path, clips[1]);
    assert!(back.analysis.is_some());
    assert_eq!(
        timeline(&session),
        plan_before,
        "the plan after undo is the plan before"
    );
    assert_eq!(locks(&session), locked);

    // Redo removes it again, still without moving a lock.
    session.redo();
    settle(&mut session, 3);
    assert_eq!(locks(&session), locked);
    assert!(session.clip(removed).is_none());
}

#[test]
fn relinking_a_moved_clip_keeps_its_id_locks_and_plan() {
    let dir = common::temp_dir();
    let (mut session, _, clips) = planned_session(dir.path());
    lock_a_segment_of(&mut session, &clips[2]);
    settle(&mut session, 4);
    let id = id_of(&session, &clips[2]);
    let plan_before = timeline(&session);

    let moved_dir = dir.path().join("moved");
    std::fs::create_dir_all(&moved_dir).expect("mkdir");
    let moved = moved_dir.join("clip2-renamed.mp4");
    std::fs::rename(&clips[2], &moved).expect("move the file");
    session.relink(&clips[2], moved.clone());
    settle(&mut session, 4);
    assert_eq!(id_of(&session, &moved), id, "relinking keeps the clip's id");
    let lock = &session.project().constraints.locked[0];
    assert_eq!(file_of(&session, lock), moved, "the lock follows the file");
    assert_eq!(timeline(&session), plan_before, "same footage, same plan");
    assert_eq!(session.clip(id).expect("in the bin").path, moved);
}

#[test]
fn a_reopened_project_keeps_clip_ids_locks_and_plan() {
    let dir = common::temp_dir();
    let (mut session, _, clips) = planned_session(dir.path());
    // After a removal ids are no longer positions: the file must keep them apart.
    session.remove_clip(id_of(&session, &clips[0]));
    lock_a_segment_of(&mut session, &clips[3]);
    settle(&mut session, 3);
    let plan = timeline(&session);
    let locked = locks(&session);
    let path = dir.path().join("trip.beatcut");
    session.save_project(&path);
    assert!(!session.is_dirty());

    let mut reopened = new_session(dir.path());
    reopened.open_project(&path);
    settle(&mut reopened, 3);
    assert_eq!(reopened.project().clips, session.project().clips);
    assert_eq!(locks(&reopened), locked);
    assert_eq!(
        timeline(&reopened),
        plan,
        "the reopened project gives the same plan"
    );
    // A clip added now gets a new id, never the removed clip's.
    assert_eq!(reopened.project().next_clip_id, 4);
    let mut project = reopened.project().clone();
    assert_eq!(project.add_clip(dir.path().join("new.mp4")), ClipId(4));
}

#[test]
fn moving_a_cut_goes_to_the_next_beat_of_the_repaired_grid() {
    let dir = common::temp_dir();
    let (mut session, _, _) = planned_session(dir.path());
    let plan = timeline(&session);
    let fps = plan.fps;
    let (index, cut) = plan
        .segments
        .iter()
        .enumerate()
        .skip(1)
        .find(|(_, s)| {
            s.start > 2 * TICKS_PER_SECOND && s.end < plan.duration - 2 * TICKS_PER_SECOND
        })
        .map(|(i, s)| (i, s.start))
        .expect("a cut in the middle");
    // Repair the grid: the beat after the cut moves 200 ms later, so the next beat is no
    // longer a beat period (0.5 s at 120 BPM) away.
    let grid = session.grid().expect("grid");
    let half_frame = fps.frame_ticks() / 2 + 1;
    let next = grid
        .beats
        .iter()
        .find(|b| b.time > cut + half_frame)
        .expect("a beat after the cut")
        .time;
    let moved_to = next + TICKS_PER_SECOND / 5;
    session.grid_command(GridCommand::MoveBeat {
        from: next,
        to: moved_to,
    });
    settle(&mut session, 4);
    let index = timeline(&session)
        .segments
        .iter()
        .position(|s| s.start == cut)
        .unwrap_or(index);
    let cut = timeline(&session).segments[index].start;
    let expected = session
        .grid()
        .expect("grid")
        .beats
        .iter()
        .find(|b| b.time > cut + half_frame)
        .expect("next beat")
        .time;
    assert!(session.move_cut(index, CutStep::LaterBeat));
    let moved = session
        .project()
        .constraints
        .cut_moves
        .last()
        .expect("a cut move")
        .to;
    assert_eq!(moved, expected, "the cut goes to the grid's next beat");
    let period = TICKS_PER_SECOND / 2;
    assert_ne!(moved, cut + period, "not a beat period later");
    settle(&mut session, 4);
    let landed = timeline(&session)
        .segments
        .iter()
        .any(|s| (s.start - moved).abs() <= fps.frame_ticks());
    assert!(
        landed,
        "a cut of the new plan sits on the beat it was moved to"
    );
    // The first segment has no cut before it to move.
    assert!(!session.move_cut(0, CutStep::LaterBeat));
}

#[test]
fn a_removed_clips_analysis_stops_without_a_failure_and_undo_brings_it_back() {
    let dir = common::temp_dir();
    let song = common::click_song(dir.path(), "song.wav", 10, &[]);
    // Long enough that they are still being analysed when they are removed.
    // (Different lengths: the cache knows files by content.)
    let long = |name: &str, secs: f32| {
        common::pattern_clip(
            dir.path(),
            name,
            "1280x720",
            30,
            secs,
            &["-c:v", "libx264", "-preset", "ultrafast"],
        )
    };
    let (first, second) = (long("first.mp4", 40.0), long("second.mp4", 90.0));
    let mut session = new_session(dir.path());
    session.add_paths(&[song, first.clone(), second.clone()]);
    // The first clip's analysis is running (it reports progress).
    assert!(session.poll_until(PATIENCE, |s| {
        s.clips().len() == 2
            && s.clips().iter().all(|c| c.is_analysing())
            && s.clips()
                .iter()
                .any(|c| c.path == first && matches!(c.status, ClipStatus::Analysing(_)))
            && s.music().is_some()
    }));

    // The status says what runs (it said "idle" while clips were analysed).
    let status = session.activity().describe();
    assert!(status.contains("analysing 2 clip(s)"), "{status}");

    // Removed and put back at once: the stopped run's "cancelled" lands on the restored
    // clip, and must not mark it failed.
    let first_id = id_of(&session, &first);
    session.remove_clip(first_id);
    session.undo();
    assert_eq!(session.clips().len(), 2, "undo puts the clip back at once");

    // Removed for good: its analysis stops.
    let second_id = id_of(&session, &second);
    session.remove_clip(second_id);
    assert_eq!(
        session.clips().iter().filter(|c| c.is_analysing()).count(),
        session.activity().clips,
        "the status counts only clips in the project"
    );
    assert!(session.poll_until(PATIENCE, |s| !s.is_busy()));
    assert_eq!(session.clips().len(), 1);
    // Stopped, not finished: a finished analysis would be in the cache.
    let params = session.project().analysis_params();
    assert!(
        !beatcut::montage::clip_is_cached(&second, &params, session.cache()),
        "the removed clip's analysis ran to the end"
    );
    assert!(
        beatcut::montage::clip_is_cached(&first, &params, session.cache()),
        "the restored clip was analysed"
    );

    session.undo();
    settle(&mut session, 2);
    assert!(session.clip(second_id).is_some() && session.clip(first_id).is_some());
    let problems: Vec<_> = session.notices().iter().filter(|n| n.is_problem).collect();
    assert!(
        problems.is_empty(),
        "a cancel is not a failure: {problems:?}"
    );
}

#[test]
fn read_problems_reach_the_bin_the_notices_and_the_cli() {
    let dir = common::temp_dir();
    let song = common::click_song(dir.path(), "song.wav", 8, &[]);
    let whole = common::pattern_clip(
        dir.path(),
        "whole.mp4",
        "640x360",
        25,
        6.0,
        &["-c:v", "libx264"],
    );
    let mut data = std::fs::read(&whole).expect("read");
    let mid = data.len() / 2;
    for byte in &mut data[mid..mid + 20_000] {
        *byte = byte.wrapping_mul(31).wrapping_add(7);
    }
    let corrupt = dir.path().join("corrupt.mp4");
    std::fs::write(&corrupt, &data).expect("write");

    let mut session = new_session(dir.path());
    // Every frame read (fast mode decodes only where the picture changes).
    session.change_project(|p| p.clip_params.mode = DetectMode::Accurate);
    session.add_paths(&[song, corrupt.clone()]);
    settle(&mut session, 1);
    let clip = &session.clips()[0];
    assert!(
        !clip.warnings().is_empty(),
        "the bin entry carries the warnings"
    );
    let notice = session
        .notices()
        .iter()
        .find(|n| n.text.contains("corrupt.mp4"))
        .expect("a notice names the file");
    assert!(
        notice.is_problem && notice.text.contains("problem"),
        "{}",
        notice.text
    );

    let output = common::beatcut(
        &dir.path().join("cli-cache"),
        &["analyze", "--mode", "accurate", corrupt.to_str().unwrap()],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("warning:") && stderr.contains("corrupt.mp4"),
        "the CLI names the file and the problem: {stderr}"
    );
}

#[test]
fn the_session_exports_checks_the_file_and_a_dropped_session_cancels_its_export() {
    let dir = common::temp_dir();
    let (mut session, _, _) = planned_session(dir.path());
    session.change_project(|p| p.export.preset = beatcut::render::Preset::Draft);
    let output = dir.path().join("montage.mp4");
    session
        .start_export(ExportChoice {
            output: output.clone(),
            clip_audio: 0.0,
            duck_db: 0.0,
            interchange: true,
        })
        .expect("export starts");
    assert!(session.poll_until(PATIENCE, |s| {
        s.export_job()
            .is_some_and(|j| j.phase() == ExportPhase::Ended)
    }));
    let job = session.export_job().expect("job");
    assert_eq!(job.result(), Some(&Ok(output.clone())));
    let report = job
        .verification()
        .expect("checked")
        .as_ref()
        .expect("the check ran");
    assert!(report.problems().is_empty(), "{}", report.summary());
    for ext in ["edl", "fcpxml", "otio"] {
        assert!(
            output.with_extension(ext).exists(),
            "{ext} written beside it"
        );
    }
    assert!(
        session
            .notices()
            .iter()
            .any(|n| n.text.starts_with("export checked")),
        "the check is reported"
    );

    // Dropping the session mid-export stops it; the thread removes its partial file.
    let second = dir.path().join("second.mp4");
    session
        .start_export(ExportChoice {
            output: second.clone(),
            clip_audio: 0.0,
            duck_db: 0.0,
            interchange: false,
        })
        .expect("export starts");
    assert!(session.poll_until(PATIENCE, |s| {
        s.export_job().and_then(|j| j.progress()).is_some()
    }));
    drop(session);
    let deadline = std::time::Instant::now() + PATIENCE;
    let leftovers = || {
        std::fs::read_dir(dir.path())
            .expect("dir")
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().contains("second"))
            .count()
    };
    while leftovers() > 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(leftovers(), 0, "the cancelled export leaves no file");
}
