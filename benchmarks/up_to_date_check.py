"""What an up-to-date workflow costs to check: ``snakemake results/fom_summary.csv`` with
nothing to do, for a grid of 60 models.

Builds (once; ``--keep`` keeps the folder for the next time) the default workflow with
20 decay rates x 3 seeds on a small toy sample (1 epoch), up to
``results/fom_summary.csv`` (its files touched in order, as a clean build leaves them),
then runs the same command again ``--repeats`` times, each in a fresh process, and
measures its CPU time (user + system, from the operating system's accounting of that
process and its children) and wall time. A dry run (``-n``) of the same target, and
Snakemake's own floor (a one-rule workflow, up to date), are measured beside it, and so
is the same DAG made of plain rules (``same_shape.smk``: the same 249 jobs, output files
and dependencies, each rule a ``touch`` with one param): what Snakemake itself costs for
a workflow of this shape. The table gives each command's median CPU time, its lowest (a
busy machine only adds to it) and its median over the floor's (a ratio that holds when
the whole machine is slower). Prints the table and writes it to
``benchmarks/up_to_date_check.csv``::

    python benchmarks/up_to_date_check.py --keep /tmp/sixty-models
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
from pathlib import Path

import pandas as pd
import yaml
from measured import run_measured

ROOT = Path(__file__).resolve().parents[1]
TARGET = "results/fom_summary.csv"


def sixty_model_config() -> dict:
    """The shipped ``config.yaml`` with a user's changes: 20 decay rates x 3 seeds, one
    epoch on a tenth of the embedded dataset."""
    config = yaml.safe_load((ROOT / "config.yaml").read_text())
    config["data"] = {"toy": {"events_scale": 0.1}}
    config["training"] = {"epochs": 1}
    config["grid"] = {"decay_rate": [round(10.0**-exponent, 20) for exponent in range(1, 21)]}
    config["seeds"] = [1, 2, 3]
    return config


def same_shape_config(config: dict) -> tuple[str, ...]:
    """The ``--config`` of ``same_shape.smk`` for a workflow config: as many samples as
    the embedded dataset has processes, grid points and seeds as the config has."""
    from cmsnn.config.checks import read_process_table

    processes = read_process_table(ROOT / "resources/toy_processes.yaml")
    return (
        "--config", f"samples={len(processes)}",
        f"points={len(config['grid']['decay_rate'])}", f"seeds={len(config['seeds'])}",
    )  # fmt: skip


SAME_SHAPE_SNAKEFILE = Path(__file__).with_name("same_shape.smk")
#: Snakemake's own cost, beside: one rule with a param (Snakemake imports pandas to
#: compare params whenever pandas is installed), nothing to do.
ONE_RULE = 'rule all:\n    output: "x"\n    params: p=1\n    shell: "touch {output}"\n'
#: What each row of the table ran.
COMMANDS = {
    "up to date": f"snakemake {TARGET}",
    "dry run (-n)": f"snakemake {TARGET} -n",
    "same shape": "the same DAG of plain rules (same_shape.smk), up to date",
    "floor": "a one-rule workflow with a param, up to date",
}


def snakemake(
    workdir: Path, *arguments: str, snakefile: Path = ROOT / "Snakefile"
) -> tuple[float, float, str]:
    """Run Snakemake in a fresh process: its CPU seconds (with its children's), wall
    seconds and output. The workflow reads ``workdir``'s ``config.yaml``, as a user's
    run in its own folder does."""
    command = [
        sys.executable, "-m", "snakemake", "--snakefile", str(snakefile),
        "--directory", str(workdir), "--cores", "2", *arguments,
    ]  # fmt: skip
    usage, wall, output = run_measured(command, ROOT)
    return usage.ru_utime + usage.ru_stime, wall, output


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="build in this folder and keep it")
    parser.add_argument("--output", type=Path, default=Path(__file__).with_suffix(".csv"))
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        workdir = arguments.keep or Path(scratch)
        workdir.mkdir(parents=True, exist_ok=True)
        config = sixty_model_config()
        (workdir / "config.yaml").write_text(yaml.safe_dump(config))
        same_shape_arguments = same_shape_config(config)
        snakemake(workdir, TARGET)  # builds what is missing
        # A kept folder may hold inputs rewritten with the same content after their
        # consumers ran: Snakemake then reads and checksums them at every check. Touched
        # in the DAG's order, the folder is as a clean build leaves it.
        snakemake(workdir, "--touch", "--forceall", TARGET)
        floor = Path(scratch) / "one-rule"
        floor.mkdir()
        (floor / "Snakefile").write_text(ONE_RULE)
        snakemake(floor, snakefile=floor / "Snakefile")
        same_shape = Path(scratch) / "same-shape"
        snakemake(same_shape, *same_shape_arguments, snakefile=SAME_SHAPE_SNAKEFILE)
        runs = {name: [] for name in COMMANDS}
        for _ in range(arguments.repeats):
            cpu, wall, output = snakemake(workdir, TARGET)
            if "Nothing to be done" not in output:
                raise RuntimeError(f"the workflow was not up to date:\n{output[-3000:]}")
            runs["up to date"].append((cpu, wall))
            runs["dry run (-n)"].append(snakemake(workdir, "-n", TARGET)[:2])
            runs["same shape"].append(
                snakemake(same_shape, *same_shape_arguments, snakefile=SAME_SHAPE_SNAKEFILE)[:2]
            )
            runs["floor"].append(snakemake(floor, snakefile=floor / "Snakefile")[:2])
    median_cpu = {
        name: statistics.median(cpu for cpu, _ in measured) for name, measured in runs.items()
    }
    table = pd.DataFrame(
        [
            {
                "command": COMMANDS[name],
                "models": 0 if name == "floor" else 60,
                "cpu_s": round(median_cpu[name], 2),
                "cpu_min_s": round(min(cpu for cpu, _ in measured), 2),
                "cpu_vs_floor": round(median_cpu[name] / median_cpu["floor"], 2),
                "wall_s": round(statistics.median(wall for _, wall in measured), 2),
            }
            for name, measured in runs.items()
        ]
    )
    table.to_csv(arguments.output, index=False)
    print(f"{platform.machine()}, {os.cpu_count()} cores, {arguments.repeats} runs (median; min)")
    print(table.to_markdown(index=False))


if __name__ == "__main__":
    main()
