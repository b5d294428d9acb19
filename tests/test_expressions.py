"""The safe expression language of cuts: what it accepts, computes and refuses."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pandas as pd
import pytest

from cmsnn.ingestion.expressions import (
    ExpressionError,
    evaluate_expression,
    expression_names,
    parse_expression,
)
from cmsnn.preprocessing.selection import apply_preselection, check_preselection

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


@pytest.mark.parametrize("text", ["Met", "Met + 1", "abs(LepEta)", "process", "(Met > 1) + 1"])
def test_a_preselection_must_be_a_condition_and_is_checked_from_its_text(text):
    with pytest.raises(ExpressionError, match="is not a condition"):
        check_preselection(text, NAMES[:3])


@pytest.mark.parametrize(
    "text", ["Met > 1", "not Met > 1", "(Met > 1) & ~(Njet < 2)", "True", "Met > 1 or Njet < 2"]
)
def test_conditions_pass_the_preselection_check(text):
    check_preselection(text, NAMES[:3])


def test_numbers_compute_as_floats_so_a_huge_power_is_infinite_not_endless():
    tree = parse_expression("9 ** 300 > Met", NAMES)
    with np.errstate(over="ignore"):
        assert evaluate_expression(tree, COLUMNS).tolist() == [True] * 4


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("9 ** 9 ** 9 > Met", "the power '9 ** 9 ** 9' has the exponent 3.8742e+08"),
        ("Met > 2 ** (10 ** 4)", "the power '2 ** (10 ** 4)' has the exponent 10000"),
        ("Met > 'abc'", "the text 'abc' at column 7 is not allowed"),
        ("process > 'a'", "the text 'a' at column 11 is not allowed"),
        ("'a' + Met > 1", "the text 'a' at column 1 is not allowed"),
    ],
)
def test_constants_that_cannot_be_computed_or_compared_are_refused(text, named):
    with pytest.raises(ExpressionError) as error:
        parse_expression(text, [*NAMES, "process"])
    assert named in str(error.value)


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


JETS = {
    "Jet_pt": ak.Array([[50.0, 20.0, 40.0], [], [10.0]]),
    "MET_pt": ak.Array([100.0, 200.0, 300.0]),
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Jet_pt[:, 0]", [50.0, -1.0, 10.0]),  # the first object; the fill value if none
        ("Jet_pt[:, 2]", [40.0, -1.0, -1.0]),
        ("ak.num(Jet_pt[Jet_pt > 15])", [3, 0, 0]),
        ("ak.sum(Jet_pt, axis=1)", [110.0, 0.0, 10.0]),
        ("ak.max(Jet_pt)", [50.0, -1.0, 10.0]),  # no jets: no maximum, the fill value
        ("MET_pt / 100 + ak.count_nonzero(Jet_pt > 30)", [3.0, 2.0, 3.0]),
        ("MET_pt > 150 and ak.num(Jet_pt) >= 1", [False, False, True]),
        ("2", [2, 2, 2]),
    ],
)
def test_object_expressions_pick_mask_and_reduce_per_event(text, expected):
    from cmsnn.ingestion.expressions import evaluate_object_expression

    tree = parse_expression(text, None, objects=True)
    np.testing.assert_array_equal(evaluate_object_expression(tree, JETS, -1.0), expected)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Jet_pt", "gives a list per event"),
        ("Jet_pt[:, 0][MET_pt > 150]", "gives 2 values for 3 events"),
    ],
)
def test_an_object_expression_must_give_one_value_per_event(text, message):
    from cmsnn.ingestion.expressions import evaluate_object_expression

    with pytest.raises(ExpressionError, match=message):
        evaluate_object_expression(parse_expression(text, None, objects=True), JETS, 0.0)


@pytest.mark.parametrize(
    "text", ["Jet_pt[0]", "Jet_pt[1:]", "Jet_pt[:, 0:2]", "ak.to_numpy(Jet_pt)",
             "ak.sum(Jet_pt, axis=n)", "Jet_pt.layout", "np.sum(Jet_pt)"],
)  # fmt: skip
def test_object_expressions_refuse_what_is_not_a_pick_mask_or_reduction(text):
    with pytest.raises(ExpressionError, match="not allowed|takes one array"):
        parse_expression(text, None, objects=True)


def test_cuts_on_columns_allow_no_picks_or_reductions():
    for text in ("Met[:, 0] > 1", "ak.num(Met) > 1"):
        with pytest.raises(ExpressionError, match="not allowed"):
            parse_expression(text, NAMES)
