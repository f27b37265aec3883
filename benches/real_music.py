#!/usr/bin/env python3
"""`make accuracy`: beat tracking on real, produced songs, Beatcut and librosa side by side.

For every song of ../shared/realmusic (fetched by its fetch.sh) this runs
`beatcut analyze --json --no-cache` and librosa 0.11's `beat_track` on the same file, scores
both with mir_eval (F-measure with a 70 ms window, CMLt, AMLt; beats before 5 s left out, as
mir_eval does) and prints, per song and as a mean, the scores, the tempo each chose and at
which metrical level of the charted tempo it sits, plus the wall time of each tool and of a
plain decode (ffmpeg CLI, one thread). Results go to bench/accuracy.md and .json with the
commit they were measured at. Exit status 1 when a goal of the beat issue is missed:
mean F >= 0.90, every tempo at the charted level or exactly half of it.

Usage: real_music.py BEATCUT_BINARY SONG_DIR GT_DIR [--allow-dirty] [--report NAME] [--no-goals]
"""

import glob
import json
import os
import subprocess
import sys
import time

import mir_eval
import numpy as np

GOAL_MEAN_F = 0.90


def scores(reference, estimate):
    ref = mir_eval.beat.trim_beats(np.asarray(reference, dtype=float))
    est = mir_eval.beat.trim_beats(np.asarray(estimate, dtype=float))
    if len(est) == 0:
        return 0.0, 0.0, 0.0
    f = mir_eval.beat.f_measure(ref, est)
    _, cmlt, _, amlt = mir_eval.beat.continuity(ref, est)
    return float(f), float(cmlt), float(amlt)


def level(tempo, charted):
    """Where `tempo` sits against the charted tempo: 'x1', 'x1/2', 'x2', ... or 'off'."""
    if tempo <= 0:
        return "none"
    for name, ratio in [("x1", 1.0), ("x1/2", 0.5), ("x2", 2.0), ("x2/3", 2 / 3), ("x3/2", 1.5),
                        ("x1/3", 1 / 3), ("x3", 3.0), ("x1/4", 0.25)]:
        if abs(tempo / (charted * ratio) - 1.0) <= 0.02:
            return name
    return f"off ({tempo / charted:.3f})"


def run_beatcut(binary, path):
    t = time.perf_counter()
    out = subprocess.run([binary, "analyze", "--json", "--no-cache", path],
                         capture_output=True, text=True)
    wall = time.perf_counter() - t
    if out.returncode != 0:
        raise RuntimeError(f"beatcut analyze failed on {path}: {out.stderr.strip()[-300:]}")
    line = next(l for l in out.stdout.splitlines() if l.startswith("{"))
    d = json.loads(line)
    return d["beats"], float(d["tempo_bpm"]), float(d.get("tempo_alternative_bpm") or 0.0), wall


def run_librosa(path):
    import librosa

    t = time.perf_counter()
    y, sr = librosa.load(path, sr=22050, mono=True)
    tempo, beats = librosa.beat.beat_track(y=y, sr=sr, units="time")
    wall = time.perf_counter() - t
    return list(beats), float(np.atleast_1d(tempo)[0]), wall, librosa.__version__


def decode_time(path):
    t = time.perf_counter()
    subprocess.run(["ffmpeg", "-nostdin", "-v", "quiet", "-threads", "1", "-i", path,
                    "-ac", "1", "-ar", "22050", "-f", "null", "-"], check=True)
    return time.perf_counter() - t


def montage_clips(folder):
    """Three 20 s clips with a cut every 4 s (lavfi sources), made once."""
    os.makedirs(folder, exist_ok=True)
    clips = []
    sources = ["testsrc2", "smptebars", "mandelbrot", "testsrc", "rgbtestsrc"]
    for i in range(3):
        path = os.path.join(folder, f"clip{i}.mp4")
        if not os.path.exists(path):
            parts = [f"{sources[(i + k) % len(sources)]}=s=320x180:r=30,trim=duration=4,"
                     f"setpts=PTS-STARTPTS[s{k}]" for k in range(5)]
            graph = ";".join(parts) + ";" + "".join(f"[s{k}]" for k in range(5)) + \
                "concat=n=5:v=1:a=0,format=yuv420p[v]"
            subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-filter_complex", graph,
                            "-map", "[v]", "-c:v", "libx264", "-preset", "veryfast", path + ".tmp.mp4"],
                           check=True)
            os.replace(path + ".tmp.mp4", path)
        clips.append(path)
    return clips


def montage_cuts_on_beats(binary, song, clips, reference):
    """Share of a planned montage's cuts within 70 ms of a charted beat."""
    out = subprocess.run([binary, "plan", "--json", "--music", song, *clips],
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"beatcut plan failed on {song}: {out.stderr.strip()[-300:]}")
    timeline = json.loads(next(l for l in out.stdout.splitlines() if l.startswith("{")))
    cuts = [seg["start_s"] for seg in timeline["segments"][1:]]
    ref = np.asarray(reference)
    on = sum(1 for c in cuts if np.min(np.abs(ref - c)) <= 0.07)
    return on, len(cuts)


def git(*args):
    return subprocess.run(["git", *args], capture_output=True, text=True).stdout.strip()


def main():
    if len(sys.argv) < 4:
        print(__doc__)
        return 2
    binary, song_dir, gt_dir = sys.argv[1:4]
    allow_dirty = "--allow-dirty" in sys.argv
    # --report NAME writes bench/NAME.md/.json; --no-goals only reports (a set kept to see how
    # the tracker does on other music, not to pass or fail it).
    report = sys.argv[sys.argv.index("--report") + 1] if "--report" in sys.argv else "accuracy"
    check_goals = "--no-goals" not in sys.argv
    source = os.path.relpath(gt_dir)
    commit = git("rev-parse", "--short", "HEAD")
    # The reports themselves (bench/) do not make a tree dirty.
    dirty = bool(git("status", "--porcelain", "--untracked-files=no", "--", ".", ":!bench"))
    if dirty and not allow_dirty:
        print("the work tree has uncommitted changes: commit first, or pass --allow-dirty "
              "(the report then says so)", file=sys.stderr)
        return 2
    # librosa's first call compiles its numba kernels: warm it up outside the timings.
    warm = sorted(glob.glob(os.path.join(song_dir, "*.ogg")))
    if warm:
        run_librosa(warm[0])

    clips = montage_clips(os.path.join("target", "accuracy-media"))
    rows = []
    for g in sorted(glob.glob(os.path.join(gt_dir, "*.json"))):
        gt = json.load(open(g))
        path = os.path.join(song_dir, gt["file"])
        bc_beats, bc_tempo, bc_alt, bc_wall = run_beatcut(binary, path)
        lb_beats, lb_tempo, lb_wall, lb_version = run_librosa(path)
        dec = decode_time(path)
        on, cuts = montage_cuts_on_beats(binary, path, clips, gt["beats_s"])
        rows.append({
            "song": gt["song"], "charted_bpm": gt["tempo_bpm"],
            "beatcut": dict(zip(("f", "cmlt", "amlt"), scores(gt["beats_s"], bc_beats)),
                            tempo=bc_tempo, alternative=bc_alt, level=level(bc_tempo, gt["tempo_bpm"]),
                            wall_s=bc_wall),
            "librosa": dict(zip(("f", "cmlt", "amlt"), scores(gt["beats_s"], lb_beats)),
                            tempo=lb_tempo, level=level(lb_tempo, gt["tempo_bpm"]), wall_s=lb_wall,
                            version=lb_version),
            "decode_s": dec,
            "montage_cuts": cuts, "montage_cuts_on_beats": on,
        })

    def mean(tool, key):
        return float(np.mean([r[tool][key] for r in rows])) if rows else 0.0

    lines = [
        f"# Beats on real songs ({source}), Beatcut and librosa side by side",
        "",
        f"- commit {commit}{' (with uncommitted changes)' if dirty else ''}; "
        f"{time.strftime('%Y-%m-%d %H:%M')}; load {os.getloadavg()[0]:.1f}",
        "- mir_eval: F-measure (70 ms), CMLt, AMLt; beats before 5 s left out. "
        "Level: the chosen tempo against the charted one. Times: wall seconds per song "
        "(Beatcut: decode + analysis in one process; decode: ffmpeg CLI, one thread). "
        "Montage: `beatcut plan` on the song and three generated clips; its cuts within 70 ms "
        "of a charted beat.",
        "",
        "| song | charted | Beatcut F | CMLt | AMLt | tempo (level; runner-up) | librosa F | CMLt | AMLt | tempo (level) | Beatcut s | librosa s | decode s | montage cuts on beats |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        b, lb = r["beatcut"], r["librosa"]
        lines.append(
            f"| {r['song']} | {r['charted_bpm']:.0f} | {b['f']:.3f} | {b['cmlt']:.3f} | {b['amlt']:.3f} "
            f"| {b['tempo']:.1f} ({b['level']}; {b['alternative']:.1f}) "
            f"| {lb['f']:.3f} | {lb['cmlt']:.3f} | {lb['amlt']:.3f} | {lb['tempo']:.1f} ({lb['level']}) "
            f"| {b['wall_s']:.2f} | {lb['wall_s']:.2f} | {r['decode_s']:.2f} "
            f"| {r['montage_cuts_on_beats']}/{r['montage_cuts']} |")
    lines.append(
        f"| **mean** | | **{mean('beatcut', 'f'):.3f}** | {mean('beatcut', 'cmlt'):.3f} | "
        f"{mean('beatcut', 'amlt'):.3f} | | **{mean('librosa', 'f'):.3f}** | {mean('librosa', 'cmlt'):.3f} | "
        f"{mean('librosa', 'amlt'):.3f} | | {mean('beatcut', 'wall_s'):.2f} | {mean('librosa', 'wall_s'):.2f} | "
        f"{float(np.mean([r['decode_s'] for r in rows])) if rows else 0:.2f} | "
        f"{sum(r['montage_cuts_on_beats'] for r in rows)}/{sum(r['montage_cuts'] for r in rows)} |")
    failures = []
    if not check_goals:
        pass
    elif mean("beatcut", "f") < GOAL_MEAN_F:
        failures.append(f"mean beat F {mean('beatcut', 'f'):.3f} < {GOAL_MEAN_F}")
    for r in rows if check_goals else []:
        if r["beatcut"]["level"] not in ("x1", "x1/2"):
            failures.append(f"{r['song']}: tempo {r['beatcut']['tempo']:.1f} is {r['beatcut']['level']} "
                            f"of the charted {r['charted_bpm']:.0f}")
    if not rows:
        failures.append(f"no songs with ground truth found in {gt_dir}")
    lines.append("")
    if check_goals:
        lines.append("Goals (mean F >= 0.90, every tempo at the charted level or half of it): " +
                     ("**met**" if not failures else "**missed**: " + "; ".join(failures)))
    else:
        lines.append("No goals: this set shows how the tracker does on music it was not tuned on.")
    text = "\n".join(lines) + "\n"
    print(text)
    os.makedirs("bench", exist_ok=True)
    for name, body in ((f"bench/{report}.md", text),
                       (f"bench/{report}.json", json.dumps({"commit": commit, "dirty": dirty, "rows": rows},
                                                          indent=1))):
        tmp = name + ".tmp"
        with open(tmp, "w") as f:
            f.write(body)
        os.replace(tmp, name)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
