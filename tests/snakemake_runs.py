"""Helpers to run the real workflow with Snakemake in a scratch folder."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "tests" / "configs"


def make_workdir(folder: Path, config: str | dict) -> Path:
    """A working directory holding ``config.yaml`` (a file of tests/configs, or a dict)."""
    folder.mkdir(parents=True, exist_ok=True)
    if isinstance(config, dict):
        (folder / "config.yaml").write_text(yaml.safe_dump(config))
    else:
        shutil.copy(CONFIGS / config, folder / "config.yaml")
    return folder


def snakemake(
    workdir: Path,
    *arguments: str,
    check: bool = True,
    env: dict | None = None,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess:
    """Run Snakemake on the project's Snakefile in ``workdir``; output is captured.

    ``cwd`` is where Snakemake starts (and looks for ``--profile NAME``). A run that
    outlives the timeout is killed (SIGKILL), never left hanging."""
    command = [
        sys.executable, "-m", "snakemake",
        "--snakefile", str(ROOT / "Snakefile"),
        "--directory", str(workdir),
        "--cores", "2",
        *arguments,
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=900, env=env, cwd=cwd)
    if check and result.returncode != 0:
        raise AssertionError(
            f"snakemake {' '.join(arguments)} failed ({result.returncode}):\n"
            f"{result.stdout[-5000:]}\n{result.stderr[-5000:]}"
        )
    return result


def planned_jobs(workdir: Path, *arguments: str) -> dict[str, int]:
    """The jobs a dry run would execute, as ``{rule: count}`` (empty when up to date)."""
    result = snakemake(workdir, "--dry-run", *arguments)
    output = result.stdout + result.stderr
    if "Nothing to be done" in output:
        return {}
    table = output.split("Job stats:", 1)[1]
    jobs = {}
    for line in table.splitlines():
        match = re.fullmatch(r"\s*([A-Za-z_]\w*)\s+(\d+)\s*", line)
        if match and match.group(1) != "total":
            jobs[match.group(1)] = int(match.group(2))
        elif line.strip().startswith("total"):
            break
    return jobs
