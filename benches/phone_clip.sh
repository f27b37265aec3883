#!/usr/bin/env bash
# Writes a 60 s 1080p30 clip shot like a phone's: handheld takes over still pictures (a
# shaking crop path, motion blur, sensor grain), two hard cuts (one between two framings of
# the same scene), a 1 s dissolve, and a hardware encoder's stream: a fixed one-second GOP,
# no B-frames, a constant 16 Mb/s, and no x264 settings header (SEI), so nothing in the
# stream vouches for where the scene changes are.
#   usage: benches/phone_clip.sh OUT.mp4
# Cuts at 12.4 s (hard) and 22.6 s (the same scene framed closer), a dissolve 31.6-32.6 s
# and a cut at 43.6 s: all between keyframes.
set -euo pipefail
out=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ff() { ffmpeg -hide_banner -loglevel error -y "$@"; }
blur="gblur=sigma=1.5,format=rgb24"
ff -f lavfi -i "mandelbrot=s=2560x1440:start_scale=0.3:start_x=-0.75:start_y=0.1,$blur" -frames:v 1 "$tmp/s0.png"
ff -f lavfi -i "cellauto=s=2560x1440:rule=30:seed=5:scroll=0:full=1,gblur=sigma=4,colorchannelmixer=rr=0.8:gg=0.5:bb=0.2:rb=0.2,eq=brightness=0.1,$blur" -frames:v 1 "$tmp/s1.png"
ff -f lavfi -i "testsrc2=s=2560x1440,$blur" -frames:v 1 "$tmp/s2.png"
ff -f lavfi -i "mandelbrot=s=2560x1440:start_scale=0.05:start_x=-1.25:start_y=0.02,$blur" -frames:v 1 "$tmp/s3.png"
shot() { # input zoom phase secs
    echo "[$1:v]scale=iw*$2:-2,crop=1920:1080:x='(iw-1920)/2+120*sin(2*PI*0.7*t+$3)+40*sin(2*PI*2.3*t+2*$3)':y='(ih-1080)/2+70*sin(2*PI*0.9*t+$3+1)+25*sin(2*PI*3.1*t+$3)',tmix=frames=3,trim=duration=$4,setpts=PTS-STARTPTS,fps=30,format=yuv420p,setsar=1,settb=1/30[s$1]"
}
graph="$(shot 0 1.0 0 12.4);$(shot 1 1.0 1 10.2);$(shot 2 1.4 2 10);$(shot 3 1.0 3 12);$(shot 4 1.0 4 17)"
graph="$graph;[s0][s1][s2]concat=n=3:v=1:a=0,settb=1/30[a];[a][s3]xfade=transition=fade:duration=1:offset=31.6[b]"
graph="$graph;[b][s4]concat=n=2:v=1:a=0,noise=alls=5:allf=t,format=yuv420p[v]"
ff -loop 1 -framerate 30 -i "$tmp/s0.png" -loop 1 -framerate 30 -i "$tmp/s2.png" \
    -loop 1 -framerate 30 -i "$tmp/s2.png" -loop 1 -framerate 30 -i "$tmp/s3.png" \
    -loop 1 -framerate 30 -i "$tmp/s1.png" -f lavfi -i "sine=f=440:d=60" \
    -filter_complex "$graph" -map "[v]" -map 5:a \
    -c:v libx264 -preset veryfast -bf 0 -g 30 -keyint_min 30 -sc_threshold 0 \
    -b:v 16M -maxrate 16M -bufsize 8M -pix_fmt yuv420p -bsf:v filter_units=remove_types=6 \
    -c:a aac -b:a 128k -shortest "$out.tmp.mp4"
mv "$out.tmp.mp4" "$out"
