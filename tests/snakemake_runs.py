"""Helpers to run the real workflow with Snakemake in a scratch folder."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "tests" / "configs"
#: A run is taken for hung when, this long, it printed nothing and wrote no file in its
#: folder (a training job writes its log every epoch). A slow, busy machine only makes
#: a run longer, never silent: a guard against hangs, not a speed check.
INACTIVITY_TIMEOUT = float(os.environ.get("CMSNN_TEST_INACTIVITY_TIMEOUT", "600"))


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
    snakefile: Path = ROOT / "Snakefile",
    python: Path | str = sys.executable,
    memory_limit_mb: int | None = None,
) -> subprocess.CompletedProcess:
    """Run Snakemake on the project's Snakefile (or ``snakefile``) in ``workdir``;
    output is captured. ``python`` is the interpreter that runs it (another
    environment's, e.g. the HTCondor tests' own). ``memory_limit_mb`` bounds the address
    space of Snakemake and its jobs.

    ``cwd`` is where Snakemake starts (and looks for ``--profile NAME``). A run silent
    for :data:`INACTIVITY_TIMEOUT` seconds is killed with its jobs, never left hanging."""
    command = [
        str(python), "-m", "snakemake",
        "--snakefile", str(snakefile),
        "--directory", str(workdir),
        "--cores", "2",
        *arguments,
    ]  # fmt: skip
    if memory_limit_mb:  # the address space of Snakemake and its jobs (util-linux)
        command = ["prlimit", f"--as={memory_limit_mb << 20}", *command]
    result = run_watched(command, workdir, env=env, cwd=cwd)
    if check and result.returncode != 0:
        raise AssertionError(
            f"snakemake {' '.join(arguments)} failed ({result.returncode}):\n"
            f"{result.stdout[-5000:]}\n{result.stderr[-5000:]}"
        )
    return result


def run_watched(command, watched: Path, env=None, cwd=None) -> subprocess.CompletedProcess:
    """Run ``command`` to its end unless it stays inactive (no output, no file written
    under ``watched``) for :data:`INACTIVITY_TIMEOUT` seconds; then kill its process
    group and fail, saying so."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen(
            command, stdout=out, stderr=err, text=True, env=env, cwd=cwd, start_new_session=True
        )
        state, last_change = None, time.monotonic()
        while True:
            try:
                process.wait(timeout=1.0)  # returns at once when the run ends
                break
            except subprocess.TimeoutExpired:
                pass
            now_state = (os.fstat(out.fileno()).st_size, os.fstat(err.fileno()).st_size,
                         _newest_change(watched))  # fmt: skip
            if now_state != state:
                state, last_change = now_state, time.monotonic()
            elif time.monotonic() - last_change > INACTIVITY_TIMEOUT:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                raise AssertionError(
                    f"{' '.join(map(str, command))}: no output and no file written for "
                    f"{INACTIVITY_TIMEOUT:.0f} s; killed as hung"
                )
        out.seek(0)
        err.seek(0)
        return subprocess.CompletedProcess(command, process.returncode, out.read(), err.read())


def _newest_change(folder: Path) -> float:
    newest = 0.0
    for directory, _, files in os.walk(folder):
        for name in files:
            try:
                newest = max(newest, os.stat(os.path.join(directory, name)).st_mtime)
            except FileNotFoundError:  # written and renamed meanwhile
                continue
    return newest


def package_modules() -> list[str]:
    """Every module of the cmsnn package, dotted and relative to it (``statistics.scan``,
    ``figures`` for a subpackage's ``__init__``), sorted; not the package's own."""
    package = ROOT / "src" / "cmsnn"
    names = []
    for path in package.rglob("*.py"):
        parts = path.relative_to(package).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if parts:
            names.append(".".join(parts))
    return sorted(names)


def modules_loaded_with(imports: list[str], watched) -> list[str]:
    """Which of the ``watched`` top-level modules a fresh Python process holds after
    importing ``imports`` (and nothing else), sorted."""
    code = (
        "import json, sys\n"
        + "".join(f"import {module}\n" for module in imports)
        + f"print(json.dumps(sorted(set({sorted(watched)!r}) & set(sys.modules))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    )
    return json.loads(result.stdout)


def workflow_copy(folder: Path) -> Path:
    """The workflow (Snakefile, rules, scripts, package source, resources) copied into
    ``folder`` with the files' times kept (a script newer than its outputs reruns them),
    so that a test can edit its package source without touching the real one."""
    skipped = shutil.ignore_patterns(
        ".*", "results", "tests", "benchmarks", "__pycache__", "*.egg-info"
    )
    shutil.copytree(ROOT, folder, ignore=skipped)
    return folder


def planned_jobs(workdir: Path, *arguments: str, snakefile: Path = ROOT / "Snakefile") -> dict:
    """The jobs a dry run would execute, as ``{rule: count}`` (empty when up to date)."""
    result = snakemake(workdir, "--dry-run", *arguments, snakefile=snakefile)
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
