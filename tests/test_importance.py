"""Permutation importance: the AUC drop when one input variable is shuffled."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from cmsnn.learning.importance import permutation_importance
from cmsnn.learning.metrics import weighted_auc

FEATURES = ["n0", "x0", "n1", "n2"]  # only x0 separates the classes


def synthetic_events(seed=0, n=2000):
    """Signal has x0 shifted up; the noise features have the same law in every class."""
    rng = np.random.default_rng(seed)
    class_index = rng.integers(0, 3, n)
    is_signal = class_index == 0
    events = pd.DataFrame(
        {
            "n0": rng.normal(0, 1, n),
            "x0": rng.normal(0, 1, n) + 2.0 * is_signal,
            "n1": rng.uniform(-1, 1, n),
            "n2": rng.normal(0, 1, n).round(1),
        }
    )
    events["weight"] = rng.uniform(0.1, 1.0, n)
    events["class"] = np.array(["Signal", "Wjets", "TTbar"])[class_index]
    return events


def logistic(values):
    return 1.0 / (1.0 + np.exp(-values))


def predict_binary(x):
    """The "network": a logistic function of x0 (column 1) only, shape (n, 1)."""
    assert x.dtype == np.float32 and x.shape[1] == len(FEATURES)
    return logistic(x[:, 1].astype(np.float64))[:, None]


def predict_three(x):
    """Three outputs; the signal output (second column) depends on x0 only, the others on
    the noise features, so reading the wrong column would make noise look important."""
    signal = logistic(x[:, 1].astype(np.float64))
    wjets = logistic(x[:, 0].astype(np.float64)) * (1 - signal)
    return np.column_stack([wjets, signal, 1 - signal - wjets])


@pytest.fixture(scope="module")
def events():
    return synthetic_events()


@pytest.fixture(scope="module")
def table(events):
    return permutation_importance(
        predict_binary, events, FEATURES, ["score_Signal"], "Signal", repeats=3, seed=1
    )


def test_the_informative_feature_ranks_first(table):
    assert list(table.columns) == ["rank", "feature", "auc_drop", "auc_drop_std", "auc_reference"]
    assert list(table["rank"]) == [1, 2, 3, 4]
    assert sorted(table["feature"]) == sorted(FEATURES)
    first = table.iloc[0]
    assert first["feature"] == "x0"
    # the AUC falls from ~0.9 to ~0.5 when x0 no longer carries the class
    assert first["auc_drop"] > 0.3
    assert first["auc_reference"] - first["auc_drop"] == pytest.approx(0.5, abs=0.05)
    assert first["auc_drop_std"] >= 0
    # the prediction ignores the noise features: shuffling them changes nothing at all
    noise = table[table["feature"] != "x0"]
    assert (noise["auc_drop"] == 0.0).all()
    assert (noise["auc_drop_std"] == 0.0).all()
    # ties keep the order of the features (stable sort)
    assert list(noise["feature"]) == ["n0", "n1", "n2"]
    # sorted by decreasing drop
    assert (np.diff(table["auc_drop"].to_numpy()) <= 0).all()


def test_reference_is_the_weighted_auc_of_the_unshuffled_scores(events, table):
    x0 = events["x0"].to_numpy(dtype=np.float32).astype(np.float64)
    scores = pd.DataFrame(
        {"score_Signal": logistic(x0), "class": events["class"], "weight": events["weight"]}
    )
    reference = weighted_auc(scores, "Signal")
    assert (table["auc_reference"] == reference).all()
    expected = roc_auc_score(
        events["class"] == "Signal", x0, sample_weight=events["weight"]
    )  # monotonic in x0: the same ranking
    assert reference == pytest.approx(expected, rel=1e-12)
    assert 0.85 < reference < 0.98


def test_the_drop_is_the_mean_over_repeats_of_independent_shuffles(events):
    """With one repeat the x0 drop is reference − AUC of one shuffle: reproduce it."""
    table = permutation_importance(
        lambda x: logistic(x[:, 0].astype(np.float64))[:, None],
        events,
        ["x0"],
        ["score_Signal"],
        "Signal",
        repeats=1,
        seed=4,
    )
    rng = np.random.default_rng(4)
    shuffled = rng.permutation(events["x0"].to_numpy(dtype=np.float32)).astype(np.float64)
    shuffled_auc = roc_auc_score(
        events["class"] == "Signal", shuffled, sample_weight=events["weight"]
    )
    row = table.iloc[0]
    assert row["auc_drop"] == pytest.approx(row["auc_reference"] - shuffled_auc, rel=1e-9)
    assert row["auc_drop_std"] == 0.0


def test_same_seed_same_table_other_seed_other_drops(events, table):
    again = permutation_importance(
        predict_binary, events, FEATURES, ["score_Signal"], "Signal", repeats=3, seed=1
    )
    pd.testing.assert_frame_equal(table, again)
    other = permutation_importance(
        predict_binary, events, FEATURES, ["score_Signal"], "Signal", repeats=3, seed=2
    )
    x0 = table.set_index("feature").loc["x0"]
    other_x0 = other.set_index("feature").loc["x0"]
    assert other_x0["auc_drop"] != x0["auc_drop"]
    assert other_x0["auc_drop_std"] != x0["auc_drop_std"]
    assert other_x0["auc_drop"] == pytest.approx(x0["auc_drop"], abs=0.05)  # same physics
    assert other["feature"].iloc[0] == "x0"


def test_events_are_not_modified(events):
    before = events.copy()
    permutation_importance(
        predict_binary, events, FEATURES, ["score_Signal"], "Signal", repeats=2, seed=0
    )
    pd.testing.assert_frame_equal(events, before)


def test_multi_output_uses_the_signal_column(events, table):
    score_columns = ["score_Wjets", "score_Signal", "score_TTbar"]
    three = permutation_importance(
        predict_three, events, FEATURES, score_columns, "Signal", repeats=3, seed=1
    )
    # the signal output equals the binary prediction, and the shuffles are the same
    pd.testing.assert_frame_equal(three, table)
    assert three["feature"].iloc[0] == "x0"
    assert (three.loc[three["feature"] == "n0", "auc_drop"] == 0.0).all()
    # reading the first column instead would rank n0 (which drives score_Wjets) higher
    swapped = permutation_importance(
        predict_three,
        events,
        FEATURES,
        ["score_Signal", "score_Wjets", "score_TTbar"],
        "Signal",
        repeats=3,
        seed=1,
    )
    assert swapped.set_index("feature").loc["n0", "auc_drop"] != 0.0
