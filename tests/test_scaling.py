"""Input scaling: fitted on the training split only, stored as JSON."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.preprocessing import QuantileTransformer

from cmsnn.dataframes import read_parquet, write_parquet
from cmsnn.files import read_json
from cmsnn.preprocessing.scaling import (
    QUANTILE_CLIP,
    apply_scaler,
    fit_scaler,
    scale_and_balance_files,
)
from cmsnn.vocabulary import SPLITS, NetworkTask

N = 20_000


@pytest.fixture(scope="module")
def train():
    rng = np.random.default_rng(42)
    return pd.DataFrame(
        {
            "Met": 200.0 + rng.exponential(80.0, N),  # heavy tail
            "LepEta": rng.normal(0.0, 1.2, N),
            "Njet": rng.binomial(10, 0.5, N).astype(float),  # integer, symmetric about 5
        }
    )


@pytest.fixture(scope="module")
def other():
    """A different sample (another split), with a shifted distribution."""
    rng = np.random.default_rng(43)
    return pd.DataFrame(
        {
            "Met": 150.0 + rng.exponential(120.0, 500),
            "LepEta": rng.normal(0.5, 2.0, 500),
            "Njet": rng.binomial(12, 0.5, 500).astype(float),
        }
    )


def test_minmax_maps_train_range_onto_minus_one_one(train):
    scaled = apply_scaler(fit_scaler(train, "minmax"), train)
    assert scaled.dtype == np.float32
    np.testing.assert_allclose(scaled.min(axis=0), -1.0, atol=1e-6)
    np.testing.assert_allclose(scaled.max(axis=0), 1.0, atol=1e-6)
    # linear: the midpoint of the training range maps to 0
    low, high = train["Met"].min(), train["Met"].max()
    mid = train.iloc[:1].assign(Met=0.5 * (low + high))
    assert apply_scaler(fit_scaler(train, "minmax"), mid)[0, 0] == pytest.approx(0.0, abs=1e-6)


def test_standard_gives_zero_mean_unit_std_on_train(train):
    scaled = apply_scaler(fit_scaler(train, "standard"), train).astype(np.float64)
    np.testing.assert_allclose(scaled.mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(scaled.std(axis=0), 1.0, atol=1e-5)


@pytest.mark.parametrize("method", ["minmax", "standard", "quantile"])
def test_fitted_on_train_only(train, other, method):
    """Applying to another split uses the training parameters, not refitted ones."""
    scaler = fit_scaler(train, method)
    applied = apply_scaler(scaler, other)
    refitted = apply_scaler(fit_scaler(other, method), other)
    assert not np.allclose(applied, refitted, atol=1e-3)
    # and the fitted parameters depend on the training data alone
    assert fit_scaler(train, method) == scaler


def test_minmax_on_other_split_uses_train_range(train, other):
    scaled = apply_scaler(fit_scaler(train, "minmax"), other)
    low, high = train["Met"].min(), train["Met"].max()
    expected = 2.0 * (other["Met"] - low) / (high - low) - 1.0
    np.testing.assert_allclose(scaled[:, 0], expected, rtol=1e-5, atol=1e-5)


def test_quantile_continuous_variable_is_standard_normal_on_train(train):
    scaled = apply_scaler(fit_scaler(train, "quantile"), train).astype(np.float64)
    for column in (0, 1):  # Met, LepEta
        values = scaled[:, column]
        assert np.isfinite(values).all()
        assert abs(values.mean()) < 0.01
        assert abs(values.std() - 1.0) < 0.01
        assert stats.kstest(values, "norm").statistic < 0.01


def test_quantile_is_monotonic_and_bounded(train):
    scaler = fit_scaler(train, "quantile")
    grid = np.linspace(0.0, 1.0, 5001)
    probe = pd.DataFrame(
        {"Met": 5000.0 * grid, "LepEta": 40.0 * grid - 20.0, "Njet": 30.0 * grid - 5.0}
    )
    scaled = apply_scaler(scaler, probe)
    assert np.isfinite(scaled).all()
    assert (np.diff(scaled, axis=0) >= 0).all()
    # beyond the training range: held at the outermost knot, the normal quantile of
    # QUANTILE_CLIP for a continuous variable, the middle of its step for an integer one
    limit = stats.norm.isf(QUANTILE_CLIP)
    np.testing.assert_allclose(scaled[0, :2], -limit, rtol=1e-5)
    np.testing.assert_allclose(scaled[-1, :2], limit, rtol=1e-5)
    njet = train["Njet"]
    for edge, row in ((njet.min(), 0), (njet.max(), -1)):
        middle = 0.5 * ((njet < edge).mean() + (njet <= edge).mean())
        assert stats.norm.cdf(scaled[row, 2]) == pytest.approx(middle, abs=2e-3)


def test_quantile_integer_variable(train):
    """Ties: each integer value goes to the normal quantile of the middle of its step
    of the training CDF, so the transform stays finite and keeps the symmetry."""
    scaler = fit_scaler(train, "quantile")
    njet = train["Njet"]
    values = np.arange(njet.min(), njet.max() + 1)
    probe = pd.DataFrame({"Met": 300.0, "LepEta": 0.0, "Njet": values})
    scaled = apply_scaler(scaler, probe)[:, 2].astype(np.float64)
    assert np.isfinite(scaled).all()
    assert (np.diff(scaled) > 0).all()
    mid_cdf = np.array([0.5 * ((njet < v).mean() + (njet <= v).mean()) for v in values])
    np.testing.assert_allclose(stats.norm.cdf(scaled), mid_cdf, atol=2e-3)
    # Binomial(10, 1/2) is symmetric about 5
    five = int(np.flatnonzero(values == 5)[0])
    assert abs(scaled[five]) < 0.05
    for k in (1, 2, 3):
        assert scaled[five + k] == pytest.approx(-scaled[five - k], abs=0.05)
    on_train = apply_scaler(scaler, train)[:, 2]
    assert np.isfinite(on_train).all()
    assert abs(on_train.mean()) < 0.05


def test_quantile_agrees_with_sklearn(train, other):
    scaler = fit_scaler(train[["Met", "LepEta"]], "quantile")
    reference = QuantileTransformer(
        output_distribution="normal", n_quantiles=1000, subsample=None
    ).fit(train[["Met", "LepEta"]].to_numpy())
    for sample in (train, other):
        ours = apply_scaler(scaler, sample[["Met", "LepEta"]])
        theirs = reference.transform(sample[["Met", "LepEta"]].to_numpy())
        # sklearn interpolates the probability between quantiles, we the normal score
        # (exact in ONNX): the two agree to a quantile step in probability everywhere,
        # and to 1e-2 in score in the bulk
        bulk = np.abs(theirs) < 2.5
        np.testing.assert_allclose(ours[bulk], theirs[bulk], atol=1e-2)
        np.testing.assert_allclose(stats.norm.cdf(ours), stats.norm.cdf(theirs), atol=1e-3)


def test_quantile_with_few_events():
    train = pd.DataFrame({"x": [3.0, 1.0, 2.0]})
    scaler = fit_scaler(train, "quantile")
    scaled = apply_scaler(scaler, pd.DataFrame({"x": [1.0, 1.5, 2.0, 3.0]}))[:, 0]
    # knots 1, 2, 3 at the scores of probabilities 0 (clipped), 1/2, 1 (clipped);
    # 1.5 lies halfway between the first two scores
    low, high = stats.norm.ppf([QUANTILE_CLIP, 1.0 - QUANTILE_CLIP])
    expected = [low, 0.5 * low, 0.0, high]
    np.testing.assert_allclose(scaled, expected, rtol=1e-5)


@pytest.mark.parametrize("method", ["minmax", "standard", "quantile"])
def test_json_round_trip_gives_identical_transform(train, other, method):
    scaler = fit_scaler(train, method)
    restored = json.loads(json.dumps(scaler))
    assert restored["method"] == method
    assert restored["features"] == ["Met", "LepEta", "Njet"]
    np.testing.assert_array_equal(apply_scaler(restored, other), apply_scaler(scaler, other))


@pytest.mark.parametrize("method", ["minmax", "standard", "quantile"])
def test_constant_column_gives_finite_output(method):
    train = pd.DataFrame({"c": np.full(100, 3.0), "x": np.arange(100.0)})
    scaler = fit_scaler(train, method)
    scaled = apply_scaler(scaler, pd.DataFrame({"c": [3.0, 2.0, 4.0], "x": [1.0, 2.0, 3.0]}))
    assert np.isfinite(scaled).all()
    assert scaled[0, 0] == pytest.approx(0.0, abs=1e-6)


def test_apply_uses_scaler_column_order_and_checks_columns(train):
    scaler = fit_scaler(train, "standard")
    shuffled = train[["Njet", "Met", "LepEta"]].assign(extra=1.0)
    np.testing.assert_array_equal(apply_scaler(scaler, shuffled), apply_scaler(scaler, train))
    with pytest.raises(ValueError, match="Njet"):
        apply_scaler(scaler, train[["Met", "LepEta"]])


def test_unknown_method_rejected(train):
    with pytest.raises(ValueError, match="scaling"):
        fit_scaler(train, "robust")
    with pytest.raises(ValueError, match="scaling"):
        apply_scaler({"method": "robust", "features": ["Met"]}, train)


def write_splits(tmp_path, class_indices):
    """Small Parquet splits with two variables; ``class_indices`` per split."""
    rng = np.random.default_rng(0)
    sources, outputs, frames = {}, {}, {}
    for offset, split in enumerate(SPLITS):
        class_index = np.asarray(class_indices[split], dtype=np.int32)
        n = len(class_index)
        frame = pd.DataFrame(
            {
                "a": rng.normal(offset, 1.0, n).astype(np.float32),
                "b": rng.uniform(0, 10 + offset, n).astype(np.float32),
                "weight": rng.uniform(0.5, 1.5, n),
                "process": "p",
                "class": np.array(["S", "B1", "B2"])[class_index],
                "class_index": class_index,
            }
        )
        frames[split] = frame
        sources[split] = tmp_path / f"{split}.parquet"
        outputs[split] = tmp_path / "prepared" / f"{split}.parquet"
        write_parquet(frame, sources[split])
    return sources, outputs, frames


def test_scale_and_balance_files(tmp_path):
    balanced = [0] * 10 + [1] * 20 + [2] * 10
    sources, outputs, frames = write_splits(tmp_path, dict.fromkeys(SPLITS, balanced))
    scaler_path = tmp_path / "prepared" / "scaler.json"
    scale_and_balance_files(
        events=sources,
        prepared=outputs,
        scaler=scaler_path,
        task=NetworkTask("multiclass", ["S", "B1", "B2"], ["a", "b"]),
        scaling="minmax",
        balancing="equal",
    )
    scaler = read_json(scaler_path)
    assert scaler["method"] == "minmax" and scaler["features"] == ["a", "b"]
    assert scaler["minimum"] == pytest.approx(frames["train"][["a", "b"]].min().tolist())
    assert scaler["maximum"] == pytest.approx(frames["train"][["a", "b"]].max().tolist())
    for split in SPLITS:
        prepared = read_parquet(outputs[split])
        original = frames[split]
        np.testing.assert_allclose(
            prepared[["a", "b"]], apply_scaler(scaler, original), rtol=0, atol=0
        )
        # the physics weight and the other columns are kept
        np.testing.assert_array_equal(prepared["weight"], original["weight"])
        pd.testing.assert_frame_equal(
            prepared.drop(columns=["a", "b", "training_weight"], errors="ignore"),
            original.drop(columns=["a", "b"]),
        )
        if split == "test":
            # the test split keeps only its physics weights
            assert "training_weight" not in prepared.columns
        else:
            # the balanced training weight is added, each split balanced on its own sums
            sums = prepared.groupby("class_index")["training_weight"].sum()
            np.testing.assert_allclose(sums, [10.0, 10.0, 10.0])
    train_scaled = read_parquet(outputs["train"])[["a", "b"]].to_numpy()
    np.testing.assert_allclose(train_scaled.min(axis=0), -1.0, atol=1e-6)
    np.testing.assert_allclose(train_scaled.max(axis=0), 1.0, atol=1e-6)


def test_scale_and_balance_files_does_not_balance_the_test_split(tmp_path):
    """The test split is never trained on: one without signal events is prepared all
    the same, while the splits that are balanced must hold signal and background."""
    class_indices = {
        "train": [0] * 5 + [1] * 5,
        "validation": [0] * 3 + [2] * 4,
        "test": [1] * 6 + [2] * 2,
    }
    sources, outputs, frames = write_splits(tmp_path, class_indices)
    scaler_path = tmp_path / "prepared" / "scaler.json"
    arguments = {
        "task": NetworkTask("binary", ["S", "B1", "B2"], ["a", "b"]),
        "scaling": "quantile",
        "balancing": "equal",
    }
    scale_and_balance_files(events=sources, prepared=outputs, scaler=scaler_path, **arguments)
    test = read_parquet(outputs["test"])
    assert len(test) == 8 and "training_weight" not in test.columns
    assert read_json(scaler_path)["method"] == "quantile"
    validation = read_parquet(outputs["validation"])
    is_signal = validation["class_index"] == 0
    assert validation["training_weight"][is_signal].sum() == pytest.approx(4.0)
    assert validation["training_weight"][~is_signal].sum() == pytest.approx(4.0)

    write_parquet(frames["test"], sources["validation"])  # a validation split without signal
    with pytest.raises(ValueError, match="validation split"):
        scale_and_balance_files(
            events=sources, prepared=outputs, scaler=tmp_path / "other.json", **arguments
        )
