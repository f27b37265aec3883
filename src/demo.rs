//! Demo material: a synthesised song with a known tempo and a set of short clips with
//! distinct looks and known cuts, generated in-process (FFmpeg encodes the clips), so
//! `beatcut demo` and `make demo` need no media of the user's.

use std::path::{Path, PathBuf};

use crate::media::{MediaError, Mp4Writer, VideoEncodeSettings};
use crate::time::FrameRate;

/// Tempo of the demo song.
pub const DEMO_BPM: f64 = 120.0;
/// Length of the demo song in seconds.
pub const DEMO_SONG_SECS: f64 = 40.0;
/// Sample rate of the demo song.
const DEMO_RATE: u32 = 44_100;
/// Demo clip size and rate.
const CLIP_WIDTH: u32 = 640;
const CLIP_HEIGHT: u32 = 360;
const CLIP_FPS: i32 = 30;

/// Paths of generated demo material.
#[derive(Debug, Clone)]
pub struct DemoMaterial {
    /// The song (WAV).
    pub music: PathBuf,
    /// The clips (MP4, H.264).
    pub clips: Vec<PathBuf>,
}

/// Where demo material goes by default: a `demo` folder in the user's cache directory
/// (or the system temporary folder when there is no home).
pub fn default_dir() -> PathBuf {
    directories::ProjectDirs::from("org", "beatcut", "beatcut")
        .map(|d| d.cache_dir().join("demo"))
        .unwrap_or_else(|| std::env::temp_dir().join("beatcut-demo"))
}

/// One shot of a demo clip: a look and how long it lasts.
#[derive(Debug, Clone, Copy)]
struct Shot {
    pattern: Pattern,
    hue_u: u8,
    hue_v: u8,
    frames: u32,
    speed: f32,
    /// Frames at the start of the shot that dissolve from the shot before (0: a hard cut).
    dissolve: u32,
}

#[derive(Debug, Clone, Copy)]
enum Pattern {
    Gradient,
    Circles,
    Stripes,
    Checker,
}

/// Generates the demo song and clips into `dir` (reusing files already there).
pub fn generate(dir: &Path) -> Result<DemoMaterial, MediaError> {
    std::fs::create_dir_all(dir).map_err(|source| MediaError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let music = dir.join("demo-song.wav");
    if !music.exists() {
        let samples = crate::analysis::music::synth::demo_song(DEMO_RATE, DEMO_SONG_SECS, DEMO_BPM);
        write_wav(&music, &samples, DEMO_RATE)?;
    }
    let plans: [&[Shot]; 6] = [
        &[
            shot(Pattern::Gradient, 90, 200, 90, 1.0),
            shot(Pattern::Circles, 200, 90, 120, 2.0),
        ],
        &[
            shot(Pattern::Stripes, 60, 60, 100, 3.0),
            shot(Pattern::Checker, 180, 160, 80, 1.0),
            shot(Pattern::Gradient, 140, 100, 90, 0.5),
        ],
        // A one-second dissolve at 4 s between two calm shots, so the demo shows a
        // gradual transition too.
        &[
            shot(Pattern::Circles, 100, 150, 120, 0.4),
            Shot {
                dissolve: 30,
                ..shot(Pattern::Stripes, 200, 110, 120, 0.3)
            },
        ],
        &[
            shot(Pattern::Checker, 80, 110, 75, 2.5),
            shot(Pattern::Stripes, 170, 200, 105, 0.7),
        ],
        &[
            shot(Pattern::Gradient, 210, 140, 120, 2.0),
            shot(Pattern::Circles, 120, 70, 120, 0.8),
        ],
        &[
            shot(Pattern::Stripes, 110, 190, 60, 4.0),
            shot(Pattern::Gradient, 150, 50, 60, 1.0),
            shot(Pattern::Checker, 60, 170, 90, 1.8),
        ],
    ];
    let mut clips = Vec::new();
    for (index, shots) in plans.iter().enumerate() {
        let path = dir.join(format!("demo-clip-{}.mp4", index + 1));
        if !path.exists() {
            write_clip(&path, shots, index as u32)?;
        }
        clips.push(path);
    }
    Ok(DemoMaterial { music, clips })
}

const fn shot(pattern: Pattern, hue_u: u8, hue_v: u8, frames: u32, speed: f32) -> Shot {
    Shot {
        pattern,
        hue_u,
        hue_v,
        frames,
        speed,
        dissolve: 0,
    }
}

/// Writes mono f32 samples as a 16-bit PCM WAV file (atomically).
pub fn write_wav(path: &Path, samples: &[f32], rate: u32) -> Result<(), MediaError> {
    let data_len = (samples.len() * 2) as u32;
    let mut bytes = Vec::with_capacity(44 + samples.len() * 2);
    bytes.extend_from_slice(b"RIFF");
    bytes.extend_from_slice(&(36 + data_len).to_le_bytes());
    bytes.extend_from_slice(b"WAVEfmt ");
    bytes.extend_from_slice(&16u32.to_le_bytes());
    bytes.extend_from_slice(&1u16.to_le_bytes()); // PCM
    bytes.extend_from_slice(&1u16.to_le_bytes()); // mono
    bytes.extend_from_slice(&rate.to_le_bytes());
    bytes.extend_from_slice(&(rate * 2).to_le_bytes());
    bytes.extend_from_slice(&2u16.to_le_bytes());
    bytes.extend_from_slice(&16u16.to_le_bytes());
    bytes.extend_from_slice(b"data");
    bytes.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        let v = (s.clamp(-1.0, 1.0) * 32767.0).round() as i16;
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    let temp = crate::media::temporary_path_for(path);
    let io = |source| MediaError::Io {
        path: path.to_path_buf(),
        source,
    };
    std::fs::write(&temp, &bytes).map_err(io)?;
    std::fs::rename(&temp, path).map_err(io)
}

fn write_clip(path: &Path, shots: &[Shot], seed: u32) -> Result<(), MediaError> {
    let (w, h) = (CLIP_WIDTH as usize, CLIP_HEIGHT as usize);
    let mut writer = Mp4Writer::create(
        path,
        VideoEncodeSettings {
            width: CLIP_WIDTH,
            height: CLIP_HEIGHT,
            fps: FrameRate::whole(CLIP_FPS),
            crf: 23,
            preset: "veryfast".into(),
            threads: 0,
            gop: 0,
        },
        None,
    )?;
    let mut frame = vec![0u8; w * h + 2 * (w / 2) * (h / 2)];
    let mut outgoing = frame.clone();
    let time = |shot: &Shot, f: u32| f as f32 / CLIP_FPS as f32 * shot.speed + seed as f32;
    let mut previous: Option<&Shot> = None;
    for shot in shots {
        for f in 0..shot.frames {
            draw(&mut frame, w, h, shot, time(shot, f));
            // A dissolve: the shot before goes on moving while this one blends in.
            if let Some(before) = previous.filter(|_| f < shot.dissolve) {
                draw(&mut outgoing, w, h, before, time(before, before.frames + f));
                let alpha = (f + 1) as f32 / (shot.dissolve + 1) as f32;
                for (new, old) in frame.iter_mut().zip(&outgoing) {
                    let mixed = alpha * f32::from(*new) + (1.0 - alpha) * f32::from(*old);
                    *new = mixed.round() as u8;
                }
            }
            writer.push_video_yuv420p(&frame)?;
        }
        previous = Some(shot);
    }
    writer.finish()?;
    Ok(())
}

/// Draws one frame of a shot's pattern into a YUV 4:2:0 buffer.
fn draw(frame: &mut [u8], w: usize, h: usize, shot: &Shot, t: f32) {
    let (y_plane, chroma) = frame.split_at_mut(w * h);
    let (u_plane, v_plane) = chroma.split_at_mut((w / 2) * (h / 2));
    let (cx, cy) = (
        w as f32 * (0.5 + 0.3 * (t * 1.3).sin()),
        h as f32 * (0.5 + 0.3 * (t * 0.9).cos()),
    );
    for y in 0..h {
        for x in 0..w {
            let (xf, yf) = (x as f32, y as f32);
            let luma = match shot.pattern {
                Pattern::Gradient => {
                    128.0 + 90.0 * ((xf / w as f32) * 3.0 + t).sin() * (yf / h as f32 * 2.0).cos()
                }
                Pattern::Circles => {
                    let d = ((xf - cx).powi(2) + (yf - cy).powi(2)).sqrt();
                    if (d / 30.0 - t * 2.0).sin() > 0.0 {
                        200.0
                    } else {
                        60.0
                    }
                }
                Pattern::Stripes => {
                    if ((xf + yf * 0.5) / 40.0 + t * 3.0).sin() > 0.0 {
                        220.0
                    } else {
                        40.0
                    }
                }
                Pattern::Checker => {
                    let s = 48.0;
                    let a = ((xf + t * 60.0) / s).floor() as i64 + (yf / s).floor() as i64;
                    if a % 2 == 0 { 180.0 } else { 90.0 }
                }
            };
            y_plane[y * w + x] = luma.clamp(16.0, 235.0) as u8;
        }
    }
    for y in 0..h / 2 {
        for x in 0..w / 2 {
            let shade = ((x + y) as f32 / (w / 2 + h / 2) as f32 * 30.0) as u8;
            u_plane[y * (w / 2) + x] = shot.hue_u.saturating_add(shade / 2);
            v_plane[y * (w / 2) + x] = shot.hue_v.saturating_sub(shade / 2);
        }
    }
}
