#!/usr/bin/env python3
"""Beat ground truth of a Frets on Fire song from its notes.mid tempo map.

Every quarter note (ticks_per_beat ticks) from tick 0 to the end of the audio, timed through
all set_tempo events (tempo changes handled piecewise), shifted by song.ini's `delay` (ms) when
present: Frets on Fire plays the chart `delay` ms late against the audio (Song.py adds the
song's delay to the configured audio delay), so the beats in the audio sit at midi + delay.
The grid's phase was checked on the muldjord songs: their drum attacks start at the MIDI grid
(0 ms; energy peak at +4..+7 ms).
LAG_MS (optional): a measured lag of the audio behind the MIDI grid, added to every beat.
Usage: gt_fof.py SONG_DIR NAME AUDIO_FILE_NAME DURATION_S [LAG_MS] > NAME.json   (stdlib only)"""
import configparser, json, os, struct, sys


def read_varlen(b, i):
    v = 0
    while True:
        c = b[i]; i += 1
        v = (v << 7) | (c & 0x7F)
        if not c & 0x80:
            return v, i


def tempo_map(path):
    """(ticks_per_beat, [(tick, microseconds_per_quarter)]) from a type 0/1 SMF."""
    b = open(path, "rb").read()
    if b[:4] != b"MThd":
        raise ValueError("not a MIDI file")
    hlen, fmt, ntrk, div = struct.unpack(">IHHH", b[4:14])
    if div & 0x8000:
        raise ValueError("SMPTE time division not supported")
    i = 8 + hlen
    tempos = []
    for _ in range(ntrk):
        assert b[i:i + 4] == b"MTrk"
        (tlen,) = struct.unpack(">I", b[i + 4:i + 8])
        j, end, tick, status = i + 8, i + 8 + tlen, 0, None
        while j < end:
            dt, j = read_varlen(b, j); tick += dt
            c = b[j]
            if c == 0xFF:
                typ = b[j + 1]; ln, j = read_varlen(b, j + 2)
                if typ == 0x51:
                    tempos.append((tick, (b[j] << 16) | (b[j + 1] << 8) | b[j + 2]))
                j += ln
            elif c in (0xF0, 0xF7):
                ln, j = read_varlen(b, j + 1); j += ln
            else:
                if c & 0x80:
                    status = c; j += 1
                j += 1 if (status & 0xF0) in (0xC0, 0xD0) else 2
        i = end
    tempos.sort(key=lambda t: t[0])
    if not tempos or tempos[0][0] != 0:
        tempos.insert(0, (0, 500000))  # SMF default: 120 BPM until the first set_tempo
    # several events at one tick: the last one wins
    dedup = {}
    for t, us in tempos:
        dedup[t] = us
    return div, sorted(dedup.items())


def beat_times(tpb, tempos, t_end):
    out, seg = [], 0
    # seconds at the start of each tempo segment
    starts = [0.0]
    for k in range(1, len(tempos)):
        starts.append(starts[-1] + (tempos[k][0] - tempos[k - 1][0]) * tempos[k - 1][1] / 1e6 / tpb)
    k = 0
    while True:
        tick = k * tpb
        while seg + 1 < len(tempos) and tempos[seg + 1][0] <= tick:
            seg += 1
        t = starts[seg] + (tick - tempos[seg][0]) * tempos[seg][1] / 1e6 / tpb
        if t > t_end:
            return out
        out.append(t); k += 1


def main():
    song_dir, name, fname, duration = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    ini = configparser.ConfigParser(strict=False, interpolation=None)
    ini.read(os.path.join(song_dir, "song.ini"), encoding="latin-1")
    delay = float(ini.get("song", "delay", fallback="0") or 0) / 1000.0
    lag = float(sys.argv[5]) / 1000.0 if len(sys.argv) > 5 else 0.0
    delay += lag
    tpb, tempos = tempo_map(os.path.join(song_dir, "notes.mid"))
    beats = [round(t + delay, 4) for t in beat_times(tpb, tempos, duration - delay) if t + delay >= 0]
    bpms = sorted({round(60e6 / us, 3) for _, us in tempos})
    # the tempo that lasts longest (for the table); beats_s carries the whole map
    dur = {}
    for k, (tick, us) in enumerate(tempos):
        nxt = tempos[k + 1][0] if k + 1 < len(tempos) else None
        dur[round(60e6 / us, 3)] = dur.get(round(60e6 / us, 3), 0) + ((nxt - tick) * us if nxt else float("inf"))
    main_bpm = max(dur, key=dur.get)
    json.dump({"song": name, "file": fname, "tempo_bpm": main_bpm, "phase_offset_s": beats[0],
               "duration_s": round(duration, 3), "beats_s": beats,
               "source": "Debian fretsonfire-songs-sectoid, notes.mid tempo map" +
                         (f" (tempi {bpms})" if len(bpms) > 1 else "") +
                         (f"; beats + {delay * 1000:.0f} ms (song.ini delay {(delay - lag) * 1000:.0f} ms, measured audio lag {lag * 1000:.0f} ms)" if delay else "")},
              sys.stdout, indent=0)
    print()


if __name__ == "__main__":
    main()
