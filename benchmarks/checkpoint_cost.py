"""What saving a resumable checkpoint after every epoch costs, against the default (at
most every 30 s, and always on SIGTERM): ``training.checkpoint_seconds`` 0 against 30.

Trains the default network (17-64-64-5, batch 512, on a default-run-sized training
split) and the tutorial's binary one (12-50-50-1, batch 5000) on random events, the two
settings alternated (A B A B …) in one process, and prints the median wall time of each
and their ratio; writes the table to ``benchmarks/checkpoint_cost.csv``::

    python benchmarks/checkpoint_cost.py --epochs 20 --repeats 2
"""

from __future__ import annotations

import argparse
import platform
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

#: name: (training events, inputs, classes, classification, settings)
NETWORKS = {
    "default 17-64-64-5, batch 512": (17_000, 17, 5, "multiclass", {"layers": [64, 64]}),
    "tutorial 12-50-50-1, batch 5000": (
        40_000, 12, 2, "binary", {"layers": [50, 50], "batch_size": 5000}
    ),
}  # fmt: skip
SETTINGS = {
    "activation": "relu", "initializer": "he_normal", "dropout": 0.0, "l2": 0.0,
    "learning_rate": 1e-3, "decay_rate": 1e-3, "batch_size": 512, "shuffle": True,
    "early_stopping_patience": 0,
}  # fmt: skip


def events(rng, n: int, inputs: int, classes: int) -> pd.DataFrame:
    frame = pd.DataFrame(rng.normal(size=(n, inputs)).astype(np.float32))
    frame.columns = [f"x{i}" for i in range(inputs)]
    frame["class_index"] = rng.integers(0, classes, n).astype(np.int32)
    frame["weight"] = frame["training_weight"] = 1.0
    return frame


def timed_training(train, validation, classification, classes, settings, seconds) -> float:
    from cmsnn.learning.training import train_model

    folder = Path(tempfile.mkdtemp())
    started = time.perf_counter()
    features = [c for c in train.columns if c.startswith("x")]
    outputs = classes if classification == "multiclass" else 1
    train_model(train, validation, features, settings, classification, outputs, 1,
                checkpoint_dir=folder / "checkpoint", checkpoint_seconds=seconds)  # fmt: skip
    elapsed = time.perf_counter() - started
    shutil.rmtree(folder)
    return elapsed


def main() -> None:
    from cmsnn.learning.training import configure_backend

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--output", type=Path, default=Path(__file__).with_suffix(".csv"))
    arguments = parser.parse_args()
    configure_backend(1)
    rng = np.random.default_rng(0)
    rows = []
    for name, (n, inputs, classes, classification, network) in NETWORKS.items():
        train, validation = events(rng, n, inputs, classes), events(rng, n // 2, inputs, classes)
        settings = SETTINGS | network | {"epochs": arguments.epochs}
        times = {30.0: [], 0.0: []}
        for _ in range(arguments.repeats):
            for seconds in times:
                times[seconds].append(
                    timed_training(train, validation, classification, classes, settings, seconds)
                )
        throttled, every = statistics.median(times[30.0]), statistics.median(times[0.0])
        rows.append(
            {
                "network": name,
                "epochs": arguments.epochs,
                "every 30 s (s)": round(throttled, 2),
                "every epoch (s)": round(every, 2),
                "ratio": round(every / throttled, 2),
                "machine": f"{platform.machine()}, 1 thread",
            }
        )
    table = pd.DataFrame(rows)
    print(table.to_markdown(index=False))
    table.to_csv(arguments.output, index=False)


if __name__ == "__main__":
    main()
