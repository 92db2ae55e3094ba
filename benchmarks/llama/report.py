#!/usr/bin/env python3
"""Table of side-by-side.sh: jsteer tokens/s against each llama.cpp build, medians over rounds."""
import json
import statistics
import sys
from collections import defaultdict
from pathlib import Path

out = Path(sys.argv[1])
peer = defaultdict(list)  # (model, peer, test) -> tokens/s per round
for line in (out / "llama.jsonl").read_text().splitlines():
    d = json.loads(line)
    test = "prefill" if d["n_prompt"] > 0 else "decode"
    peer[(d["model"], d["peer"], test)].append(d["avg_ts"])
mine = defaultdict(list)  # (model, test) -> tokens/s per round
for line in (out / "jsteer.jsonl").read_text().splitlines():
    d = json.loads(line)
    if d["bench"] == "prefill":
        mine[(d["model"], "prefill")].append(d["prompt"] / (d["prefill_ms"] / 1000))
    elif d["bench"] == "decode":
        mine[(d["model"], "decode")].append(1000 / d["token_ms"])
med = statistics.median
print("| model | step | jsteer tokens/s | peer | peer tokens/s | jsteer / peer |")
print("|---|---|---|---|---|---|")
for (model, test), v in sorted(mine.items()):
    for (pm, p, pt), pv in sorted(peer.items()):
        if pm == model and pt == test:
            print(f"| {model} | {test} | {med(v):.1f} | {p} | {med(pv):.1f} | {med(v) / med(pv):.2f}x |")
