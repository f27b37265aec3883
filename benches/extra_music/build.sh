#!/usr/bin/env bash
# Extra real songs with known beats, other genres and tempi than the four muldjord metal songs:
#  - the four songs of Debian's fretsonfire-songs-sectoid (Sectoid, CC-BY-SA), mixed as the game
#    plays them (song.ogg + guitar.ogg [+ rhythm.ogg]); beats from notes.mid's tempo map
#    (tools/gt_fof.py);
#  - demo projects of Debian's lmms-common (various authors, see cache/x/usr/share/doc), rendered
#    headless with the lmms 1.2 of Debian's archive (extracted, not installed), cut to whole bars
#    of at most CAP_S seconds (default 120); beats at k*60/bpm from 0 (tools/lmms_cap.py refuses
#    projects with tempo automation or a non-quarter-note time signature).
# Usage: build.sh [OUT_DIR]   (default: target/extra-music) -> OUT_DIR/songs/*.ogg, OUT_DIR/gt/*.json
# Needs apt-get (Debian bookworm archive), dpkg-deb, ffmpeg/ffprobe and python3 (stdlib only).
# Idempotent: songs whose .ogg and .json exist are not rebuilt. The audio is never committed.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
OUT="${1:-target/extra-music}"; mkdir -p "$OUT"; OUT="$(cd "$OUT" && pwd)"
CAP_S="${CAP_S:-120}"
CACHE="$OUT/cache"; X="$CACHE/x"
mkdir -p "$OUT/songs" "$OUT/gt" "$CACHE/debs" "$X"
NICE="nice -n 10"

fetch() {  # fetch PKG... : apt-get download into the cache and extract into $X, once per package
  local p
  for p in "$@"; do
    ls "$CACHE/debs/${p}"_*.deb >/dev/null 2>&1 && continue
    (cd "$CACHE/debs" && { apt-get download "$p" >/dev/null 2>&1 ||
      { [ "$(id -u)" -eq 0 ] && apt-get update -qq && apt-get download "$p" >/dev/null; }; })
    dpkg-deb -x "$CACHE/debs/${p}"_*.deb "$X"
  done
}

# ---------------------------------------------------------------- Frets on Fire: sectoid
# dir:name:audio lag in ms. Sectoid's audio sits 24-40 ms behind his charts' MIDI grid (none
# of the song.ini files has a `delay`): measured once with tools/phase.py (best lag of a fine
# onset envelope, 1 ms steps, minus that envelope's own +7 ms bias, itself measured on the LMMS
# renders, whose grid is exact, and on the muldjord songs) and confirmed by the attack times of a
# beat-synchronous high-passed energy average (tools/bsavg.py). No drift over any song.
SECTOID=(
  "Escape from chaosland:sectoid_escape_from_chaosland:24"
  "Feelings:sectoid_feelings:27"
  "Metal madness:sectoid_metal_madness:36"
  "War of freedom:sectoid_war_of_freedom:40"
)
for entry in "${SECTOID[@]}"; do
  IFS=: read -r dir name lag_ms <<< "$entry"
  [ -s "$OUT/songs/$name.ogg" ] && [ -s "$OUT/gt/$name.json" ] && continue
  fetch fretsonfire-songs-sectoid
  d="$X/usr/share/games/fretsonfire/data/songs/sectoid/$dir"
  inputs=(); for stem in song guitar rhythm; do [ -f "$d/$stem.ogg" ] && inputs+=(-i "$d/$stem.ogg"); done
  n=$(( ${#inputs[@]} / 2 ))
  if [ "$n" -gt 1 ]; then
    $NICE ffmpeg -nostdin -v error -y "${inputs[@]}" -filter_complex "amix=inputs=$n:normalize=0" \
      -c:a libvorbis -q:a 5 "$OUT/songs/$name.tmp.ogg"
  else
    $NICE ffmpeg -nostdin -v error -y "${inputs[@]}" -c:a libvorbis -q:a 5 "$OUT/songs/$name.tmp.ogg"
  fi
  mv "$OUT/songs/$name.tmp.ogg" "$OUT/songs/$name.ogg"
  dur="$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$OUT/songs/$name.ogg")"
  python3 "$HERE/tools/gt_fof.py" "$d" "$name" "$name.ogg" "$dur" "$lag_ms" > "$OUT/gt/$name.json.tmp"
  mv "$OUT/gt/$name.json.tmp" "$OUT/gt/$name.json"
done
[ -f "$X/usr/share/doc/fretsonfire-songs-sectoid/copyright" ] &&
  cp "$X/usr/share/doc/fretsonfire-songs-sectoid/copyright" "$OUT/songs/COPYRIGHT.sectoid"

# ---------------------------------------------------------------- LMMS demo projects
# name:project (under /usr/share/lmms/projects/demos); tempi 87..200 BPM
LMMS=(
  "lmms_dearjondoe:StrictProduction-DearJonDoe.mmp"
  "lmms_mauiwowi:Alf42red-Mauiwowi.mmpz"
  "lmms_dr8v2:Oglsdl-Dr8v2.mmpz"
  "lmms_cpu:EsoXLB-CPU.mmpz"
  "lmms_proghouse:Shovon-ProgressiveHousePluckDemo.mmpz"
  "lmms_finalstep:Saber-FinalStep.mmpz"
  "lmms_axe80s:Thomasso-AxeFromThe80s.mmpz"
  "lmms_innerrecreation:Settel-InnerRecreation.mmpz"
  "lmms_zerosumgame:CapDan/CapDan-ZeroSumGame-OriginalByZakarra.mmpz"
  "lmms_reggaetry:CapDan/CapDan-ReggaeTry.mmpz"
  "lmms_progress:Socceroos-Progress.mmpz"
)
lmms_ready=0
setup_lmms() {
  [ "$lmms_ready" = 1 ] && return
  fetch lmms lmms-common
  # lmms's libraries that this system lacks (Qt5, fluidsynth, ...), extracted next to it
  local deps
  deps="$(apt-get install -s --no-install-recommends lmms 2>/dev/null | awk '/^Inst /{print $2}' |
          grep -vx -e lmms -e lmms-common || true)"
  # shellcheck disable=SC2086
  [ -n "$deps" ] && fetch $deps
  L="$X/usr/lib/x86_64-linux-gnu"
  export LD_LIBRARY_PATH="$L:$L/lmms${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  export QT_PLUGIN_PATH="$L/qt5/plugins" QT_QPA_PLATFORM=offscreen
  mkdir -p "$CACHE/home"
  LMMS_ROOT=(); [ "$(id -u)" -eq 0 ] && LMMS_ROOT=(--allowroot)
  lmms_ready=1
}
for entry in "${LMMS[@]}"; do
  name="${entry%%:*}"; proj="${entry#*:}"
  [ -s "$OUT/songs/$name.ogg" ] && [ -s "$OUT/gt/$name.json" ] && continue
  setup_lmms
  w="$CACHE/render"; mkdir -p "$w"
  if ! info="$(python3 "$HERE/tools/lmms_cap.py" "$X/usr/share/lmms/projects/demos/$proj" \
                "$w/$name.mmp" "$CAP_S")"; then echo "skipped $name" >&2; continue; fi
  read -r bpm num den len <<< "$info"
  # one render at a time; --loop renders the loop range [0, len) set by lmms_cap.py
  HOME="$CACHE/home" $NICE "$X/usr/bin/lmms" "${LMMS_ROOT[@]}" render "$w/$name.mmp" --loop \
    -x 1 -o "$w/$name.wav" > "$w/$name.log" 2>&1
  $NICE ffmpeg -nostdin -v error -y -i "$w/$name.wav" -t "$len" -c:a libvorbis -q:a 5 "$OUT/songs/$name.tmp.ogg"
  mv "$OUT/songs/$name.tmp.ogg" "$OUT/songs/$name.ogg"
  rm -f "$w/$name.wav"
  python3 - "$name" "$bpm" "$num" "$len" "$proj" > "$OUT/gt/$name.json.tmp" <<'EOF'
import json, sys
name, bpm, num, length, proj = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
p = 60.0 / bpm
beats = [round(k * p, 4) for k in range(int(length / p + 1e-9) + 1) if k * p < length - 1e-6]
json.dump({"song": name, "file": name + ".ogg", "tempo_bpm": bpm, "phase_offset_s": 0.0,
           "duration_s": round(length, 3), "beats_s": beats,
           "source": f"Debian lmms-common demo {proj}, rendered with lmms 1.2.2; "
                     f"{num}/4 at {bpm:g} BPM, no tempo automation; first {length:.1f} s"},
          sys.stdout, indent=0)
print()
EOF
  mv "$OUT/gt/$name.json.tmp" "$OUT/gt/$name.json"
done
[ -f "$X/usr/share/doc/lmms-common/copyright" ] &&
  cp "$X/usr/share/doc/lmms-common/copyright" "$OUT/songs/COPYRIGHT.lmms"
echo "extra music: $(ls "$OUT"/gt/*.json | wc -l) songs in $OUT/songs, ground truth in $OUT/gt"
