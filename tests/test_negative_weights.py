"""Negative event weights (NLO samples): the policy for training, signed yields always."""

from __future__ import annotations

import json
import logging

import numpy as np
import pandas as pd
import pytest

from cmsnn.dataframes import read_parquet, write_parquet
from cmsnn.learning.prediction import predict_events
from cmsnn.learning.training import train_model, train_model_files
from cmsnn.preprocessing.scaling import scale_and_balance_files
from cmsnn.preprocessing.weighting import (
    apply_negative_weight_policy,
    negative_weight_report,
    net_weight_warnings,
)
from cmsnn.summary.tables import training_warnings
from cmsnn.vocabulary import SPLITS, NetworkTask

FEATURES = ["x1", "x2", "x3"]
CLASSES = ["Signal", "B1", "B2"]
TASK = NetworkTask("multiclass", CLASSES, FEATURES)
SETTINGS = {
    "layers": [8, 8],
    "activation": "relu",
    "initializer": "he_normal",
    "dropout": 0.0,
    "l2": 0.0,
    "learning_rate": 0.01,
    "decay_rate": 0.0,
    "epochs": 6,
    "batch_size": 64,
    "shuffle": True,
    "early_stopping_patience": 0,
}


def test_policies():
    weights = np.array([1.0, -2.0, 0.5, -0.25])
    np.testing.assert_array_equal(apply_negative_weight_policy(weights, "keep"), weights)
    np.testing.assert_array_equal(apply_negative_weight_policy(weights, "abs"), [1, 2, 0.5, 0.25])
    np.testing.assert_array_equal(apply_negative_weight_policy(weights, "drop"), [1, 0, 0.5, 0])
    with pytest.raises(ValueError, match="negative_weights"):
        apply_negative_weight_policy(weights, "flip")


def test_report_and_the_cancellation_warning():
    weights = np.array([1.0, -0.5, 2.0, 1.0, -0.95, 3.0])
    classes = np.array([0, 0, 1, 2, 2, 2])
    report = negative_weight_report(weights, classes, CLASSES)
    assert report["Signal"] == {
        "negative_events": 1, "negative_weight": -0.5, "net_weight": 0.5, "absolute_weight": 1.5
    }  # fmt: skip
    assert report["B1"]["negative_events"] == 0
    assert net_weight_warnings(report, "train split") == []
    report = negative_weight_report(np.array([1.0, -0.95]), np.array([0, 0]), CLASSES[:1])
    (warning,) = net_weight_warnings(report, "train split")
    assert "class Signal in the train split" in warning and "2.6%" in warning


def nlo_events(n, seed, negative_share=0.2):
    """Three classes, 20 % of every class's events with negative weights."""
    rng = np.random.default_rng(seed)
    class_index = rng.integers(0, 3, n)
    x = rng.normal(size=(n, 3)) + class_index[:, None] * np.array([1.0, -0.5, 0.3])
    frame = pd.DataFrame(x.astype(np.float32), columns=FEATURES)
    frame["weight"] = rng.uniform(0.5, 1.5, n) * np.where(rng.random(n) < negative_share, -1, 1)
    frame["process"] = np.array(CLASSES)[class_index]
    frame["class"] = np.array(CLASSES)[class_index]
    frame["class_index"] = class_index.astype(np.int32)
    return frame


@pytest.mark.parametrize("policy", ["abs", "drop", "keep"])
def test_each_policy_trains_on_twenty_percent_negative_weights(tmp_path, policy):
    sources, outputs = {}, {}
    originals = {}
    for number, split in enumerate(SPLITS):
        originals[split] = nlo_events(600, number)
        assert (originals[split]["weight"] < 0).mean() == pytest.approx(0.2, abs=0.05)
        sources[split] = tmp_path / f"{split}.parquet"
        outputs[split] = tmp_path / "prepared" / f"{split}.parquet"
        write_parquet(originals[split], sources[split])
    scale_and_balance_files(
        events=sources,
        prepared=outputs,
        scaler=tmp_path / "scaler.json",
        task=TASK,
        scaling="standard",
        balancing="sqrt",
        negative_weights=policy,
    )
    prepared = {split: read_parquet(outputs[split]) for split in SPLITS}
    train, validation = prepared["train"], prepared["validation"]
    negative = train["weight"] < 0
    if policy == "abs":
        assert (train["training_weight"] > 0).all()
    elif policy == "drop":
        assert (train.loc[negative, "training_weight"] == 0).all()
        assert (train.loc[~negative, "training_weight"] > 0).all()
    else:
        assert (train.loc[negative, "training_weight"] < 0).all()
    model, history, _ = train_model(train, validation, FEATURES, SETTINGS, "multiclass", 3, 1)
    losses = history[["loss", "val_loss"]].to_numpy()
    assert np.isfinite(losses).all()
    if policy != "keep":
        assert (losses > 0).all()
    # yields use the signed weights whatever the policy
    predictions = predict_events(model, prepared["test"], FEATURES, "multiclass", CLASSES)
    signed = originals["test"].groupby("class")["weight"].sum()
    np.testing.assert_allclose(predictions.groupby("class")["weight"].sum(), signed, rtol=1e-12)
    for split in ("train", "validation"):
        sums = prepared[split].groupby("class")["weight"].sum()
        np.testing.assert_allclose(sums, originals[split].groupby("class")["weight"].sum())


def test_the_policy_is_logged_and_counted_in_training_json_and_the_summary(tmp_path, caplog):
    """Per class, the events and weight the policy touched go to the preparation's log
    and training.json; a class whose weights mostly cancel is warned about in the
    training log, training.json and (through it) the summary's warnings."""
    sources, outputs = {}, {}
    for number, split in enumerate(SPLITS):
        events = nlo_events(600, number)
        cancelling = events["class"] == "B2"  # B2's weights cancel to ~5 % of |w|
        events.loc[cancelling, "weight"] = np.resize([1.0, -0.9], int(cancelling.sum()))
        sources[split] = tmp_path / f"{split}.parquet"
        outputs[split] = tmp_path / "prepared" / f"{split}.parquet"
        write_parquet(events, sources[split])
    with caplog.at_level(logging.INFO):
        scale_and_balance_files(
            events=sources,
            prepared=outputs,
            scaler=tmp_path / "scaler.json",
            task=TASK,
            scaling="standard",
            balancing="sqrt",
            negative_weights="abs",
        )
    train = read_parquet(sources["train"])
    negative = train[train["weight"] < 0]
    touched = negative[negative["class"] == "Signal"]
    assert (
        f"train split, class Signal: {len(touched)} negative-weight events, summed weight "
        f"{touched['weight'].sum():.6g}"
    ) in caplog.text
    caplog.clear()
    model = tmp_path / "model" / "model.keras"
    with caplog.at_level(logging.INFO):
        train_model_files(
            train=outputs["train"],
            validation=outputs["validation"],
            scaler=tmp_path / "scaler.json",
            validation_events=sources["validation"],
            model=model,
            onnx=tmp_path / "model" / "model.onnx",
            network=tmp_path / "model" / "network.onnx",
            check=tmp_path / "model" / "onnx_check.json",
            history=tmp_path / "model" / "history.csv",
            facts=tmp_path / "model" / "training.json",
            task=TASK,
            settings=SETTINGS | {"epochs": 2},
            seed=1,
            threads=1,
        )
    facts = json.loads((tmp_path / "model" / "training.json").read_text())
    for split in ("train", "validation"):
        events = read_parquet(sources[split])
        for name in CLASSES:
            members = events.loc[events["class"] == name, "weight"]
            counted = facts["negative_weights"][split][name]
            assert counted["negative_events"] == int((members < 0).sum()) > 0
            assert counted["negative_weight"] == pytest.approx(members[members < 0].sum())
            assert counted["net_weight"] == pytest.approx(members.sum())
    cancellation = [w for w in facts["warnings"] if w.startswith("class B2 in the train split")]
    assert cancellation and cancellation[0] in caplog.text
    assert not [w for w in facts["warnings"] if "class Signal" in w]
    assert cancellation[0] in training_warnings(facts)


def test_a_class_emptied_by_the_preselection_stops_the_rule_naming_it(tmp_path):
    """The config cannot show that a cut empties a class (that depends on the events):
    the scale_and_balance rule fails, naming the class, the split, its file and what to
    do, and writes nothing, before any network is trained on a class it cannot learn."""
    sources, outputs = {}, {}
    for number, split in enumerate(SPLITS):
        events = nlo_events(300, number).query("`class` != 'B2' or @split == 'test'")
        sources[split] = tmp_path / f"{split}.parquet"
        outputs[split] = tmp_path / "prepared" / f"{split}.parquet"
        write_parquet(events, sources[split])
    message = (
        rf"train split \({sources['train']}\): the classes \['B2'\] have no events here "
        r"\(after the preselection and the split\).*loosen the preselection"
    )
    with pytest.raises(ValueError, match=message):
        scale_and_balance_files(
            events=sources,
            prepared=outputs,
            scaler=tmp_path / "scaler.json",
            task=TASK,
            scaling="standard",
            balancing="sqrt",
        )
    assert not (tmp_path / "prepared").exists() or not any((tmp_path / "prepared").iterdir())
