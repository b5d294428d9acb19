"""The input variables per class: weighted correlation matrices."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cmsnn.statistics.correlation import correlation_matrices, weighted_correlation


def correlated_values(rng, n):
    a = rng.normal(0, 1, n)
    b = 0.6 * a + 0.8 * rng.normal(0, 1, n)
    c = -0.3 * a + rng.exponential(1.0, n)
    d = rng.integers(0, 4, n).astype(float)  # discrete, with ties
    return np.column_stack([a, b, c, d])


def test_unit_weights_equal_numpy_corrcoef():
    rng = np.random.default_rng(0)
    for n in (5, 50, 2000):
        values = correlated_values(rng, n)
        correlation = weighted_correlation(values, np.ones(n))
        np.testing.assert_allclose(correlation, np.corrcoef(values, rowvar=False), atol=1e-12)
        # any common weight is the same
        np.testing.assert_allclose(
            weighted_correlation(values, np.full(n, 0.37)), correlation, atol=1e-12
        )


def test_integer_weights_equal_replicated_events():
    rng = np.random.default_rng(1)
    values = correlated_values(rng, 300)
    counts = rng.integers(1, 7, 300)
    correlation = weighted_correlation(values, counts.astype(float))
    replicated = np.repeat(values, counts, axis=0)
    np.testing.assert_allclose(correlation, np.corrcoef(replicated, rowvar=False), atol=1e-12)
    # the weights matter
    assert not np.allclose(correlation, np.corrcoef(values, rowvar=False), atol=1e-3)


def test_properties_of_a_correlation_matrix():
    rng = np.random.default_rng(2)
    values = correlated_values(rng, 1000)
    correlation = weighted_correlation(values, rng.uniform(0.1, 3.0, 1000))
    assert correlation.shape == (4, 4)
    np.testing.assert_allclose(correlation, correlation.T, atol=1e-14)
    np.testing.assert_array_equal(np.diag(correlation), 1.0)
    assert (np.abs(correlation) <= 1 + 1e-12).all()
    assert np.linalg.eigvalsh(correlation).min() > -1e-12
    assert correlation[0, 1] == pytest.approx(0.6, abs=0.05)  # the generated correlation


def test_constant_column_has_no_correlation():
    rng = np.random.default_rng(3)
    values = correlated_values(rng, 200)
    values[:, 2] = 0.0  # e.g. JetB2pt for events without a second b-jet
    for weights in (np.ones(200), rng.uniform(0.1, 2.0, 200)):
        correlation = weighted_correlation(values, weights)
        assert np.isnan(np.delete(correlation[2], 2)).all()
        assert np.isnan(np.delete(correlation[:, 2], 2)).all()
        assert correlation[2, 2] == 1.0
        np.testing.assert_array_equal(np.diag(correlation), 1.0)
        others = [0, 1, 3]
        assert np.isfinite(correlation[np.ix_(others, others)]).all()


def test_constant_column_of_any_value_has_no_correlation():
    rng = np.random.default_rng(4)
    values = correlated_values(rng, 500)
    values[:, 1] = 0.1
    values[:, 2] = -0.7
    correlation = weighted_correlation(values, rng.uniform(0.1, 2.0, 500))
    np.testing.assert_array_equal(np.diag(correlation), 1.0)
    for column in (1, 2):
        assert np.isnan(np.delete(correlation[column], column)).all()
        assert np.isnan(np.delete(correlation[:, column], column)).all()


def test_correlation_matrices_per_class():
    rng = np.random.default_rng(5)
    n = 900
    values = correlated_values(rng, n)
    features = ["a", "b", "c", "d"]
    events = pd.DataFrame(values, columns=features)
    events["weight"] = rng.uniform(0.1, 1.0, n)
    events["class"] = rng.choice(["Signal", "Wjets"], n)
    # within one class, b is anti-correlated with a instead
    signal = events["class"] == "Signal"
    events.loc[signal, "b"] = -events.loc[signal, "b"]

    matrices = correlation_matrices(events, ["b", "a", "d"], ["Wjets", "TTbar", "Signal"])
    assert list(matrices) == ["Wjets", "Signal"]  # TTbar has no events
    for name, matrix in matrices.items():
        assert isinstance(matrix, pd.DataFrame)
        assert list(matrix.index) == ["b", "a", "d"]
        assert list(matrix.columns) == ["b", "a", "d"]
        members = events[events["class"] == name]
        expected = weighted_correlation(members[["b", "a", "d"]].to_numpy(), members["weight"])
        np.testing.assert_allclose(matrix.to_numpy(), expected, rtol=1e-14, atol=1e-15)
    assert matrices["Wjets"].loc["a", "b"] == pytest.approx(0.6, abs=0.1)
    assert matrices["Signal"].loc["a", "b"] == pytest.approx(-0.6, abs=0.1)
