"""The parametrised network against dedicated networks, point by point
(``cmsnn.statistics.mass_point_comparison``): its Z's, their paired bootstrap errors,
its goals and its training times, on prediction tables made here."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cmsnn.statistics.mass_point_comparison import (
    HELD_OUT_SHARE,
    Network,
    PointSignificance,
    compare_mass_points,
    seed_ensemble,
    training_times,
)
from cmsnn.vocabulary import MASS_POINT, NetworkTask

POINTS = ["T2DegStop_500_470.root", "T2DegStop_550_520.root", "T2DegStop_600_570.root"]
MASSES = {point: (float(point.split("_")[1]), float(point.split("_")[2][:3])) for point in POINTS}
TASK = NetworkTask("binary", ["Signal", "Background"], ["x"])
OPTIONS = {"fine_bins": 50, "edges": None, "min_background_events_per_bin": 20,
           "max_bins": 4, "bootstrap_replicas": 6}  # fmt: skip
FOM = {"relative_background_uncertainty": 0.1, "luminosity": 1000.0, "bootstrap_seed": 3}


def prediction_table(seed: int, separation: float = 2.0) -> pd.DataFrame:
    """Signal events of every point and background, shuffled together (as a split's own
    order), with a score that separates them by ``separation``."""
    rng = np.random.default_rng(seed)
    table = pd.concat(
        [pd.DataFrame({"process": POINTS * 300}).assign(**{"class": "Signal"}),
         pd.DataFrame({"process": ["W.root"] * 3000, "class": "Background"})],
        ignore_index=True,
    ).sample(frac=1.0, random_state=seed).reset_index(drop=True)  # fmt: skip
    signal = (table["class"] == "Signal").to_numpy()
    raw = rng.normal(np.where(signal, separation, 0.0), 1.0)
    score = 1 / (1 + np.exp(-raw))
    return table.assign(weight=np.where(signal, 0.02, 0.5), score_Signal=score,
                        score_Background=1 - score)  # fmt: skip


def as_parametrised(tables, shift=0.0) -> Network:
    """The same scores as a parametrised network's: the prediction tables, and the
    background at every point (shifted by ``shift`` at each point, when given)."""
    at_points = {}
    for split, table in tables.items():
        background = table[table["class"] != "Signal"]
        at_points[split] = pd.concat(
            [background.assign(score_Signal=np.clip(background["score_Signal"] + shift, 0, 1),
                               **{MASS_POINT: point}) for point in POINTS],
            ignore_index=True,
        )  # fmt: skip
    return Network(tables, at_points, [10.0])


@pytest.fixture(scope="module")
def tables():
    return {"validation": prediction_table(1), "test": prediction_table(2)}


FRACTIONS = {split: dict.fromkeys([*POINTS, "W.root"], 0.25) for split in ("validation", "test")}


def test_a_replica_of_unit_multiplicities_gives_the_z_itself(tables):
    for network in (Network(tables, None, [1.0]), as_parametrised(tables)):
        significance = PointSignificance(network, POINTS[1], FRACTIONS, "Signal", OPTIONS, FOM)
        assert significance.z > 0.5
        ones = np.ones(len(tables["test"]), dtype=np.int64)
        assert significance.replica(ones) == pytest.approx(significance.z, rel=1e-12)


def test_networks_with_the_same_scores_have_the_same_z_and_no_paired_difference(tables):
    """A parametrised network asked at a point (its tables reordered: the signal, then
    the others) and an unparametrised one with the same scores get the same Z and the
    same Z in every replica: the replicas give each event one multiplicity in both, so
    their difference has no error, while each Z has its own."""
    dedicated = {point: Network(tables, None, [5.0]) for point in POINTS[:2]}
    table, warnings = compare_mass_points(
        {"parametrised": as_parametrised(tables), "held_out": as_parametrised(tables),
         "dedicated": dedicated},
        POINTS, [POINTS[0]], MASSES, FRACTIONS, TASK, OPTIONS, FOM,
    )  # fmt: skip
    assert list(table["signal_process"]) == POINTS
    assert table["held_out"].tolist() == [True, False, False]
    for column in ("z_dedicated", "z_parametrised", "z_held_out"):
        assert table[f"{column}_error"].iloc[:2].gt(0.01).all()
    np.testing.assert_allclose(table["z_parametrised"][:2], table["z_dedicated"][:2], rtol=1e-12)
    assert table.loc[0, "held_out_share"] == pytest.approx(1.0)
    assert table.loc[0, "held_out_share_error"] == pytest.approx(0.0, abs=1e-12)
    assert table.loc[1, "difference"] == pytest.approx(0.0, abs=1e-12)
    assert table.loc[1, "difference_error"] == pytest.approx(0.0, abs=1e-12)
    assert table["goal"].tolist() == ["met", "met", ""]
    assert np.isnan(table.loc[2, "z_dedicated"]) and np.isfinite(table.loc[2, "z_held_out"])
    assert warnings == []


def test_a_held_out_point_below_the_goal_is_warned_about(tables):
    """The held-out network scores the background higher at every point: its Z falls
    short of the dedicated network's, and the warning names the point and the shares."""
    dedicated = {POINTS[0]: Network(tables, None, [5.0])}
    table, warnings = compare_mass_points(
        {"parametrised": as_parametrised(tables), "held_out": as_parametrised(tables, 0.3),
         "dedicated": dedicated},
        POINTS, [POINTS[0]], MASSES, FRACTIONS, TASK, OPTIONS, FOM,
    )  # fmt: skip
    share, error = table.loc[0, ["held_out_share", "held_out_share_error"]]
    assert share + error < HELD_OUT_SHARE and table.loc[0, "goal"] == "not met"
    (warning,) = warnings
    assert POINTS[0] in warning and f"{share:.2f} ± {error:.2f}" in warning


def test_the_bootstrap_is_reproducible_from_its_seed(tables):
    def errors(seed):
        table, _ = compare_mass_points(
            {"parametrised": as_parametrised(tables),
             "dedicated": {POINTS[1]: Network(tables, None, [1.0])}},
            POINTS, [], MASSES, FRACTIONS, TASK, OPTIONS, FOM | {"bootstrap_seed": seed},
        )  # fmt: skip
        return table[["z_dedicated_error", "z_parametrised_error"]].to_numpy()

    np.testing.assert_array_equal(errors(3), errors(3))
    assert not np.allclose(errors(3), errors(4), equal_nan=True)


def test_the_seed_ensemble_averages_the_scores_of_the_same_events(tables):
    first, second = tables["test"], tables["test"].assign(score_Signal=0.5)
    averaged = seed_ensemble([first, second])
    np.testing.assert_allclose(averaged["score_Signal"], (first["score_Signal"] + 0.5) / 2)
    with pytest.raises(ValueError, match="do not hold the same events"):
        seed_ensemble([first, tables["validation"]])


def test_training_times_compare_one_parametrised_network_with_the_dedicated_ones(tables):
    networks = {
        "parametrised": Network(tables, None, [10.0, 12.0]),
        "held_out": Network(tables, None, [9.0, 9.0]),
        "dedicated": {POINTS[0]: Network(tables, None, [4.0, 4.0]),
                      POINTS[1]: Network(tables, None, [6.0, 6.0])},
    }  # fmt: skip
    table = training_times(networks, n_points=3).set_index("network")
    assert table.loc["parametrised, trained on every point", "seconds"] == 22.0
    assert table.loc[f"dedicated to {POINTS[1]}", "times_parametrised"] == pytest.approx(0.55)
    every = table.loc["dedicated, one per signal point"]
    assert every["seconds"] == pytest.approx(30.0) and every["estimated"]  # mean 10 × 3
    assert every["networks"] == 3
    networks["dedicated"][POINTS[2]] = Network(tables, None, [1.0, 1.0])
    every = (
        training_times(networks, n_points=3)
        .set_index("network")
        .loc["dedicated, one per signal point"]
    )
    assert every["seconds"] == pytest.approx(22.0) and not every["estimated"]


def background_raised(tables, shift: float) -> dict:
    """The tables with every background event's signal score raised by ``shift``."""
    raised = {}
    for split, table in tables.items():
        background = (table["class"] != "Signal").to_numpy()
        score = np.clip(table["score_Signal"] + shift * background, 0, 1)
        raised[split] = table.assign(score_Signal=score)
    return raised


@pytest.mark.parametrize(
    ("worse", "goal"), [("dedicated", "exceeded"), ("parametrised", "not met")]
)
def test_at_a_trained_point_the_side_of_a_difference_beyond_its_error_is_named(tables, worse, goal):
    """A parametrised network above the dedicated one by more than the error misses the
    goal on the side that costs nothing (``exceeded``, no warning); below it, the goal
    is not met and the warning says so."""
    good, bad = Network(tables, None, [1.0]), Network(background_raised(tables, 0.3), None, [1.0])
    parametrised = as_parametrised(tables, 0.3 if worse == "parametrised" else 0.0)
    dedicated = bad if worse == "dedicated" else good
    table, warnings = compare_mass_points(
        {"parametrised": parametrised, "dedicated": {POINTS[1]: dedicated}},
        POINTS, [], MASSES, FRACTIONS, TASK, OPTIONS, FOM,
    )  # fmt: skip
    difference, error = table.loc[1, ["difference", "difference_error"]]
    assert abs(difference) > error and table.loc[1, "goal"] == goal
    assert (difference > 0) == (goal == "exceeded")
    if goal == "exceeded":
        assert warnings == []
    else:
        (warning,) = warnings
        assert POINTS[1] in warning and "below the dedicated network's" in warning


def test_without_bootstrap_errors_the_goals_are_left_unjudged_and_said_so(tables):
    table, warnings = compare_mass_points(
        {"parametrised": as_parametrised(tables), "held_out": as_parametrised(tables, 0.3),
         "dedicated": {point: Network(tables, None, [1.0]) for point in POINTS[:2]}},
        POINTS, [POINTS[0]], MASSES, FRACTIONS, TASK, OPTIONS | {"bootstrap_replicas": 0}, FOM,
    )  # fmt: skip
    assert table["goal"].tolist() == ["", "", ""]
    assert table["z_dedicated_error"].isna().all() and np.isfinite(table["z_dedicated"][:2]).all()
    (warning,) = warnings
    assert "statistics.bootstrap_replicas" in warning
