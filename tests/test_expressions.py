"""The safe expression language of cuts: what it accepts, computes and refuses."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cmsnn.expressions import (
    ExpressionError,
    evaluate_expression,
    expression_names,
    parse_expression,
)
from cmsnn.selection import apply_preselection, check_preselection

NAMES = ["Met", "Njet", "LepEta", "weight", "process"]
COLUMNS = {
    "Met": np.array([100.0, 250.0, 400.0, 600.0]),
    "Njet": np.array([1.0, 2.0, 3.0, 4.0]),
    "LepEta": np.array([-2.0, 0.5, -1.0, 2.4]),
    "weight": np.array([1.0, -0.5, 2.0, 1.0]),
    "process": np.array(["a.root", "b.root", "a.root", "c.root"], dtype=object),
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Met > 250", [False, False, True, True]),
        ("Met > 200 and Njet >= 3", [False, False, True, True]),
        ("Met > 500 or not Njet > 1", [True, False, False, True]),
        ("abs(LepEta) < 1.5", [False, True, True, False]),
        ("200 < Met <= 400", [False, True, True, False]),
        ("(Met > 200) & (Njet < 4) | (LepEta > 2)", [False, True, True, True]),
        ("~(Met > 200)", [True, False, False, False]),
        ("Met / Njet ** 2 > 40 and -LepEta > 0.5", [True, False, True, False]),
        ("sqrt(Met) + log(Njet) >= 20", [False, False, True, True]),
        ("process == 'a.root'", [True, False, True, False]),
        ("weight < 0 or Met % 200 == 0", [False, True, True, True]),
        ("1e2 < Met", [False, True, True, True]),
    ],
)
def test_expressions_evaluate_like_python_on_columns(text, expected):
    tree = parse_expression(text, NAMES)
    np.testing.assert_array_equal(evaluate_expression(tree, COLUMNS), expected)


def test_arithmetic_gives_numbers_and_names_are_listed():
    tree = parse_expression("Met * 2 + abs(LepEta) - Njet", NAMES)
    np.testing.assert_allclose(evaluate_expression(tree, COLUMNS), [201.0, 498.5, 798.0, 1198.4])
    assert expression_names(tree) == ["Met", "LepEta", "Njet"]


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("@pd.io.common.os.system('touch x') == 0 or Met > -1", "syntax error"),
        ("__import__('os').system('touch x') == 0", "the call"),
        ("Met.__class__ == 1", "the attribute access 'Met.__class__'"),
        ("Met[0] > 1", "the subscript 'Met[0]'"),
        ("(lambda: 1)() == 1", "lambda: 1"),
        ("[x for x in Met] == 1", "the comprehension"),
        ("exec('1') == 1", "the call 'exec'"),
        ("abs(Met, 2) > 1", "abs() takes one argument"),
        ("Foo > 1", "unknown name 'Foo'"),
        ("(x := 3) > 1", "the assignment"),
        ("Met > 1 if Njet else Met < 2", "the conditional expression"),
        ("Met > None", "the constant None"),
        ("Met >> ", "syntax error"),
    ],
)
def test_anything_else_is_refused_naming_the_token(tmp_path, monkeypatch, text, named):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ExpressionError, match="preselection") as info:
        check_preselection(text, ["Met", "Njet", "LepEta"])
    assert named in str(info.value)
    assert not (tmp_path / "x").exists()


def test_the_hostile_preselection_runs_nothing_when_applied(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    events = pd.DataFrame({"Met": [1.0, 2.0], "weight": 1.0, "process": "a"})
    hostile = "@pd.io.common.os.system('touch x') == 0 or Met > -1"
    with pytest.raises(ValueError, match="syntax error"):
        apply_preselection(events, hostile)
    assert not (tmp_path / "x").exists()
