"""What makes a FOM quotable: the background's MC statistical uncertainty, the Kish
effective count, the automatic scan range and the bootstrap standard error."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pandas as pd
import pytest

from cmsnn.config.checks import check_cut_range
from cmsnn.statistics.cut_choice import best_cut_summary
from cmsnn.statistics.effective_events import kish_effective_events
from cmsnn.statistics.scan import scan_range, scan_split, weighted_quantile
from cmsnn.statistics.significance import asimov_significance, asimov_significance_with_uncertainty

LUMINOSITY, FRACTION, F = 10.0, 0.5, 0.2


def reference_z_sigma(s, b, sigma):
    """Z as published (Cowan et al., arXiv:1007.1727) with an absolute background
    uncertainty sigma, in 100-digit arithmetic."""
    if s <= 0 or b <= 0:
        return 0.0
    with mpmath.workdps(100):
        s, b, var = mpmath.mpf(s), mpmath.mpf(b), mpmath.mpf(sigma) ** 2
        if var == 0:
            z2 = 2 * ((s + b) * mpmath.log(1 + s / b) - s)
        else:
            z2 = 2 * (
                (s + b) * mpmath.log((s + b) * (b + var) / (b**2 + (s + b) * var))
                - (b**2 / var) * mpmath.log(1 + var * s / (b * (b + var)))
            )
        return float(mpmath.sqrt(z2))


def options(**overrides):
    return {
        "luminosity": LUMINOSITY,
        "relative_background_uncertainty": F,
        "include_mc_statistics": True,
        "signal_processes": [],
        "min_background_events": 0,
        "bootstrap_replicas": 0,
        "cut_min": "auto",
        "cut_max": "auto",
    } | overrides


@pytest.mark.parametrize("s", [0.01, 1.0, 30.0, 5e3])
@pytest.mark.parametrize("b", [0.5, 20.0, 1e4])
@pytest.mark.parametrize("sigma_over_b", [0.0, 0.05, 0.4, 2.0])
def test_asimov_with_absolute_uncertainty_matches_the_formula(s, b, sigma_over_b):
    sigma = sigma_over_b * b
    z = asimov_significance_with_uncertainty(s, b, sigma)
    # the module docstring's accuracy: relative error ~1e-16 (1 + beta), beta = sigma²/b
    beta = sigma**2 / b
    assert z == pytest.approx(reference_z_sigma(s, b, sigma), rel=1e-14 * (1 + beta) + 1e-13)
    # the relative form is the same with sigma = f b
    assert z == pytest.approx(asimov_significance(s, b, sigma_over_b), rel=1e-13)


def test_absolute_uncertainty_conventions():
    assert asimov_significance_with_uncertainty(0.0, 10.0, 1.0) == 0.0
    assert asimov_significance_with_uncertainty(5.0, 0.0, 1.0) == 0.0
    assert asimov_significance_with_uncertainty(5.0, -1.0, 1.0) == 0.0
    with pytest.raises(ValueError, match="must not be negative"):
        asimov_significance_with_uncertainty(5.0, 10.0, -1.0)


def test_kish_effective_events():
    assert kish_effective_events(3 * 0.7, 3 * 0.7**2) == pytest.approx(3.0)
    assert kish_effective_events(1.0 + 3.0, 1.0 + 9.0) == pytest.approx(1.6)
    np.testing.assert_array_equal(kish_effective_events([0.0, -1.0], [0.0, 1.0]), [0.0, 0.0])


def weighted_events(seed=3, n=3000):
    """Binary predictions: a falling background and a rising signal, some negative
    weights (as NLO samples have), two signal processes."""
    rng = np.random.default_rng(seed)
    is_signal = rng.random(n) < 0.3
    scores = np.where(is_signal, rng.beta(5, 1.5, n), rng.beta(1.5, 5, n))
    weights = rng.exponential(1.0, n) * np.where(rng.random(n) < 0.1, -1.0, 1.0)
    return pd.DataFrame(
        {
            "score_S": scores,
            "weight": np.where(is_signal, 0.01 * np.abs(weights), weights),
            "process": np.where(is_signal, np.where(rng.random(n) < 0.5, "s1", "s2"), "b"),
            "class": np.where(is_signal, "S", "B"),
        }
    )


def test_mc_statistics_in_the_scan_against_a_direct_computation():
    events = weighted_events()
    cuts = np.linspace(0.3, 0.75, 10)
    scan = scan_split(events, cuts, FRACTION, options(), "binary", "S")
    yields = events["weight"].to_numpy() * LUMINOSITY / FRACTION
    for row in scan.itertuples():
        above = events["score_S"].to_numpy() > row.cut
        s = math.fsum(yields[above & (events["class"] == "S").to_numpy()])
        background = [
            y for y, a, c in zip(yields, above, events["class"], strict=True) if a and c == "B"
        ]
        b = math.fsum(background)
        sum_w2 = math.fsum(y * y for y in background)
        sigma = math.sqrt((F * b) ** 2 + sum_w2)
        assert row.background_uncertainty == pytest.approx(sigma, rel=1e-12)
        assert row.background_mc_relative_uncertainty == pytest.approx(math.sqrt(sum_w2) / b)
        assert row.background_effective_events == pytest.approx(b * b / sum_w2, rel=1e-12)
        assert row.fom == pytest.approx(reference_z_sigma(s, b, sigma), rel=1e-9)
    # without the MC statistics: the systematic part alone, a higher FOM at tight cuts
    systematic = scan_split(
        events, cuts, FRACTION, options(include_mc_statistics=False), "binary", "S"
    )
    np.testing.assert_allclose(
        systematic["fom"],
        asimov_significance(scan["signal_yield"], scan["background_yield"], F),
        rtol=1e-12,
    )
    assert (systematic["fom"] >= scan["fom"]).all()
    assert systematic["fom"].iloc[-1] > 1.2 * scan["fom"].iloc[-1]


def test_min_background_events_applies_to_the_effective_count():
    events = weighted_events()
    cuts = np.linspace(0.3, 0.75, 10)
    scan = scan_split(events, cuts, FRACTION, options(), "binary", "S")
    enough = scan["background_effective_events"] >= 40
    assert enough.any() and not enough.all()
    # the effective count is below the raw count: weights vary
    assert (scan["background_effective_events"] < scan["background_events"]).all()
    # raw counts would allow cuts the effective count does not
    assert ((scan["background_events"] >= 40) & ~enough).any()
    summary = best_cut_summary({"validation": scan, "test": scan}, 40)
    best = int(np.argmax(np.where(enough, scan["fom"], 0.0)))
    assert summary["best_cut"] == pytest.approx(cuts[best])
    assert best < int(np.argmax(scan["fom"]))


# --- the automatic scan range --------------------------------------------------------


def crafted_validation():
    """Signal outputs with weights chosen so that each way of counting has its own
    weighted median; one signal event (0.3, weight 4) is predicted as background."""
    return pd.DataFrame(
        {
            "score_S": [0.2, 0.3, 0.4, 0.6, 0.7, 0.9, 0.95, 0.1],
            "weight": [3.0, 4.0, 1.0, 1.0, 1.0, 1.0, 5.0, 3.0],
            "process": ["s1", "s2", "s1", "s2", "s2", "s1", "b", "b"],
            "class": ["S", "S", "S", "S", "S", "S", "B", "B"],
            "predicted_class": ["S", "B", "S", "S", "S", "S", "S", "B"],
        }
    )


def test_auto_range_from_the_validation_signal():
    frame = crafted_validation()
    # binary: signal weights 3, 4, 1, 1, 1, 1 (total 11) reach half at 0.3; highest 0.9
    assert scan_range(frame, options(), "binary", "S") == (0.3, 0.9, [])
    # multi-class counts only events predicted as signal: 3, 1, 1, 1, 1 reach half at 0.4
    assert scan_range(frame, options(), "multiclass", "S") == (0.4, 0.9, [])
    # the headline signal processes only: s2 at 0.3 (4), 0.6, 0.7
    assert scan_range(frame, options(signal_processes=["s2"]), "binary", "S") == (0.3, 0.7, [])
    # explicit ends stay as they are, alone or beside an automatic one
    assert scan_range(frame, options(cut_min=0.7, cut_max=1.0), "binary", "S") == (0.7, 1.0, [])
    assert scan_range(frame, options(cut_min=0.5), "binary", "S") == (0.5, 0.9, [])
    assert scan_range(frame, options(cut_max=0.95), "binary", "S") == (0.3, 0.95, [])


def test_auto_range_falls_back_loudly():
    frame = crafted_validation()
    low, high, warnings = scan_range(frame, options(cut_min=0.92), "binary", "S")
    assert (low, high) == (0.92, 1.0) and "is empty" in warnings[0]
    no_signal = frame.assign(predicted_class="B")
    low, high, warnings = scan_range(no_signal, options(), "multiclass", "S")
    assert (low, high) == (0.0, 1.0) and "no validation signal event" in warnings[0]


def test_auto_range_fits_scores_that_never_reach_the_tutorial_range():
    """The binary failure seen: signal outputs below 0.66 and a scan of 0.7–1.0 gave
    FOM 0 everywhere; the automatic range scans where the signal is."""
    rng = np.random.default_rng(5)
    n = 4000
    is_signal = rng.random(n) < 0.2
    scores = np.where(is_signal, rng.uniform(0.3, 0.66, n), rng.uniform(0.0, 0.5, n))
    frame = pd.DataFrame(
        {
            "score_S": scores,
            "weight": np.where(is_signal, 0.05, 1.0),
            "process": np.where(is_signal, "s", "b"),
            "class": np.where(is_signal, "S", "B"),
        }
    )
    fixed = scan_split(
        frame, np.linspace(0.7, 1.0, 50, endpoint=False), FRACTION, options(), "binary", "S"
    )
    assert (fixed["fom"] == 0).all()
    low, high, _ = scan_range(frame, options(), "binary", "S")
    assert 0.45 < low < 0.5 and 0.65 < high <= 0.66
    automatic = scan_split(
        frame, np.linspace(low, high, 50, endpoint=False), FRACTION, options(), "binary", "S"
    )
    assert automatic["fom"].max() > 1.0


def test_weighted_quantile():
    assert weighted_quantile(np.array([3.0, 1.0, 2.0]), np.array([1.0, 1.0, 1.0]), 0.5) == 2.0
    assert weighted_quantile(np.array([1.0, 2.0]), np.array([1.0, 3.0]), 0.5) == 2.0
    assert weighted_quantile(np.array([1.0, 2.0]), np.array([3.0, 1.0]), 0.5) == 1.0


@pytest.mark.parametrize(
    ("cut_min", "cut_max", "message"),
    [
        (1.2, "auto", "fom.cut_min = 1.2 lies outside"),
        ("auto", -0.5, "fom.cut_max = -0.5 lies outside"),
        (0.9, 0.8, "cut_min < cut_max"),
        ("low", "auto", "must be a number or 'auto'"),
        (True, "auto", "must be a number or 'auto'"),
    ],
)
def test_check_cut_range_rejects(cut_min, cut_max, message):
    with pytest.raises(ValueError, match=message):
        check_cut_range(cut_min, cut_max, 10)


def test_check_cut_range_accepts():
    for cut_min, cut_max in [("auto", "auto"), (0.7, 1.0), (0, "auto"), ("auto", 1)]:
        check_cut_range(cut_min, cut_max, 10)


# --- the bootstrap -------------------------------------------------------------------


def delta_method_error(s, b, var_s, var_b):
    """Error of Z(s, b) at f = 0 propagated from the yields' variances:
    dZ/ds = ln(1+s/b)/Z, dZ/db = (ln(1+s/b) − s/b)/Z."""
    z = math.sqrt(2 * ((s + b) * math.log1p(s / b) - s))
    return math.hypot(
        math.log1p(s / b) / z * math.sqrt(var_s), (math.log1p(s / b) - s / b) / z * math.sqrt(var_b)
    )


@pytest.mark.parametrize(
    ("n_signal", "signal_weight", "n_background"), [(400, 0.5, 4000), (2000, 0.02, 20000)]
)
def test_bootstrap_error_matches_poisson_counting(n_signal, signal_weight, n_background):
    """Every event passes the cut; the Poisson bootstrap gives the yields the variance
    Σw² (Poisson counting of the simulated events), so with many events the FOM's
    error is the delta method's."""
    rng = np.random.default_rng(11)
    background_weights = rng.uniform(0.5, 1.5, n_background)
    frame = pd.DataFrame(
        {
            "score_S": np.full(n_signal + n_background, 0.9),
            "weight": np.concatenate([np.full(n_signal, signal_weight), background_weights]),
            "process": ["s"] * n_signal + ["b"] * n_background,
            "class": ["S"] * n_signal + ["B"] * n_background,
        }
    )
    settings = options(
        relative_background_uncertainty=0.0, include_mc_statistics=False, bootstrap_replicas=2000
    )
    scan = scan_split(
        frame,
        np.array([0.5]),
        1.0,
        settings | {"luminosity": 1.0},
        "binary",
        "S",
        rng=np.random.default_rng(0),
    )
    s, b = n_signal * signal_weight, background_weights.sum()
    expected = delta_method_error(s, b, n_signal * signal_weight**2, (background_weights**2).sum())
    # the spread of a standard deviation from 2000 replicas is 1.6 %
    assert scan["fom_stat_error"].iloc[0] == pytest.approx(expected, rel=0.06)


def test_bootstrap_is_seeded_and_optional():
    events = weighted_events()
    cuts = np.linspace(0.3, 0.75, 10)
    settings = options(bootstrap_replicas=50)

    def errors(seed):
        scan = scan_split(
            events, cuts, FRACTION, settings, "binary", "S", rng=np.random.default_rng(seed)
        )
        return scan["fom_stat_error"].to_numpy()

    np.testing.assert_array_equal(errors(1), errors(1))
    assert not np.array_equal(errors(1), errors(2))
    assert (errors(1) > 0).all()
    # the error grows as the cut tightens and fewer simulated events remain
    relative = errors(1) / scan_split(events, cuts, FRACTION, settings, "binary", "S")["fom"]
    assert relative.iloc[-1] > 2 * relative.iloc[0]
    assert (
        scan_split(events, cuts, FRACTION, settings, "binary", "S")["fom_stat_error"].isna().all()
    )
    no_replicas = options(bootstrap_replicas=0)
    scan = scan_split(
        events, cuts, FRACTION, no_replicas, "binary", "S", rng=np.random.default_rng(1)
    )
    assert scan["fom_stat_error"].isna().all()
