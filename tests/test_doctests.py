"""The examples in the package's docstrings run as written: every module with a
``>>>`` example is a doctest of the test command."""

from __future__ import annotations

import doctest
import importlib

import pytest

from snakemake_runs import ROOT, package_modules


def module_source(name: str) -> str:
    base = ROOT / "src" / "cmsnn" / name.replace(".", "/")
    path = base.with_suffix(".py") if base.with_suffix(".py").is_file() else base / "__init__.py"
    return path.read_text()


WITH_EXAMPLES = [name for name in package_modules() if ">>>" in module_source(name)]


def test_the_pure_functions_have_examples():
    assert {"vocabulary", "config.checks", "pipeline.paths", "statistics.significance"} <= set(
        WITH_EXAMPLES
    )


@pytest.mark.parametrize("name", WITH_EXAMPLES)
def test_docstring_examples_run(name):
    module = importlib.import_module(f"cmsnn.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0, f"cmsnn.{name}: {result.failed} of its examples failed"
