"""CSV ingestion: throughput and peak memory of the pipeline against pandas.

Writes a headerless CSV of about ``--size-gb`` GB in the default dataset's layout (17
variables, weight, process; events of the embedded toy generator, repeated), then
converts it to Parquet in a fresh process per method, alternating the methods (A B A B),
and measures that process's wall time and peak resident memory:

- ``cmsnn ingest_csv``: :func:`cmsnn.ingestion.csv_files.ingest_csv_files` as the
  workflow runs it (pyarrow's streaming reader, every check, the class labels, one
  Parquet row group per block of text);
- ``pandas read_csv + to_parquet``: what a script does, with the column types given.

Prints a table (median of the repeats) and writes it to ``benchmarks/csv_ingestion.csv``::

    python benchmarks/csv_ingestion.py --size-gb 2 --repeats 2
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from cmsnn.config.schema import read_config_files

ROOT = Path(__file__).resolve().parents[1]

_MEASURE = """
import json, sys, time
method, source, output, config = sys.argv[1:5]
config = json.loads(config)
names = [*config["features"], "Weights", "Process"]
start = time.perf_counter()
if method == "cmsnn":
    from cmsnn.ingestion.csv_files import ingest_csv_files
    ingest_csv_files(csv=source, parquet=output, features=config["features"],
                     weight_column="Weights", process_column="Process", header=False,
                     classes=config["classes"])
else:
    import pandas as pd
    types = {name: "float32" for name in config["features"]} | {"Weights": "float64"}
    events = pd.read_csv(source, names=names, header=None, dtype=types)
    events.to_parquet(output, index=False)
print(json.dumps({"seconds": time.perf_counter() - start}))
"""

METHODS = {
    "cmsnn": "cmsnn `ingest_csv` (streaming)",
    "pandas": "pandas `read_csv` + `to_parquet`",
}


def write_csv(path: Path, size_gb: float, config: dict) -> int:
    """A headerless CSV of about ``size_gb`` GB: toy events of every process, repeated."""
    from cmsnn.config.checks import read_process_table
    from cmsnn.ingestion.toydata import generate_process

    processes = read_process_table(ROOT / config["data"]["toy"]["processes"])
    blocks = [
        generate_process(name, parameters, 20_000, seed=1) for name, parameters in processes.items()
    ]
    block = pa.Table.from_pandas(pd.concat(blocks, ignore_index=True), preserve_index=False)
    options = pacsv.WriteOptions(include_header=False, quoting_style="none")
    events = 0
    with pacsv.CSVWriter(path, block.schema, write_options=options) as writer:
        while path.stat().st_size < size_gb * 1e9:
            writer.write_table(block)
            events += block.num_rows
    return events


def measure(method: str, source: Path, output: Path, config: dict) -> dict:
    """Run one method in a fresh process; its wall time and peak resident memory."""
    settings = json.dumps({"features": config["data"]["features"], "classes": config["classes"]})
    process = subprocess.Popen(
        [sys.executable, "-c", _MEASURE, method, str(source), str(output), settings],
        stdout=subprocess.PIPE,
        text=True,
    )
    _, status, usage = os.wait4(process.pid, 0)
    stdout = process.stdout.read()
    process.stdout.close()
    if status != 0:
        raise RuntimeError(f"{method} failed with status {status}")
    return json.loads(stdout) | {"peak_mib": usage.ru_maxrss / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-gb", type=float, default=2.0)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--output", type=Path, default=Path(__file__).with_suffix(".csv"))
    arguments = parser.parse_args()
    config = read_config_files(ROOT / "config.yaml")  # the defaults filled in
    with tempfile.TemporaryDirectory() as directory:
        source = Path(directory) / "events.csv"
        started = time.perf_counter()
        events = write_csv(source, arguments.size_gb, config)
        size_mb = source.stat().st_size / 1e6
        print(
            f"wrote {events:,} events, {size_mb:,.0f} MB, in {time.perf_counter() - started:.0f} s"
        )
        runs = {method: [] for method in METHODS}
        for _ in range(arguments.repeats):
            for method in METHODS:
                output = Path(directory) / f"{method}.parquet"
                runs[method].append(measure(method, source, output, config))
                output.unlink()
    reference = statistics.median(run["seconds"] for run in runs["pandas"])
    rows = []
    for method, label in METHODS.items():
        seconds = statistics.median(run["seconds"] for run in runs[method])
        rows.append(
            {
                "method": label,
                "size_mb": round(size_mb),
                "events": events,
                "seconds": round(seconds, 1),
                "mb_per_s": round(size_mb / seconds, 1),
                "throughput_vs_pandas": round(reference / seconds, 2),
                "peak_mib": round(max(run["peak_mib"] for run in runs[method])),
            }
        )
    table = pd.DataFrame(rows)
    table.to_csv(arguments.output, index=False)
    print(f"{platform.machine()}, {os.cpu_count()} cores, {arguments.repeats} repeats (median)")
    print(table.to_markdown(index=False))


if __name__ == "__main__":
    main()
