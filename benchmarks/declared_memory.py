"""Declared against used memory: every rule's ``mem_mb`` beside its peak resident
memory, for one CSV file of 0.1, 1 and 2 GB.

For each size, writes the embedded toy dataset (every process, in its proportions) as
one headerless CSV of about that size, runs the default workflow on it
(``data.source: csv``; one grid point, two seeds so that the seed ensemble runs, one
epoch) and reads, for every job, what Snakemake's log says it declared (``mem_mb``,
worked out by ``cmsnn.pipeline.resources`` from its input files' size) and what its
``benchmark:`` file measured (``max_rss``). Prints per size and rule the largest input,
the declared and the peak MiB and their ratio (a job over 1.0 would be killed by a
batch system that enforces memory), and writes the table to
``benchmarks/declared_memory.csv``::

    python benchmarks/declared_memory.py --sizes-gb 0.1 1 2 --keep /tmp/declared
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

from cmsnn.config.checks import read_process_table
from cmsnn.ingestion.toydata import generate_process

ROOT = Path(__file__).resolve().parents[1]
#: A job's block in Snakemake's log: its rule, then (among others) its input files,
#: benchmark file and resources.
JOB_BLOCK = re.compile(r"^(?:local)?rule (?P<rule>\w+):\n(?P<body>(?:    .*\n)+)", re.M)


def write_events_csv(path: Path, gigabytes: float, seed: int = 1) -> int:
    """The toy dataset as one headerless CSV of about ``gigabytes``: every process in
    its proportions, scaled from the bytes per event of a small first pass."""
    processes = read_process_table(ROOT / "resources/toy_processes.yaml")
    total = sum(entry["events"] for entry in processes.values())
    probe = pd.concat(
        generate_process(name, entry, max(1, entry["events"] // 100), seed)
        for name, entry in processes.items()
    )
    bytes_per_event = len(probe.to_csv(header=False, index=False).encode()) / len(probe)
    scale = gigabytes * 1e9 / bytes_per_event / total
    events = 0
    with path.open("w") as file:
        for name, entry in processes.items():
            wanted = max(1, round(entry["events"] * scale))
            for start in range(0, wanted, 1_000_000):  # in pieces: memory stays small
                frame = generate_process(name, entry, min(1_000_000, wanted - start),
                                         seed + start)  # fmt: skip
                frame.to_csv(file, header=False, index=False)
                events += len(frame)
    return events


def run_config(csv: Path, epochs: int) -> dict:
    config = yaml.safe_load((ROOT / "config.yaml").read_text())
    config["data"] = {"source": "csv", "csv_files": [str(csv)]}
    config["training"] = {"epochs": epochs}
    config["grid"] = {"decay_rate": [0.01]}
    config["seeds"] = [1, 2]
    return config


def job_memory(workdir: Path) -> pd.DataFrame:
    """Per job of the run: rule, input MiB, declared ``mem_mb`` and peak MiB."""
    rows = []
    for log in sorted((workdir / ".snakemake/log").glob("*.snakemake.log")):
        for block in JOB_BLOCK.finditer(log.read_text()):
            fields = dict(re.findall(r"^    (\w+): (.*)$", block["body"], re.M))
            if "benchmark" not in fields:
                continue
            measured = pd.read_csv(workdir / fields["benchmark"], sep="\t").iloc[0]
            inputs = [workdir / name for name in fields.get("input", "").split(", ") if name]
            rows.append(
                {
                    "rule": block["rule"],
                    "input_mib": sum(p.stat().st_size for p in inputs if p.is_file()) / 2**20,
                    "declared_mib": int(re.search(r"\bmem_mb=(\d+)", fields["resources"])[1])
                    * 1e6
                    / 2**20,
                    "peak_mib": measured["max_rss"],
                }
            )
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes-gb", type=float, nargs="+", default=[0.1, 1.0, 2.0])
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--cores", type=int, default=os.cpu_count())
    parser.add_argument("--keep", type=Path, help="run in this folder and keep it")
    parser.add_argument("--output", type=Path, default=Path(__file__).with_suffix(".csv"))
    arguments = parser.parse_args()
    tables = []
    with tempfile.TemporaryDirectory() as scratch:
        base = arguments.keep or Path(scratch)
        for gigabytes in arguments.sizes_gb:
            workdir = base / f"{gigabytes:g}GB"
            workdir.mkdir(parents=True, exist_ok=True)
            csv = workdir / "events.csv"
            started = time.perf_counter()
            if not csv.exists():
                write_events_csv(csv, gigabytes)
            (workdir / "config.yaml").write_text(yaml.safe_dump(run_config(csv, arguments.epochs)))
            subprocess.run(
                [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"),
                 "--directory", str(workdir), "--cores", str(arguments.cores)],
                check=True, cwd=ROOT,
            )  # fmt: skip
            jobs = job_memory(workdir)
            jobs["ratio"] = jobs["peak_mib"] / jobs["declared_mib"]
            worst = jobs.loc[jobs.groupby("rule")["ratio"].idxmax()]
            worst.insert(0, "csv_gb", round(csv.stat().st_size / 1e9, 2))
            tables.append(worst)
            print(f"{gigabytes:g} GB: {(time.perf_counter() - started) / 60:.1f} min", flush=True)
    table = pd.concat(tables).round({"input_mib": 1, "declared_mib": 0, "peak_mib": 0, "ratio": 2})
    table.to_csv(arguments.output, index=False)
    print(f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"per rule, its job with the highest peak ÷ declared")  # fmt: skip
    print(table.to_markdown(index=False))


if __name__ == "__main__":
    main()
