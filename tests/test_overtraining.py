"""The overtraining check: the weighted two-sample Kolmogorov–Smirnov test."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import ks_2samp, kstwo

from cmsnn.statistics.effective_events import kish_effective_events
from cmsnn.statistics.overtraining import ks_per_class, weighted_ks_2samp


def brute_force_statistic(x1, w1, x2, w2):
    """max over every pooled value v of |Σ_{x1<=v} w1/Σw1 − Σ_{x2<=v} w2/Σw2|."""
    x1, w1, x2, w2 = (np.asarray(a, dtype=np.float64) for a in (x1, w1, x2, w2))
    distances = [
        abs(w1[x1 <= v].sum() / w1.sum() - w2[x2 <= v].sum() / w2.sum())
        for v in np.concatenate([x1, x2])
    ]
    return max(distances)


def kish(weights):
    weights = np.asarray(weights, dtype=np.float64)
    return weights.sum() ** 2 / (weights**2).sum()


def sample_pairs():
    """(x1, x2) pairs: continuous, with many ties (rounded), unequal sizes, shifted."""
    rng = np.random.default_rng(11)
    return [
        (rng.normal(0, 1, 300), rng.normal(0.1, 1, 300)),
        (rng.normal(0, 1, 137), rng.normal(0, 1.3, 411)),
        (rng.normal(0, 1, 250).round(1), rng.normal(0.2, 1, 180).round(1)),
        (rng.integers(0, 5, 90).astype(float), rng.integers(0, 6, 333).astype(float)),
        (rng.uniform(0, 1, 7), rng.uniform(0.3, 1.3, 1000).round(2)),
        (rng.exponential(1, 1), rng.exponential(1, 50)),
    ]


@pytest.mark.parametrize("index", range(len(sample_pairs())))
def test_unit_weights_reproduce_scipy_asymptotic_test_exactly(index):
    x1, x2 = sample_pairs()[index]
    statistic, p_value = weighted_ks_2samp(x1, np.ones_like(x1), x2, np.ones_like(x2))
    expected = ks_2samp(x1, x2, method="asymp")
    assert statistic == float(expected.statistic)
    assert p_value == float(expected.pvalue)
    assert isinstance(statistic, float) and isinstance(p_value, float)


def test_unit_weights_include_ties_across_samples():
    # every value appears in both samples: the CDFs must be compared after each tie
    x1 = np.array([1.0, 1.0, 2.0, 2.0, 2.0, 3.0])
    x2 = np.array([1.0, 2.0, 3.0, 3.0, 3.0])
    statistic, p_value = weighted_ks_2samp(x1, np.ones(6), x2, np.ones(5))
    expected = ks_2samp(x1, x2, method="asymp")
    assert statistic == float(expected.statistic)
    assert p_value == float(expected.pvalue)
    # by hand: after 2.0, 5/6 against 2/5
    assert statistic == pytest.approx(5 / 6 - 2 / 5, abs=1e-15)


@pytest.mark.parametrize("index", range(len(sample_pairs())))
def test_weighted_statistic_matches_brute_force(index):
    x1, x2 = sample_pairs()[index]
    rng = np.random.default_rng(100 + index)
    w1 = rng.uniform(0.01, 3.0, len(x1))
    w2 = rng.exponential(1.0, len(x2)) + 1e-3
    statistic, p_value = weighted_ks_2samp(x1, w1, x2, w2)
    assert statistic == pytest.approx(brute_force_statistic(x1, w1, x2, w2), rel=1e-12, abs=1e-15)
    assert 0.0 <= p_value <= 1.0
    # two-sided: the order of the samples does not matter
    swapped, swapped_p = weighted_ks_2samp(x2, w2, x1, w1)
    assert swapped == pytest.approx(statistic, rel=1e-12, abs=1e-15)
    assert swapped_p == pytest.approx(p_value, rel=1e-12, abs=1e-300)


def test_weighted_statistic_with_ties_by_hand():
    # x1: 1 (w 1), 1 (w 3), 2 (w 4) -> CDF 0.5, 1 ; x2: 1 (w 1), 2 (w 1), 2 (w 2) -> 0.25, 1
    statistic, _ = weighted_ks_2samp([2.0, 1.0, 1.0], [4.0, 1.0, 3.0], [2.0, 1.0, 2.0], [1, 1, 2])
    assert statistic == pytest.approx(0.25, abs=1e-15)


def test_weights_matter():
    x1 = np.array([0.0, 1.0, 2.0, 3.0])
    x2 = np.array([0.0, 1.0, 2.0, 3.0])
    # same values, all weight on the low end in one and on the high end in the other
    statistic, _ = weighted_ks_2samp(x1, [10.0, 1.0, 1.0, 1.0], x2, [1.0, 1.0, 1.0, 10.0])
    assert statistic == pytest.approx(12 / 13 - 3 / 13, abs=1e-15)


def test_integer_weights_equal_replicated_events_for_the_statistic():
    rng = np.random.default_rng(3)
    x1 = rng.normal(0, 1, 120).round(1)
    x2 = rng.normal(0.3, 1, 95).round(1)
    k1 = rng.integers(1, 6, len(x1))
    k2 = rng.integers(1, 4, len(x2))
    statistic, p_value = weighted_ks_2samp(x1, k1.astype(float), x2, k2)

    replicated_1, replicated_2 = np.repeat(x1, k1), np.repeat(x2, k2)
    unit_statistic, unit_p = weighted_ks_2samp(
        replicated_1, np.ones(len(replicated_1)), replicated_2, np.ones(len(replicated_2))
    )
    assert statistic == unit_statistic
    assert statistic == float(ks_2samp(replicated_1, replicated_2, method="asymp").statistic)

    # the p-value uses Kish's effective sizes, smaller than the replicated counts
    n_1, n_2 = effective_sample_size(k1), effective_sample_size(k2)
    assert n_1 == pytest.approx(kish(k1), rel=1e-14)
    assert n_2 == pytest.approx(kish(k2), rel=1e-14)
    assert n_1 < len(replicated_1) and n_2 < len(replicated_2)
    assert n_1 <= len(x1) and n_2 <= len(x2)
    expected_p = kstwo.sf(statistic, round(n_1 * n_2 / (n_1 + n_2)))
    assert p_value == pytest.approx(expected_p, rel=1e-12)
    assert p_value > unit_p  # fewer effective events, weaker evidence
    assert p_value != pytest.approx(unit_p, rel=1e-3)


def test_weighted_p_value_uses_kish_effective_sizes():
    rng = np.random.default_rng(8)
    x1, x2 = rng.normal(0, 1, 400), rng.normal(0.15, 1, 300)
    w1, w2 = rng.uniform(0.1, 5.0, 400), rng.exponential(2.0, 300) + 0.01
    statistic, p_value = weighted_ks_2samp(x1, w1, x2, w2)
    n_1, n_2 = kish(w1), kish(w2)
    assert effective_sample_size(w1) == pytest.approx(n_1, rel=1e-14)
    assert effective_sample_size(w2) == pytest.approx(n_2, rel=1e-14)
    expected_p = kstwo.sf(statistic, round(n_1 * n_2 / (n_1 + n_2)))
    assert p_value == pytest.approx(expected_p, rel=1e-12)


def effective_sample_size(weights) -> float:
    """The package's Kish count of one set of weights (the KS test's effective size)."""
    weights = np.asarray(weights, dtype=np.float64)
    return float(kish_effective_events(weights.sum(), np.sum(weights**2)))


def test_effective_sample_size():
    assert effective_sample_size(np.ones(17)) == 17.0
    assert effective_sample_size([2.5] * 40) == pytest.approx(40.0, rel=1e-15)
    # one dominant weight: about one event
    assert effective_sample_size([1000.0, 1e-3, 1e-3]) == pytest.approx(1.0, rel=1e-5)
    # (1 + 2 + 3)^2 / (1 + 4 + 9)
    assert effective_sample_size([1, 2, 3]) == pytest.approx(36 / 14, rel=1e-15)
    # scale invariant
    rng = np.random.default_rng(0)
    w = rng.uniform(0.1, 2.0, 50)
    assert effective_sample_size(7.3 * w) == pytest.approx(effective_sample_size(w), rel=1e-13)


def test_identical_samples_give_zero_and_one():
    rng = np.random.default_rng(5)
    x = rng.normal(0, 1, 200).round(2)
    w = rng.uniform(0.1, 2.0, 200)
    assert weighted_ks_2samp(x, w, x, w) == (0.0, 1.0)
    # the same weighted distribution in another order and scale
    order = rng.permutation(200)
    statistic, p_value = weighted_ks_2samp(x, w, x[order], 3.0 * w[order])
    assert statistic == pytest.approx(0.0, abs=1e-12)
    assert p_value == pytest.approx(1.0, abs=1e-12)


def test_clearly_different_distributions_have_a_tiny_p_value():
    rng = np.random.default_rng(6)
    x1, x2 = rng.normal(0, 1, 500), rng.normal(1.0, 1, 600)
    w1, w2 = rng.uniform(0.5, 1.5, 500), rng.uniform(0.5, 1.5, 600)
    statistic, p_value = weighted_ks_2samp(x1, w1, x2, w2)
    assert statistic > 0.3
    assert p_value < 1e-6
    # the same distribution, other events: no evidence of a difference
    _, same_p = weighted_ks_2samp(x1, w1, rng.normal(0, 1, 600), w2)
    assert same_p > 1e-3


@pytest.mark.parametrize(
    ("sample_1", "weights_1", "sample_2", "weights_2"),
    [
        ([1.0, 2.0, 3.0], [1.0, 1.0], [1.0, 2.0], [1.0, 1.0]),  # mismatched lengths
        ([1.0, 2.0], [1.0, 1.0], [1.0, 2.0], [1.0, 1.0, 1.0]),  # mismatched, second sample
        ([], [], [1.0, 2.0], [1.0, 1.0]),  # empty
        ([1.0, 2.0], [1.0, 1.0], [], []),  # empty second sample
        ([1.0, 2.0], [0.0, 0.0], [1.0, 2.0], [1.0, 1.0]),  # zero weight sum
        ([1.0, 2.0], [1.0, 1.0], [1.0, 2.0], [1.0, -3.0]),  # negative weight sum
    ],
)
def test_invalid_samples_are_rejected(sample_1, weights_1, sample_2, weights_2):
    with pytest.raises(ValueError):
        weighted_ks_2samp(sample_1, weights_1, sample_2, weights_2)


def class_frame(rng, classes, n):
    names = rng.choice(classes, n)
    return pd.DataFrame(
        {
            "score_Signal": rng.uniform(0, 1, n).round(2),
            "weight": rng.uniform(0.1, 1.0, n),
            "class": names,
        }
    )


def test_ks_per_class():
    rng = np.random.default_rng(9)
    train = class_frame(rng, ["Signal", "Wjets", "TTbar"], 600)
    validation = class_frame(rng, ["Signal", "Wjets"], 400)  # no TTbar here
    names = ["Signal", "Wjets", "TTbar", "Other"]  # no Other anywhere
    table = ks_per_class(train, validation, "score_Signal", names)
    assert list(table.index) == names
    assert table.index.name == "class"
    assert list(table.columns) == ["statistic", "p_value"]
    for name in ["Signal", "Wjets"]:
        a = train[train["class"] == name]
        b = validation[validation["class"] == name]
        expected = weighted_ks_2samp(a["score_Signal"], a["weight"], b["score_Signal"], b["weight"])
        assert tuple(table.loc[name]) == expected
        assert table.loc[name, "statistic"] == pytest.approx(
            brute_force_statistic(a["score_Signal"], a["weight"], b["score_Signal"], b["weight"]),
            rel=1e-12,
        )
    for name in ["TTbar", "Other"]:
        assert table.loc[name].isna().all()
