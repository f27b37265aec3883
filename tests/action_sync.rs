//! Action on the beat (`Style::action_sync`). The clips are made with the ffmpeg CLI: each is
//! one calm shot with a single bright flash at a known frame. The song is synthesised at
//! 120 BPM. With the setting on, every flash the montage shows lands on a beat (to within one
//! frame), the cuts stay on beats, the segment's reason names the beat, and a locked segment
//! keeps its in-point. With the setting off, the plan is the one made without any action peaks.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};

use beatcut::analysis::music::{MusicAnalysis, MusicParams, analyze_samples, synth};
use beatcut::analysis::video::{ClipAnalysis, ClipParams, DetectMode, analyze_clip};
use beatcut::jobs::CancelToken;
use beatcut::plan::{ClipInput, Constraints, PlanSettings, Timeline, plan};
use beatcut::time::{FrameRate, Ticks, secs_from_ticks};

const FPS: FrameRate = FrameRate::whole(30);
/// The still source of each clip, and the frame of its flash.
const CLIPS: [(&str, u32); 4] = [
    ("smptebars", 100),
    ("smptehdbars", 131),
    ("rgbtestsrc", 77),
    ("pal75bars", 155),
];

/// An 8 s 320x180 clip at 30 fps: a still picture with grain, lit white for one frame at
/// `flash_frame`.
fn flash_clip(dir: &Path, source: &str, flash_frame: u32) -> PathBuf {
    let path = dir.join(format!("{source}.mp4"));
    let graph = format!(
        "{source}=s=320x180:r=30:d=8,format=yuv420p,\
         drawbox=x=0:y=0:w=iw:h=ih:color=white@0.8:t=fill:enable='eq(n\\,{flash_frame})',\
         noise=alls=4:allf=t"
    );
    common::ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        &graph,
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        path.to_str().unwrap(),
    ]);
    path
}

fn flash_time(flash_frame: u32) -> Ticks {
    FPS.ticks_of_frame(i64::from(flash_frame))
}

fn inputs(analyses: &[ClipAnalysis]) -> Vec<ClipInput<'_>> {
    analyses
        .iter()
        .enumerate()
        .map(|(id, analysis)| ClipInput {
            id,
            name: "clip",
            analysis,
        })
        .collect()
}

fn plan_with(music: &MusicAnalysis, analyses: &[ClipAnalysis], sync: Option<f32>) -> Timeline {
    let settings = PlanSettings {
        action_sync: sync,
        ..PlanSettings::new("dynamic", 1, FPS)
    };
    plan(music, &inputs(analyses), &settings, &Constraints::default()).expect("plan")
}

/// The edit of a timeline: which footage plays where.
fn edit(timeline: &Timeline) -> Vec<(usize, Ticks, Ticks, Ticks, Ticks)> {
    timeline
        .segments
        .iter()
        .map(|s| (s.clip, s.src_in, s.src_out, s.start, s.end))
        .collect()
}

fn nearest_beat(music: &MusicAnalysis, t: Ticks) -> Ticks {
    music
        .beats
        .iter()
        .map(|b| (b.time - t).abs())
        .min()
        .expect("beats")
}

#[test]
fn flashes_land_on_beats_and_the_setting_off_changes_nothing() {
    let dir = common::temp_dir();
    let params = ClipParams {
        mode: DetectMode::Accurate,
        ..ClipParams::default()
    };
    let analyses: Vec<ClipAnalysis> = CLIPS
        .iter()
        .map(|&(source, frame)| {
            let path = flash_clip(dir.path(), source, frame);
            analyze_clip(&path, &params, &CancelToken::new(), &mut |_| {}).expect("analysis")
        })
        .collect();
    // Each flash is found as its shot's action, not as a cut.
    for (a, &(source, frame)) in analyses.iter().zip(&CLIPS) {
        assert_eq!(
            a.scenes.len(),
            1,
            "{source}: the flash made a cut: {:?}",
            a.cuts
        );
        let peak = a.scenes[0].features.action.expect("an action peak");
        assert!(
            (peak.time - flash_time(frame)).abs() <= FPS.frame_ticks() / 2,
            "{source}: action at {:.3} s for the flash at {:.3} s",
            secs_from_ticks(peak.time),
            secs_from_ticks(flash_time(frame))
        );
        assert!(
            peak.strength >= 10.0,
            "{source}: strength {}",
            peak.strength
        );
    }

    let rate = MusicParams::default().analysis_rate;
    let song = synth::demo_song(rate, 20.0, 120.0);
    let music =
        analyze_samples(&song, &MusicParams::default(), &CancelToken::new()).expect("music");

    let synced = plan_with(&music, &analyses, Some(1.0));
    let frame = FPS.frame_ticks();
    let mut shown = 0;
    for s in &synced.segments {
        let flash = flash_time(CLIPS[s.clip].1);
        if !(s.src_in..s.src_out).contains(&flash) {
            continue;
        }
        shown += 1;
        let plays = s.start + (flash - s.src_in);
        let off = nearest_beat(&music, plays);
        assert!(
            off <= frame,
            "the flash of clip {} plays at {:.3} s, {:.1} ms off a beat",
            s.clip,
            secs_from_ticks(plays),
            secs_from_ticks(off) * 1000.0
        );
        assert!(s.reason.contains("action"), "{}", s.reason.as_str());
    }
    assert!(
        shown >= 3,
        "{shown} of {} flashes shown: {:?}",
        CLIPS.len(),
        edit(&synced)
    );
    for s in synced.segments.iter().skip(1) {
        assert!(
            nearest_beat(&music, s.start) <= frame / 2,
            "cut at {:.3} s is off the beat",
            secs_from_ticks(s.start)
        );
    }

    // Off, the plan is the one made from analyses without action peaks: nothing else moved.
    let mut without = analyses.clone();
    for a in &mut without {
        for scene in &mut a.scenes {
            scene.features.action = None;
        }
    }
    let reference = edit(&plan_with(&music, &without, Some(0.0)));
    assert_eq!(edit(&plan_with(&music, &analyses, Some(0.0))), reference);
    // The style's own setting ("dynamic": off) too.
    assert_eq!(edit(&plan_with(&music, &analyses, None)), reference);
    assert_ne!(edit(&synced), reference, "action sync changed nothing");

    // A locked segment keeps its in-point with the setting on.
    let unsynced = plan_with(&music, &analyses, Some(0.0));
    let locked = unsynced.segments[1].clone();
    let constraints = Constraints {
        locked: vec![locked.clone()],
        ..Constraints::default()
    };
    let settings = PlanSettings {
        action_sync: Some(1.0),
        ..PlanSettings::new("dynamic", 1, FPS)
    };
    let relocked = plan(&music, &inputs(&analyses), &settings, &constraints).expect("plan");
    let kept = relocked
        .segments
        .iter()
        .find(|s| s.start == locked.start)
        .expect("the locked segment");
    assert_eq!(
        (kept.clip, kept.src_in, kept.src_out, kept.end),
        (locked.clip, locked.src_in, locked.src_out, locked.end)
    );
}
