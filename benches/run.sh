#!/usr/bin/env bash
# `make bench`: every benchmark, Beatcut and the peer tools side by side on the same inputs,
# summarised in bench/report.md and bench/report.json (generated; nothing in them is typed).
#
#   benches/stages.rs     Beatcut's side, one stage per call, JSON lines
#   benches/baselines.py  NumPy, librosa, PySceneDetect, the ffmpeg CLI, json; JSON lines
#   benches/report.py     the tables, with machine information
#
# Media are generated once into target/bench-media; the Python tools go into a throwaway venv
# in target/bench-venv. A stage that fails, or a baseline that cannot be installed, becomes a
# row saying so; the script carries on.
#
# Environment (defaults in brackets):
#   BENCH_E2E_CLIPS [10]  BENCH_E2E_CLIP_SECS [60]  BENCH_E2E_RUNS [1]  BENCH_SONG_SECS [180]
#   BENCH_E2E=0           skip the end-to-end stage (slow: about 10 minutes on 2 busy cores)
#   BENCH_CRITERION=0     skip the criterion benches (benches/*.rs other than stages and ui;
#                         section criterion)
#   BENCH_RENDER_SEGMENTS [16]  BENCH_RUNS_SLOW [3]  BENCH_RUNS_FAST [5]
#   BENCH_E2E_SONG_SECS [BENCH_SONG_SECS]: song length of the end-to-end run (= export length)
#   BENCH_SECTIONS [audio,io,cache,select,scenes,render,e2e,ui,criterion]: run only these sections; the
#     others keep their results from the last run (raw results live per section in
#     target/bench-raw) and the report is rebuilt from all of them. Each section records the
#     commit it was measured on and whether the tree was clean; every report row names it.
#   BENCH_ALLOW_DIRTY=1   measure uncommitted changes (refused otherwise; the rows say so)
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
TREE=clean
if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then
    TREE=dirty
    if [ "${BENCH_ALLOW_DIRTY:-0}" != 1 ]; then
        echo "make bench: the tree has uncommitted changes, so no row could name the commit it was" >&2
        echo "measured on. Commit first, or run with BENCH_ALLOW_DIRTY=1 (rows then say \"$COMMIT + uncommitted changes\")." >&2
        exit 1
    fi
fi
CARGO=${CARGO:-cargo}
E2E=${BENCH_E2E:-1}
E2E_CLIPS=${BENCH_E2E_CLIPS:-10}
E2E_CLIP_SECS=${BENCH_E2E_CLIP_SECS:-60}
E2E_RUNS=${BENCH_E2E_RUNS:-1}
SONG_SECS=${BENCH_SONG_SECS:-180}
E2E_SONG_SECS=${BENCH_E2E_SONG_SECS:-$SONG_SECS}
SECTIONS=${BENCH_SECTIONS:-audio,io,cache,select,scenes,render,e2e,ui,criterion}
SEGMENTS=${BENCH_RENDER_SEGMENTS:-16}
SLOW=${BENCH_RUNS_SLOW:-3}
FAST=${BENCH_RUNS_FAST:-5}
CRITERION=${BENCH_CRITERION:-1}
CONFIG="song_secs=$SONG_SECS,runs_slow=$SLOW,runs_fast=$FAST,render_segments=$SEGMENTS,e2e_clips=$E2E_CLIPS,e2e_clip_secs=$E2E_CLIP_SECS,e2e_song_secs=$E2E_SONG_SECS,e2e_runs=$E2E_RUNS"

MEDIA=$ROOT/target/bench-media
VENV=$ROOT/target/bench-venv
RAW=$ROOT/target/bench-raw
SCRATCH=$RAW/scratch
mkdir -p "$MEDIA" "$RAW" "$SCRATCH" "$ROOT/bench"
LOG=$RAW/run.log
: >"$LOG"
RUST_OUT=/dev/null
PY_OUT=/dev/null
# The tree as the run started: every section's rows name this commit, so the run stops if the
# commit or the working tree changes under it (later sections would measure other code).
TREE_STATE=$(git rev-parse HEAD 2>/dev/null; git status --porcelain --untracked-files=no 2>/dev/null)
# Starts a section if it was asked for: its raw result files are emptied and used from now on.
section() { # name -> 0 when the section runs
    if [ "$(git rev-parse HEAD 2>/dev/null; git status --porcelain --untracked-files=no 2>/dev/null)" != "$TREE_STATE" ]; then
        echo "make bench: the commit or the working tree changed during the run; stopping before section $1" >&2
        echo "(sections already run keep their results; rerun the rest with BENCH_SECTIONS=...)" >&2
        exit 1
    fi
    case ",$SECTIONS," in
    *",$1,"*)
        RUST_OUT=$RAW/$1.rust.jsonl
        PY_OUT=$RAW/$1.baselines.jsonl
        : >"$RUST_OUT"
        : >"$PY_OUT"
        echo "$CONFIG,date=$(date '+%Y-%m-%d %H:%M'),load_start=$(cut -d' ' -f1 /proc/loadavg),commit=$COMMIT,tree=$TREE" >"$RAW/$1.config"
        return 0
        ;;
    esac
    echo "(section $1 not run; keeping its last results)" >&2
    return 1
}

say() { printf '\n== %s [%s]\n' "$*" "$(date +%H:%M:%S)" | tee -a "$LOG" >&2; }
json_error() { # stage message -> one JSON error line
    python3 -c 'import json,sys; print(json.dumps({"stage": sys.argv[1], "error": sys.argv[2]}))' "$1" "$2"
}

# ---------------------------------------------------------------- build
say "building the stages benchmark (release)"
BIN=$("$CARGO" bench --no-run --bench stages --message-format=json 2>>"$LOG" |
    python3 -c '
import json, sys
for line in sys.stdin:
    try:
        m = json.loads(line)
    except ValueError:
        continue
    if m.get("reason") == "compiler-artifact" and m.get("target", {}).get("name") == "stages" and m.get("executable"):
        print(m["executable"])
') || true
if [ -z "$BIN" ] || [ ! -x "$BIN" ]; then
    echo "could not build benches/stages.rs; see $LOG" >&2
    tail -30 "$LOG" >&2
    exit 1
fi
echo "stages binary: $BIN" >&2

# Runs a Beatcut stage; its JSON lines go to rust.jsonl, a failure without output becomes an
# error line for every stage name it should have produced.
rust_stage() { # "names,comma,separated" stage args...
    local names=$1
    shift
    local before after err
    before=$(wc -l <"$RUST_OUT")
    err=$SCRATCH/stderr.txt
    if ! { "$BIN" "$@" 2>&1 >>"$RUST_OUT" | tee "$err" >&2; }; then
        echo "  stage $1 failed" >&2
    fi
    after=$(wc -l <"$RUST_OUT")
    if [ "$after" = "$before" ]; then
        local msg
        msg=$(tail -c 400 "$err" 2>/dev/null | tr '\n' ' ')
        for n in ${names//,/ }; do json_error "$n" "no result: ${msg:-stage crashed}" >>"$RUST_OUT"; done
    fi
}

# ---------------------------------------------------------------- peer tools
PY=""
setup_venv() {
    if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import numpy, librosa, scenedetect, cv2' 2>/dev/null; then
        PY=$VENV/bin/python
        return
    fi
    say "setting up the Python baselines in $VENV (numpy librosa scenedetect opencv-python-headless)"
    if ! { [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"; } >>"$LOG" 2>&1; then
        echo "BASELINES UNAVAILABLE: python3 -m venv failed (install python3-venv); Python rows will say so" >&2
        return
    fi
    PY=$VENV/bin/python
    "$PY" -m pip install -q --upgrade pip >>"$LOG" 2>&1 || true
    # One at a time so one package that will not install leaves the others usable.
    for pkg in numpy librosa scenedetect opencv-python-headless; do
        if ! "$PY" -m pip install -q "$pkg" >>"$LOG" 2>&1; then
            echo "BASELINE UNAVAILABLE: pip could not install $pkg (see $LOG); its rows will say so" >&2
        fi
    done
}

py_stage() { # "names" stage args...
    local names=$1
    shift
    if [ -z "$PY" ]; then
        for n in ${names//,/ }; do json_error "$n" "baseline unavailable: no Python venv" >>"$PY_OUT"; done
        return
    fi
    local before after
    before=$(wc -l <"$PY_OUT")
    "$PY" "$ROOT/benches/baselines.py" "$@" >>"$PY_OUT" 2> >(tee -a "$LOG" >&2) || echo "  baseline $1 failed" >&2
    after=$(wc -l <"$PY_OUT")
    if [ "$after" = "$before" ]; then
        for n in ${names//,/ }; do json_error "$n" "baseline crashed; see target/bench-raw/run.log" >>"$PY_OUT"; done
    fi
}

# ---------------------------------------------------------------- media (cached)
ff() { ffmpeg -nostdin -hide_banner -v error -y "$@"; }
have_ffmpeg=1
command -v ffmpeg >/dev/null || { have_ffmpeg=0; echo "ffmpeg CLI missing: run make deps" >&2; }

make_song() { # seconds; the MP3 is at $MEDIA/song-${secs}s.mp3
    local secs=$1
    local wav=$MEDIA/song-${secs}s.wav f32=$MEDIA/song-${secs}s-22k.f32 mp3=$MEDIA/song-${secs}s.mp3
    if [ ! -s "$mp3" ] || [ ! -s "$f32" ]; then
        say "generating the ${secs} s demo song (WAV, raw 22.05 kHz mono, MP3 192k)"
        "$BIN" gen-song --secs "$secs" --bpm 120 --wav "$wav" --f32 "$f32"
        ff -i "$wav" -b:a 192k "$mp3.tmp.mp3" && mv "$mp3.tmp.mp3" "$mp3"
    fi
}
make_song "$SONG_SECS"
SONG_F32=$MEDIA/song-${SONG_SECS}s-22k.f32
SONG_MP3=$MEDIA/song-${SONG_SECS}s.mp3
make_song "$E2E_SONG_SECS"
E2E_MP3=$MEDIA/song-${E2E_SONG_SECS}s.mp3

# 10 s of 1080p30 H.264 with five hard cuts (long GOP, a phone's -g 250), light film grain
# so it codes at a camera-like bitrate.
SCENE_CLIP=$MEDIA/cuts-1080p-10s.mp4
if [ ! -s "$SCENE_CLIP" ]; then
    say "generating the 10 s 1080p clip with cuts"
    S=s=1920x1080:r=30
    ff -f lavfi -i "testsrc2=$S:d=2" -f lavfi -i "smptehdbars=$S:d=2" \
        -f lavfi -i "mandelbrot=$S,trim=duration=2" \
        -f lavfi -i "life=$S:mold=10:ratio=0.1:death_color=#C83232:life_color=#00ff00,trim=duration=2" \
        -f lavfi -i "testsrc=$S:d=2" -f lavfi -i "sine=f=440:d=10" \
        -filter_complex "[0:v][1:v][2:v][3:v][4:v]concat=n=5:v=1:a=0,format=yuv420p,noise=alls=6:allf=t[v]" \
        -map "[v]" -map 5:a -c:v libx264 -preset veryfast -g 250 -c:a aac -b:a 128k -shortest \
        "$SCENE_CLIP.tmp.mp4" && mv "$SCENE_CLIP.tmp.mp4" "$SCENE_CLIP"
fi

# Footage for rendering and the end-to-end run: six distinct 10 s 1080p pieces (a cut in the
# middle of each, between keyframes), each clip a different ordering of them, stream-copied.
piece() { # index -> path
    echo "$MEDIA/piece-$1.mp4"
}
make_pieces() {
    local S=s=1920x1080:r=30
    local -a a=("testsrc2=$S" "smptehdbars=$S" "life=$S:mold=10:ratio=0.1" "testsrc=$S" "rgbtestsrc=$S" "cellauto=$S:rule=110")
    local -a b=("smptebars=$S" "testsrc2=$S" "testsrc=$S" "life=$S:mold=5:ratio=0.2" "testsrc2=$S" "smptehdbars=$S")
    for k in 0 1 2 3 4 5; do
        local p
        p=$(piece $k)
        [ -s "$p" ] && continue
        say "generating footage piece $((k + 1))/6 (10 s 1080p)"
        local cut=$((4 + k % 3))
        ff -f lavfi -i "${a[$k]},trim=duration=$cut,setpts=PTS-STARTPTS" \
            -f lavfi -i "${b[$k]},trim=duration=$((10 - cut)),setpts=PTS-STARTPTS" \
            -f lavfi -i "sine=f=$((300 + 50 * k)):d=10" \
            -filter_complex "[0:v][1:v]concat=n=2:v=1:a=0,format=yuv420p,hue=h=$((k * 50)),noise=alls=6:allf=t[v]" \
            -map "[v]" -map 2:a -c:v libx264 -preset veryfast -g 250 -c:a aac -b:a 128k -shortest \
            "$p.tmp.mp4" && mv "$p.tmp.mp4" "$p"
    done
}

E2E_LIST=()
make_e2e_clips() {
    local n=$1 secs=$2
    local pieces_per_clip=$(((secs + 9) / 10))
    for ((i = 0; i < n; i++)); do
        local out=$MEDIA/e2e-${secs}s-$i.mp4
        E2E_LIST+=("$out")
        [ -s "$out" ] && continue
        say "assembling end-to-end clip $((i + 1))/$n (${secs} s)"
        # A different ordering of the pieces for every clip (so every clip has its own content key).
        python3 - "$i" "$pieces_per_clip" "$MEDIA" >"$SCRATCH/list.txt" <<'EOF'
import itertools, sys
i, count, media = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
perms = list(itertools.permutations(range(6)))
order = []
j = 0
while len(order) < count:
    order += list(perms[(i * 37 + j * 101) % len(perms)])
    j += 1
for k in order[:count]:
    print(f"file '{media}/piece-{k}.mp4'")
EOF
        ff -f concat -safe 0 -i "$SCRATCH/list.txt" -t "$secs" -c copy "$out.tmp.mp4" && mv "$out.tmp.mp4" "$out"
    done
}

if [ "$have_ffmpeg" = 1 ]; then
    make_pieces
    if [ "$E2E" = 1 ] && [[ ",$SECTIONS," == *",e2e,"* ]]; then make_e2e_clips "$E2E_CLIPS" "$E2E_CLIP_SECS"; fi
fi
RENDER_CLIPS=$SCENE_CLIP,$(piece 0),$(piece 3)

# 20 s of 1080p30 with a subject to follow: a yellow box swinging across a still grey texture
# (its centre from x = 260 to 1660 and back), so the reframed export's crops really move.
SUBJECT_CLIP=$MEDIA/subject-1080p-20s.mp4
if [ "$have_ffmpeg" = 1 ] && [[ ",$SECTIONS," == *",render,"* ]] && [ ! -s "$SUBJECT_CLIP" ]; then
    say "generating the 20 s 1080p clip with a moving subject"
    ff -f lavfi -i "color=c=0x606060:s=1920x1080:r=30:d=20,noise=c0s=60:allf=u,format=yuv420p" \
        -f lavfi -i "color=c=0xF0E040:s=150x200:r=30:d=20" \
        -filter_complex "[0][1]overlay=x='885+700*sin(0.6*t)':y=440:eval=frame" \
        -c:v libx264 -preset veryfast -g 30 -pix_fmt yuv420p "$SUBJECT_CLIP.tmp.mp4" &&
        mv "$SUBJECT_CLIP.tmp.mp4" "$SUBJECT_CLIP"
fi

# 60 s of 1080p30 H.264 shot like a phone clip (benches/phone_clip.sh): handheld takes with
# motion blur and grain, cuts between keyframes (one between two framings of one scene), a
# dissolve, and a hardware encoder's stream: 1 s GOP, no B-frames, constant 16 Mb/s, no
# encoder settings header. Fast mode's typical input, where nothing vouches for a stretch.
PHONE_CLIP=$MEDIA/phone-handheld-1080p-60s.mp4
if [ "$have_ffmpeg" = 1 ] && [[ ",$SECTIONS," == *",scenes,"* ]] && [ ! -s "$PHONE_CLIP" ]; then
    say "generating the 60 s phone-style 1080p clip"
    "$ROOT/benches/phone_clip.sh" "$PHONE_CLIP"
fi

setup_venv

# ---------------------------------------------------------------- audio analysis
if section audio; then
say "audio analysis: energy profile"
rust_stage energy energy --f32 "$SONG_F32" --runs "$FAST"
py_stage py_energy energy --f32 "$SONG_F32" --runs "$FAST"

say "audio analysis: music analysis and decode of the ${SONG_SECS} s MP3"
rust_stage music_decode,music_analysis music --mp3 "$SONG_MP3" --runs "$FAST"
py_stage ffmpeg_decode_mp3 ffmpeg-decode-mp3 --mp3 "$SONG_MP3" --runs "$FAST"
say "audio analysis: librosa (first call compiles numba kernels; untimed warm-up)"
py_stage librosa librosa --mp3 "$SONG_MP3" --runs "$SLOW"
fi
RUST_OUT=/dev/null
PY_OUT=$RAW/versions.baselines.jsonl
: >"$PY_OUT"
py_stage versions versions

# ---------------------------------------------------------------- file I/O
if section io; then
say "file I/O"
rust_stage fileio fileio --dir "$SCRATCH" --size-mb 10 --runs "$FAST"
py_stage py_fileio fileio --dir "$SCRATCH" --size-mb 10 --runs "$FAST"
rust_stage mp4writer mp4writer --out "$SCRATCH/rust-1s.mp4" --width 1280 --height 720 --frames 30 --runs "$FAST"
py_stage ffmpeg_testvideo ffmpeg-testvideo --out "$SCRATCH/cli-1s.mp4" --width 1280 --height 720 --runs "$FAST"
fi

# ---------------------------------------------------------------- caching
if section cache; then
say "caching: 1,000 scenes"
rust_stage cache_write,cache_read cache --dir "$SCRATCH/cache" --runs "$FAST"
py_stage json_write,json_read json-cache --dir "$SCRATCH/json" --runs "$FAST"
fi

# ---------------------------------------------------------------- selection
if section select; then
say "selection"
rust_stage select_1k,select_100k,replan_200 select --runs "$FAST"
py_stage py_select_1k_numpy,py_select_1k_python,py_select_100k_numpy selection --runs "$FAST"
fi

# ---------------------------------------------------------------- scene detection
if section scenes; then
say "scene detection at 1080p"
rust_stage scenes_accurate,scenes_fast scenes --clip "$SCENE_CLIP" --runs "$SLOW"
py_stage ffmpeg_decode_clip,ffmpeg_scene_filter ffmpeg-decode-clip --clip "$SCENE_CLIP" --runs "$SLOW"
py_stage pyscenedetect pyscenedetect --clip "$SCENE_CLIP" --runs "$SLOW"
say "scene detection on the 60 s phone-style clip"
rust_stage phone_accurate,phone_fast,phone_accurate_plain scenes --label phone --clip "$PHONE_CLIP" \
    --runs "$SLOW" --reframe-cost 1
py_stage ffmpeg_decode_phone ffmpeg-decode-clip --name ffmpeg_decode_phone --clip "$PHONE_CLIP" --runs "$SLOW"
py_stage pyscenedetect_phone pyscenedetect --name pyscenedetect_phone --clip "$PHONE_CLIP" --runs "$SLOW"
fi

# ---------------------------------------------------------------- rendering
if section render; then
say "rendering: $SEGMENTS segments at the final preset"
rust_stage render-plan render-plan --clips "$RENDER_CLIPS" --segments "$SEGMENTS" --out "$SCRATCH/render-plan.json"
rust_stage render,render_cancel render --clips "$RENDER_CLIPS" --music "$SONG_MP3" --segments "$SEGMENTS" \
    --out "$SCRATCH/beatcut-render.mp4" --runs "$SLOW"
py_stage ffmpeg_render ffmpeg-render --plan "$SCRATCH/render-plan.json" --mp3 "$SONG_MP3" \
    --out "$SCRATCH/ffmpeg-render.mp4" --runs "$SLOW"
say "rendering: a montage reframed to 9:16 1080x1920 (with a moving subject in one clip of four)"
rust_stage render_reframe render-reframe --clips "$SUBJECT_CLIP,$RENDER_CLIPS" --music "$SONG_MP3" --segments "$SEGMENTS" \
    --out "$SCRATCH/beatcut-reframe.mp4" --plan-out "$SCRATCH/reframe-plan.json" --runs "$SLOW"
py_stage ffmpeg_render_reframe ffmpeg-render-reframe --plan "$SCRATCH/reframe-plan.json" --mp3 "$SONG_MP3" \
    --out "$SCRATCH/ffmpeg-reframe.mp4" --runs "$SLOW"
fi

# ---------------------------------------------------------------- end to end
if ! section e2e; then
    :
elif [ "$E2E" = 1 ] && [ "$have_ffmpeg" = 1 ]; then
    CLIPS=$(
        IFS=,
        echo "${E2E_LIST[*]}"
    )
    for ((r = 1; r <= E2E_RUNS; r++)); do
        say "end to end, cold cache, run $r/$E2E_RUNS: $E2E_CLIPS x ${E2E_CLIP_SECS} s 1080p clips, ${E2E_SONG_SECS} s song"
        rm -rf "$SCRATCH/e2e-cache"
        rust_stage e2e_cold e2e --label e2e_cold --clips "$CLIPS" --music "$E2E_MP3" \
            --cache-dir "$SCRATCH/e2e-cache" --out "$SCRATCH/e2e-montage.mp4"
        say "end to end, warm cache, run $r/$E2E_RUNS"
        rust_stage e2e_warm e2e --label e2e_warm --clips "$CLIPS" --music "$E2E_MP3" \
            --cache-dir "$SCRATCH/e2e-cache" --out "$SCRATCH/e2e-montage.mp4"
    done
else
    json_error e2e_cold "skipped (BENCH_E2E=0)" >>"$RUST_OUT"
    json_error e2e_warm "skipped (BENCH_E2E=0)" >>"$RUST_OUT"
fi

# ---------------------------------------------------------------- UI frame times
if section ui; then
say "UI thread frame times (benches/ui.rs: 200 clips, 10-minute song, replans landing)"
if ! "$CARGO" bench --bench ui -- --json >>"$RUST_OUT" 2>>"$LOG"; then
    json_error ui_idle "benches/ui.rs failed; see target/bench-raw/run.log" >>"$RUST_OUT"
    json_error ui_replan "benches/ui.rs failed; see target/bench-raw/run.log" >>"$RUST_OUT"
    json_error ui_zoom "benches/ui.rs failed; see target/bench-raw/run.log" >>"$RUST_OUT"
fi
fi

# ---------------------------------------------------------------- criterion benches
# Section "criterion": benches/*.rs other than stages and ui, each under criterion; the
# estimates of this run (target/criterion is emptied first) become report rows.
if [ "$CRITERION" = 1 ] && section criterion; then
    say "criterion benches (their own output: target/bench-raw/criterion.log)"
    rm -rf "$ROOT/target/criterion"
    : >"$RAW/criterion.log"
    for b in $(ls benches/*.rs | xargs -n1 basename | sed 's/\.rs$//' | grep -v '^stages$' | grep -v '^ui$'); do
        if grep -q "name = \"$b\"" Cargo.toml; then
            echo "  cargo bench --bench $b" >&2
            if ! "$CARGO" bench --bench "$b" >>"$RAW/criterion.log" 2>&1; then
                echo "  criterion bench $b failed (see criterion.log)" >&2
                json_error "criterion:$b" "cargo bench --bench $b failed; see target/bench-raw/criterion.log" >>"$RUST_OUT"
            fi
        fi
    done
    python3 - "$ROOT/target/criterion" >>"$RUST_OUT" <<'EOF'
import json, os, sys
for dirpath, _, files in sorted(os.walk(sys.argv[1])):
    if os.path.basename(dirpath) != "new" or "estimates.json" not in files:
        continue
    with open(os.path.join(dirpath, "benchmark.json")) as f:
        bench = json.load(f)
    with open(os.path.join(dirpath, "estimates.json")) as f:
        est = json.load(f)
    ms = lambda ns: ns / 1e6
    mean = est["mean"]
    print(json.dumps({"stage": "criterion:" + bench["full_id"],
                      "runs_ms": [ms(est["median"]["point_estimate"])],
                      "extra": {"mean_ms": ms(mean["point_estimate"]),
                                "ci_low_ms": ms(mean["confidence_interval"]["lower_bound"]),
                                "ci_high_ms": ms(mean["confidence_interval"]["upper_bound"])}}))
EOF
fi

# ---------------------------------------------------------------- report
say "writing bench/report.md and bench/report.json"
python3 "$ROOT/benches/report.py" --raw "$RAW" --sections-run "$SECTIONS" \
    --out-md "$ROOT/bench/report.md" --out-json "$ROOT/bench/report.json"
echo "bench/report.md written" >&2
