//! `beatcut verify`: an exported file checked against its timeline (cuts on their frames and
//! beats, sound on the picture); exit status 3 when something is off.

use super::*;

/// `beatcut verify`: the sync report of an export against its timeline JSON.
pub(super) fn verify_command(
    export: &Path,
    timeline: &Path,
    format: ReportFormat,
) -> Result<ExitCode> {
    let text = std::fs::read_to_string(timeline)
        .with_context(|| format!("cannot read the timeline {}", timeline.display()))?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("not a timeline JSON file: {}", timeline.display()))?;
    let plan = verify_plan_from_json(&value)
        .with_context(|| format!("not a Beatcut timeline: {}", timeline.display()))?;
    let report = beatcut::render::verify_export(export, &plan, &CancelToken::new(), &mut |_| {})?;
    Ok(print_sync_report(&report, format))
}

/// The plan a timeline JSON (`render --timeline`, `plan --json`) describes.
pub(super) fn verify_plan_from_json(
    value: &serde_json::Value,
) -> Result<beatcut::render::VerifyPlan> {
    use beatcut::render::{CutKind, PlannedCut};
    let fps = value["fps"]
        .as_f64()
        .filter(|f| f.is_finite() && *f > 0.0)
        .context("no frame rate (\"fps\")")?;
    let fps = beatcut::time::FrameRate::from_f64(fps);
    let segments = value["segments"].as_array().context("no \"segments\"")?;
    let secs = |v: &serde_json::Value, key: &str| -> Result<beatcut::time::Ticks> {
        v[key]
            .as_f64()
            .map(beatcut::time::ticks_from_secs)
            .with_context(|| format!("a segment without \"{key}\""))
    };
    let mut cuts = Vec::new();
    for pair in segments.windows(2) {
        let (prev, next) = (&pair[0], &pair[1]);
        let same_footage = prev["clip"] == next["clip"]
            && (secs(prev, "src_out_s")? - secs(next, "src_in_s")?).abs()
                < beatcut::time::TICKS_PER_SECOND / 1000;
        let kind = if same_footage {
            CutKind::Continuous
        } else if next["transition"]["kind"] == "crossfade"
            && next["transition"]["frames"].as_u64().unwrap_or(0) > 0
        {
            CutKind::Crossfade
        } else {
            CutKind::Hard
        };
        cuts.push(PlannedCut {
            time: fps.ticks_of_frame(fps.nearest_frame(secs(next, "start_s")?)),
            kind,
        });
    }
    let beats = value["beats"]
        .as_array()
        .context("no \"beats\"")?
        .iter()
        .filter_map(serde_json::Value::as_f64)
        .map(beatcut::time::ticks_from_secs)
        .collect();
    let music = value["music"].as_str().context("no \"music\" path")?.into();
    let music_start = value["music_start_s"]
        .as_f64()
        .map_or(0, beatcut::time::ticks_from_secs);
    Ok(beatcut::render::VerifyPlan {
        fps,
        cuts,
        beats,
        music,
        music_start,
    })
}

/// Prints a sync report; exit code 3 when the file is off anywhere by more than a frame.
pub(super) fn print_sync_report(
    report: &beatcut::render::SyncReport,
    format: ReportFormat,
) -> ExitCode {
    let problems = report.problems();
    match format {
        ReportFormat::Json => {
            /// The report with its verdicts, as `--json` prints it.
            #[derive(serde::Serialize)]
            struct Verdict<'a> {
                #[serde(flatten)]
                report: &'a beatcut::render::SyncReport,
                problems: &'a [String],
                cuts_on_frame: usize,
            }
            let verdict = Verdict {
                report,
                problems: &problems,
                cuts_on_frame: report.cuts_on_frame(),
            };
            println!("{}", serde_json::to_string(&verdict).unwrap_or_default());
        }
        ReportFormat::Text => {
            println!("verify {}: {}", report.path.display(), report.summary());
            for c in &report.cuts {
                let found = c
                    .found_frame
                    .map_or("not seen".to_owned(), |f| format!("frame {f}"));
                println!(
                    "  cut at frame {:>6}: {found:<14} beat {:+6.1} ms",
                    c.planned_frame, c.beat_offset_ms
                );
            }
            if report.crossfades + report.continuous > 0 {
                println!(
                    "  not measured to the frame: {} crossfades, {} shots continuing the same footage",
                    report.crossfades, report.continuous
                );
            }
            if !report.unplanned_changes.is_empty() {
                println!(
                    "  picture changes at no planned cut: frames {:?}",
                    report.unplanned_changes
                );
            }
        }
    }
    for problem in &problems {
        eprintln!("warning: {problem}");
    }
    if problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(3)
    }
}
