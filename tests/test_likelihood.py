"""The binned likelihood against independent computations: the counting FOM (itself
checked against the published formula in 100 digits, tests/test_fom.py) for one bin,
pyhf models built here by hand and pyhf's own hypotest and upper_limit for several
bins, pyhf's command line on the written workspace; and the binning's rules."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pyhf
import pytest
from scipy.stats import norm

from cmsnn.statistics.binned import fit_binned_likelihood
from cmsnn.statistics.binning import choose_edges, failing_bins
from cmsnn.statistics.histograms import fine_edges, rebin, score_histograms
from cmsnn.statistics.likelihood import (
    BACKGROUND_MODELS,
    FixedPoiFits,
    expected_numbers,
    workspace_spec,
)
from cmsnn.statistics.significance import asimov_significance
from cmsnn.vocabulary import NetworkTask

# --- one bin: the counting FOM ----------------------------------------------------------


@pytest.mark.parametrize("f", [0.0, 0.05, 0.2, 0.5])
@pytest.mark.parametrize(
    ("s", "b"), [(10, 100), (5, 1000), (50, 20), (3, 3), (0.5, 10), (200, 5e4)]
)
def test_one_bin_with_the_default_model_is_the_counting_fom(s, b, f):
    """Without MC statistics, the binned model of one bin (the FOM's f on the background,
    Poisson-constrained) gives exactly the counting FOM's Z: to 1e-6 relative, or 1e-6
    absolute below Z = 0.01, where the likelihood difference reaches the fit's
    precision."""
    spec = workspace_spec(
        (np.array([s]), np.array([0.0])), {"B": (np.array([b]), np.array([0.0]))}, f
    )
    z = expected_numbers(spec, limits=False)["z"]
    assert z == pytest.approx(asimov_significance(s, b, f), rel=1e-6, abs=1e-6)


# --- several bins: pyhf models built by hand --------------------------------------------

SIGNAL = [2.0, 6.0, 15.0]
SIGNAL_W2 = [0.4, 1.0, 2.5]
W = [800.0, 90.0, 12.0]
W_W2 = [900.0, 80.0, 9.0]
TT = [400.0, 30.0, 3.0]
TT_W2 = [100.0, 20.0, 2.0]
F = 0.2


def hand_built(model: str) -> dict:
    """The HistFactory model of the three bins above, written out here by hand."""
    stat = {"name": "mc_stat", "type": "staterror"}
    signal = {
        "name": "signal",
        "data": SIGNAL,
        "modifiers": [
            {"name": "mu", "type": "normfactor", "data": None},
            {**stat, "data": list(np.sqrt(SIGNAL_W2))},
        ],
    }
    if model == "uncorrelated":
        total = list(np.add(W, TT))
        backgrounds = [
            {
                "name": "background",
                "data": total,
                "modifiers": [
                    {"name": "shapes", "type": "shapesys", "data": [F * b for b in total]},
                    {**stat, "data": list(np.sqrt(np.add(W_W2, TT_W2)))},
                ],
            }
        ]
    else:
        backgrounds = [
            {
                "name": name,
                "data": data,
                "modifiers": [
                    {"name": f"lnN_{name}", "type": "normsys", "data": {"hi": 1 + F, "lo": 1 - F}},
                    {**stat, "data": list(np.sqrt(w2))},
                ],
            }
            for name, data, w2 in (("W", W, W_W2), ("tt", TT, TT_W2))
        ]
    return {"channels": [{"name": "c", "samples": [signal, *backgrounds]}]}


def ours(model: str) -> dict:
    backgrounds = {"W": (np.array(W), np.array(W_W2)), "tt": (np.array(TT), np.array(TT_W2))}
    spec = workspace_spec((np.array(SIGNAL), np.array(SIGNAL_W2)), backgrounds, F, model)
    return spec


@pytest.mark.parametrize("model", ["uncorrelated", "class_norms"])
def test_several_bins_give_the_numbers_of_a_hand_built_pyhf_model(model):
    pdf = pyhf.Model(hand_built(model), poi_name="mu")
    init = np.asarray(pdf.config.suggested_init())
    plus = init.copy()
    plus[pdf.config.poi_index] = 1.0
    p0 = pyhf.infer.hypotest(0.0, pdf.expected_data(plus), pdf, test_stat="q0")
    background_only = init.copy()
    background_only[pdf.config.poi_index] = 0.0
    data = pdf.expected_data(background_only)
    bounds = pdf.config.suggested_bounds()
    bounds[pdf.config.poi_index] = (0.0, 20.0)
    _, expected = pyhf.infer.intervals.upper_limits.toms748_scan(
        data, pdf, 0.0, 20.0, rtol=1e-6, par_bounds=bounds
    )
    numbers = expected_numbers(ours(model))
    assert numbers["z"] == pytest.approx(norm.isf(float(p0)), rel=1e-6)
    limits = [numbers[f"limit_{band}"] for band in ("minus2", "minus1", "median", "plus1", "plus2")]
    assert limits == pytest.approx([float(value) for value in expected], rel=1e-3)
    assert limits == sorted(limits)


@pytest.mark.parametrize("model", BACKGROUND_MODELS)
@pytest.mark.parametrize("mu", [0.0, 0.4, 3.0])
def test_the_fits_reach_the_minimum_of_pyhfs_own_fit(model, mu):
    """The fits the numbers are made of (SLSQP given the gradient from one batched
    likelihood call, on rescaled parameters) reach pyhf's own ``fixed_poi_fit``'s
    minimum of ``−2 ln L`` and its parameters, on signal-plus-background data, where μ
    other than 1 pulls the nuisance parameters."""
    fits = FixedPoiFits(ours(model))
    pdf = fits.model
    nominal = np.asarray(pdf.config.suggested_init(), dtype=np.float64)
    nominal[pdf.config.poi_index] = 1.0
    data = pdf.expected_data(nominal)
    previous = pyhf.get_backend()
    pyhf.set_backend("numpy", pyhf.optimize.scipy_optimizer(tolerance=1e-14))
    try:
        pars, twice_nll = pyhf.infer.mle.fixed_poi_fit(mu, data, pdf, return_fitted_val=True)
    finally:
        pyhf.set_backend(*previous)
    ours_twice_nll, ours_pars = fits.fit(data, mu, nominal, tolerance=1e-14)
    assert ours_twice_nll == pytest.approx(float(twice_nll), rel=1e-10)
    assert ours_pars == pytest.approx(np.asarray(pars), abs=1e-4)


def test_the_class_normalisations_are_profiled_by_the_side_bins():
    """The module's warning about the correlated model holds: its Z is above the default
    model's, close to the Z without any background uncertainty."""
    z_default = expected_numbers(ours("uncorrelated"), limits=False)["z"]
    z_norms = expected_numbers(ours("class_norms"), limits=False)["z"]
    backgrounds = {"W": (np.array(W), np.array(W_W2)), "tt": (np.array(TT), np.array(TT_W2))}
    spec = workspace_spec((np.array(SIGNAL), np.array(SIGNAL_W2)), backgrounds, 0.0)
    z_none = expected_numbers(spec, limits=False)["z"]
    assert z_default < z_norms <= z_none * 1.0001


def test_pyhf_reads_the_workspace_and_its_command_line_finds_the_limit(tmp_path):
    """``pyhf cls`` on the workspace at the median expected limit gives CLs = 0.05: the
    workspace's observation is the background-only expectation."""
    spec = ours("uncorrelated")
    median = expected_numbers(spec)["limit_median"]
    path = tmp_path / "workspace.json"
    path.write_text(json.dumps(spec))
    result = subprocess.run(
        [sys.executable, "-c", "from pyhf.cli import cli; cli()", "cls",
         "--test-poi", str(median), str(path)],
        capture_output=True, text=True, check=True, timeout=300,
    )  # fmt: skip
    assert json.loads(result.stdout)["CLs_obs"] == pytest.approx(0.05, abs=2e-4)


def test_a_signal_without_events_has_no_significance_and_no_limit():
    backgrounds = {"W": (np.array(W), np.array(W_W2))}
    spec = workspace_spec((np.zeros(3), np.zeros(3)), backgrounds, F)
    numbers = expected_numbers(spec)
    assert numbers["z"] == 0.0 and np.isnan(numbers["limit_median"])


def test_a_bin_without_background_is_refused():
    with pytest.raises(ValueError, match="positive background"):
        workspace_spec((np.ones(2), np.ones(2)), {"W": (np.array([1.0, 0.0]), np.ones(2))}, F)


# --- binning ----------------------------------------------------------------------------


def test_bins_close_from_the_top_once_they_hold_enough_effective_events():
    edges = np.linspace(0, 1, 11)
    sumw = np.array([100, 50, 30, 20, 10, 8, 6, 4, 2, 1], dtype=float)
    sumw2 = sumw / 2  # every event weighs 0.5: the Kish count is 2·Σw
    chosen, warnings = choose_edges(edges, sumw, sumw2, 10.0, 10)
    assert warnings == []
    fine = np.searchsorted(edges, chosen)
    counts = [2 * sumw[low:high].sum() for low, high in zip(fine[:-1], fine[1:], strict=True)]
    assert all(count >= 10 for count in counts)
    # from the top: 1+2+4 = 7 -> 14 events, then 6 -> 12, then 8 -> 16, 10 -> 20, ...
    assert list(np.round(chosen, 3)) == [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 1.0]


def test_at_most_max_bins_the_lowest_takes_the_rest():
    edges = np.linspace(0, 1, 11)
    sumw = np.full(10, 100.0)
    chosen, _ = choose_edges(edges, sumw, sumw, 10.0, 3)
    assert list(np.round(chosen, 3)) == [0.0, 0.8, 0.9, 1.0]


def test_a_requirement_no_bin_can_meet_gives_one_bin_and_says_so():
    chosen, warnings = choose_edges(np.linspace(0, 1, 5), np.ones(4), np.ones(4), 100.0, 10)
    assert list(chosen) == [0.0, 1.0]
    assert len(warnings) == 1 and "min_background_events_per_bin = 100" in warnings[0]


def test_a_bin_that_fails_on_the_quoted_split_is_named():
    warnings = failing_bins(np.array([0.0, 0.5, 1.0]), [100.0, 3.0], [1.0, 3.0], 10.0, "test")
    assert len(warnings) == 1 and warnings[0].startswith("bin 1 (0.5–1)")


def test_histograms_rebin_to_the_same_sums():
    rng = np.random.default_rng(3)
    events = pd.DataFrame({
        "process": rng.choice(["a", "b"], 500), "weight": rng.uniform(0.5, 2.0, 500),
        "score_S": rng.uniform(0, 1, 500),
    })  # fmt: skip
    events["class"] = np.where(events["process"] == "a", "S", "B")
    fine = score_histograms(events, "S", fine_edges(20), 10.0, 0.5)
    coarse = rebin(fine, np.array([0.0, 0.35, 0.8, 1.0]))
    assert coarse.groupby("process")["sumw"].sum().to_dict() == pytest.approx(
        (events.groupby("process")["weight"].sum() * 20).to_dict()
    )
    mask = (events["score_S"] >= 0.8) & (events["process"] == "b")
    top = coarse[(coarse["process"] == "b") & (coarse["bin"] == 2)]
    assert top["sumw2"].item() == pytest.approx(((events.loc[mask, "weight"] * 20) ** 2).sum())


# --- a multi-class network whose argmax leaves no signal --------------------------------


def test_a_multiclass_model_whose_argmax_never_picks_the_signal_still_gets_numbers():
    """The binned likelihood histograms every event's signal score: no argmax, so a
    signal class that is never the most probable still has its number."""
    rng = np.random.default_rng(5)
    rows = []
    for process, cls, n, centre in (("sig", "S", 2000, 0.3), ("w", "W", 20000, 0.1),
                                     ("tt", "T", 20000, 0.12)):  # fmt: skip
        score = np.clip(rng.normal(centre, 0.05, n), 0, 0.33)  # never above 1/3: never argmax
        rows.append(pd.DataFrame({
            "weight": 0.01, "process": process, "class": cls, "score_S": score,
            "score_W": (1 - score) / 2, "score_T": (1 - score) / 2,
        }))  # fmt: skip
    events = pd.concat(rows, ignore_index=True)
    predictions = {"validation": events, "test": events}
    fractions = {split: {p: 0.5 for p in ("sig", "w", "tt")} for split in predictions}
    options = {"fine_bins": 100, "edges": None, "min_background_events_per_bin": 40,
               "max_bins": 5, "bootstrap_replicas": 0}  # fmt: skip
    fom = {"relative_background_uncertainty": 0.1, "luminosity": 100.0,
           "signal_processes": [], "bootstrap_seed": 0}  # fmt: skip
    task = NetworkTask("multiclass", ["S", "W", "T"], ["x"])
    result = fit_binned_likelihood(predictions, fractions, task, options, fom)
    assert result["numbers"]["binned_z_test"] > 1.0
    assert np.isfinite(result["numbers"]["limit_median_test"])
