#!/usr/bin/python3
# Plots bench/serving results (JSON lines from run.sh): throughput vs concurrency and latency
# percentiles for the MLP, one PNG each, into the given folder.
#   python3 bench/serving/plot.py bench/serving/results/results.jsonl docs/img
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
out = sys.argv[2]
mlp = [r for r in rows if r["model"] in ("mlp", "mlp-batched") and r["system"] != "meridian-overload"]
series = {}
for r in mlp:
    if r["system"] == "in-process":
        continue
    series.setdefault((r["system"], r["protocol"]), []).append(r)

fig, ax = plt.subplots(figsize=(10, 5))
ax.set_prop_cycle(color=plt.cm.tab20.colors)  # more series than the default cycle's 10 colours
for (system, protocol), points in sorted(series.items()):
    points.sort(key=lambda r: r["concurrency"])
    ax.plot([p["concurrency"] for p in points], [p["rps"] for p in points], marker="o", label=f"{system} {protocol}")
for r in rows:
    if r["system"] == "in-process" and r["model"] == "mlp":
        ax.axhline(r["rps"] * r["rows"], linestyle="--", linewidth=1, color="grey")
        ax.text(1, r["rps"] * r["rows"], f"in-process batch {r['rows']}", fontsize=8, va="bottom")
ax.set_xscale("log", base=2)
ax.set_yscale("log")
ax.set_xlabel("concurrent requests (clients, or requests in flight on one stream)")
ax.set_ylabel("inferences per second")
ax.set_title("TorchScript MLP (784 inputs), 2 cores: throughput")
ax.legend(fontsize=7, bbox_to_anchor=(1.02, 1), loc="upper left")
fig.tight_layout()
fig.savefig(f"{out}/serving-throughput.png", dpi=110)

fig, axes = plt.subplots(1, 3, figsize=(12, 4), sharey=True)
for ax, concurrency in zip(axes, (1, 8, 64)):
    points = sorted((r for r in mlp if r["concurrency"] == concurrency and r["system"] != "in-process"),
                    key=lambda r: (r["system"], r["protocol"]))
    labels = [f"{r['system']}\n{r['protocol']}" for r in points]
    x = range(len(points))
    for offset, key, color in ((-0.25, "p50_us", "#4c72b0"), (0, "p95_us", "#dd8452"), (0.25, "p99_us", "#c44e52")):
        ax.bar([i + offset for i in x], [r[key] / 1000 for r in points], width=0.25, label=key[:3], color=color)
    ax.set_xticks(list(x))
    ax.set_xticklabels(labels, rotation=60, fontsize=6)
    ax.set_title(f"{concurrency} concurrent requests")
    ax.set_yscale("log")
axes[0].set_ylabel("latency (ms)")
axes[0].legend()
fig.tight_layout()
fig.savefig(f"{out}/serving-latency.png", dpi=110)
print("wrote", f"{out}/serving-throughput.png", f"{out}/serving-latency.png")
