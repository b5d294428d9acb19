"""The whole pipeline at scale: every rule's wall time and peak memory.

Runs the default workflow (the embedded toy generator, the default network and FOM) on
about ``--events`` events in a scratch folder, with one grid point, two seeds (so the
seed ensemble runs too) and ``--epochs`` epochs, then reads the ``benchmark:`` file every
job writes and prints, per rule: the jobs, the longest and the summed wall time, and the
highest peak resident memory, also as a multiple of the events' size in memory (the
ingested events as Arrow holds them: the "copies of the data" a rule holds at its peak).
Writes the table to ``benchmarks/pipeline_scale.csv``::

    python benchmarks/pipeline_scale.py --events 10000000 --epochs 3
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import yaml

from cmsnn.config.schema import read_config_files

ROOT = Path(__file__).resolve().parents[1]


def scaled_config(events: int, epochs: int) -> dict:
    """The default config, its toy dataset scaled to about ``events`` events."""
    config = read_config_files(ROOT / "config.yaml")  # the defaults filled in
    processes = ROOT / config["data"]["toy"]["processes"]
    generated = sum(entry["events"] for entry in yaml.safe_load(processes.read_text()).values())
    config["data"]["toy"] |= {"processes": str(processes), "events_scale": events / generated}
    config["training"]["epochs"] = epochs
    config["grid"] = {"decay_rate": [config["training"]["decay_rate"]]}
    config["seeds"] = [1, 2]
    return config


def rule_table(results: Path) -> pd.DataFrame:
    """Per rule, from the jobs' benchmark files: jobs, wall times, the highest peak RSS."""
    rows = []
    for path in sorted((results / "benchmarks").rglob("*.tsv")):
        rule = path.relative_to(results / "benchmarks").parts[0].removesuffix(".tsv")
        measured = pd.read_csv(path, sep="\t").iloc[0]
        rows.append({"rule": rule, "seconds": measured["s"], "max_rss_mib": measured["max_rss"]})
    jobs = pd.DataFrame(rows)
    return (
        jobs.groupby("rule", sort=False)
        .agg(
            jobs=("seconds", "size"),
            longest_s=("seconds", "max"),
            total_s=("seconds", "sum"),
            peak_mib=("max_rss_mib", "max"),
        )
        .reset_index()
    )


def events_in_memory_mib(results: Path) -> tuple[int, float]:
    """The number of ingested events and their size in memory (Arrow)."""
    tables = [pq.read_table(path) for path in sorted((results / "ingested").glob("*.parquet"))]
    return sum(t.num_rows for t in tables), sum(t.nbytes for t in tables) / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--cores", type=int, default=os.cpu_count())
    parser.add_argument("--keep", type=Path, help="run in this folder and keep it")
    parser.add_argument(
        "--tabulate-only",
        action="store_true",
        help="do not run: tabulate the benchmark files of the --keep folder's last run",
    )
    parser.add_argument("--output", type=Path, default=Path(__file__).with_suffix(".csv"))
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        workdir = arguments.keep or Path(scratch)
        workdir.mkdir(parents=True, exist_ok=True)
        config = workdir / "config.yaml"
        started = time.perf_counter()
        if not arguments.tabulate_only:
            config.write_text(yaml.safe_dump(scaled_config(arguments.events, arguments.epochs)))
            subprocess.run(
                [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"),
                 "--directory", str(workdir), "--configfile", str(config),
                 "--cores", str(arguments.cores)],
                check=True, cwd=ROOT,
            )  # fmt: skip
        wall = time.perf_counter() - started
        table = rule_table(workdir / "results")
        events, data_mib = events_in_memory_mib(workdir / "results")
    table["peak_vs_data"] = (table["peak_mib"] / data_mib).round(2)
    table = table.round({"longest_s": 1, "total_s": 1, "peak_mib": 0})
    table.to_csv(arguments.output, index=False)
    print(
        f"{platform.machine()}, {os.cpu_count()} cores; {events:,} events "
        f"({data_mib:,.0f} MiB in memory), {arguments.epochs} epochs, 2 seeds"
        + ("" if arguments.tabulate_only else f"; --cores {arguments.cores}: {wall / 60:.1f} min")
    )
    print(table.to_markdown(index=False))


if __name__ == "__main__":
    main()
