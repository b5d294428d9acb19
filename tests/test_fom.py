"""The figure of merit: Asimov significance, the cut scan and the best-cut choice."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pandas as pd
import pytest
from scipy import integrate

from cmsnn.config.checks import check_signal_processes
from cmsnn.statistics.cut_choice import best_cut_summary
from cmsnn.statistics.effective_events import enough_background
from cmsnn.statistics.scan import cut_values, scan_split, yield_above
from cmsnn.statistics.significance import asimov_significance
from cmsnn.statistics.yields import (
    background_yields_by_class,
    predicted_as_signal,
    signal_and_background,
    signal_process_names,
    yield_weights,
)

# --- Asimov significance against the original formula in multiple precision ----------

#: The original formula cancels catastrophically for s << b (Z^2 ~ 1e-20 out of terms
#: ~1e-6 at s = 1e-6, b = 1e8, f = 1e-9); 50 digits then leave only ~13 correct ones,
#: so the reference is evaluated with 100 digits (checked against 140: identical).
REFERENCE_DIGITS = 100


def reference_z(s, b, f):
    """Z from the formula as published, sigma = f*b, in multiple precision."""
    with mpmath.workdps(REFERENCE_DIGITS):
        s, b, f = mpmath.mpf(s), mpmath.mpf(b), mpmath.mpf(f)
        if f == 0:
            z2 = 2 * ((s + b) * mpmath.log(1 + s / b) - s)
        else:
            var = (f * b) ** 2
            z2 = 2 * (
                (s + b) * mpmath.log((s + b) * (b + var) / (b**2 + (s + b) * var))
                - (b**2 / var) * mpmath.log(1 + var * s / (b * (b + var)))
            )
        return float(mpmath.sqrt(z2))


def grid_points():
    s_values = np.logspace(-6, 5, 12)
    b_values = np.logspace(-3, 8, 12)
    f_values = [1e-9, 1e-7, 1e-5, 1e-3, 1e-2, 0.05, 0.1, 0.2, 0.5, 1.0]
    points = [(s, b, f) for f in f_values for b in b_values for s in s_values]
    # around the switch between the series and the direct evaluation (u, t = 0.05)
    for u in (0.049, 0.04999999, 0.05, 0.05000001, 0.051):
        points += [(u * 100.0, 100.0, 0.0), (u * 1e4, 1e4, 0.01), (u * 30.0, 30.0, 0.3)]
    beta = 2.0  # t = beta*u/(1+beta) crosses 0.05 at u = 0.075
    for u in (0.0749, 0.075, 0.0751):
        points.append((u * 200.0, 200.0, math.sqrt(beta / 200.0)))
    return points


def test_asimov_matches_multiprecision_original_formula():
    points = grid_points()
    s, b, f = (np.array(column) for column in zip(*points, strict=True))
    z = asimov_significance(s, b, f)
    reference = np.array([reference_z(*point) for point in points])
    relative = np.abs(z - reference) / reference
    beta = f**2 * b
    tolerance = 1e-13 * (1.0 + beta) + 1e-13
    worst = int(np.argmax(relative / tolerance))
    assert (relative <= tolerance).all(), (
        f"worst at s={s[worst]:g}, b={b[worst]:g}, f={f[worst]:g}: "
        f"relative error {relative[worst]:.3g}, tolerance {tolerance[worst]:.3g}"
    )
    # the docstring's claim: relative error ~ 1e-16 (1 + beta) (allow two orders of slack)
    assert (relative <= 1e-14 * (1.0 + beta)).all()


@pytest.mark.parametrize("s", [1e-6, 1e-3, 0.5, 3.0, 40.0, 1e3, 1e5])
@pytest.mark.parametrize("b", [1e-3, 0.2, 10.0, 1e4, 1e8])
def test_asimov_without_uncertainty(s, b):
    z = asimov_significance(s, b, 0.0)
    with mpmath.workdps(REFERENCE_DIGITS):
        ms, mb = mpmath.mpf(s), mpmath.mpf(b)
        expected = float(mpmath.sqrt(2 * ((ms + mb) * mpmath.log(1 + ms / mb) - ms)))
    assert z == pytest.approx(expected, rel=1e-14)


@pytest.mark.parametrize(
    ("s", "b", "f"),
    [(10.0, 100.0, 0.1), (5.0, 20.0, 0.3), (50.0, 1000.0, 0.05), (3.0, 0.5, 0.5), (7.0, 40.0, 0)],
)
def test_asimov_against_numerical_integration(s, b, f):
    """Z^2/2 = integral_0^s ln((x+b)(b+var) / (b^2+(x+b)var)) dx, var = (f b)^2."""
    var = (f * b) ** 2

    def integrand(x):
        return math.log((x + b) * (b + var) / (b * b + (x + b) * var))

    half_z2, error = integrate.quad(integrand, 0.0, s, epsabs=0, epsrel=1e-12)
    assert error < 1e-10 * half_z2
    assert asimov_significance(s, b, f) == pytest.approx(math.sqrt(2 * half_z2), rel=1e-9)


@pytest.mark.parametrize(("b", "f"), [(1e4, 0.0), (1e4, 0.1), (1e6, 0.2), (50.0, 1.0)])
def test_small_signal_limit(b, f):
    s = 1e-7 * b
    expected = s / math.sqrt(b + (f * b) ** 2)
    assert asimov_significance(s, b, f) == pytest.approx(expected, rel=1e-6)


def test_more_uncertainty_means_less_significance():
    f = np.linspace(0.0, 1.0, 50)
    z = asimov_significance(20.0, 100.0, f)
    assert (np.diff(z) < 0).all()
    assert z[0] == pytest.approx(reference_z(20.0, 100.0, 0.0), rel=1e-14)


def test_non_positive_yields_give_zero():
    assert asimov_significance(0.0, 10.0, 0.2) == 0.0
    assert asimov_significance(-1.0, 10.0, 0.2) == 0.0
    assert asimov_significance(5.0, 0.0, 0.2) == 0.0
    assert asimov_significance(5.0, -3.0, 0.2) == 0.0
    assert asimov_significance(5.0, 0.0, 0.0) == 0.0
    z = asimov_significance([5.0, 5.0, 0.0, 5.0], [10.0, 0.0, 10.0, -1.0], 0.1)
    assert np.isfinite(z).all()
    assert z[0] > 0 and z[1:].tolist() == [0.0, 0.0, 0.0]


def test_scalar_in_float_out_and_broadcasting():
    z = asimov_significance(3.0, 10.0, 0.1)
    assert type(z) is float
    assert z == pytest.approx(reference_z(3.0, 10.0, 0.1), rel=1e-14)
    s = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    b = np.array([10.0, 20.0, 30.0])
    z = asimov_significance(s, b, [[0.0], [0.2]])
    assert isinstance(z, np.ndarray) and z.shape == (2, 3)
    for i in range(2):
        for j in range(3):
            assert z[i, j] == pytest.approx(reference_z(s[i, j], b[j], [0.0, 0.2][i]), rel=1e-13)


def test_negative_uncertainty_rejected():
    with pytest.raises(ValueError, match="negative"):
        asimov_significance(1.0, 10.0, -0.1)
    with pytest.raises(ValueError, match="negative"):
        asimov_significance([1.0, 2.0], [10.0, 10.0], [0.1, -0.1])


# --- cuts and yields -----------------------------------------------------------------


def test_cut_values_match_the_tutorial_grid():
    cuts = cut_values(0.7, 1.0, 200)
    tutorial = np.array([0.7 + i * 0.3 / 200 for i in range(200)])
    assert len(cuts) == 200
    np.testing.assert_allclose(cuts, tutorial, rtol=0, atol=1e-12)
    assert cuts[0] == 0.7 and cuts[-1] < 1.0


def test_cut_values_are_rounded_to_read_as_typed():
    cuts = cut_values(0.7, 1.0, 200)
    assert cuts[57] == 0.7855  # not 0.7854999999999999
    assert repr(float(cuts[57])) == "0.7855"
    np.testing.assert_array_equal(cuts, np.round(cuts, 12))
    assert cut_values(0.0, 1.0, 10).tolist() == [i / 10 for i in range(10)]


@pytest.mark.parametrize(("low", "high", "steps"), [(1.0, 0.7, 10), (0.5, 0.5, 10), (0, 1, 0)])
def test_cut_values_rejects_bad_ranges(low, high, steps):
    with pytest.raises(ValueError, match="the FOM scan needs cut_min < cut_max and steps ≥ 1"):
        cut_values(low, high, steps)


def test_yield_weights():
    # 0.002 pb x 35866 pb^-1 / 0.25 = 286.928 events
    np.testing.assert_allclose(yield_weights([0.002, 1.0], 35866.0, 0.25), [286.928, 143464.0])
    assert yield_weights(np.array([0.5]), 10.0, 0.5).dtype == np.float64
    # negative (NLO) weights stay negative
    np.testing.assert_allclose(yield_weights([-0.1, 0.3], 10.0, 0.5), [-2.0, 6.0])


def test_yield_above_against_brute_force():
    rng = np.random.default_rng(3)
    scores = np.round(rng.uniform(0.0, 1.0, 2000), 2)  # many ties
    yields = rng.exponential(1.0, 2000)
    cuts = np.concatenate([np.linspace(-0.1, 1.1, 37), np.unique(scores)[::5]])
    expected = np.array([yields[scores > cut].sum() for cut in cuts])
    np.testing.assert_allclose(yield_above(scores, yields, cuts), expected, rtol=1e-10, atol=1e-12)


def test_yield_above_strict_inequality_at_ties():
    scores = np.array([0.8, 0.8, 0.9, 0.5])
    yields = np.array([1.0, 2.0, 4.0, 8.0])
    got = yield_above(scores, yields, np.array([0.5, 0.8, 0.9, 0.0]))
    np.testing.assert_allclose(got, [7.0, 4.0, 0.0, 15.0])
    assert yield_above(np.array([]), np.array([]), np.array([0.5])).tolist() == [0.0]


# --- scan of one split on hand-made predictions -------------------------------------
# luminosity 10 / fraction 0.5 -> yield = 20 x weight

LUMINOSITY, FRACTION, F = 10.0, 0.5, 0.2
CUTS = np.array([0.7, 0.8, 0.9])


def options(signal_processes=(), min_background_events=0, include_mc_statistics=False):
    return {
        "luminosity": LUMINOSITY,
        "relative_background_uncertainty": F,
        "include_mc_statistics": include_mc_statistics,
        "signal_processes": list(signal_processes),
        "min_background_events": min_background_events,
        "bootstrap_replicas": 0,
    }


def original_formula_z(s, b, f):
    """Z as published, in plain floats (fine for these moderate yields)."""
    if s <= 0 or b <= 0:
        return 0.0  # the conventions; the float formula would give rounding noise or NaN
    var = (f * b) ** 2
    z2 = 2 * (
        (s + b) * math.log((s + b) * (b + var) / (b * b + (s + b) * var))
        - (b * b / var) * math.log(1 + var * s / (b * (b + var)))
    )
    return math.sqrt(z2)


@pytest.fixture
def predictions():
    return pd.DataFrame(
        {
            "score_Signal": [0.90, 0.80, 0.85, 0.75, 0.95, 0.60],
            "score_Wjets": [0.05, 0.15, 0.10, 0.05, 0.03, 0.30],
            "score_TTbar": [0.05, 0.05, 0.05, 0.20, 0.02, 0.10],
            "predicted_class": ["Signal", "Wjets", "Signal", "TTbar", "Signal", "Wjets"],
            "weight": [0.10, 0.05, 0.50, 1.00, 0.20, 2.00],
            "process": ["S1.root", "S2.root", "W.root", "TT.root", "W.root", "W.root"],
            "class": ["Signal", "Signal", "Wjets", "TTbar", "Wjets", "Wjets"],
        }
    )
    # yields: S1 2, S2 1, W 10, TT 20, W 4, W 40


def check_scan(scan, signal, background, all_signal, all_background, n_signal, n_background):
    assert list(scan.columns) == [
        "cut",
        "fom",
        "fom_stat_error",
        "signal_yield",
        "background_yield",
        "background_uncertainty",
        "background_mc_relative_uncertainty",
        "signal_events",
        "background_events",
        "background_effective_events",
        "signal_efficiency",
        "background_efficiency",
    ]
    assert scan["fom_stat_error"].isna().all()  # no bootstrap asked for
    np.testing.assert_array_equal(scan["cut"], CUTS)
    np.testing.assert_allclose(scan["signal_yield"], signal, rtol=1e-12)
    np.testing.assert_allclose(scan["background_yield"], background, rtol=1e-12)
    assert scan["signal_events"].tolist() == n_signal
    assert scan["background_events"].tolist() == n_background
    assert pd.api.types.is_integer_dtype(scan["signal_events"])
    assert pd.api.types.is_integer_dtype(scan["background_events"])
    np.testing.assert_allclose(scan["signal_efficiency"], np.array(signal) / all_signal)
    np.testing.assert_allclose(scan["background_efficiency"], np.array(background) / all_background)
    expected = [original_formula_z(s, b, F) for s, b in zip(signal, background, strict=True)]
    np.testing.assert_allclose(scan["fom"], expected, rtol=1e-9)


def test_scan_binary(predictions):
    scan = scan_split(predictions, CUTS, FRACTION, options(), "binary", "Signal")
    check_scan(scan, [3.0, 2.0, 0.0], [34.0, 14.0, 4.0], 3.0, 74.0, [2, 1, 0], [3, 2, 1])


def test_scan_binary_with_signal_processes(predictions):
    scan = scan_split(predictions, CUTS, FRACTION, options(["S1.root"]), "binary", "Signal")
    # S2 is neither signal nor background
    check_scan(scan, [2.0, 2.0, 0.0], [34.0, 14.0, 4.0], 2.0, 74.0, [1, 1, 0], [3, 2, 1])


def test_scan_multiclass_counts_only_predicted_signal(predictions):
    scan = scan_split(predictions, CUTS, FRACTION, options(), "multiclass", "Signal")
    # S2 (predicted Wjets) and TT (predicted TTbar) drop out; efficiencies stay relative
    # to all signal / background events of the split
    check_scan(scan, [2.0, 2.0, 0.0], [14.0, 14.0, 4.0], 3.0, 74.0, [1, 1, 0], [2, 2, 1])


def test_scan_multiclass_with_signal_processes(predictions):
    predictions.loc[1, "predicted_class"] = "Signal"  # S2 now predicted signal
    scan = scan_split(predictions, CUTS, FRACTION, options(["S2.root"]), "multiclass", "Signal")
    check_scan(scan, [1.0, 0.0, 0.0], [14.0, 14.0, 4.0], 1.0, 74.0, [1, 0, 0], [2, 2, 1])


@pytest.mark.parametrize(
    ("minimum", "allowed"),
    [(0, [True, True, True]), (1, [True, True, True]), (1.5, [True, True, False]),
     (2, [True, False, False]), (2.5, [False, False, False])],
)  # fmt: skip
def test_min_background_events_restricts_the_cuts_that_may_be_chosen(predictions, minimum, allowed):
    # background yields above the cuts 0.7, 0.8, 0.9: {10, 20, 4}, {10, 4}, {4}: Kish
    # effective counts 34²/516 = 2.24, 14²/116 = 1.69 and 1 (3, 2, 1 simulated events)
    scan = scan_split(predictions, CUTS, FRACTION, options(), "binary", "Signal")
    np.testing.assert_allclose(
        scan["background_effective_events"], [34**2 / 516, 14**2 / 116, 1.0], rtol=1e-12
    )
    np.testing.assert_array_equal(
        enough_background(scan["background_effective_events"], minimum), allowed
    )
    # the same scan as validation and test: the best allowed cut is chosen, its FOM unaltered
    summary = best_cut_summary({"validation": scan, "test": scan}, minimum)
    candidates = np.where(allowed, scan["fom"], 0.0)
    if candidates.max() > 0:
        best = int(np.argmax(candidates))
        assert summary["best_cut"] == CUTS[best]
        assert summary["fom_test_at_best_cut"] == scan["fom"][best]
        assert summary["fom_test_max"] == candidates.max()
    else:
        assert np.isnan(summary["best_cut"]) and summary["warnings"]


def test_scan_counts_and_threshold_on_a_hand_built_frame():
    """Counts are of simulated events (a negative weight counts as one event), strictly
    above the cut; the FOM vanishes below ``min_background_events``."""
    frame = pd.DataFrame(
        {
            "score_S": [0.95, 0.91, 0.85, 0.82, 0.81, 0.72, 0.65, 0.80],
            "weight": [1.0, 0.5, -0.2, 2.0, 1.0, 3.0, 1.0, 7.0],
            "class": ["S", "B1", "B2", "S", "B1", "B2", "S", "B1"],
            "process": ["s", "b1", "b2", "s", "b1", "b2", "s", "b1"],
        }
    )
    cuts = np.array([0.6, 0.8, 0.9])
    scan = scan_split(frame, cuts, FRACTION, options(), "binary", "S")
    # by hand, yield = 20 x weight; the event at exactly 0.80 is not above the cut 0.8;
    # effective background events 226²/23716 = 2.15, 26²/516 = 1.31, 1
    assert scan["signal_events"].tolist() == [3, 2, 1]
    assert scan["background_events"].tolist() == [5, 3, 1]
    np.testing.assert_allclose(
        scan["background_effective_events"], [226**2 / 23716, 26**2 / 516, 1.0], rtol=1e-12
    )
    np.testing.assert_allclose(scan["signal_yield"], [80.0, 60.0, 20.0], rtol=1e-12)
    np.testing.assert_allclose(scan["background_yield"], [226.0, 26.0, 10.0], rtol=1e-12)
    expected = [original_formula_z(80.0, 226.0, F), original_formula_z(60.0, 26.0, F)]
    expected.append(original_formula_z(20.0, 10.0, F))
    np.testing.assert_allclose(scan["fom"], expected, rtol=1e-9)
    # a requirement of 1.3 effective events allows the first two cuts only
    assert enough_background(scan["background_effective_events"], 1.3).tolist() == [
        True,
        True,
        False,
    ]


def test_predicted_as_signal_and_masks(predictions):
    assert predicted_as_signal(predictions, "binary", "Signal") is predictions
    chosen = predicted_as_signal(predictions, "multiclass", "Signal")
    assert chosen.index.tolist() == [0, 2, 4]
    signal, background = signal_and_background(predictions, "Signal")
    assert signal.tolist() == [True, True, False, False, False, False]
    assert background.tolist() == [False, False, True, True, True, True]
    signal, background = signal_and_background(predictions, "Signal", ["S2.root"])
    assert signal.tolist() == [False, True, False, False, False, False]
    assert background.tolist() == [False, False, True, True, True, True]  # S1: neither


def test_check_signal_processes(predictions):
    available = signal_process_names(predictions, "Signal")
    check_signal_processes([], available, "Signal")
    check_signal_processes(["S2.root", "S1.root"], available, "Signal")
    with pytest.raises(ValueError) as info:
        check_signal_processes(["S1.root", "S3.root", "W.root"], available, "Signal")
    message = str(info.value)
    assert "['S3.root', 'W.root']" in message  # the unknown ones (W is background)
    assert "Signal" in message
    assert "['S1.root', 'S2.root']" in message  # the available signal processes


def test_background_yields_by_class(predictions):
    names = ["Signal", "Wjets", "TTbar"]
    binary = background_yields_by_class(predictions, 0.7, FRACTION, LUMINOSITY, "binary", names)
    assert binary == pytest.approx({"Wjets": 14.0, "TTbar": 20.0})
    multi = background_yields_by_class(predictions, 0.7, FRACTION, LUMINOSITY, "multiclass", names)
    # TT is predicted TTbar, so no TTbar yield is left, but the class is still listed
    assert multi == pytest.approx({"Wjets": 14.0, "TTbar": 0.0})
    assert list(multi) == ["Wjets", "TTbar"]


def test_background_yields_by_class_lists_every_class_in_order(predictions):
    names = ["Signal", "TTbar", "Other", "Wjets"]
    yields = background_yields_by_class(predictions, 0.7, FRACTION, LUMINOSITY, "binary", names)
    assert list(yields) == ["TTbar", "Other", "Wjets"]
    assert yields == pytest.approx({"TTbar": 20.0, "Other": 0.0, "Wjets": 14.0})
    assert all(type(value) is float for value in yields.values())
    nothing = background_yields_by_class(predictions, 0.99, FRACTION, LUMINOSITY, "binary", names)
    assert nothing == {"TTbar": 0.0, "Other": 0.0, "Wjets": 0.0}
    assert list(nothing) == ["TTbar", "Other", "Wjets"]


def scan_frame(cuts, fom, **columns):
    """A scan as scan_split writes it, with the given columns and zeros elsewhere."""
    frame = pd.DataFrame({"cut": cuts, "fom": fom})
    for column in (
        "fom_stat_error",
        "signal_yield",
        "background_yield",
        "background_mc_relative_uncertainty",
        "background_effective_events",
        "signal_efficiency",
    ):
        frame[column] = columns.get(column, 0.0)
    frame["background_events"] = np.asarray(columns.get("background_events", 0), dtype=np.int64)
    return frame


def test_best_cut_summary_uses_validation_argmax():
    cuts = [0.7, 0.8, 0.9, 0.95]
    validation = scan_frame(cuts, [1.0, 2.0, 3.0, 2.5], fom_stat_error=[0.1, 0.2, 0.3, 0.4])
    test = scan_frame(
        cuts,
        [4.0, 1.5, 2.2, 0.1],
        fom_stat_error=[0.5, 0.6, 0.7, 0.8],
        signal_yield=[10.0, 8.0, 6.0, 1.0],
        background_yield=[50.0, 30.0, 12.0, 2.0],
        background_events=[400, 210, 37, 5],
        background_effective_events=[300.0, 150.0, 20.5, 3.0],
        background_mc_relative_uncertainty=[0.05, 0.08, 0.22, 0.6],
        signal_efficiency=[0.9, 0.7, 0.5, 0.1],
    )
    summary = best_cut_summary({"train": test * 0, "validation": validation, "test": test})
    assert summary == {
        "best_cut": 0.9,
        "fom_validation_at_best_cut": 3.0,
        "fom_validation_at_best_cut_stat_error": 0.3,
        "fom_test_at_best_cut": 2.2,
        "fom_test_at_best_cut_stat_error": 0.7,
        "signal_yield_test_at_best_cut": 6.0,
        "signal_efficiency_test_at_best_cut": 0.5,
        "background_yield_test_at_best_cut": 12.0,
        "background_mc_relative_uncertainty_test_at_best_cut": 0.22,
        "background_events_test_at_best_cut": 37,
        "background_effective_events_test_at_best_cut": 20.5,
        "fom_test_max": 4.0,
        "cut_test_max": 0.7,
        "warnings": [],
    }
    counts = {"background_events_test_at_best_cut", "warnings"}
    assert all(type(value) is float for key, value in summary.items() if key not in counts)
    assert type(summary["background_events_test_at_best_cut"]) is int


def test_best_cut_summary_never_reports_a_zero_fom_as_a_result():
    cuts = [0.7, 0.8, 0.9]
    validation = scan_frame(cuts, [0.0, 0.0, 0.0])
    test = scan_frame(cuts, [0.0, 1.0, 0.0])
    summary = best_cut_summary({"validation": validation, "test": test})
    assert np.isnan(summary["best_cut"]) and np.isnan(summary["fom_test_at_best_cut"])
    assert summary["background_events_test_at_best_cut"] is None
    assert summary["fom_test_max"] == 1.0
    assert len(summary["warnings"]) == 1
    assert (
        "validation FOM is 0 at every allowed cut of the scan [0.7, 0.9]" in summary["warnings"][0]
    )


@pytest.mark.parametrize(
    ("validation_fom", "test_fom", "expected"),
    [
        ([3.0, 2.0, 1.0], [1.0, 1.0, 1.0], ["lowest scanned", "lower fom.cut_min"]),
        ([1.0, 2.0, 3.0], [1.0, 1.0, 1.0], ["highest scanned", "raise fom.cut_max"]),
        ([1.0, 3.0, 2.0], [0.0, 0.0, 0.0], ["test FOM is 0 at every scanned cut"]),
        ([1.0, 3.0, 2.0], [1.0, 1.0, 1.0], []),
    ],
)
def test_best_cut_summary_warns_about_suspect_cuts(validation_fom, test_fom, expected):
    cuts = [0.7, 0.8, 0.9]
    summary = best_cut_summary(
        {"validation": scan_frame(cuts, validation_fom), "test": scan_frame(cuts, test_fom)}
    )
    text = " ".join(summary["warnings"])
    assert all(fragment in text for fragment in expected)
    assert bool(summary["warnings"]) == bool(expected)
    assert np.isfinite(summary["best_cut"])


def test_when_no_cut_keeps_enough_background_the_warning_says_so_with_the_numbers():
    cuts = [0.7, 0.8, 0.9]
    validation = scan_frame(cuts, [0.8, 0.9, 1.2])
    validation["background_effective_events"] = [6.5, 3.0, 1.0]
    test = scan_frame(cuts, [0.5, 0.7, 1.0])
    summary = best_cut_summary({"validation": validation, "test": test}, 10)
    assert np.isnan(summary["best_cut"])
    assert summary["warnings"][0].startswith(
        "no scanned cut keeps fom.min_background_events = 10 effective background events on "
        "the validation split (the most: 6.5, at cut 0.7): no cut is chosen"
    )
    assert not any("validation FOM is 0" in warning for warning in summary["warnings"])
