#!/usr/bin/env python3
"""Turns the JSON lines of benches/stages.rs and benches/baselines.py into bench/report.md and
bench/report.json: one row per stage with the peer tool's figure, Beatcut's, the ratio and
the target from DESIGN.md. Standard library only (runs with the system python3)."""

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess

# (category, what, baseline label, baseline stage, Beatcut stage, kind, target)
# kinds: "speedup"    baseline time / Beatcut time ("x faster");
#        "time_ratio" Beatcut time / baseline time ("x the time");
#        "fps"        frames per second of each (frames from the stage's extra), Beatcut / baseline;
#        "abs"        Beatcut alone against an absolute bound.
# targets: (">=" | "<=" | "<", value, "x" | "ms")
ROWS = [
    ("audio analysis", "energy profile, 3 min mono 22.05 kHz, 2048/512 windows",
     "NumPy loop (the Python plan's)", "py_energy", "energy", "speedup", (">=", 30, "x")),
    ("audio analysis", "music analysis of a 3-min MP3, decode included, against decoding alone",
     "Beatcut decode only (22.05 kHz mono)", "music_decode", "music_analysis", "time_ratio", ("<=", 1.15, "x")),
    ("audio analysis", "music analysis of a 3-min MP3, decode included",
     "librosa (load + onset_strength + beat_track + rms)", "librosa", "music_analysis", "speedup", (">=", 2, "x")),
    ("audio analysis", "decode of the 3-min MP3",
     "ffmpeg CLI, -threads 1, to null", "ffmpeg_decode_mp3", "music_decode", "speedup", None),
    ("audio analysis", "first waveform snapshot while the MP3 decodes",
     None, None, "music_analysis.first_waveform_ms", "abs", None),
    ("file I/O", "write + read a 10 MB file",
     "Python open/write/read", "py_fileio", "fileio", "speedup", None),
    ("file I/O", "create a 1 s 1280x720 test video (libx264 veryfast, CRF 23)",
     "ffmpeg CLI, lavfi testsrc", "ffmpeg_testvideo", "mp4writer", "speedup", None),
    ("caching", "write 1,000 scenes (one entry, to disk)",
     "Python json.dump to a file", "json_write", "cache_write", "speedup", ("<", 1, "ms")),
    ("caching", "read 1,000 scenes (one entry, from disk)",
     "Python json.load from a file", "json_read", "cache_read", "speedup", ("<", 1, "ms")),
    ("selection", "select for a 3-min song from 1,000 scenes",
     "NumPy scoring loop per slot", "py_select_1k_numpy", "select_1k", "speedup", ("<", 0.2, "ms")),
    ("selection", "select for a 3-min song from 1,000 scenes",
     "plain Python scoring loop", "py_select_1k_python", "select_1k", "speedup", ("<", 0.2, "ms")),
    ("selection", "select for a 3-min song from 100,000 scenes",
     "NumPy scoring loop per slot", "py_select_100k_numpy", "select_100k", "speedup", ("<", 5, "ms")),
    ("selection", "replan 200 clips (index + pacing + selection)",
     None, None, "replan_200", "abs", ("<", 16, "ms")),
    ("scene detection", "10 s 1080p H.264, accurate mode, against decoding alone",
     "ffmpeg CLI decode to null", "ffmpeg_decode_clip", "scenes_accurate", "fps", (">=", 0.9, "x")),
    ("scene detection", "60 s 1080p H.264 phone-style clip (handheld takes, cuts between keyframes, a "
     "dissolve; hardware-style stream: 1 s GOP, no B-frames, CBR, no encoder settings), fast mode",
     "PySceneDetect adaptive", "pyscenedetect_phone", "phone_fast", "fps", (">=", 10, "x")),
    ("scene detection", "the same phone-style clip, accurate mode, against decoding alone",
     "ffmpeg CLI decode to null", "ffmpeg_decode_phone", "phone_accurate", "fps", (">=", 0.9, "x")),
    ("scene detection", "the same phone-style clip, accurate mode",
     "PySceneDetect adaptive", "pyscenedetect_phone", "phone_accurate", "fps", None),
    ("scene detection", "reframe analysis: the phone-style clip in accurate mode tracking the subject "
     "(5 samples a second), against the same analysis without it",
     "accurate mode, no subject tracking", "phone_accurate_plain", "phone_accurate", "time_ratio",
     ("<=", 1.2, "x")),
    ("scene detection", "10 s 1080p H.264, a cut every 2 s, two of them coded as P-frames inside long GOPs "
     "(fast mode's worst case: nearly every frame must be decoded to place them; no target), fast mode",
     "PySceneDetect adaptive", "pyscenedetect", "scenes_fast", "fps", None),
    ("scene detection", "10 s 1080p H.264, accurate mode",
     "PySceneDetect adaptive", "pyscenedetect", "scenes_accurate", "fps", None),
    ("scene detection", "10 s 1080p H.264, accurate mode",
     "ffmpeg CLI scene filter", "ffmpeg_scene_filter", "scenes_accurate", "fps", None),
    ("rendering", "montage export at the final preset (1080p30, x264 veryfast CRF 20, AAC)",
     "ffmpeg CLI, same cuts (filter_complex)", "ffmpeg_render", "render", "fps", (">=", 0.9, "x")),
    ("rendering", "reframed 9:16 1080x1920 export: 16 segments from four 1080p clips (one with a "
     "subject swinging across the frame), each crop following its shot's subject (x264 "
     "veryfast CRF 20, AAC)",
     "ffmpeg CLI, same crops and cuts (crop x moving per frame, filter_complex)",
     "ffmpeg_render_reframe", "render_reframe", "fps", (">=", 0.9, "x")),
    ("rendering", "cancel a running export: until render() returns",
     None, None, "render_cancel", "abs", ("<", 500, "ms")),
    ("end to end", "cold cache: first waveform snapshot", None, None, "e2e_cold.first_waveform_ms", "abs", None),
    ("end to end", "cold cache: playable plan (music + keyframe first looks + plan)", None, None,
     "e2e_cold.first_plan_ms", "abs", ("<", 10000, "ms")),
    ("end to end", "cold cache: refined plan (all full analyses + plan)", None, None, "e2e_cold.plan_ms", "abs", None),
    ("end to end", "cold cache: finished 1080p export", None, None, "e2e_cold.export_ms", "abs", None),
    ("end to end", "warm cache: waveform on screen (the cached analysis is back)", None, None,
     "e2e_warm.first_waveform_ms|music_done_ms", "abs", None),
    ("end to end", "warm cache: playable plan", None, None, "e2e_warm.plan_ms", "abs", None),
    ("end to end", "warm cache: finished 1080p export", None, None, "e2e_warm.export_ms", "abs", None),
    ("end to end", "sync report of the 3-min 1080p export (decode it again: cuts against the plan "
     "and the beats, sound against picture), against the export's render time",
     "the export's render (render() wall time)", "e2e_cold.render_wall_ms", "e2e_cold.verify_ms",
     "time_ratio", ("<=", 0.25, "x")),
]

ROWS += [
    ("UI", "UI thread frame, 200 clips in the bin, 10-min song, idle: 95th percentile of every frame",
     None, None, "ui_idle.p95_ms", "abs", ("<", 8, "ms")),
    ("UI", "UI thread frame while replanning: the frame that asks, those while the plan runs, and "
     "the one on which the new timeline lands; 95th percentile",
     None, None, "ui_replan.p95_ms", "abs", ("<", 8, "ms")),
    ("UI", "UI thread frame while replanning: slowest frame (the landing frame included)",
     None, None, "ui_replan.max_ms", "abs", None),
    ("UI", "UI thread frame while zooming the timeline and music lane around the pointer, from "
     "the whole song down to single frames and back; 95th percentile",
     None, None, "ui_zoom.p95_ms", "abs", ("<", 8, "ms")),
    ("UI", "UI thread frame while zooming: slowest frame",
     None, None, "ui_zoom.max_ms", "abs", None),
]

PEAK_ROWS = [("end to end", "cold cache: peak memory (VmHWM)", "e2e_cold"),
             ("end to end", "warm cache: peak memory (VmHWM)", "e2e_warm")]


SECTIONS = ["audio", "io", "cache", "select", "scenes", "render", "e2e", "ui", "criterion"]

# The section of benches/run.sh that measures each category's rows.
CATEGORY_SECTION = {"audio analysis": "audio", "file I/O": "io", "caching": "cache",
                    "selection": "select", "scene detection": "scenes", "rendering": "render",
                    "end to end": "e2e", "UI": "ui", "micro-benchmarks (criterion)": "criterion"}


def provenance(config, sec):
    """The commit a section was measured on, and whether its tree had uncommitted changes."""
    c = config.get(sec) or {}
    commit = c.get("commit")
    if not commit:
        return "unknown (run before commits were recorded)"
    return commit + (" + uncommitted changes" if c.get("tree") != "clean" else "")


def load(path, out=None):
    """Stage name -> list of records (a stage may run several times, e.g. e2e runs)."""
    out = {} if out is None else out
    if not path or not os.path.exists(path):
        return out
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line.startswith("{"):
                continue
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            out.setdefault(rec.get("stage", "?"), []).append(rec)
    return out


def series(stages, ref):
    """Runs in ms of a stage, or of an extra field ("stage.field") across the stage's records.
    Returns (runs, extra of the last record, error)."""
    if ref is None:
        return None, {}, None
    name, _, field = ref.partition(".")
    # "field|fallback": the fallback field where the first is missing (a cached song sends no
    # waveform snapshots: its waveform is there when the cached analysis is).
    field, _, fallback = field.partition("|")
    recs = stages.get(name)
    if not recs:
        return None, {}, "not run"
    good = [r for r in recs if "error" not in r]
    if not good:
        return None, {}, recs[-1]["error"]
    extra = good[-1].get("extra", {})
    if field:
        runs = []
        for r in good:
            v = r.get("extra", {}).get(field)
            if v is None and fallback:
                v = r.get("extra", {}).get(fallback)
            if isinstance(v, list):
                runs += [x for x in v if isinstance(x, (int, float))]
            elif isinstance(v, (int, float)):
                runs.append(v)
        return (runs or None), extra, (None if runs else f"no {field} recorded")
    runs = []
    for r in good:
        runs += r.get("runs_ms", [])
    return (runs or None), extra, (None if runs else "no runs")


def fmt_ms(v):
    if v is None:
        return "—"
    if v >= 1000:
        return f"{v / 1000:.2f} s"
    if v >= 10:
        return f"{v:.0f} ms"
    if v >= 1:
        return f"{v:.2f} ms"
    return f"{v:.3f} ms"


def fmt_spread(runs, fn):
    if not runs:
        return ""
    lo, hi = min(runs), max(runs)
    return f"{fn(lo)}–{fn(hi)}"


def fps_of(frames, ms):
    return frames / (ms / 1000.0) if ms and frames else None


def stats(runs):
    if not runs:
        return None
    return {"median": statistics.median(runs), "min": min(runs), "max": max(runs), "n": len(runs), "runs": runs}


def check(target, value):
    if target is None or value is None:
        return "—"
    op, bound, _ = target
    ok = {">=": value >= bound, "<=": value <= bound, "<": value < bound}[op]
    return "met" if ok else "**missed**"


def fmt_target(target):
    if target is None:
        return "—"
    op, bound, unit = target
    op = {">=": "≥", "<=": "≤", "<": "<"}[op]
    return f"{op} {bound}×" if unit == "x" else f"{op} {fmt_ms(bound)}"


def build_rows(rust, base):
    rows = []
    for cat, what, base_label, base_stage, bc_stage, kind, target in ROWS:
        # A baseline may be Beatcut's own stage (decode alone against the whole analysis).
        b_runs, b_extra, b_err = series(base if base_stage in base else rust, base_stage)
        c_runs, c_extra, c_err = series(rust, bc_stage)
        row = {"category": cat, "what": what, "baseline": base_label, "baseline_stage": base_stage,
               "beatcut_stage": bc_stage, "kind": kind, "target": fmt_target(target),
               "baseline_ms": stats(b_runs), "beatcut_ms": stats(c_runs),
               "baseline_error": b_err if base_stage else None, "beatcut_error": c_err}
        ratio = None
        b_med = row["baseline_ms"]["median"] if row["baseline_ms"] else None
        c_med = row["beatcut_ms"]["median"] if row["beatcut_ms"] else None
        if kind == "fps":
            bf, cf = b_extra.get("frames"), c_extra.get("frames")
            if b_runs:
                row["baseline_fps"] = {"median": fps_of(bf, b_med), "min": fps_of(bf, max(b_runs)),
                                       "max": fps_of(bf, min(b_runs)), "frames": bf}
            if c_runs:
                row["beatcut_fps"] = {"median": fps_of(cf, c_med), "min": fps_of(cf, max(c_runs)),
                                      "max": fps_of(cf, min(c_runs)), "frames": cf}
            if b_runs and c_runs and row["baseline_fps"]["median"] and row["beatcut_fps"]["median"]:
                ratio = row["beatcut_fps"]["median"] / row["baseline_fps"]["median"]
            row["verdict"] = check(target, ratio)
        elif kind == "speedup":
            if b_med and c_med:
                ratio = b_med / c_med
            row["verdict"] = check(target, c_med if target and target[2] == "ms" else ratio)
        elif kind == "time_ratio":
            if b_med and c_med:
                ratio = c_med / b_med
            row["verdict"] = check(target, ratio)
        else:
            row["verdict"] = check(target, c_med)
        row["ratio"] = ratio
        rows.append(row)
    for cat, what, label in PEAK_ROWS:
        runs, _, err = series(rust, f"{label}.peak_rss_kib")
        rows.append({"category": cat, "what": what, "baseline": None, "kind": "memory",
                     "beatcut_kib": stats(runs), "beatcut_error": err, "target": "—", "verdict": "—",
                     "ratio": None})
    return rows


def criterion_rows(rust):
    """One row per criterion benchmark of the last criterion section (median of its samples)."""
    rows = []
    for name in sorted(n for n in rust if n.startswith("criterion:")):
        runs, extra, err = series(rust, name)
        what = name.split(":", 1)[1]
        if extra.get("mean_ms") is not None:
            what += (f" (mean {fmt_ms(extra['mean_ms'])}, 95% CI {fmt_ms(extra['ci_low_ms'])}–"
                     f"{fmt_ms(extra['ci_high_ms'])})")
        rows.append({"category": "micro-benchmarks (criterion)", "what": what, "baseline": None,
                     "kind": "abs", "beatcut_ms": stats(runs), "beatcut_error": err, "target": "—",
                     "verdict": "—", "ratio": None})
    return rows


def cell_time(row, side):
    err = row.get(f"{side}_error")
    if side == "baseline" and not row.get("baseline"):
        return "—"
    if row["kind"] == "memory":
        s = row.get("beatcut_kib")
        return f"{s['median'] / 1024:.0f} MiB" if s else f"error: {err}"
    if row["kind"] == "fps" and row.get(f"{side}_fps"):
        f = row[f"{side}_fps"]
        return f"{f['median']:.0f} fps ({f['min']:.0f}–{f['max']:.0f}), {int(f['frames'])} frames"
    s = row.get(f"{side}_ms")
    if not s:
        msg = (err or "no result").replace("|", "/").replace("\n", " ")
        if side == "baseline" and "unavailable" not in msg:
            msg = f"baseline unavailable: {msg}"
        return msg[:300]
    return f"{fmt_ms(s['median'])} ({fmt_spread(s['runs'], fmt_ms)}), n={s['n']}"


def cell_ratio(row):
    r = row.get("ratio")
    if r is None:
        return "—"
    if row["kind"] == "time_ratio":
        return f"{r:.2f}× the time"
    if row["kind"] == "fps":
        return f"{r:.2f}× the speed"
    return f"{r:.1f}× faster" if r >= 1 else f"{r:.2f}× ({1 / r:.1f}× slower)"


def sh(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=20).stdout.strip()
    except Exception:  # noqa: BLE001 - machine information is best effort
        return ""


def machine(versions):
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "")
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            kb = int(next(l for l in f if l.startswith("MemTotal")).split()[1])
            mem = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration, ValueError):
        pass
    osname = platform.platform()
    try:
        with open("/etc/os-release") as f:
            osname = next(l.split("=", 1)[1].strip().strip('"') for l in f if l.startswith("PRETTY_NAME"))
    except (OSError, StopIteration):
        pass
    commit = sh(["git", "rev-parse", "--short", "HEAD"])
    dirty = sh(["git", "status", "--porcelain", "--untracked-files=no"])
    try:
        with open("/proc/loadavg") as f:
            load_end = " ".join(f.read().split()[:3])
    except OSError:
        load_end = ""
    return {
        "date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "cpu": cpu, "nproc": os.cpu_count(), "ram": mem, "os": osname, "kernel": platform.release(),
        "git_commit": commit + (" (with uncommitted changes)" if dirty else ""),
        "rustc": sh(["rustc", "-V"]),
        "ffmpeg": sh(["ffmpeg", "-version"]).split("\n")[0],
        "python_tools": versions,
        "load_average_end": load_end,
    }


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--raw", required=True, help="target/bench-raw: SECTION.rust.jsonl, SECTION.baselines.jsonl, SECTION.config")
    p.add_argument("--sections-run", default="")
    p.add_argument("--out-md", required=True)
    p.add_argument("--out-json", required=True)
    a = p.parse_args()
    rust, base, config = {}, {}, {}
    for sec in SECTIONS:
        load(os.path.join(a.raw, f"{sec}.rust.jsonl"), rust)
        load(os.path.join(a.raw, f"{sec}.baselines.jsonl"), base)
        try:
            with open(os.path.join(a.raw, f"{sec}.config")) as f:
                config[sec] = dict(kv.split("=", 1) for kv in f.read().strip().split(",") if "=" in kv)
        except OSError:
            pass
    load(os.path.join(a.raw, "versions.baselines.jsonl"), base)
    versions = (base.get("versions") or [{}])[-1].get("extra", {})
    info = machine(versions)
    rows = build_rows(rust, base)
    rows += criterion_rows(rust)
    for row in rows:
        row["commit"] = provenance(config, CATEGORY_SECTION[row["category"]])
    # The render plan is a helper that writes the segment list; once the ffmpeg baseline has
    # rendered from it, an error recorded for it is not a failure worth listing.
    if any("error" not in r for r in base.get("ffmpeg_render", [])):
        rust.pop("render-plan", None)

    md = ["# Beatcut benchmarks", "",
          "Generated by `make bench` (`benches/run.sh`: `benches/stages.rs` for Beatcut, "
          "`benches/baselines.py` for the peer tools, this table by `benches/report.py`). "
          "Do not edit by hand; rerun `make bench`.", "",
          "## Machine", ""]
    tools = ", ".join(f"{k} {v}" for k, v in versions.items()) or "unavailable"
    md += [f"- {info['cpu']}, {info['nproc']} cores, {info['ram']} RAM; {info['os']} (kernel {info['kernel']})",
           f"- written {info['date']} at commit {info['git_commit']}; each section and each row below "
           f"names the commit it was measured on; {info['rustc']}",
           f"- {info['ffmpeg']}; Python tools: {tools}",
           f"- load average {info['load_average_end']} when the report was written; at the start of each "
           "section below. The machine is shared: other work ran at the same time, so spreads are wide "
           "and ratios of two tools run one after the other carry that noise.", "",
           "| section | commit measured | run at | load average (1 min) at its start | sizes and runs |",
           "|---|---|---|---|---|"]
    for sec in SECTIONS:
        c = dict(config.get(sec, {}))
        if not c:
            md.append(f"| {sec} | not run | | | |")
            continue
        date, load1 = c.pop("date", "?"), c.pop("load_start", "?")
        keys = {"audio": ["song_secs", "runs_fast", "runs_slow"], "io": ["runs_fast"], "cache": ["runs_fast"],
                "select": ["runs_fast"], "scenes": ["runs_slow"], "render": ["render_segments", "runs_slow"],
                "e2e": ["e2e_clips", "e2e_clip_secs", "e2e_song_secs", "e2e_runs"], "ui": [],
                "criterion": []}[sec]
        md.append(f"| {sec} | {provenance(config, sec)} | {date} | {load1} | "
                  f"{', '.join(f'{k}={c.get(k)}' for k in keys) or '—'} |")
    md.append("")
    md += ["## Results", "",
           "Each cell: median (min–max of the runs), number of runs. Ratios are of the medians. "
           "Fast stages time batches of calls (at least 200 ms a batch) and give the mean per call "
           "of each batch as one run; slow stages time one call per run after an untimed warm-up.", ""]
    cat = None
    for row in rows:
        if row["category"] != cat:
            cat = row["category"]
            md += [f"### {cat[0].upper() + cat[1:]}", "",
                   "| work | baseline | baseline figure | Beatcut | ratio | target | | commit |",
                   "|---|---|---|---|---|---|---|---|"]
        md.append(f"| {row['what']} | {row.get('baseline') or '—'} | {cell_time(row, 'baseline')} | "
                  f"{cell_time(row, 'beatcut')} | {cell_ratio(row)} | {row['target']} | {row['verdict']} | "
                  f"{row['commit']} |")
        nxt = rows.index(row) + 1
        if nxt == len(rows) or rows[nxt]["category"] != cat:
            md.append("")

    # What each side found, so speed is not bought with wrong answers.
    md += ["## Details", ""]
    detail_stages = [("energy", rust), ("py_energy", base), ("music_analysis", rust), ("music_decode", rust),
                     ("librosa", base), ("cache_write", rust), ("json_write", base),
                     ("select_1k", rust), ("py_select_1k_numpy", base), ("scenes_accurate", rust),
                     ("scenes_fast", rust), ("pyscenedetect", base), ("ffmpeg_decode_clip", base),
                     ("phone_accurate", rust), ("phone_fast", rust), ("ffmpeg_decode_phone", base),
                     ("pyscenedetect_phone", base),
                     ("render", rust), ("ffmpeg_render", base), ("render_cancel", rust),
                     ("render_reframe", rust), ("ffmpeg_render_reframe", base), ("phone_accurate_plain", rust),
                     ("e2e_cold", rust), ("e2e_warm", rust)]
    for name, src in detail_stages:
        for rec in src.get(name, []):
            if "error" in rec:
                md.append(f"- `{name}`: error: {rec['error'][:400]}")
            else:
                extra = {k: v for k, v in rec.get("extra", {}).items() if k != "cmd"}
                md.append(f"- `{name}`: {json.dumps(extra)}")
    md += ["", "Baseline commands:", ""]
    for name in ["ffmpeg_decode_mp3", "ffmpeg_testvideo", "ffmpeg_decode_clip", "ffmpeg_scene_filter"]:
        for rec in base.get(name, [])[-1:]:
            if "cmd" in rec.get("extra", {}):
                md.append(f"- `{rec['extra']['cmd']}`")
    md += ["- ffmpeg render: see `ffmpeg_render_cmd` in `benches/baselines.py` (one `-ss/-t` input per "
           "segment; trim, setpts, scale/pad to 1920x1080, fps=30, concat; music atrim + 2 s afade; "
           "libx264 veryfast CRF 20, AAC 192k)", ""]
    errors = [(n, r["error"]) for src in (rust, base) for n, recs in src.items() for r in recs if "error" in r]
    if errors:
        md += ["## Unavailable or failed", ""]
        md += [f"- `{n}`: {e[:500]}" for n, e in errors]
        md.append("")

    with open(a.out_md, "w") as f:
        f.write("\n".join(md))
    with open(a.out_json, "w") as f:
        json.dump({"machine": info, "sections": config, "sections_run_last": a.sections_run, "rows": rows,
                   "stages": {"beatcut": rust, "baselines": base}}, f, indent=1)


if __name__ == "__main__":
    main()
