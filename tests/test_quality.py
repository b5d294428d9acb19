"""The project's own hygiene, checked like behaviour: lint-clean workflow and code."""

from __future__ import annotations

import subprocess
import sys

from snakemake_runs import ROOT


def test_snakemake_lint_is_clean():
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "--lint", "--snakefile", str(ROOT / "Snakefile")],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Congratulations" in result.stdout + result.stderr, result.stdout + result.stderr


def test_ruff_check_and_format_are_clean():
    for command in (["check"], ["format", "--check"]):
        result = subprocess.run(
            [sys.executable, "-m", "ruff", *command, "."], cwd=ROOT, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stdout + result.stderr


def test_snakefmt_leaves_the_workflow_files_as_they_are():
    result = subprocess.run(
        [sys.executable, "-m", "snakefmt", "--check", "Snakefile", "workflow/rules"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


#: The one rule that starts TensorFlow (it trains and exports the network); every other
#: rule, predictions and importance among them (ONNX Runtime), starts without it.
NETWORK_RULE_SCRIPTS = {"train_model"}


def test_rules_that_run_no_network_never_import_tensorflow():
    """Importing TensorFlow costs seconds and gigabytes per job: the light rules
    (ingestion, splitting, evaluation, summaries, plots) must not pay it."""
    import ast

    modules = set()
    for script in sorted((ROOT / "workflow" / "scripts").glob("*.py")):
        if script.stem in NETWORK_RULE_SCRIPTS:
            continue
        for node in ast.walk(ast.parse(script.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("cmsnn"):
                modules.add(node.module)
    assert len(modules) > 10  # every stage's module, not an empty check
    code = (
        "import importlib, sys\n"
        f"for name in {sorted(modules)!r}: importlib.import_module(name)\n"
        "print(sorted({'tensorflow', 'keras', 'jax'} & set(sys.modules)))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
