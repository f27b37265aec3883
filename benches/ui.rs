//! UI thread frame time with 200 analysed clips in the bin and a 10-minute song, driven
//! headlessly through egui_kittest; every other round also replans (a slider moving). Every
//! frame is timed: while idle, and from the frame that asks for a replan through the frames
//! while it runs to the one on which the new timeline lands. Prints p50/p95/p99/max against
//! the 8 ms target; with `--json` (`make bench`, section ui) JSON lines for bench/report.md.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use beatcut::analysis::music::{MusicParams, analyze_samples, synth};
use beatcut::analysis::video::synth::clip_analysis;
use beatcut::app::BeatcutApp;
use beatcut::cache::Cache;
use beatcut::jobs::CancelToken;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

fn main() {
    let params = MusicParams::default();
    let song = synth::demo_song(params.analysis_rate, 600.0, 124.0);
    let music = analyze_samples(&song, &params, &CancelToken::new()).expect("analysis");
    let data = tempfile::tempdir().expect("temp dir");
    let mut app = BeatcutApp::new(Arc::new(Cache::disabled()), Arc::new(|| {}))
        .with_data_dir(data.path().to_path_buf());
    app.session_mut()
        .set_analysed_music(PathBuf::from("/bench/song.wav"), Arc::new(music));
    for i in 0..200 {
        app.session_mut().add_analysed_clip(
            PathBuf::from(format!("/bench/clip-{i:03}.mp4")),
            Arc::new(clip_analysis(i)),
        );
    }
    let mut harness = Harness::builder()
        .with_size(egui::Vec2::new(1600.0, 1000.0))
        .build_ui_state(|ui, app: &mut BeatcutApp| app.ui(ui), app);
    for _ in 0..5 {
        harness.step();
    }
    let mut idle = Vec::new();
    let mut replanning = Vec::new();
    let timed_step = |harness: &mut Harness<'_, BeatcutApp>| {
        let started = Instant::now();
        harness.step();
        started.elapsed().as_secs_f64() * 1000.0
    };
    for round in 0..200 {
        if round % 2 == 1 {
            harness
                .state_mut()
                .session_mut()
                .change_project(|p| p.plan.seed = p.plan.seed.wrapping_add(1));
            let plans_before = harness.state().session().plans_made();
            // The frame that starts the replan, those while it runs, and the landing frame.
            replanning.push(timed_step(&mut harness));
            while harness.state().session().plans_made() == plans_before
                || harness.state().is_busy()
            {
                std::thread::sleep(std::time::Duration::from_millis(1));
                replanning.push(timed_step(&mut harness));
            }
        } else {
            idle.push(timed_step(&mut harness));
        }
    }
    // Zooming the lanes in and out around the pointer (Ctrl+wheel): from the whole
    // 10-minute song down to the narrowest view (single frames and beats) and back, each
    // frame drawn from the waveform pyramid.
    let lane = harness.get_by_label("Music lane").rect();
    let pointer = egui::pos2(lane.left() + lane.width() * 0.3, lane.center().y);
    let mut zooming = Vec::new();
    for round in 0..240 {
        let factor = if round % 60 < 30 { 1.4 } else { 1.0 / 1.4 };
        harness.input_mut().events.extend([
            egui::Event::PointerMoved(pointer),
            egui::Event::Zoom(factor),
        ]);
        zooming.push(timed_step(&mut harness));
    }
    let json = std::env::args().any(|a| a == "--json");
    let segments = harness
        .state()
        .session()
        .timeline()
        .map_or(0, |t| t.segments.len());
    if json {
        for (stage, frames) in [
            ("ui_idle", &idle),
            ("ui_replan", &replanning),
            ("ui_zoom", &zooming),
        ] {
            let mut sorted = frames.clone();
            sorted.sort_by(|a, b| a.total_cmp(b));
            let at = |q: f64| sorted[((sorted.len() - 1) as f64 * q) as usize];
            println!(
                "{}",
                serde_json::json!({
                    "stage": stage,
                    "runs_ms": frames,
                    "extra": {
                        "frames": frames.len(),
                        "p95_ms": at(0.95),
                        "max_ms": at(1.0),
                        "clips": 200,
                        "segments": segments,
                    }
                })
            );
        }
        return;
    }
    let report = |name: &str, v: &mut Vec<f64>| {
        v.sort_by(|a, b| a.total_cmp(b));
        let at = |q: f64| v[((v.len() - 1) as f64 * q) as usize];
        println!(
            "{name:<28} p50 {:>6.2} ms  p95 {:>6.2} ms  p99 {:>6.2} ms  max {:>6.2} ms  (target: under 8 ms)",
            at(0.5),
            at(0.95),
            at(0.99),
            at(1.0)
        );
    };
    println!("UI thread, 200 clips in the bin, 10-minute song, {segments} segments:");
    report("idle frames", &mut idle);
    report("replan frames (landing incl.)", &mut replanning);
    report("zoom frames (whole song to frames)", &mut zooming);
    let (p50, p95, max) = harness.state().frame_time_percentiles();
    println!(
        "app's own measurement (ui() body): p50 {p50:.2} ms  p95 {p95:.2} ms  max {max:.2} ms"
    );
}
