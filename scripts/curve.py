#!/usr/bin/env python3
"""Prints a learning curve as a Markdown table from runs' metrics.jsonl files.

Usage: scripts/curve.py METRIC EVERY RUN_DIR [RUN_DIR ...]
  METRIC  'return' (the cycle's mean return), 'length', or a task metric such as
          success, distance or goals_reached (the cycle's mean over finished episodes)
  EVERY   one row per this many environment steps: the mean over the cycles in that window,
          weighted by the episodes each cycle finished

One column per run; docs/results.md quotes its output.
"""
import json
import sys


def series(run, metric):
    points = []
    with open(f"{run}/metrics.jsonl") as lines:
        for line in lines:
            cycle = json.loads(line)
            if metric == "return":
                value = cycle.get("mean_return")
            elif metric == "length":
                value = cycle.get("mean_length")
            else:
                value = cycle.get("metrics", {}).get(metric)
            if value is not None:
                points.append((cycle["steps"], value, cycle.get("cycle_episodes", 1)))
    return points


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    metric, every, runs = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    curves = [series(run, metric) for run in runs]
    last = max(points[-1][0] for points in curves if points)
    print("| steps | " + " | ".join(run.rstrip("/").split("/")[-1] for run in runs) + " |")
    print("|---" * (len(runs) + 1) + "|")
    mark = every
    while mark <= last + every - 1:
        row = []
        for points in curves:
            window = [(v, n) for s, v, n in points if mark - every < s <= mark and n > 0]
            weight = sum(n for _, n in window)
            row.append(f"{sum(v * n for v, n in window) / weight:.3f}" if weight else "")
        print(f"| {min(mark, last):,} | " + " | ".join(row) + " |")
        mark += every


if __name__ == "__main__":
    main()
