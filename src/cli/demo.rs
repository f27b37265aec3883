//! `beatcut demo`: generated material, opened in the editor, or rendered headless without a
//! display.

use super::*;

pub(super) fn demo(dir: Option<PathBuf>, headless: bool) -> Result<ExitCode> {
    let dir = dir.unwrap_or_else(beatcut::demo::default_dir);
    println!("generating demo material in {} …", dir.display());
    let material = beatcut::demo::generate(&dir)?;
    println!("  music: {}", material.music.display());
    for clip in &material.clips {
        println!("  clip:  {}", clip.display());
    }
    let mut files = material.clips.clone();
    files.push(material.music.clone());
    if !headless && has_display() && cfg!(feature = "gui") {
        println!("opening the editor on the demo material …");
        return open_editor(files);
    }
    let output = dir.join("demo-montage.mp4");
    let input = MontageArgs {
        music: Some(material.music.clone()),
        clips: material.clips.clone(),
        project: None,
        style: None,
        seed: None,
        fps: None,
        mode: None,
        action_sync: None,
        length: None,
        region_start: None,
        grid: GridRepairArgs::default(),
    };
    let common = CommonArgs {
        no_cache: false,
        timings: true,
    };
    println!("no display: rendering the demo montage headless …");
    let code = render_command(
        &input,
        &output,
        "draft",
        "16:9",
        &SoundAndFit::default(),
        RenderExtras {
            sidecars: [
                Some(dir.join("demo-montage.json")),
                Some(dir.join("demo-montage.edl")),
                Some(dir.join("demo-montage.fcpxml")),
                Some(dir.join("demo-montage.otio")),
            ],
            verify: Some(ReportFormat::Text),
        },
        &common,
    )?;
    println!("demo montage: {}", output.display());
    // The short-form path: 15 s of the song's best stretch, vertical, each crop following
    // its shot's subject, the clips' own sound under the music with the music ducked.
    let vertical = dir.join("demo-vertical.mp4");
    println!("rendering a 15 s vertical (9:16, reframed) montage with clip sound …");
    let short = MontageArgs {
        length: Some(15.0),
        ..input
    };
    let vertical_code = render_command(
        &short,
        &vertical,
        "draft",
        "9:16",
        &SoundAndFit {
            clip_audio: Some(0.8),
            duck_db: Some(10.0),
            ..SoundAndFit::default()
        },
        RenderExtras {
            sidecars: [Some(dir.join("demo-vertical.json")), None, None, None],
            verify: Some(ReportFormat::Text),
        },
        &common,
    )?;
    println!("vertical montage: {}", vertical.display());
    Ok(if code == ExitCode::SUCCESS {
        vertical_code
    } else {
        code
    })
}
