"""The package's shape holds: the stage subpackages import only the ones below them
(import-linter's layers contract in pyproject.toml), the workflow's start-up code
imports no pandas, pyarrow, NumPy or TensorFlow, and a stage that breaks either is
caught."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def lint_imports(project: Path) -> subprocess.CompletedProcess:
    """import-linter on the package under ``project/src``, with ``project``'s contracts."""
    code = "import sys; from importlinter.cli import lint_imports_command; lint_imports_command()"
    return subprocess.run(
        [sys.executable, "-c", code, "--no-cache"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(project / "src")},
    )


def project_copy(folder: Path) -> Path:
    folder.mkdir()
    shutil.copy(ROOT / "pyproject.toml", folder)
    shutil.copytree(ROOT / "src", folder / "src", ignore=shutil.ignore_patterns("*.egg-info"))
    return folder


def test_the_stages_keep_their_layers():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 2 kept, 0 broken." in result.stdout


def test_a_lower_stage_importing_a_higher_one_is_caught(tmp_path):
    """The statistics stage may not import the figures (figures draw statistics)."""
    copy = project_copy(tmp_path / "project")
    scan = copy / "src" / "cmsnn" / "statistics" / "scan.py"
    scan.write_text(scan.read_text() + "\nfrom cmsnn.figures import style  # noqa\n")
    result = lint_imports(copy)
    assert result.returncode == 1, result.stdout
    assert "stage subpackages in layers BROKEN" in result.stdout
    assert "cmsnn.statistics.scan -> cmsnn.figures.style" in result.stdout


def test_start_up_code_importing_pandas_is_caught(tmp_path):
    copy = project_copy(tmp_path / "project")
    paths = copy / "src" / "cmsnn" / "pipeline" / "paths.py"
    paths.write_text(paths.read_text() + "\nimport pandas  # noqa\n")
    result = lint_imports(copy)
    assert result.returncode == 1, result.stdout
    assert "imports no pandas, pyarrow, NumPy or TensorFlow BROKEN" in result.stdout


def test_every_stage_subpackage_says_what_goes_there():
    """``ls src/cmsnn`` shows the stages; each subpackage's docstring says what lives in
    it, so a newcomer finds where a new kind of thing goes."""
    package = ROOT / "src" / "cmsnn"
    subpackages = sorted(p.parent.name for p in package.glob("*/__init__.py"))
    assert subpackages == [
        "config", "figures", "ingestion", "learning", "pipeline", "preprocessing",
        "statistics", "summary",
    ]  # fmt: skip
    for name in subpackages:
        docstring = (package / name / "__init__.py").read_text()
        assert docstring.startswith('"""') and len(docstring) > 80, name


def test_no_module_grows_past_its_seams():
    """About 450 lines at most: a module that grows past it has two concepts in it."""
    for path in (ROOT / "src" / "cmsnn").rglob("*.py"):
        lines = len(path.read_text().splitlines())
        assert lines <= 480, f"{path.relative_to(ROOT)}: {lines} lines; split it along a seam"
