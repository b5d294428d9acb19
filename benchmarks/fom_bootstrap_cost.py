"""What the FOM's bootstrap error costs: one model's evaluation (headline signal and
every signal point alone, three splits) with and without it, side by side.

Synthetic multi-class predictions of a given size (three signal points, four background
classes, weights spanning three orders of magnitude) are evaluated with the default FOM
options, the bootstrap off and with 50 and 200 replicas, interleaved (A B C A B C …,
several repeats, median). Prints a table and writes it to CSV.

    python benchmarks/fom_bootstrap_cost.py [--events 100000 1000000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd

from cmsnn.statistics.evaluation import evaluate_predictions, fom_by_signal_process

CLASSES = ["Signal", "Wjets", "TTbar", "Z2nu", "Other"]
SIGNALS = ["T2DegStop_500_470.root", "T2DegStop_550_520.root", "T2DegStop_600_570.root"]
FRACTIONS = {"train": 0.25, "validation": 0.25, "test": 0.5}
FOM_OPTIONS = {
    "luminosity": 35866.0,
    "relative_background_uncertainty": 0.2,
    "include_mc_statistics": True,
    "cut_min": "auto",
    "cut_max": "auto",
    "steps": 200,
    "min_background_events": 10,
    "bootstrap_seed": 0,
    "signal_processes": [SIGNALS[1]],
}


def predictions(n_events: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    class_index = rng.choice(len(CLASSES), n_events, p=[0.2, 0.35, 0.2, 0.15, 0.1])
    logits = rng.normal(0.0, 1.0, (n_events, len(CLASSES)))
    logits[np.arange(n_events), class_index] += 2.5
    scores = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    frame = pd.DataFrame(scores, columns=[f"score_{name}" for name in CLASSES])
    frame["predicted_class"] = np.asarray(CLASSES)[scores.argmax(axis=1)]
    frame["weight"] = np.where(class_index == 0, 1e-4, 10 ** rng.uniform(-3, 0, n_events))
    background = np.asarray(["WJets.root", "TTJets.root", "ZJets.root", "WW.root"])
    frame["process"] = np.where(
        class_index == 0, rng.choice(SIGNALS, n_events), background[np.maximum(class_index - 1, 0)]
    )
    frame["class"] = np.asarray(CLASSES)[class_index]
    return frame


def evaluate(frames, replicas: int) -> float:
    options = FOM_OPTIONS | {"bootstrap_replicas": replicas}
    start = time.perf_counter()
    evaluate_predictions(frames, FRACTIONS, options, "multiclass", CLASSES)
    fom_by_signal_process(frames, FRACTIONS, options, "multiclass", CLASSES)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--replicas", type=int, nargs="+", default=[0, 50, 200])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--output", default="benchmarks/fom_bootstrap_cost.csv")
    arguments = parser.parse_args()
    rows = []
    for n_events in arguments.events:
        frames = {
            split: predictions(int(n_events * FRACTIONS[split]), i)
            for i, split in enumerate(FRACTIONS)
        }
        times = {replicas: [] for replicas in arguments.replicas}
        for _ in range(arguments.repeats):
            for replicas in arguments.replicas:  # interleaved
                times[replicas].append(evaluate(frames, replicas))
        baseline = float(np.median(times[arguments.replicas[0]]))
        for replicas, measured in times.items():
            median = float(np.median(measured))
            rows.append(
                {"events": n_events, "replicas": replicas, "seconds": round(median, 3),
                 "ratio_to_first": round(median / baseline, 2)}
            )  # fmt: skip
    table = pd.DataFrame(rows)
    machine = f"{platform.machine()} {platform.processor() or ''}".strip()
    print(f"machine: {machine}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(table.to_string(index=False))
    Path(arguments.output).parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(arguments.output, index=False)


if __name__ == "__main__":
    main()
