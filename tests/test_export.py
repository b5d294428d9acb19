"""The network out: ONNX models of the raw variables (scaling folded in), checked with
ONNX Runtime, and the model card beside them. Real Keras, tf2onnx and ONNX Runtime."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pytest

from cmsnn.learning.backend import use_keras_backend

use_keras_backend("tensorflow", 1)

import keras  # noqa: E402

from cmsnn.files import write_json  # noqa: E402
from cmsnn.learning import export as exporting  # noqa: E402
from cmsnn.learning.export import (  # noqa: E402
    ONNX_TOLERANCE,
    check_onnx_against_network,
    export_checked_onnx,
    export_onnx,
    onnx_scores,
    write_model_card_files,
)
from cmsnn.preprocessing.scaling import apply_scaler, fit_scaler  # noqa: E402
from cmsnn.vocabulary import NetworkTask  # noqa: E402

FEATURES = ["met", "njet", "eta"]


@pytest.fixture(scope="module")
def events():
    rng = np.random.default_rng(11)
    frame = pd.DataFrame(
        {
            "met": rng.exponential(80.0, 4000) + 20.0,  # a heavy tail
            "njet": rng.binomial(8, 0.4, 4000).astype(float),  # integers: plateaus
            "eta": rng.uniform(-2.5, 2.5, 4000),
        }
    ).astype(np.float32)
    return frame


def network(outputs: int, activation: str):
    keras.utils.set_random_seed(3)
    inputs = keras.Input((len(FEATURES),))
    hidden = keras.layers.Dense(16, activation="tanh")(inputs)
    return keras.Model(inputs, keras.layers.Dense(outputs, activation=activation)(hidden))


@pytest.mark.parametrize("method", ["minmax", "standard", "quantile"])
@pytest.mark.parametrize(("outputs", "activation"), [(1, "sigmoid"), (3, "softmax")])
def test_the_onnx_model_of_raw_inputs_equals_scaling_then_network(
    tmp_path, events, method, outputs, activation
):
    train, other = events.iloc[:2000], events.iloc[2000:].copy()
    # beyond the training range on both sides, and exactly on knots
    other.iloc[:3] = [[1e5, 20.0, 9.0], [-50.0, -3.0, -9.0], train.iloc[0].to_numpy()]
    scaler = fit_scaler(train, method)
    model = network(outputs, activation)
    export_onnx(model, scaler, tmp_path / "model.onnx")
    expected = model.predict(apply_scaler(scaler, other), verbose=0)
    got = onnx_scores(tmp_path / "model.onnx", other.to_numpy(np.float32))
    np.testing.assert_allclose(got, expected, atol=ONNX_TOLERANCE / 10, rtol=0)
    assert not list(tmp_path.glob(".model.*"))


def test_the_training_keeps_checked_models_and_removes_wrong_ones(tmp_path, events,
                                                                  monkeypatch):  # fmt: skip
    """Both exports (the network behind its scaling, and the bare network) agree with
    Keras on every event; the bare network on the scaled events gives what the full
    model gives on the raw ones."""
    scaler = fit_scaler(events, "quantile")
    model = network(3, "softmax")
    columns = ["score_Signal", "score_Top", "score_W"]
    raw = events.to_numpy(np.float32)
    scaled = np.asarray(apply_scaler(scaler, events), dtype=np.float32)
    outputs = {name: tmp_path / name for name in ("model.onnx", "network.onnx", "check.json")}
    outputs = dict(zip(("onnx", "network", "check"), outputs.values(), strict=True))
    write_json(scaler, tmp_path / "scaler.json")
    model.save(tmp_path / "model.keras")
    saved = (tmp_path / "scaler.json", tmp_path / "model.keras")
    export_checked_onnx(model, *saved, raw, scaled, outputs, columns, threads=1)
    check = json.loads(outputs["check"].read_text())
    assert check["output_columns"] == columns
    assert check["check"]["events"] == len(events)
    assert check["check"]["largest_absolute_difference"] <= ONNX_TOLERANCE
    assert check["network_check"]["largest_absolute_difference"] <= ONNX_TOLERANCE
    assert "Keras network" in check["check"]["against"]
    assert check["versions"]["tf2onnx"] and check["versions"]["onnxruntime"]
    from_scaled = onnx_scores(outputs["network"], scaled)
    np.testing.assert_allclose(from_scaled, onnx_scores(outputs["onnx"], raw), atol=2e-5)

    # a check that fails (here: no difference tolerated) leaves no model behind
    outputs["check"].unlink()
    monkeypatch.setattr(exporting, "ONNX_TOLERANCE", -1.0)
    with pytest.raises(ValueError, match=r"differs from the Keras network by .* at validation"):
        export_checked_onnx(model, *saved, raw, scaled, outputs, columns, threads=1)
    assert not any(path.exists() for path in outputs.values())


def test_the_check_compares_every_output_of_every_event(tmp_path, events):
    """The exported model against a network whose last output moved by twice the
    tolerance: the check names that output."""
    scaler = fit_scaler(events, "standard")
    model = network(3, "linear")
    export_onnx(model, scaler, tmp_path / "model.onnx")
    raw, columns = events.to_numpy(np.float32), ["score_Signal", "score_Top", "score_W"]
    assert (
        check_onnx_against_network(tmp_path / "model.onnx", model, scaler, raw, columns)
        <= ONNX_TOLERANCE
    )
    kernel, bias = model.layers[-1].get_weights()
    bias[2] += 2 * ONNX_TOLERANCE
    model.layers[-1].set_weights([kernel, bias])
    with pytest.raises(ValueError, match="at validation event .*, score_W"):
        check_onnx_against_network(tmp_path / "model.onnx", model, scaler, raw, columns)


def test_the_model_card_says_how_to_use_the_model(tmp_path, events):
    scaler = fit_scaler(events, "minmax")
    (tmp_path / "model.onnx").write_bytes(b"onnx bytes")
    write_json(scaler, tmp_path / "scaler.json")
    write_json({"seed": 4, "settings": {"layers": [16]}, "best_epoch": 7,
                "versions": {"keras": "3"}}, tmp_path / "training.json")  # fmt: skip
    write_json({"auc_test": 0.91, "best_cut": 0.8, "fom_validation_at_best_cut": 2.5,
                "warnings": []}, tmp_path / "evaluation.json")  # fmt: skip
    write_json({"output_columns": ["score_Signal"], "check": {"largest_absolute_difference": 1e-7},
                "versions": {"tf2onnx": "1.17"}}, tmp_path / "check.json")  # fmt: skip
    write_model_card_files(
        onnx=tmp_path / "model.onnx",
        scaler=tmp_path / "scaler.json",
        facts=tmp_path / "training.json",
        evaluation=tmp_path / "evaluation.json",
        check=tmp_path / "check.json",
        card=tmp_path / "card.json",
        task=NetworkTask("binary", ["Signal", "Top", "W"], FEATURES),
        units={"met": "GeV"},
    )
    card = json.loads((tmp_path / "card.json").read_text())
    assert [v["name"] for v in card["input"]["variables"]] == FEATURES
    assert card["input"]["variables"][0]["unit"] == "GeV"
    assert card["input"]["scaling"]["method"] == "minmax"
    assert card["output"]["columns"] == ["score_Signal"]
    assert "Signal (signal) rather than any of ['Top', 'W']" in card["output"]["meaning"][0]
    assert card["metrics"]["auc_test"] == 0.91 and card["metrics"]["best_cut"] == 0.8
    assert card["training"]["best_epoch"] == 7 and card["training"]["seed"] == 4
    assert card["versions"] == {"training": {"keras": "3"}, "export": {"tf2onnx": "1.17"}}
    # the SHA-256 of the exact file the card describes
    assert card["file"]["sha256"] == hashlib.sha256(b"onnx bytes").hexdigest()
