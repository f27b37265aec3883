//! Cut-detection accuracy against clips made with the ffmpeg CLI with known cut frames:
//! several codecs and containers, 24-60 fps, VFR, rotation, portrait, a long GOP without
//! scene-cut keyframes, low-contrast cuts, two framings of one scene, fades and dissolves,
//! and a clip of flashes, lighting steps and a whip pan that holds no cut at all.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use beatcut::analysis::video::{
    ClipAnalysis, ClipError, ClipParams, DetectMode, TransitionKind, analyze_clip, analyze_clips,
    redetect,
};
use beatcut::jobs::CancelToken;
use beatcut::media::MediaError;
use beatcut::time::secs_from_ticks;

const W: u32 = 320;
const H: u32 = 180;

/// One generated clip and its ground truth (seconds from the first frame).
struct Case {
    name: &'static str,
    path: PathBuf,
    fps: f64,
    /// Hard cuts between shots that look different.
    cuts: Vec<f64>,
    /// Hard cuts between shots that look alike (low contrast, two framings of one scene).
    similar: Vec<f64>,
    /// Gradual transitions: start, end, kind ("fade" for a fade through black or white,
    /// which may come as a fade-out and a fade-in).
    gradual: Vec<(f64, f64, &'static str)>,
}

impl Case {
    /// Every cut of the truth, both categories, in time order.
    fn all_cuts(&self) -> Vec<f64> {
        let mut all: Vec<f64> = self.cuts.iter().chain(&self.similar).copied().collect();
        all.sort_by(f64::total_cmp);
        all
    }

    fn spans(&self) -> Vec<(f64, f64)> {
        self.gradual.iter().map(|&(a, b, _)| (a, b)).collect()
    }
}

struct Fixture {
    _dir: tempfile::TempDir,
    cases: Vec<Case>,
    accurate: Vec<ClipAnalysis>,
    fast: Vec<ClipAnalysis>,
}

/// A lavfi source (name and extra options) shown for `frames` frames.
struct Seg(&'static str, u32);

fn lavfi_input(src: &str, w: u32, h: u32, fps: u32) -> String {
    if src.starts_with("noisy") {
        // Low-contrast texture: a coarse static noise pattern (seed in the name) on a muted
        // green-grey, with fine temporal grain on top.
        let seed = src.trim_start_matches("noisy");
        format!(
            "color=c=0x6a7464:s={}x{}:r={fps},noise=alls=14:all_seed={seed},scale={w}:{h}:flags=neighbor,noise=alls=5:allf=t",
            w / 4,
            h / 4
        )
    } else if let Some(inner) = src.strip_prefix("closer ") {
        // The same source rendered at twice the size and cropped: a second, closer framing
        // of the same scene (same colours and content, another shot).
        format!(
            "{inner}=s={}x{}:r={fps},crop={w}:{h}:{}:{}",
            2 * w,
            2 * h,
            w / 2,
            h / 4
        )
    } else {
        let sep = if src.contains('=') { ":" } else { "=" };
        // Random sources get a fixed seed, so every run encodes the same clip.
        let seed =
            if ["cellauto", "sierpinski", "life"].contains(&src.split('=').next().unwrap_or(src)) {
                ":seed=1"
            } else {
                ""
            };
        format!("{src}{sep}s={w}x{h}:r={fps}{seed}")
    }
}

/// Concatenates the segments (hard cuts between them), applies `post` to the joined stream
/// and encodes with `codec`. Returns the cut times.
fn concat_clip(
    dir: &Path,
    name: &str,
    segs: &[Seg],
    (w, h, fps): (u32, u32, u32),
    post: &str,
    codec: &[&str],
) -> (PathBuf, Vec<f64>) {
    let mut args: Vec<String> = Vec::new();
    let mut graph = String::new();
    let mut cuts = Vec::new();
    let mut at = 0u32;
    for (i, Seg(src, frames)) in segs.iter().enumerate() {
        args.extend([
            "-f".into(),
            "lavfi".into(),
            "-i".into(),
            lavfi_input(src, w, h, fps),
        ]);
        graph.push_str(&format!(
            "[{i}:v]trim=end_frame={frames},setpts=PTS-STARTPTS,format=yuv420p,setsar=1[v{i}];"
        ));
        if i > 0 {
            cuts.push(f64::from(at) / f64::from(fps));
        }
        at += frames;
    }
    for i in 0..segs.len() {
        graph.push_str(&format!("[v{i}]"));
    }
    graph.push_str(&format!("concat=n={}:v=1:a=0", segs.len()));
    if !post.is_empty() {
        graph.push(',');
        graph.push_str(post);
    }
    graph.push_str("[out]");
    (encode_graph(dir, name, args, graph, codec), cuts)
}

/// Runs ffmpeg on `inputs` with the filter graph `graph` (its output `[out]`), encodes with
/// `codec` into `dir/name`. One filter thread, so the same clip comes out every run.
fn encode_graph(
    dir: &Path,
    name: &str,
    mut args: Vec<String>,
    graph: String,
    codec: &[&str],
) -> PathBuf {
    args.extend([
        "-filter_complex_threads".into(),
        "1".into(),
        "-filter_complex".into(),
        graph,
        "-map".into(),
        "[out]".into(),
    ]);
    args.extend(codec.iter().map(|s| s.to_string()));
    let path = dir.join(name);
    args.push(path.to_string_lossy().into());
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    common::ffmpeg(&refs);
    path
}

const X264: &[&str] = &[
    "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
];

fn make_cases(dir: &Path) -> Vec<Case> {
    let mut cases = Vec::new();
    let mut add = |name: &'static str,
                   path: PathBuf,
                   fps: u32,
                   cuts: Vec<f64>,
                   gradual: Vec<(f64, f64, &'static str)>| {
        // Clips built from a "closer" framing or from look-alike textures hold similar cuts.
        let similar_shots = name.starts_with("two framings") || name.starts_with("low-contrast");
        let (cuts, similar) = if similar_shots {
            (Vec::new(), cuts)
        } else {
            (cuts, Vec::new())
        };
        cases.push(Case {
            name,
            path,
            fps: f64::from(fps),
            cuts,
            similar,
            gradual,
        })
    };
    let land = |fps| (W, H, fps);

    let (p, c) = concat_clip(
        dir,
        "h264_30.mp4",
        &[
            Seg("testsrc2", 40),
            Seg("smptebars", 35),
            Seg("mandelbrot", 50),
            Seg("cellauto", 30),
            Seg("life=mold=10:ratio=0.5", 45),
        ],
        land(30),
        "",
        X264,
    );
    add("h264 30fps mp4", p, 30, c, vec![]);

    let (p, c) = concat_clip(
        dir,
        "hevc_25.mkv",
        &[
            Seg("sierpinski", 30),
            Seg("testsrc", 40),
            Seg("gradients=speed=0.05", 35),
            Seg("rgbtestsrc", 30),
            Seg("yuvtestsrc", 40),
        ],
        land(25),
        "",
        &[
            "-c:v",
            "libx265",
            "-preset",
            "ultrafast",
            "-x265-params",
            "log-level=error",
        ],
    );
    add("hevc 25fps mkv", p, 25, c, vec![]);

    let (p, c) = concat_clip(
        dir,
        "vp9_24.webm",
        &[
            Seg("mandelbrot", 36),
            Seg("smptehdbars", 30),
            Seg("testsrc2", 40),
            Seg("life=mold=10:ratio=0.3", 30),
        ],
        land(24),
        "",
        &[
            "-c:v",
            "libvpx-vp9",
            "-deadline",
            "realtime",
            "-cpu-used",
            "8",
            "-b:v",
            "600k",
        ],
    );
    add("vp9 24fps webm", p, 24, c, vec![]);

    let (p, c) = concat_clip(
        dir,
        "mpeg4_60.avi",
        &[
            Seg("testsrc2", 60),
            Seg("cellauto", 70),
            Seg("pal100bars", 50),
            Seg("sierpinski", 60),
        ],
        land(60),
        "",
        &["-c:v", "mpeg4", "-q:v", "4"],
    );
    add("mpeg4 60fps avi", p, 60, c, vec![]);

    let (p, c) = concat_clip(
        dir,
        "prores_30.mov",
        &[
            Seg("smptebars", 30),
            Seg("mandelbrot", 30),
            Seg("testsrc", 30),
        ],
        land(30),
        "",
        &["-c:v", "prores_ks", "-profile:v", "0"],
    );
    add("prores 30fps mov", p, 30, c, vec![]);

    // Long GOP without scene-cut keyframes: every cut falls between keyframes.
    let (p, c) = concat_clip(
        dir,
        "h264_longgop.mp4",
        &[
            Seg("testsrc2", 50),
            Seg("mandelbrot", 45),
            Seg("smptebars", 55),
            Seg("sierpinski", 50),
        ],
        land(30),
        "",
        &[
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-pix_fmt",
            "yuv420p",
            "-x264-params",
            "keyint=90:min-keyint=90:scenecut=0",
        ],
    );
    add("h264 long GOP, no scenecut", p, 30, c, vec![]);

    // Keyframes placed against the cuts with x264's scene-cut keyframes off: a cut one frame
    // before a keyframe, a cut exactly on one, and cuts deep inside a 250-frame GOP.
    let no_scenecut = |keys: &str| -> Vec<String> {
        let mut v: Vec<String> = X264.iter().map(|s| s.to_string()).collect();
        v.extend([
            "-x264-params".into(),
            "scenecut=0".into(),
            "-g".into(),
            "250".into(),
        ]);
        if !keys.is_empty() {
            v.extend(["-force_key_frames".into(), keys.into()]);
        }
        v
    };
    let before_key = no_scenecut("expr:eq(n,61)+eq(n,121)");
    let refs: Vec<&str> = before_key.iter().map(String::as_str).collect();
    let (p, c) = concat_clip(
        dir,
        "cut_before_key.mp4",
        &[
            Seg("testsrc2", 60),
            Seg("mandelbrot", 60),
            Seg("smptebars", 60),
        ],
        land(30),
        "",
        &refs,
    );
    add("cut 1 frame before keyframe", p, 30, c, vec![]);
    let at_key = no_scenecut("expr:eq(n,60)+eq(n,120)");
    let refs: Vec<&str> = at_key.iter().map(String::as_str).collect();
    let (p, c) = concat_clip(
        dir,
        "cut_at_key.mp4",
        &[
            Seg("mandelbrot", 60),
            Seg("testsrc2", 60),
            Seg("cellauto", 60),
        ],
        land(30),
        "",
        &refs,
    );
    add("cut exactly at keyframe", p, 30, c, vec![]);
    let long = no_scenecut("");
    let refs: Vec<&str> = long.iter().map(String::as_str).collect();
    let (p, c) = concat_clip(
        dir,
        "scenecut0_g250.mp4",
        &[
            Seg("smptebars", 45),
            Seg("testsrc2", 50),
            Seg("life=mold=10:ratio=0.5", 40),
            Seg("mandelbrot", 55),
            Seg("sierpinski", 40),
        ],
        land(30),
        "",
        &refs,
    );
    add("scenecut=0 -g 250", p, 30, c, vec![]);

    // MPEG-TS (as broadcast recorders and some cameras write): timestamps that do not start
    // at zero, no index, B-frames.
    let (p, c) = concat_clip(
        dir,
        "h264_30.ts",
        &[
            Seg("mandelbrot", 50),
            Seg("testsrc2", 47),
            Seg("life=mold=10:ratio=0.5", 55),
            Seg("smptebars", 40),
        ],
        land(30),
        "",
        &[
            "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-g", "60", "-f",
            "mpegts",
        ],
    );
    add("h264 30fps MPEG-TS", p, 30, c, vec![]);

    // Two framings of one scene: a wide shot cut to a closer one of the same picture.
    let (p, c) = concat_clip(
        dir,
        "framings.mp4",
        &[
            Seg("testsrc2", 60),
            Seg("closer testsrc2", 55),
            Seg("mandelbrot", 60),
            Seg("closer mandelbrot", 50),
        ],
        land(30),
        "",
        X264,
    );
    add("two framings of one scene", p, 30, c, vec![]);

    // x264's scene-cut keyframes on with a short interval (as cameras write): content in
    // motion makes consecutive keyframes differ, and cuts close to a keyframe become plain
    // I-frames. Fast mode trusts the encoder for stretches that ran the full interval.
    let mut short_gop: Vec<&str> = X264.to_vec();
    short_gop.extend(["-x264-params", "keyint=30:min-keyint=30:scenecut=40"]);
    let (p, c) = concat_clip(
        dir,
        "scenecut_keyint30.mp4",
        &[
            Seg("testsrc2", 70),
            Seg("life=mold=10:ratio=0.5", 65),
            Seg("mandelbrot", 70),
            Seg("cellauto", 60),
        ],
        land(30),
        "",
        &short_gop,
    );
    // The same stream without the encoder's settings (as camera and phone encoders write
    // none): keyframes closed early are found from the stretch lengths, and only the packet
    // sizes vouch for stretches in motion.
    let bare = dir.join("scenecut_keyint30_bare.mp4");
    let (src, out) = (p.to_string_lossy(), bare.to_string_lossy());
    common::ffmpeg(&[
        "-i",
        &src,
        "-c",
        "copy",
        "-bsf:v",
        "filter_units=remove_types=6",
        &out,
    ]);
    add("scenecut=40 keyint=30, in motion", p, 30, c.clone(), vec![]);
    add(
        "scenecut=40 keyint=30, no encoder settings",
        bare,
        30,
        c,
        vec![],
    );

    // VFR: every fifth frame (n mod 5 == 2) dropped; cut frames and their predecessors kept.
    let (p, c) = concat_clip(
        dir,
        "vfr.mp4",
        &[
            Seg("testsrc2", 40),
            Seg("mandelbrot", 35),
            Seg("smptebars", 51),
            Seg("cellauto", 40),
        ],
        land(30),
        "select='not(eq(mod(n\\,5)\\,2))'",
        &[
            "-fps_mode",
            "vfr",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-pix_fmt",
            "yuv420p",
        ],
    );
    add("h264 VFR (dropped frames)", p, 30, c, vec![]);

    // Rotated 90° by display matrix.
    let (upright, c) = concat_clip(
        dir,
        "upright.mp4",
        &[
            Seg("mandelbrot", 40),
            Seg("testsrc2", 40),
            Seg("smptebars", 40),
        ],
        land(30),
        "",
        X264,
    );
    let rotated = dir.join("rotated.mp4");
    common::rotated_90(&upright, &rotated);
    add("h264 rotated 90", rotated, 30, c, vec![]);

    let (p, c) = concat_clip(
        dir,
        "portrait_50.mp4",
        &[
            Seg("testsrc2", 50),
            Seg("mandelbrot", 50),
            Seg("life=mold=10:ratio=0.5", 50),
        ],
        (H, W, 50),
        "",
        X264,
    );
    add("h264 9:16 50fps", p, 50, c, vec![]);

    // Low-contrast cuts between textures of the same colour and statistics.
    let (p, c) = concat_clip(
        dir,
        "lowcontrast.mp4",
        &[Seg("noisy1", 45), Seg("noisy2", 45), Seg("noisy3", 45)],
        land(30),
        "",
        X264,
    );
    add("low-contrast cuts", p, 30, c, vec![]);

    // Flash (white frame), half flash, lighting steps up and down, a whip pan: no cuts.
    let wide = "testsrc2=s=1280x180:r=30";
    let whip =
        "crop=320:180:x='if(lt(n\\,70)\\,0\\,if(lt(n\\,82)\\,(n-70)*80\\,960))':y=0,tmix=frames=3";
    let graph = format!(
        "[0:v]trim=end_frame=140,setpts=PTS-STARTPTS,{whip},format=yuv420p,\
         lutyuv=y='min(val*1.35\\,235)':enable='gte(n\\,40)',\
         lutyuv=y='val*0.7':enable='gte(n\\,110)',\
         lutyuv=y=235:u=128:v=128:enable='eq(n\\,20)',\
         drawbox=x=0:y=0:w=iw:h=ih:color=white@0.7:t=fill:enable='eq(n\\,95)'[out]"
    );
    let flash = dir.join("flash_light_whip.mp4");
    let mut args = vec![
        "-f",
        "lavfi",
        "-i",
        wide,
        "-filter_complex",
        &graph,
        "-map",
        "[out]",
    ];
    args.extend_from_slice(X264);
    let out = flash.to_string_lossy().to_string();
    args.push(&out);
    common::ffmpeg(&args);
    add("flash+lighting+whip", flash, 30, vec![], vec![]);

    // Dissolve, fade through black, fade through white (xfade), a hard cut, then a fade out
    // and in with the fade filter.
    let src = |s: &str, secs: u32| {
        format!(
            "{},trim=duration={secs},setpts=PTS-STARTPTS,format=yuv420p,setsar=1",
            lavfi_input(s, W, H, 30)
        )
    };
    let graph = format!(
        "{a}[a];{b}[b];{c}[c];{d}[d];{e},fade=t=out:st=1.5:d=0.5[e];{f},fade=t=in:st=0:d=0.5[f];\
         [a][b]xfade=transition=fade:duration=1:offset=2[ab];\
         [ab][c]xfade=transition=fadeblack:duration=1:offset=4[abc];\
         [abc][d]xfade=transition=fadewhite:duration=0.8:offset=6[abcd];\
         [abcd][e][f]concat=n=3:v=1:a=0[out]",
        a = src("testsrc2", 3),
        b = src("smptebars", 3),
        c = src("mandelbrot", 3),
        d = src("cellauto", 3),
        e = src("sierpinski", 2),
        f = src("testsrc", 2),
    );
    // Plain, then with a keyframe inside each transition (as x264's scene-cut detection
    // sometimes places them): fast mode must not take such a keyframe for a hard cut.
    for (name, file, extra) in [
        ("fades and dissolves", "fades.mp4", &[][..]),
        (
            "fades and dissolves, keyframes inside",
            "fades-keyed.mp4",
            &["-force_key_frames", "2.5,4.3,6.4,11.1"][..],
        ),
    ] {
        let path = dir.join(file);
        let out = path.to_string_lossy().to_string();
        let mut args = vec!["-filter_complex", &graph, "-map", "[out]"];
        args.extend_from_slice(X264);
        args.extend_from_slice(extra);
        args.push(&out);
        common::ffmpeg(&args);
        add(
            name,
            path,
            30,
            vec![9.0],
            vec![
                (2.0, 3.0, "dissolve"),
                (4.0, 5.0, "fade"),
                (6.0, 6.8, "fade"),
                (10.5, 11.5, "fade"),
            ],
        );
    }
    // Wipes on a tripod: left over a test card, then up over a fractal.
    let graph = format!(
        "{a}[a];{b}[b];{c}[c];\
         [a][b]xfade=transition=wipeleft:duration=0.7:offset=2.3[ab];\
         [ab][c]xfade=transition=wipeup:duration=0.8:offset=4.5[out]",
        a = src("testsrc2", 3),
        b = src("mandelbrot", 3),
        c = src("smptebars", 3),
    );
    let path = dir.join("wipes.mp4");
    let out = path.to_string_lossy().to_string();
    let mut args = vec!["-filter_complex", &graph, "-map", "[out]"];
    args.extend_from_slice(X264);
    args.push(&out);
    common::ffmpeg(&args);
    cases.push(Case {
        name: "wipes on a tripod",
        path,
        fps: 30.0,
        cuts: Vec::new(),
        similar: Vec::new(),
        gradual: vec![(2.3, 3.0, "wipe"), (4.5, 5.3, "wipe")],
    });
    cases.extend(phone_cases(dir));
    cases
}

/// Encoder settings of a phone's hardware encoder, as far as the ffmpeg CLI can play one:
/// a fixed one-second GOP (no keyframes at scene changes), no B-frames, a constant bitrate
/// that starves busy pictures, and no x264 settings header (SEI) in the stream.
const HARDWARE_STYLE: &[&str] = &[
    // One encoder thread: with rate control, threads make the encode (and so the
    // accuracy figures) vary from run to run.
    "-threads",
    "1",
    "-c:v",
    "libx264",
    "-preset",
    "veryfast",
    "-bf",
    "0",
    "-g",
    "30",
    "-keyint_min",
    "30",
    "-sc_threshold",
    "0",
    "-b:v",
    "1500k",
    "-maxrate",
    "1500k",
    "-bufsize",
    "750k",
    "-pix_fmt",
    "yuv420p",
    "-bsf:v",
    "filter_units=remove_types=6",
];

/// A handheld shot of one still picture: `zoom` (1 = the still's own framing, more is a
/// closer framing of the same scene), the phase of the camera's shake, `secs` long.
struct Shot {
    still: usize,
    zoom: f32,
    phase: f32,
    secs: f64,
    /// A quick swing of the camera (pixels, over a third of a second) at 5.5 s, if any.
    swing: u32,
    /// How far to the side the camera stands (pixels): a second take from a step away.
    offset: u32,
    /// Where on the shake's path the shot starts (seconds): a shot that goes on from the
    /// one before it shakes on from where that one stopped.
    from: f64,
}

/// A generated phone-style clip: path, hard cuts, similar cuts, transitions.
type PhoneClip = (PathBuf, Vec<f64>, Vec<f64>, Vec<(f64, f64, &'static str)>);

impl Shot {
    /// A handheld shot of `still` from its start, with no swing and no step to the side.
    fn handheld(still: usize, zoom: f32, phase: f32, secs: f64) -> Self {
        Self {
            still,
            zoom,
            phase,
            secs,
            swing: 0,
            offset: 0,
            from: 0.0,
        }
    }
}

/// How a shot follows the one before it.
enum Join {
    /// A hard cut between shots that look different.
    Cut,
    /// A hard cut between shots that look alike.
    Similar,
    /// An xfade transition of this name and length, expected as this kind.
    Xfade(&'static str, f64, &'static str),
}

/// The still pictures phone-style shots are filmed from (1280x720): a fractal, a fine
/// texture, a test card, another part of the fractal in other colours.
fn make_stills(dir: &Path) -> Vec<PathBuf> {
    let blur = "gblur=sigma=1.2,format=rgb24";
    let sources = [
        format!("mandelbrot=s=1280x720:start_scale=0.3:start_x=-0.75:start_y=0.1,{blur}"),
        format!(
            "cellauto=s=1280x720:rule=30:seed=5:scroll=0:full=1,gblur=sigma=3,\
             colorchannelmixer=rr=0.8:gg=0.5:bb=0.2:rb=0.2,eq=brightness=0.1,{blur}"
        ),
        format!("testsrc2=s=1280x720,{blur}"),
        format!("mandelbrot=s=1280x720:start_scale=0.05:start_x=-1.25:start_y=0.02,{blur}"),
    ];
    sources
        .iter()
        .enumerate()
        .map(|(i, source)| {
            let path = dir.join(format!("still{i}.png"));
            let out = path.to_string_lossy().to_string();
            common::ffmpeg(&["-f", "lavfi", "-i", source, "-frames:v", "1", &out]);
            path
        })
        .collect()
}

/// A phone-style clip at 640x360, 30 fps: handheld shots (a shaking crop path over a
/// still, motion blur, sensor grain) joined by `joins`, filtered by `post`, encoded with
/// `codec`. Returns the path, the hard cuts, the similar cuts and the transitions.
fn phone_clip(
    dir: &Path,
    stills: &[PathBuf],
    name: &str,
    (first, rest): (Shot, Vec<(Join, Shot)>),
    post: &str,
    codec: &[&str],
) -> PhoneClip {
    let shot_filter = |input: usize, shot: &Shot| {
        let p = shot.phase;
        format!(
            "[{input}:v]scale=iw*{z}:-2,crop=640:360:\
             x='(iw-640)/2+{offset}+40*sin(2*PI*0.7*(t+{from})+{p})+14*sin(2*PI*2.3*(t+{from})+2*{p})\
             -{swing}*clip((t+{from}-5.5)*3\\,0\\,1)':\
             y='(ih-360)/2+24*sin(2*PI*0.9*(t+{from})+{p}+1)+9*sin(2*PI*3.1*(t+{from})+{p})',\
             tmix=frames=3,trim=duration={d},setpts=PTS-STARTPTS,fps=30,format=yuv420p,\
             setsar=1,settb=1/30[s{input}];",
            z = shot.zoom,
            d = shot.secs,
            swing = shot.swing,
            offset = shot.offset,
            from = shot.from,
        )
    };
    let mut args: Vec<String> = Vec::new();
    let mut graph = String::new();
    let shots: Vec<&Shot> = std::iter::once(&first)
        .chain(rest.iter().map(|(_, s)| s))
        .collect();
    for (i, shot) in shots.iter().enumerate() {
        args.extend(["-loop", "1", "-framerate", "30", "-i"].map(String::from));
        args.push(stills[shot.still].to_string_lossy().into());
        graph.push_str(&shot_filter(i, shot));
    }
    let (mut cuts, mut similar, mut spans) = (Vec::new(), Vec::new(), Vec::new());
    let mut length = first.secs;
    let mut current = "s0".to_string();
    for (i, (join, shot)) in rest.iter().enumerate() {
        let i = i + 1;
        match join {
            Join::Cut | Join::Similar => {
                if matches!(join, Join::Cut) {
                    cuts.push(length);
                } else {
                    similar.push(length);
                }
                graph.push_str(&format!(
                    "[{current}][s{i}]concat=n=2:v=1:a=0,settb=1/30[j{i}];"
                ));
                length += shot.secs;
            }
            Join::Xfade(transition, secs, kind) => {
                let offset = length - secs;
                spans.push((offset, length, *kind));
                graph.push_str(&format!(
                    "[{current}][s{i}]xfade=transition={transition}:duration={secs}:offset={offset}[j{i}];"
                ));
                length = offset + shot.secs;
            }
        }
        current = format!("j{i}");
    }
    graph.push_str(&format!(
        "[{current}]noise=alls=5:allf=t,format=yuv420p{post}[out]"
    ));
    (
        encode_graph(dir, name, args, graph, codec),
        cuts,
        similar,
        spans,
    )
}

/// Footage that looks like a phone's: handheld shots with motion blur and grain, a
/// hardware-style encode, cuts between two framings of one scene, transitions of 0.5-1.5 s,
/// variable frame rate with rotation, and a handheld take with no cut at all.
fn phone_cases(dir: &Path) -> Vec<Case> {
    let stills = make_stills(dir);
    let shot = Shot::handheld;
    let mut cases = Vec::new();
    let mut add = |name, (path, cuts, similar, gradual): (PathBuf, _, _, _)| {
        cases.push(Case {
            name,
            path,
            fps: 30.0,
            cuts,
            similar,
            gradual,
        })
    };

    let cuts = (
        shot(0, 1.0, 0.0, 3.0),
        vec![
            (Join::Cut, shot(1, 1.0, 1.0, 2.5)),
            (Join::Similar, shot(1, 1.5, 2.0, 2.5)),
            (Join::Cut, shot(2, 1.0, 3.0, 2.5)),
            (Join::Similar, shot(2, 1.4, 4.0, 2.0)),
            (Join::Cut, shot(3, 1.0, 5.0, 2.0)),
            // A jump cut: the same take goes on from a step to the side (130 px, a fifth of
            // the picture). The shake around it is no transition (no wipe).
            (
                Join::Similar,
                Shot {
                    offset: 130,
                    from: 2.0,
                    ..shot(3, 1.0, 5.0, 2.0)
                },
            ),
        ],
    );
    add(
        "phone: handheld cuts, hardware-style encode",
        phone_clip(dir, &stills, "phone_cuts.mp4", cuts, "", HARDWARE_STYLE),
    );

    let transitions = (
        shot(0, 1.0, 0.5, 2.5),
        vec![
            (Join::Xfade("fade", 0.5, "dissolve"), shot(1, 1.0, 1.5, 3.0)),
            (
                Join::Xfade("fadeblack", 1.0, "fade"),
                shot(2, 1.0, 2.5, 3.0),
            ),
            (Join::Xfade("wipeleft", 0.7, "wipe"), shot(3, 1.0, 3.5, 3.0)),
            (Join::Xfade("fade", 1.5, "dissolve"), shot(0, 1.5, 4.5, 3.0)),
            (Join::Cut, shot(1, 1.3, 5.5, 2.0)),
        ],
    );
    add(
        "phone: transitions, hardware-style encode",
        phone_clip(
            dir,
            &stills,
            "phone_transitions.mp4",
            transitions,
            "",
            HARDWARE_STYLE,
        ),
    );

    // Variable frame rate (about one frame in seven dropped, irregularly), rotated 90° by
    // the display matrix, two-second GOPs without B-frames. A cut lands on the first frame
    // kept at or after it.
    let dropped = |n: u64| (n * n + n) % 13 == 4;
    let vfr = (
        shot(3, 1.0, 0.2, 3.0),
        vec![
            (Join::Cut, shot(0, 1.3, 1.2, 3.0)),
            (Join::Similar, shot(0, 1.0, 2.2, 2.5)),
            (Join::Cut, shot(2, 1.2, 3.2, 2.5)),
        ],
    );
    let mut vfr_codec = HARDWARE_STYLE.to_vec();
    vfr_codec.extend(["-fps_mode", "vfr"]);
    if let Some(g) = vfr_codec.iter().position(|&a| a == "-g") {
        vfr_codec[g + 1] = "60";
    }
    let (upright, cuts, similar, gradual) = phone_clip(
        dir,
        &stills,
        "phone_vfr_upright.mp4",
        vfr,
        ",select='not(eq(mod(n*n+n\\,13)\\,4))'",
        &vfr_codec,
    );
    let kept_at = |t: f64| {
        let mut n = (t * 30.0).round() as u64;
        while dropped(n) {
            n += 1;
        }
        n as f64 / 30.0
    };
    let rotated = dir.join("phone_vfr_rotated.mp4");
    common::rotated_90(&upright, &rotated);
    add(
        "phone: VFR, rotated, 2 s GOP",
        (
            rotated,
            cuts.into_iter().map(kept_at).collect(),
            similar.into_iter().map(kept_at).collect(),
            gradual,
        ),
    );

    // One handheld take over the busiest picture, with the exposure rising over a second
    // (a camera adapting) and a quick swing of the camera: no cut, no transition.
    let take = Shot {
        swing: 160,
        ..shot(2, 1.2, 0.7, 8.0)
    };
    let control = (take, Vec::new());
    add(
        "phone: handheld take, exposure ramp, swing",
        phone_clip(
            dir,
            &stills,
            "phone_take.mp4",
            control,
            ",eq=brightness='0.12*clip((t-3)\\,0\\,1)':eval=frame",
            HARDWARE_STYLE,
        ),
    );
    cases
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = common::temp_dir();
        // `VIDEO_FIXTURE_DIR=<dir>` keeps a copy of the generated clips there, to look at.
        let cases = make_cases(dir.path());
        if let Ok(keep) = std::env::var("VIDEO_FIXTURE_DIR") {
            std::fs::create_dir_all(&keep).unwrap();
            for case in &cases {
                let name = case.path.file_name().unwrap();
                std::fs::copy(&case.path, Path::new(&keep).join(name)).unwrap();
            }
        }
        let paths: Vec<PathBuf> = cases.iter().map(|c| c.path.clone()).collect();
        let run = |mode| {
            let params = ClipParams {
                mode,
                ..ClipParams::default()
            };
            analyze_clips(&paths, &params, &CancelToken::new())
                .into_iter()
                .zip(&cases)
                .map(|(r, c)| r.unwrap_or_else(|e| panic!("{}: {e}", c.name)))
                .collect::<Vec<_>>()
        };
        let accurate = run(DetectMode::Accurate);
        let fast = run(DetectMode::Fast);
        Fixture {
            _dir: dir,
            cases,
            accurate,
            fast,
        }
    })
}

/// True positives, false positives, false negatives with one-frame tolerance.
fn match_cuts(expected: &[f64], found: &[f64], fps: f64) -> (usize, usize, usize) {
    let tol = 1.0 / fps + 1e-3;
    let mut used = vec![false; found.len()];
    let mut tp = 0;
    for &e in expected {
        let best = found
            .iter()
            .enumerate()
            .filter(|(i, f)| !used[*i] && (**f - e).abs() <= tol)
            .min_by(|a, b| (a.1 - e).abs().total_cmp(&(b.1 - e).abs()));
        if let Some((i, _)) = best {
            used[i] = true;
            tp += 1;
        }
    }
    (tp, found.len() - tp, expected.len() - tp)
}

/// Whether a found span covers at least a third of an expected one.
fn overlaps(expected: (f64, f64), found: (f64, f64)) -> bool {
    expected.1.min(found.1) - expected.0.max(found.0) >= (expected.1 - expected.0) / 3.0
}

/// Expected spans overlapped by a found span, and found spans that overlap none.
fn match_spans(expected: &[(f64, f64)], found: &[(f64, f64)]) -> (usize, usize) {
    let hit = expected
        .iter()
        .filter(|&&e| found.iter().any(|&f| overlaps(e, f)))
        .count();
    let spurious = found
        .iter()
        .filter(|&&f| !expected.iter().any(|&e| overlaps(e, f)))
        .count();
    (hit, spurious)
}

/// Cut times and transition spans in seconds. A fade through black comes as a fade-out
/// and a fade-in that touch: they count as one span.
fn secs(a: &ClipAnalysis) -> (Vec<f64>, Vec<(f64, f64)>) {
    let mut spans: Vec<(f64, f64)> = Vec::new();
    let mut previous: Option<&beatcut::analysis::video::Transition> = None;
    for t in &a.transitions {
        let span = (secs_from_ticks(t.start), secs_from_ticks(t.end));
        match (previous, spans.last_mut()) {
            (Some(p), Some(last))
                if p.kind == TransitionKind::FadeOut
                    && t.kind == TransitionKind::FadeIn
                    && p.end == t.start =>
            {
                last.1 = span.1;
            }
            _ => spans.push(span),
        }
        previous = Some(t);
    }
    (a.cuts.iter().map(|&t| secs_from_ticks(t)).collect(), spans)
}

fn fmt_list(v: &[f64]) -> String {
    v.iter()
        .map(|x| format!("{x:.3}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Per-category counts over the generated clips for one mode.
#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    /// Hard cuts between different-looking shots: found, expected.
    hard: (usize, usize),
    /// Cuts between look-alike shots: found, expected.
    similar: (usize, usize),
    /// Found cuts that match no cut of the truth.
    false_cuts: usize,
    /// Found cuts in the clips that hold no cut (flashes, lighting, a handheld take).
    control_cuts: usize,
    /// Transitions overlapped by a found span, expected.
    transitions: (usize, usize),
    /// Of the overlapped transitions, those reported as the right kind.
    right_kind: usize,
    /// Found spans that overlap no transition of the truth.
    spurious_spans: usize,
}

fn ratio((hit, all): (usize, usize)) -> f64 {
    if all == 0 {
        1.0
    } else {
        hit as f64 / all as f64
    }
}

/// Whether a found transition kind is the expected one ("fade" takes either half).
fn kind_matches(expected: &str, found: TransitionKind) -> bool {
    match expected {
        "fade" => matches!(found, TransitionKind::FadeOut | TransitionKind::FadeIn),
        other => other == found.as_str(),
    }
}

/// Prints the per-clip table for one mode and returns the per-category tally.
fn table(mode: &str, analyses: &[ClipAnalysis]) -> Tally {
    let fx = fixture();
    println!("\n== {mode} ==");
    println!(
        "{:<44} {:>3} {:>3} {:>3}  {:<30} {:<30} transitions (expected/hit/spurious)",
        "clip", "TP", "FP", "FN", "expected cuts", "found cuts"
    );
    let mut tally = Tally::default();
    for (case, a) in fx.cases.iter().zip(analyses) {
        let (cuts, spans) = secs(a);
        let truth = case.all_cuts();
        let (tp, fp, fneg) = match_cuts(&truth, &cuts, case.fps);
        let (hard, _, _) = match_cuts(&case.cuts, &cuts, case.fps);
        let (similar, _, _) = match_cuts(&case.similar, &cuts, case.fps);
        tally.hard = (tally.hard.0 + hard, tally.hard.1 + case.cuts.len());
        tally.similar = (
            tally.similar.0 + similar,
            tally.similar.1 + case.similar.len(),
        );
        tally.false_cuts += fp;
        if truth.is_empty() {
            tally.control_cuts += cuts.len();
        }
        let (hit, spurious) = match_spans(&case.spans(), &spans);
        tally.transitions = (
            tally.transitions.0 + hit,
            tally.transitions.1 + case.gradual.len(),
        );
        tally.spurious_spans += spurious;
        tally.right_kind += case
            .gradual
            .iter()
            .filter(|&&(s, e, kind)| {
                a.transitions.iter().any(|t| {
                    let (ts, te) = (secs_from_ticks(t.start), secs_from_ticks(t.end));
                    overlaps((s, e), (ts, te)) && kind_matches(kind, t.kind)
                })
            })
            .count();
        println!(
            "{:<44} {tp:>3} {fp:>3} {fneg:>3}  {:<30} {:<30} {}/{hit}/{spurious} {:?} ({} frames scored)",
            case.name,
            fmt_list(&truth),
            fmt_list(&cuts),
            case.gradual.len(),
            a.transitions
                .iter()
                .map(|t| format!(
                    "{} {:.2}-{:.2}",
                    t.kind.as_str(),
                    secs_from_ticks(t.start),
                    secs_from_ticks(t.end)
                ))
                .collect::<Vec<_>>(),
            a.frame_scores.len(),
        );
    }
    println!(
        "{mode}: hard cuts {}/{} ({:.3}), similar-shot cuts {}/{} ({:.3}), false cuts {} \
         (in no-cut clips {}), transitions {}/{} ({:.3}, right kind {}), spurious spans {}",
        tally.hard.0,
        tally.hard.1,
        ratio(tally.hard),
        tally.similar.0,
        tally.similar.1,
        ratio(tally.similar),
        tally.false_cuts,
        tally.control_cuts,
        tally.transitions.0,
        tally.transitions.1,
        ratio(tally.transitions),
        tally.right_kind,
        tally.spurious_spans,
    );
    tally
}

/// The accuracy goals, per category and per mode: hard cuts recall >= 0.98, cuts between
/// look-alike shots >= 0.6, transitions >= 0.75 as spans overlapping the truth (and mostly
/// of the right kind), no false cut anywhere (flashes, lighting, a handheld take included),
/// and at most one spurious span in ten.
#[test]
fn per_category_accuracy() {
    let fx = fixture();
    for (mode, analyses) in [("accurate", &fx.accurate), ("fast", &fx.fast)] {
        let t = table(mode, analyses);
        assert!(
            ratio(t.hard) >= 0.98,
            "{mode}: hard-cut recall {:?}",
            t.hard
        );
        assert!(
            ratio(t.similar) >= 0.6,
            "{mode}: similar-shot cut recall {:?}",
            t.similar
        );
        assert_eq!(t.control_cuts, 0, "{mode}: cuts in clips that hold none");
        // The handheld clip's cut between two framings of the test card (10.5 s) stands
        // only a little above the shake once that is lined up: it must be found. (The
        // other, between two framings of a faint texture, is at the edge of what a 96-pixel
        // analysis picture shows, and counts in the category ratio only.)
        let handheld = fx
            .cases
            .iter()
            .position(|c| c.name.starts_with("phone: handheld cuts"))
            .unwrap();
        let (found, _) = secs(&analyses[handheld]);
        let (tp, _, _) = match_cuts(&[10.5], &found, 30.0);
        assert_eq!(
            tp, 1,
            "{mode}: handheld test-card framing cut, found {found:?}"
        );
        assert_eq!(t.false_cuts, 0, "{mode}: false cuts");
        assert!(
            ratio(t.transitions) >= 0.75,
            "{mode}: transition recall {:?}",
            t.transitions
        );
        assert!(
            t.right_kind as f64 >= 0.75 * t.transitions.0 as f64,
            "{mode}: {} of {} transitions of the right kind",
            t.right_kind,
            t.transitions.0
        );
        assert!(
            t.spurious_spans * 10 <= t.transitions.1,
            "{mode}: {} spurious transition spans",
            t.spurious_spans
        );
        // Per clip, so that no clip's misses hide under the others' hits: every hard cut and
        // every transition is found in each clip, and each transition is reported as its
        // kind (a wipe filmed handheld may still read as a dissolve: phone clips' wipes are
        // left out of the kind check).
        for (case, a) in fx.cases.iter().zip(analyses.iter()) {
            let (found, spans) = secs(a);
            let (hard, _, _) = match_cuts(&case.cuts, &found, case.fps);
            assert_eq!(
                hard,
                case.cuts.len(),
                "{mode}: {}: hard cuts {:?}, found {found:?}",
                case.name,
                case.cuts
            );
            let (hit, _) = match_spans(&case.spans(), &spans);
            assert_eq!(
                hit,
                case.gradual.len(),
                "{mode}: {}: transitions {:?}, found {spans:?}",
                case.name,
                case.gradual
            );
            for &(start, end, kind) in &case.gradual {
                if kind == "wipe" && case.name.starts_with("phone:") {
                    continue;
                }
                assert!(
                    a.transitions.iter().any(|t| {
                        let found = (secs_from_ticks(t.start), secs_from_ticks(t.end));
                        overlaps((start, end), found) && kind_matches(kind, t.kind)
                    }),
                    "{mode}: {}: the {kind} at {start:.2}-{end:.2} s is reported as {:?}",
                    case.name,
                    a.transitions
                );
            }
        }
        // The look-alike clips on a tripod: every cut in each, not only the category's share.
        for name in ["low-contrast cuts", "two framings of one scene"] {
            let i = fx.cases.iter().position(|c| c.name == name).unwrap();
            let case = &fx.cases[i];
            let (found, _) = secs(&analyses[i]);
            let (similar, _, _) = match_cuts(&case.similar, &found, case.fps);
            assert_eq!(
                similar,
                case.similar.len(),
                "{mode}: {name}: look-alike cuts {:?}, found {found:?}",
                case.similar
            );
        }
    }
}

/// Fast mode finds exactly the cuts accurate mode finds, and the same transitions, on
/// every generated clip (keyframes next to, on and far from the cuts, phone-style GOPs
/// without encoder settings, VFR).
#[test]
fn fast_equals_accurate_on_every_clip() {
    let fx = fixture();
    for (i, case) in fx.cases.iter().enumerate() {
        let (acc, acc_spans) = secs(&fx.accurate[i]);
        let (fast, fast_spans) = secs(&fx.fast[i]);
        assert_eq!(fast, acc, "{}: fast vs accurate cuts", case.name);
        // The same spans, to the frame, and the same kinds.
        assert_eq!(
            fast_spans, acc_spans,
            "{}: fast vs accurate transitions",
            case.name
        );
        let kinds = |a: &ClipAnalysis| a.transitions.iter().map(|t| t.kind).collect::<Vec<_>>();
        assert_eq!(
            kinds(&fx.fast[i]),
            kinds(&fx.accurate[i]),
            "{}: fast vs accurate transition kinds",
            case.name
        );
    }
}

/// The demo clips (written by our own `Mp4Writer`: libx264 veryfast, open GOP, 640x360):
/// fast mode once lost every cut before the last keyframe here because keyframes fed alone
/// to the H.264 decoder came out of order.
#[test]
fn demo_clips_fast_equals_accurate() {
    let dir = common::temp_dir();
    let demo = beatcut::demo::generate(dir.path()).expect("demo material");
    let truth: [&[f64]; 6] = [&[3.0], &[10.0 / 3.0, 6.0], &[], &[2.5], &[4.0], &[2.0, 4.0]];
    assert_eq!(demo.clips.len(), truth.len());
    let run = |mode| {
        let params = ClipParams {
            mode,
            ..ClipParams::default()
        };
        analyze_clips(&demo.clips, &params, &CancelToken::new())
    };
    let accurate = run(DetectMode::Accurate);
    let fast = run(DetectMode::Fast);
    // The third clip dissolves from one shot to the next from 4 s to 5 s.
    let dissolves: [&[(f64, f64)]; 6] = [&[], &[], &[(4.0, 5.0)], &[], &[], &[]];
    let clips = demo.clips.iter().zip(truth).zip(dissolves);
    for (((path, expected), dissolves), (acc, fast)) in clips.zip(accurate.into_iter().zip(fast)) {
        let (acc, acc_spans) = secs(&acc.unwrap());
        let (fast, fast_spans) = secs(&fast.unwrap());
        for spans in [&acc_spans, &fast_spans] {
            assert_eq!(
                match_spans(dissolves, spans),
                (dissolves.len(), 0),
                "{}: transitions {spans:?}",
                path.display()
            );
        }
        println!("{}: accurate {acc:?} fast {fast:?}", path.display());
        let (_, fp, fneg) = match_cuts(expected, &acc, 30.0);
        assert_eq!((fp, fneg), (0, 0), "{}: accurate {acc:?}", path.display());
        assert_eq!(fast, acc, "{}: fast vs accurate", path.display());
    }
}

#[test]
fn no_cut_for_flash_lighting_or_whip_pan() {
    let fx = fixture();
    for (case, a) in fx
        .cases
        .iter()
        .zip(fx.accurate.iter().chain(&fx.fast).step_by(1))
    {
        if case.name.starts_with("flash") {
            assert!(
                a.cuts.is_empty(),
                "{}: false cuts {:?}",
                case.name,
                secs(a).0
            );
        }
    }
    let i = fx
        .cases
        .iter()
        .position(|c| c.name.starts_with("flash"))
        .unwrap();
    assert!(
        fx.fast[i].cuts.is_empty(),
        "fast: false cuts {:?}",
        secs(&fx.fast[i]).0
    );
}

#[test]
fn fades_and_dissolves_are_spans() {
    let fx = fixture();
    let faded: Vec<usize> = (0..fx.cases.len())
        .filter(|&i| fx.cases[i].name.starts_with("fades"))
        .collect();
    assert_eq!(faded.len(), 2);
    for (i, a) in faded
        .iter()
        .flat_map(|&i| [(i, &fx.accurate[i]), (i, &fx.fast[i])])
    {
        let (cuts, gradual) = secs(a);
        let (hit, _) = match_spans(&fx.cases[i].spans(), &gradual);
        assert_eq!(
            hit,
            fx.cases[i].gradual.len(),
            "{} {:?}: spans {gradual:?}",
            fx.cases[i].name,
            a.mode
        );
        let (tp, fp, _) = match_cuts(&fx.cases[i].cuts, &cuts, 30.0);
        assert_eq!(
            (tp, fp),
            (1, 0),
            "{} {:?}: cuts {cuts:?}",
            fx.cases[i].name,
            a.mode
        );
    }
}

#[test]
fn scenes_have_features_and_thumbnails() {
    let fx = fixture();
    let a = &fx.accurate[0];
    assert_eq!(a.scenes.len(), a.cuts.len() + 1);
    for s in &a.scenes {
        let f = &s.features;
        assert!(s.end > s.start);
        assert_eq!(f.vector.len(), beatcut::analysis::video::VECTOR_LEN);
        assert_eq!(f.thumbnails.len(), 3);
        assert_eq!(f.thumbnails[0].width, 96);
        assert_eq!(
            f.thumbnails[0].rgb.len(),
            (96 * f.thumbnails[0].height * 3) as usize
        );
        assert!((0.0..=1.0).contains(&f.brightness) && (0.0..=1.0).contains(&f.sharpness));
    }
    // Portrait and rotated clips report their displayed size.
    let rot = fx
        .cases
        .iter()
        .position(|c| c.name.contains("rotated"))
        .unwrap();
    assert_eq!(
        (fx.accurate[rot].width, fx.accurate[rot].height),
        (180, 320)
    );
    let json = a.to_json(&fx.cases[0].path, 0.5);
    assert_eq!(json["cuts"].as_array().unwrap().len(), a.cuts.len());
    assert_eq!(json["mode"], "accurate");
}

#[test]
fn redetect_changes_threshold_without_decoding() {
    let fx = fixture();
    let a = &fx.accurate[0];
    let same = redetect(
        a,
        &ClipParams {
            mode: DetectMode::Accurate,
            ..ClipParams::default()
        },
    );
    assert_eq!(same.cuts, a.cuts);
    let strict = redetect(
        a,
        &ClipParams {
            threshold: 1.0,
            ..ClipParams::default()
        },
    );
    // The strictest threshold keeps only cuts that change everything: fewer than the default.
    assert!(
        strict.cuts.len() < a.cuts.len(),
        "{:?} at the strictest threshold, {:?} by default",
        strict.cuts,
        a.cuts
    );
    let long = redetect(
        a,
        &ClipParams {
            min_scene_secs: 10.0,
            ..ClipParams::default()
        },
    );
    // Weaker cuts closer than 10 s to a stronger one are dropped: in a clip shorter than
    // that, only the strongest of its cuts stays.
    assert!(
        secs_from_ticks(a.duration) < 10.0,
        "{}",
        secs_from_ticks(a.duration)
    );
    assert_eq!(long.cuts.len(), 1, "{:?}", long.cuts);
    assert!(a.cuts.contains(&long.cuts[0]), "{:?}", long.cuts);
    assert_eq!(long.scenes.len(), long.cuts.len() + 1);
}

#[test]
fn audio_only_is_a_clear_error_and_cancel_stops() {
    let dir = common::temp_dir();
    let tone = common::tone(dir.path(), "tone.m4a", 44_100, 1, 1.0, &["-c:a", "aac"]);
    let err = analyze_clip(
        &tone,
        &ClipParams::default(),
        &CancelToken::new(),
        &mut |_| {},
    )
    .unwrap_err();
    assert!(
        matches!(err, ClipError::Media(MediaError::NoStream { .. })),
        "{err}"
    );
    let fx = fixture();
    let cancel = CancelToken::new();
    cancel.cancel();
    let err = analyze_clip(
        &fx.cases[0].path,
        &ClipParams::default(),
        &cancel,
        &mut |_| {},
    )
    .unwrap_err();
    assert!(matches!(err, ClipError::Cancelled));
}

#[test]
fn corrupt_packets_are_warnings() {
    let fx = fixture();
    let dir = common::temp_dir();
    let mut bytes = std::fs::read(&fx.cases[0].path).unwrap();
    // Scribble over 20 kB in the middle of the media data: a packet's NAL length prefix goes
    // too, which the decoder reports (damage inside CABAC data alone often decodes silently,
    // wrong but unnoticed, and then there is nothing to warn about).
    let mid = bytes.len() / 2;
    for b in &mut bytes[mid..mid + 20_000] {
        *b = b.wrapping_mul(31).wrapping_add(7);
    }
    let bad = dir.path().join("corrupt.mp4");
    std::fs::write(&bad, bytes).unwrap();
    let params = ClipParams {
        mode: DetectMode::Accurate,
        ..ClipParams::default()
    };
    let a = analyze_clip(&bad, &params, &CancelToken::new(), &mut |_| {}).unwrap();
    // Decoding goes on past the damage to the end, and the damage is reported.
    let whole = &fx.accurate[0];
    assert!(
        a.frame_scores.len() * 10 >= whole.frame_scores.len() * 9,
        "{} of {} frames scored",
        a.frame_scores.len(),
        whole.frame_scores.len()
    );
    assert!(!a.warnings.is_empty(), "no warning for the corrupt packets");
    println!("warnings: {:?}", a.warnings);
    // Damage is not truncation: the pictures run to the stated end.
    assert!(
        !a.warnings.iter().any(|w| w.contains("cut short")),
        "{:?}",
        a.warnings
    );
}

/// A copy that stopped part way (the header written first, as `faststart` does, then the
/// media data cut off) analyses what is there in every mode and says the file is cut short.
#[test]
fn truncated_file_is_analysed_and_reported() {
    let dir = common::temp_dir();
    let whole = dir.path().join("whole.mp4");
    common::ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=s=320x180:r=25:d=6",
        "-c:v",
        "libx264",
        "-g",
        "25",
        "-movflags",
        "+faststart",
        whole.to_str().unwrap(),
    ]);
    let bytes = std::fs::read(&whole).unwrap();
    let cut = dir.path().join("cut.mp4");
    std::fs::write(&cut, &bytes[..bytes.len() * 2 / 5]).unwrap();
    for mode in [
        DetectMode::Accurate,
        DetectMode::Fast,
        DetectMode::Keyframes,
    ] {
        let params = ClipParams {
            mode,
            ..ClipParams::default()
        };
        let a = analyze_clip(&cut, &params, &CancelToken::new(), &mut |_| {}).unwrap();
        let secs = beatcut::time::secs_from_ticks(a.duration);
        assert!(secs > 0.5 && secs < 4.5, "{mode:?}: {secs} s");
        assert!(
            a.warnings.iter().any(|w| w.contains("cut short")),
            "{mode:?}: {:?}",
            a.warnings
        );
        let full = analyze_clip(&whole, &params, &CancelToken::new(), &mut |_| {}).unwrap();
        assert!(
            full.warnings.is_empty(),
            "{mode:?} on the whole file: {:?}",
            full.warnings
        );
    }
}

/// `VIDEO_DUMP=<clip name prefix> cargo test --test video_accuracy dump -- --ignored --nocapture`
/// prints the kept per-frame scores of that clip.
#[test]
#[ignore = "a tool for looking at scores: VIDEO_DUMP=<clip name prefix>"]
fn dump_scores_on_request() {
    let prefix = std::env::var("VIDEO_DUMP").expect("VIDEO_DUMP=<clip name prefix>");
    let fx = fixture();
    let fast = std::env::var("VIDEO_DUMP_FAST").is_ok();
    let analyses = if fast { &fx.fast } else { &fx.accurate };
    for (case, a) in fx.cases.iter().zip(analyses) {
        if case.name.starts_with(&prefix) {
            for (i, s) in a.frame_scores.iter().enumerate() {
                println!(
                    "{i:4} {:7.3} diff {:.3} skip {:.3} luma {:.3} contrast {:.3} motion {:.3} adj {}",
                    secs_from_ticks(s.time),
                    s.diff,
                    s.skip_diff,
                    s.luma,
                    s.contrast,
                    s.motion,
                    s.adjacent
                );
            }
        }
    }
}

/// Keyframes mode (the editor's first look) decodes keyframes only, so it cannot place cuts;
/// what it promises instead is that no scene it reports hides a cut or a transition: every
/// hard cut and every gradual span of the truth lies outside its scenes (in an unresolved
/// stretch or on a scene's first frame), decoding only keyframes.
#[test]
fn keyframes_first_look_scenes_never_hide_a_cut() {
    let fx = fixture();
    let paths: Vec<PathBuf> = fx.cases.iter().map(|c| c.path.clone()).collect();
    let params = ClipParams {
        mode: DetectMode::Keyframes,
        ..ClipParams::default()
    };
    let looks = analyze_clips(&paths, &params, &CancelToken::new());
    for ((case, look), accurate) in fx.cases.iter().zip(looks).zip(&fx.accurate) {
        let look = look.unwrap_or_else(|e| panic!("{}: {e}", case.name));
        assert_eq!(look.mode, DetectMode::Keyframes);
        assert!(
            look.cuts.is_empty(),
            "{}: first look placed cuts",
            case.name
        );
        // All-intra sources (ProRes) have a keyframe on every frame; others far fewer.
        assert!(
            look.frame_scores.len() <= accurate.frame_scores.len(),
            "{}: {} frames scored of {}",
            case.name,
            look.frame_scores.len(),
            accurate.frame_scores.len()
        );
        let frame = 1.0 / case.fps;
        for scene in &look.scenes {
            let (start, end) = (secs_from_ticks(scene.start), secs_from_ticks(scene.end));
            assert!(
                end > start && start >= 0.0,
                "{}: scene {start}-{end}",
                case.name
            );
            // Every hard cut, and every cut between look-alike shots a full pass finds.
            let found: Vec<f64> = secs(accurate).0;
            let cuts = case.cuts.iter().chain(
                case.similar
                    .iter()
                    .filter(|&&c| found.iter().any(|&f| (f - c).abs() < frame)),
            );
            for &cut in cuts {
                assert!(
                    !(cut > start + frame / 2.0 && cut < end - frame / 2.0),
                    "{}: cut at {cut} inside first-look scene {start:.3}-{end:.3} (unresolved {:?})",
                    case.name,
                    secs_spans(&look.unresolved)
                );
            }
            for &(a, b, _) in &case.gradual {
                assert!(
                    b <= start + frame / 2.0 || a >= end - frame / 2.0,
                    "{}: transition {a}-{b} inside first-look scene {start:.3}-{end:.3}",
                    case.name
                );
            }
        }
    }
}

fn secs_spans(spans: &[(beatcut::time::Ticks, beatcut::time::Ticks)]) -> Vec<(f64, f64)> {
    spans
        .iter()
        .map(|&(s, e)| (secs_from_ticks(s), secs_from_ticks(e)))
        .collect()
}

/// A cut early in a long stretch between keyframes (a camera's 4 s GOP, no encoder
/// settings): fast mode stops decoding the stretch once the new shot has settled on the
/// keyframe that closes it, so it decodes a small part of the clip, and still places the
/// cut where a full pass does, with nothing placed between the last frame it decoded and
/// that keyframe.
#[test]
fn fast_mode_stops_a_stretch_once_the_cut_has_settled() {
    let dir = common::temp_dir();
    let stills = make_stills(dir.path());
    let shot = Shot::handheld;
    let mut codec = HARDWARE_STYLE.to_vec();
    if let Some(g) = codec.iter().position(|&a| a == "-g") {
        codec[g + 1] = "120";
    }
    // Keyframes every 4 s; cuts at 1.0 s (early in the first stretch) and 9.5 s (early in
    // the third); the second and fourth stretches hold one shot each.
    let shots = (
        shot(0, 1.0, 0.0, 1.0),
        vec![
            (Join::Cut, shot(1, 1.0, 1.0, 8.5)),
            (Join::Cut, shot(2, 1.0, 2.0, 7.0)),
        ],
    );
    let (path, cuts, _, _) = phone_clip(dir.path(), &stills, "long_gop.mp4", shots, "", &codec);
    let run = |mode| {
        let params = ClipParams {
            mode,
            ..ClipParams::default()
        };
        analyze_clips(std::slice::from_ref(&path), &params, &CancelToken::new())
            .pop()
            .unwrap()
            .unwrap()
    };
    let accurate = run(DetectMode::Accurate);
    let fast = run(DetectMode::Fast);
    let frame = 1.0 / 30.0;
    let (found, _) = secs(&accurate);
    assert_eq!(found.len(), cuts.len(), "accurate mode: cuts {found:?}");
    for (&cut, &at) in cuts.iter().zip(&found) {
        assert!(
            (cut - at).abs() < frame,
            "accurate mode: cut {at} for {cut}"
        );
    }
    assert_eq!(secs(&fast).0, found, "fast vs accurate cuts");
    // Both stretches with a cut stop a few frames after it: about 1.1 s and 1.6 s of
    // frames of the 8 s they hold (the tail past 16 s is short: decoded whole). Decoded to
    // their ends, they would make more than half the clip.
    let whole = accurate.frame_scores.len();
    assert!(
        fast.frame_scores.len() * 4 < whole,
        "fast mode scored {} of {whole} frames",
        fast.frame_scores.len()
    );
}
