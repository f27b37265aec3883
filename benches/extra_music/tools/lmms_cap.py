#!/usr/bin/env python3
"""Write an uncompressed copy of an LMMS project whose loop range is [0, N bars] with N bars
<= CAP seconds, and print its bpm, time signature and length (for `lmms render --loop`).
Refuses projects with tempo automation or a time signature other than n/4.
Usage: lmms_cap.py IN.mmp[z] OUT.mmp CAP_SECONDS"""
import sys, zlib, xml.etree.ElementTree as ET

src, dst, cap = sys.argv[1], sys.argv[2], float(sys.argv[3])
raw = open(src, "rb").read()
if src.endswith(".mmpz"):
    raw = zlib.decompress(raw[4:])
root = ET.fromstring(raw)
head = root.find("head")
if head.find("bpm") is not None:  # <bpm id=...> appears only when the tempo is automated/linked
    sys.exit(f"{src}: tempo is automated or controlled; skipped")
bpm = float(head.get("bpm"))
num, den = int(head.get("timesig_numerator", 4)), int(head.get("timesig_denominator", 4))
if den != 4:
    sys.exit(f"{src}: time signature {num}/{den}; skipped")
ticks_per_bar = 48 * num  # LMMS: 48 ticks per quarter note
# song end: the furthest clip end on the song editor's tracks
end = 0
for tr in root.find("song").find("trackcontainer").findall("track"):
    for clip in tr:
        if clip.tag in ("pattern", "bbtco", "sampletco", "automationpattern") and clip.get("pos"):
            if clip.tag == "automationpattern":
                continue
            end = max(end, int(clip.get("pos")) + int(clip.get("len", 0) or 0))
bars_cap = int(cap * bpm / 60 / num)
bars = min(bars_cap, -(-end // ticks_per_bar))
tl = root.find("song").find("timeline")
if tl is None:
    tl = ET.SubElement(root.find("song"), "timeline")
tl.set("lp0pos", "0"); tl.set("lp1pos", str(bars * ticks_per_bar)); tl.set("lpstate", "1")
ET.ElementTree(root).write(dst, encoding="utf-8", xml_declaration=True)
print(f"{bpm} {num} {den} {bars * num * 60 / bpm:.6f}")
