"""What writing and reading the prediction files costs: pandas' CSV writer (the
project's until issue 11), pyarrow's CSV writer (the project's now), and a Parquet
file, side by side on the same predictions; each read back with pandas' reader (the
project's), pyarrow's, and pyarrow's Parquet reader.

Synthetic multi-class predictions of a given size (five softmax scores, the predicted
class, weight, process, class, and where each event came from) are written and read
back, interleaved (A B C A B C …, several repeats, median). Prints a table and writes
it to CSV beside this script.

    python benchmarks/prediction_output.py [--events 1000000 5000000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from cmsnn.dataframes import write_csv, write_predictions_csv

CLASSES = ["Signal", "Wjets", "TTbar", "Z2nu", "Other"]


def predictions(n_events: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    class_index = rng.choice(len(CLASSES), n_events, p=[0.2, 0.35, 0.2, 0.15, 0.1])
    logits = rng.normal(0.0, 1.0, (n_events, len(CLASSES))).astype(np.float32)
    logits[np.arange(n_events), class_index] += 2.5
    scores = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    frame = pd.DataFrame(scores, columns=[f"score_{name}" for name in CLASSES])
    frame["predicted_class"] = np.asarray(CLASSES, dtype=object)[scores.argmax(axis=1)]
    frame["weight"] = 10 ** rng.uniform(-4, 0, n_events)
    frame["process"] = np.asarray([f"{name}.root" for name in CLASSES], dtype=object)[class_index]
    frame["class"] = np.asarray(CLASSES, dtype=object)[class_index]
    frame["source_file"] = np.asarray([f"results/toy_data/{n}.csv" for n in CLASSES])[class_index]
    frame["source_entry"] = np.arange(n_events, dtype=np.int64)
    return frame


WRITERS = {
    "pandas CSV": lambda frame, path: write_csv(frame, path),
    "pyarrow CSV": lambda frame, path: write_predictions_csv(frame, path),
    "Parquet": lambda frame, path: frame.to_parquet(path, index=False),
}
READERS = {  # of the file the same-named writer wrote
    "pandas CSV": pd.read_csv,
    "pyarrow CSV": lambda path: pacsv.read_csv(path).to_pandas(),
    "Parquet": lambda path: pq.read_table(path).to_pandas(),
}


def timed(function, *arguments) -> float:
    start = time.perf_counter()
    function(*arguments)
    return time.perf_counter() - start


def measure(n_events: int, repeats: int, folder: Path) -> list[dict]:
    frame = predictions(n_events)
    times = {name: {"write": [], "read": []} for name in WRITERS}
    for _ in range(repeats):
        for name, write in WRITERS.items():  # interleaved: A B C A B C …
            path = folder / f"{name.replace(' ', '_')}.out"
            times[name]["write"].append(timed(write, frame, path))
            times[name]["read"].append(timed(READERS[name], path))
    parquet_write = float(np.median(times["Parquet"]["write"]))
    rows = []
    for name, measured in times.items():
        write, read = float(np.median(measured["write"])), float(np.median(measured["read"]))
        size = (folder / f"{name.replace(' ', '_')}.out").stat().st_size
        rows.append(
            {
                "events": n_events,
                "format": name,
                "write_s": round(write, 3),
                "read_s": round(read, 3),
                "write_vs_parquet": round(write / parquet_write, 2),
                "size_mb": round(size / 1e6, 1),
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, nargs="+", default=[1_000_000, 5_000_000])
    parser.add_argument("--repeats", type=int, default=3)
    arguments = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for n_events in arguments.events:
            rows += measure(n_events, arguments.repeats, Path(folder))
    table = pd.DataFrame(rows)
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"median of {arguments.repeats} interleaved repeats")  # fmt: skip
    print(table.to_string(index=False))
    table.to_csv(Path(__file__).with_suffix(".csv"), index=False)


if __name__ == "__main__":
    main()
