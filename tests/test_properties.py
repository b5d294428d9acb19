"""Property tests (Hypothesis): what the FOM, the scaling and the balancing promise,
for any input, not only the hand-picked ones."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from cmsnn.preprocessing.scaling import apply_scaler, fit_scaler
from cmsnn.preprocessing.weighting import balance_class_weights
from cmsnn.statistics.significance import asimov_significance

yields = st.floats(1e-3, 1e6, allow_nan=False, allow_infinity=False)
uncertainties = st.floats(0.0, 2.0, allow_nan=False)


@given(s=yields, b=yields, f=uncertainties, factor=st.floats(1.01, 10.0))
def test_fom_grows_with_the_signal(s, b, f, factor):
    assert asimov_significance(s * factor, b, f) >= asimov_significance(s, b, f)


@given(s=yields, b=yields, f=uncertainties, factor=st.floats(1.01, 10.0))
def test_fom_falls_with_the_background(s, b, f, factor):
    assert asimov_significance(s, b * factor, f) <= asimov_significance(s, b, f) * (1 + 1e-12)


@given(s=yields, b=yields, f=st.floats(0.0, 1.0), extra=st.floats(0.01, 1.0))
def test_fom_falls_with_the_uncertainty(s, b, f, extra):
    assert asimov_significance(s, b, f + extra) <= asimov_significance(s, b, f) * (1 + 1e-12)


@given(s=yields, b=yields)
def test_fom_is_continuous_as_the_uncertainty_vanishes(s, b):
    exact = asimov_significance(s, b, 0.0)
    assert asimov_significance(s, b, 1e-9) == pytest.approx(exact, rel=1e-6, abs=1e-12)
    assert exact == pytest.approx(np.sqrt(2 * ((s + b) * np.log1p(s / b) - s)), rel=1e-6, abs=1e-9)


feature_tables = arrays(
    np.float64,
    st.tuples(st.integers(2, 60), st.integers(1, 4)),
    elements=st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False),
).map(lambda values: pd.DataFrame(values, columns=[f"x{i}" for i in range(values.shape[1])]))


@settings(max_examples=60, deadline=None)
@given(features=feature_tables, method=st.sampled_from(["minmax", "standard", "quantile"]))
def test_a_scaler_survives_its_json_and_keeps_the_order(features, method):
    scaler = fit_scaler(features, method)
    reloaded = json.loads(json.dumps(scaler))
    scaled = apply_scaler(reloaded, features)
    np.testing.assert_array_equal(scaled, apply_scaler(scaler, features))
    assert np.isfinite(scaled).all()
    for column in range(features.shape[1]):
        order = np.argsort(features.iloc[:, column].to_numpy(), kind="stable")
        assert (np.diff(scaled[order, column].astype(np.float64)) >= -1e-6).all()
    if method == "minmax":
        assert (scaled >= -1 - 1e-6).all() and (scaled <= 1 + 1e-6).all()
    if method == "standard":
        values = features.to_numpy()
        varying = values.std(axis=0) > 1e-6 * np.abs(values).max(axis=0).clip(1)
        np.testing.assert_allclose(scaled[:, varying].mean(axis=0), 0, atol=1e-3)


weights_and_classes = st.integers(2, 5).flatmap(
    lambda n_classes: st.tuples(
        st.just(n_classes),
        st.lists(
            st.tuples(st.integers(0, n_classes - 1), st.floats(1e-6, 1e3)),
            min_size=n_classes,
            max_size=80,
        ),
    )
)


@settings(max_examples=80, deadline=None)
@given(data=weights_and_classes, scheme=st.sampled_from(["equal", "sqrt", "none"]))
def test_balancing_gives_the_promised_sums(data, scheme):
    n_classes, events = data
    # every class present at least once
    events = [(index, 1.0) for index in range(n_classes)] + events
    class_index = np.array([index for index, _ in events])
    weights = np.array([weight for _, weight in events])
    names = [f"c{i}" for i in range(n_classes)]
    for classification in ("binary", "multiclass"):
        balanced = balance_class_weights(weights, class_index, scheme, classification, names)
        assert (balanced > 0).all()
        if scheme == "none":
            assert balanced.mean() == pytest.approx(1.0)
            np.testing.assert_allclose(balanced / weights, balanced[0] / weights[0])
            continue
        signal = class_index == 0
        n_signal, signal_sum = signal.sum(), weights[signal].sum()
        if classification == "binary":
            n_background = (~signal).sum()
            target_signal = n_background if scheme == "equal" else n_signal
            assert balanced[signal].sum() == pytest.approx(target_signal)
            if scheme == "equal":
                assert balanced[~signal].sum() == pytest.approx(n_background)
            else:
                expected = n_signal * np.sqrt(weights[~signal].sum() / signal_sum)
                assert balanced[~signal].sum() == pytest.approx(expected)
            continue
        for index in range(n_classes):
            members = class_index == index
            if scheme == "equal" or index == 0:
                expected = n_signal
            else:
                expected = n_signal * np.sqrt(weights[members].sum() / signal_sum)
            assert balanced[members].sum() == pytest.approx(expected)
        # inside a class, the events keep their relative weights
        for index in range(n_classes):
            members = class_index == index
            ratios = balanced[members] / weights[members]
            np.testing.assert_allclose(ratios, ratios[0], rtol=1e-9)
