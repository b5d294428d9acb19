"""What writing and reading the prediction files costs, and what the pipeline spends on
one: pandas' CSV writer (the project's until issue 11), pyarrow's CSV writer (read back
with pandas, the project's until issue 31), a Parquet file (read by the later rules
since issue 31), and the project's now: Parquet for the rules and the CSV beside it.

Synthetic multi-class predictions of a given size (five softmax scores, the predicted
class, weight, process, class, and where each event came from) are written and read
back, interleaved (A B C A B C …, several repeats, median). ``pipeline_s`` is what one
prediction file costs the workflow: its writing and ``READS`` reads (evaluate_model,
fit_binned_likelihood, plot_model and average_seed_predictions read each). Prints a
table and writes it to CSV beside this script.

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

from cmsnn.dataframes import (
    read_csv_with_names,
    read_predictions,
    write_csv,
    write_parquet,
    write_predictions_csv,
)

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
    "Parquet": lambda frame, path: write_parquet(frame, path),
}
READERS = {  # of the file the same-named writer wrote, as the project reads (read) it
    "pandas CSV": read_csv_with_names,
    "pyarrow CSV": read_csv_with_names,
    "Parquet": read_predictions,
}
#: Rules that read each prediction file.
READS = 4
#: The project's now: the Parquet file the rules read, the pyarrow CSV beside it.
BOTH = "Parquet + pyarrow CSV"


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
        rows.append({"events": n_events, "format": name, "write_s": write, "read_s": read,
                     "size_mb": size / 1e6})  # fmt: skip
    parquet, csv = rows[2], rows[1]
    rows.append({"events": n_events, "format": BOTH,
                 "write_s": parquet["write_s"] + csv["write_s"], "read_s": parquet["read_s"],
                 "size_mb": parquet["size_mb"] + csv["size_mb"]})  # fmt: skip
    for row in rows:
        row["write_vs_parquet"] = round(row["write_s"] / parquet_write, 2)
        row["pipeline_s"] = round(row["write_s"] + READS * row["read_s"], 3)
        row["write_s"], row["read_s"] = round(row["write_s"], 3), round(row["read_s"], 3)
        row["size_mb"] = round(row["size_mb"], 1)
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
