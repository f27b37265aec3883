#!/usr/bin/env python3
"""The peer tools' side of `make bench`: one stage per invocation, one JSON line per
measurement on stdout ({"stage", "runs_ms", "extra"} or {"stage", "error"}).

Run by benches/run.sh inside the throwaway venv (target/bench-venv) on the same inputs the
Rust stages get. Slow stages time one call per run after one untimed warm-up call (librosa's
warm-up also compiles its numba kernels); fast stages time batches of at least 200 ms and
report the mean per call of each batch, as benches/stages.rs does.
"""

import argparse
import json
import os
import subprocess
import sys
import time

BATCH_S = 0.2


def emit(stage, runs_ms, extra=None):
    print(json.dumps({"stage": stage, "runs_ms": runs_ms, "extra": extra or {}}), flush=True)


def emit_error(stage, error):
    print(json.dumps({"stage": stage, "error": error}), flush=True)


def time_slow(runs, fn, warmup=True):
    if warmup:
        fn()
    times, out = [], None
    for _ in range(max(1, runs)):
        t = time.perf_counter()
        out = fn()
        times.append((time.perf_counter() - t) * 1000.0)
    return times, out


def time_fast(runs, fn):
    t = time.perf_counter()
    fn()
    once = max(time.perf_counter() - t, 1e-9)
    per_batch = max(1, min(10_000_000, int(BATCH_S / once + 0.999)))
    times = []
    for _ in range(max(1, runs)):
        t = time.perf_counter()
        for _ in range(per_batch):
            fn()
        times.append((time.perf_counter() - t) * 1000.0 / per_batch)
    return times, per_batch


def run_cmd(cmd):
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])}... exited {r.returncode}: {r.stderr.strip()[-400:]}")


# ------------------------------------------------------------------ audio analysis


def stage_energy(a):
    import numpy as np

    x = np.fromfile(a.f32, dtype="<f4")
    n = len(x)

    def loop():
        # The Python plan's loop, as written there.
        e = []
        for i in range(0, n - 2048, 512):
            w = x[i : i + 2048]
            e.append(np.sum(w**2))
        return e

    times, e = time_slow(a.runs, loop)
    emit("py_energy", times, {"samples": n, "windows": len(e), "numpy": np.__version__})


def stage_librosa(a):
    import librosa

    def analyse():
        y, sr = librosa.load(a.mp3, sr=22050, mono=True)
        onset = librosa.onset.onset_strength(y=y, sr=sr)
        tempo, beats = librosa.beat.beat_track(onset_envelope=onset, sr=sr)
        rms = librosa.feature.rms(y=y, frame_length=2048, hop_length=512)
        return float(tempo[0] if hasattr(tempo, "__len__") else tempo), len(beats), rms.shape[-1]

    times, (tempo, beats, frames) = time_slow(a.runs, analyse)
    emit(
        "librosa",
        times,
        {"librosa": librosa.__version__, "tempo_bpm": tempo, "beats": beats, "rms_frames": frames,
         "what": "load(sr=22050, mono) + onset_strength + beat_track + rms"},
    )


def stage_ffmpeg_decode_mp3(a):
    cmd = ["ffmpeg", "-nostdin", "-v", "error", "-threads", "1", "-i", a.mp3, "-f", "null", "-"]
    times, _ = time_slow(a.runs, lambda: run_cmd(cmd))
    emit("ffmpeg_decode_mp3", times, {"cmd": " ".join(cmd)})


# ------------------------------------------------------------------ file I/O


def stage_fileio(a):
    os.makedirs(a.dir, exist_ok=True)
    path = os.path.join(a.dir, "py-io.bin")
    size = a.size_mb << 20
    data = bytes((i * 31 % 251) for i in range(251)) * (size // 251 + 1)
    data = data[:size]

    def io():
        with open(path, "wb") as f:
            f.write(data)
        with open(path, "rb") as f:
            back = f.read()
        assert len(back) == size

    times, _ = time_slow(a.runs, io)
    os.remove(path)
    emit("py_fileio", times, {"bytes": size})


def stage_ffmpeg_testvideo(a):
    cmd = ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i",
           f"testsrc=duration=1:size={a.width}x{a.height}:rate=30",
           "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p", a.out]
    times, _ = time_slow(a.runs, lambda: run_cmd(cmd))
    emit("ffmpeg_testvideo", times, {"cmd": " ".join(cmd)})


# ------------------------------------------------------------------ caching


def scene_dicts():
    """1,000 scenes with the fields and values benches/stages.rs stores."""

    def fract(v):
        return v - int(v)

    out = []
    for i in range(1000):
        f = float(i)
        out.append({
            "start": i * 90_000, "end": (i + 1) * 90_000,
            "features": {
                "brightness": fract(f * 0.37), "contrast": fract(f * 0.11),
                "colorfulness": fract(f * 0.23),
                "dominant_rgb": [i % 256, i * 7 % 256, i * 13 % 256],
                "sharpness": fract(f * 0.05), "motion": fract(f * 0.71),
                "vector": [fract((f + k) * 0.013) for k in range(16)],
                "thumbnails": [],
            },
        })
    return out


def stage_json_cache(a):
    os.makedirs(a.dir, exist_ok=True)
    data = scene_dicts()
    counter = [0]

    def write():
        counter[0] += 1
        with open(os.path.join(a.dir, f"scenes-{counter[0] % 50}.json"), "w") as f:
            json.dump(data, f)

    times, batch = time_fast(a.runs, write)
    path = os.path.join(a.dir, "scenes-read.json")
    with open(path, "w") as f:
        json.dump(data, f)
    emit("json_write", times, {"bytes": os.path.getsize(path), "calls_per_run": batch})

    def read():
        with open(path) as f:
            v = json.load(f)
        assert len(v) == 1000

    times, batch = time_fast(a.runs, read)
    emit("json_read", times, {"calls_per_run": batch})


# ------------------------------------------------------------------ selection


def library(n, seed=7):
    import numpy as np

    rng = np.random.default_rng(seed)
    return {
        "clip": np.arange(n) // 20,
        "duration": 0.5 + 11.5 * rng.random(n),
        "motion": 0.3 * rng.random(n),
        "brightness": rng.random(n),
    }


def slots_and_energy():
    """~90 slots over a 3-minute 120 BPM song: 3-5 beats each, energy from four sections."""
    import numpy as np

    rng = np.random.default_rng(3)
    bounds, energies = [0.0, 0.15, 0.4, 0.8, 1.0], [0.25, 0.5, 0.95, 0.3]
    slots, t = [], 0.0
    while t < 180.0 - 1.0:
        length = 0.5 * int(rng.integers(3, 6))
        pos = t / 180.0
        e = next(energies[k] for k in range(4) if bounds[k] <= pos < bounds[k + 1])
        slots.append((length, e))
        t += length
    return slots


def select_numpy(lib, slots):
    """Per slot, every scene scored at once with NumPy; the best unused one taken."""
    import numpy as np

    n = len(lib["duration"])
    used = np.zeros(n, dtype=bool)
    last_used_slot = np.full(int(lib["clip"].max()) + 1, -100)
    picks = []
    for k, (length, energy) in enumerate(slots):
        motion_fit = 1.0 - np.abs(lib["motion"] / 0.3 - energy)
        dur = lib["duration"]
        duration_fit = np.where(dur >= length, 1.0 - np.minimum((dur - length) / 12.0, 1.0), -1.0)
        recency = np.where(k - last_used_slot[lib["clip"]] < 4, 0.4, 0.0)
        score = 1.0 * motion_fit + 0.3 * lib["brightness"] + 0.5 * duration_fit - recency
        score[used] = -np.inf
        best = int(np.argmax(score))
        used[best] = True
        last_used_slot[lib["clip"][best]] = k
        picks.append(best)
    return picks


def select_python(lib, slots):
    """The same scoring as plain Python loops (the Python plan's 'selection scoring')."""
    clip = lib["clip"].tolist()
    dur = lib["duration"].tolist()
    motion = lib["motion"].tolist()
    bright = lib["brightness"].tolist()
    n = len(dur)
    used = [False] * n
    last_used = {}
    picks = []
    for k, (length, energy) in enumerate(slots):
        best, best_score = -1, float("-inf")
        for j in range(n):
            if used[j]:
                continue
            s = 1.0 - abs(motion[j] / 0.3 - energy) + 0.3 * bright[j]
            d = dur[j]
            s += 0.5 * ((1.0 - min((d - length) / 12.0, 1.0)) if d >= length else -1.0)
            if k - last_used.get(clip[j], -100) < 4:
                s -= 0.4
            if s > best_score:
                best, best_score = j, s
        used[best] = True
        last_used[clip[best]] = k
        picks.append(best)
    return picks


def stage_selection(a):
    import numpy as np

    slots = slots_and_energy()
    for name, n, fn in [("py_select_1k_numpy", 1000, select_numpy),
                        ("py_select_1k_python", 1000, select_python),
                        ("py_select_100k_numpy", 100_000, select_numpy)]:
        lib = library(n)
        if n > 10_000:
            times, _ = time_slow(a.runs, lambda: fn(lib, slots))
            batch = 1
        else:
            times, batch = time_fast(a.runs, lambda: fn(lib, slots))
        emit(name, times, {"scenes": n, "slots": len(slots), "calls_per_run": batch,
                           "numpy": np.__version__})


# ------------------------------------------------------------------ scene detection


def count_frames(path):
    r = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-count_packets",
                        "-show_entries", "stream=nb_read_packets", "-of", "csv=p=0", path],
                       capture_output=True, text=True, check=True)
    return int(r.stdout.strip().split(",")[0])


def stage_pyscenedetect(a):
    import scenedetect
    from scenedetect import AdaptiveDetector, SceneManager, open_video

    frames = count_frames(a.clip)

    def detect():
        video = open_video(a.clip)
        sm = SceneManager()
        sm.add_detector(AdaptiveDetector())
        sm.detect_scenes(video)
        return [round(s[0].get_seconds(), 3) for s in sm.get_scene_list()[1:]]

    times, cuts = time_slow(a.runs, detect)
    emit(a.name or "pyscenedetect", times, {"frames": frames, "cuts_secs": cuts,
                                  "scenedetect": scenedetect.__version__,
                                  "what": "Python API, AdaptiveDetector, default auto-downscale"})


def stage_ffmpeg_decode_clip(a):
    frames = count_frames(a.clip)
    cmd = ["ffmpeg", "-nostdin", "-v", "error", "-i", a.clip, "-an", "-f", "null", "-"]
    times, _ = time_slow(a.runs, lambda: run_cmd(cmd))
    emit(a.name or "ffmpeg_decode_clip", times, {"frames": frames, "cmd": " ".join(cmd)})
    if a.name:
        return
    cmd = ["ffmpeg", "-nostdin", "-v", "error", "-i", a.clip, "-an", "-vf",
           "select='gt(scene,0.3)'", "-f", "null", "-"]
    times, _ = time_slow(a.runs, lambda: run_cmd(cmd))
    emit("ffmpeg_scene_filter", times, {"frames": frames, "cmd": " ".join(cmd)})


# ------------------------------------------------------------------ rendering


def render_cmd(plan, music, out, shape):
    """The ffmpeg CLI cutting the plan's segments: one input-seeked input per segment, then
    trim/setpts, `shape(segment)` (the filters that fit the picture to the output),
    fps=30, concat, and the music trimmed with a 2 s fade-out, encoded with x264 veryfast
    CRF 20 and AAC 192k at 48 kHz, as Beatcut's export is."""
    fps = plan["fps"]
    cmd = ["ffmpeg", "-nostdin", "-v", "error", "-y"]
    parts = []
    for k, seg in enumerate(plan["segments"]):
        start = seg["in_frame"] / fps
        dur = seg["frames"] / fps
        cmd += ["-ss", f"{start:.6f}", "-t", f"{dur + 0.5:.6f}", "-i", plan["clips"][seg["clip"]]]
        parts.append(
            f"[{k}:v]trim=end_frame={seg['frames']},setpts=PTS-STARTPTS,{shape(seg)},"
            f"setsar=1,fps=30,trim=end_frame={seg['frames']}[v{k}]")
    n = len(plan["segments"])
    total = plan["frames"] / fps
    cmd += ["-i", music]
    chain = "".join(f"[v{k}]" for k in range(n))
    graph = ";".join(parts) + f";{chain}concat=n={n}:v=1:a=0[v]"
    graph += (f";[{n}:a]atrim=end={total:.6f},asetpts=PTS-STARTPTS,"
              f"afade=t=out:st={max(total - 2.0, 0):.6f}:d=2,aresample=48000[a]")
    cmd += ["-filter_complex", graph, "-map", "[v]", "-map", "[a]",
            "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p",
            "-r", "30", "-c:a", "aac", "-b:a", "192k", "-ac", "2", "-ar", "48000",
            "-movflags", "+faststart", out]
    return cmd


def ffmpeg_render_cmd(plan, music, out):
    """The same cuts at 1920x1080: each picture scaled to fit and padded."""
    return render_cmd(plan, music, out, lambda seg: (
        "scale=1920:1080:force_original_aspect_ratio=decrease,"
        "pad=1920:1080:(ow-iw)/2:(oh-ih)/2"))


def crop_x_expr(points):
    """The crop's left edge as an FFmpeg expression of the segment's time t: straight lines
    between the path's points, holding before the first and after the last."""
    expr = str(points[-1][1])
    for (t0, x0), (t1, x1) in reversed(list(zip(points, points[1:]))):
        if t1 <= t0:
            continue
        line = f"{x0}+({x1}-{x0})*(t-{t0:.4f})/{t1 - t0:.4f}"
        expr = f"if(lt(t,{t1:.4f}),{line},{expr})"
    return expr


def ffmpeg_reframe_cmd(plan, music, out):
    """The same reframed cuts: the same crop window moving along the same path (crop's x is
    evaluated per frame), then scaled to the output."""
    w, h = plan["width"], plan["height"]
    return render_cmd(plan, music, out, lambda seg: (
        f"crop=w={seg['crop_w']}:h={seg['crop_h']}:x='{crop_x_expr(seg['crop_x'])}':y=0,"
        f"scale={w}:{h}:flags=bilinear"))


def time_ffmpeg_render(a, name, build, what):
    """Times the ffmpeg CLI rendering the plan in `a.plan` with the command `build` makes."""
    with open(a.plan) as f:
        plan = json.load(f)
    cmd = build(plan, a.mp3, a.out)
    times, _ = time_slow(a.runs, lambda: run_cmd(cmd), warmup=False)
    emit(name, times, {"frames": count_frames(a.out), "planned_frames": plan["frames"],
                       "segments": len(plan["segments"]),
                       "what": f"ffmpeg CLI, -ss/-t per segment, trim/setpts/{what}/fps/concat, "
                               "libx264 veryfast crf 20, AAC 192k"})


def stage_ffmpeg_render(a):
    time_ffmpeg_render(a, "ffmpeg_render", ffmpeg_render_cmd, "scale/pad")


def stage_ffmpeg_render_reframe(a):
    time_ffmpeg_render(a, "ffmpeg_render_reframe", ffmpeg_reframe_cmd,
                       "crop (x moving per frame)/scale")


# ------------------------------------------------------------------ versions


def stage_versions(a):
    out = {"python": sys.version.split()[0]}
    for mod in ["numpy", "librosa", "scenedetect", "cv2"]:
        try:
            m = __import__(mod)
            out[mod] = getattr(m, "__version__", "?")
        except Exception as e:  # noqa: BLE001 - any import failure means "unavailable"
            out[mod] = f"unavailable ({type(e).__name__}: {e})"
    print(json.dumps({"stage": "versions", "runs_ms": [], "extra": out}), flush=True)


# Invocation name: (function, the stage names it emits).
STAGES = {
    "versions": (stage_versions, ["versions"]),
    "energy": (stage_energy, ["py_energy"]),
    "librosa": (stage_librosa, ["librosa"]),
    "ffmpeg-decode-mp3": (stage_ffmpeg_decode_mp3, ["ffmpeg_decode_mp3"]),
    "fileio": (stage_fileio, ["py_fileio"]),
    "ffmpeg-testvideo": (stage_ffmpeg_testvideo, ["ffmpeg_testvideo"]),
    "json-cache": (stage_json_cache, ["json_write", "json_read"]),
    "selection": (stage_selection,
                  ["py_select_1k_numpy", "py_select_1k_python", "py_select_100k_numpy"]),
    "pyscenedetect": (stage_pyscenedetect, ["pyscenedetect"]),
    "ffmpeg-decode-clip": (stage_ffmpeg_decode_clip, ["ffmpeg_decode_clip", "ffmpeg_scene_filter"]),
    "ffmpeg-render": (stage_ffmpeg_render, ["ffmpeg_render"]),
    "ffmpeg-render-reframe": (stage_ffmpeg_render_reframe, ["ffmpeg_render_reframe"]),
}


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("stage", choices=sorted(STAGES))
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--f32")
    p.add_argument("--mp3")
    p.add_argument("--clip")
    p.add_argument("--name", help="stage name to emit instead of the default (same stage, other file)")
    p.add_argument("--plan")
    p.add_argument("--out")
    p.add_argument("--dir")
    p.add_argument("--size-mb", type=int, default=10)
    p.add_argument("--width", type=int, default=1280)
    p.add_argument("--height", type=int, default=720)
    a = p.parse_args()
    fn, names = STAGES[a.stage]
    try:
        fn(a)
    except ImportError as e:
        for name in names:
            emit_error(name, f"baseline unavailable: {e}")
        sys.exit(1)
    except Exception as e:  # noqa: BLE001 - reported as the row's error text
        for name in names:
            emit_error(name, f"{type(e).__name__}: {e}")
        sys.exit(1)


if __name__ == "__main__":
    main()
