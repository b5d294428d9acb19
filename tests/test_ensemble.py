"""Seed ensembles: the mean of the members' outputs, checked event by event."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cmsnn.dataframes import read_csv_with_names
from cmsnn.learning.ensemble import average_predictions, average_seed_predictions_files

CLASSES = ["Signal", "Wjets", "TTbar"]


def member_predictions(seed, n=50, classification="multiclass"):
    rng = np.random.default_rng(seed)
    raw = rng.random((n, len(CLASSES)))
    scores = raw / raw.sum(axis=1, keepdims=True)
    events = np.random.default_rng(0)  # the same events for every member
    frame = pd.DataFrame(scores, columns=[f"score_{name}" for name in CLASSES])
    if classification == "binary":
        frame = frame[["score_Signal"]]
    else:
        frame["predicted_class"] = np.asarray(CLASSES)[scores.argmax(axis=1)]
    frame["weight"] = events.uniform(-0.1, 1.0, n)
    frame["process"] = events.choice(["s.root", "w.root", "tt.root"], n)
    frame["class"] = frame["process"].map(
        {"s.root": "Signal", "w.root": "Wjets", "tt.root": "TTbar"}
    )
    return frame


def test_ensemble_scores_are_the_mean_of_the_members():
    members = [member_predictions(seed) for seed in (1, 2, 3)]
    ensemble = average_predictions(members, ["m1", "m2", "m3"])
    assert list(ensemble.columns) == list(members[0].columns)
    for name in CLASSES:
        expected = np.mean([member[f"score_{name}"] for member in members], axis=0)
        np.testing.assert_allclose(ensemble[f"score_{name}"], expected, rtol=1e-15)
    # the predicted class is the highest mean score, which need not be any member's
    means = np.mean(
        [member[[f"score_{c}" for c in CLASSES]].to_numpy() for member in members], axis=0
    )
    assert (
        ensemble["predicted_class"].tolist() == np.asarray(CLASSES)[means.argmax(axis=1)].tolist()
    )
    for column in ("weight", "process", "class"):
        assert ensemble[column].equals(members[0][column])


def test_binary_ensemble():
    members = [member_predictions(seed, classification="binary") for seed in (4, 5)]
    ensemble = average_predictions(members, ["a", "b"])
    assert "predicted_class" not in ensemble
    np.testing.assert_allclose(
        ensemble["score_Signal"], (members[0]["score_Signal"] + members[1]["score_Signal"]) / 2
    )


def test_members_with_other_events_are_refused():
    first, second = member_predictions(1), member_predictions(2)
    second.loc[7, "process"] = "other.root"
    message = r"b and a differ in column 'process' at event 7 \(row 9 of the prediction CSV\)"
    with pytest.raises(ValueError, match=message):
        average_predictions([first, second], ["a", "b"])
    with pytest.raises(ValueError, match="do not hold the same events"):
        average_predictions([first, member_predictions(2).iloc[:-1]], ["a", "b"])


def test_average_seed_predictions_files(tmp_path):
    sources = {}
    for split in ("train", "test"):
        paths = []
        for seed in (1, 2):
            path = tmp_path / f"seed-{seed}_{split}.parquet"
            member_predictions(seed + len(split)).to_parquet(path, index=False)
            paths.append(str(path))
        sources[split] = paths
    outputs = {split: tmp_path / "ensemble" / f"predictions_{split}.parquet" for split in sources}
    tables = {split: path.with_suffix(".csv") for split, path in outputs.items()}
    average_seed_predictions_files(members=sources, ensemble=outputs, ensemble_csv=tables)
    for split, paths in sources.items():
        written = pd.read_parquet(outputs[split])
        pd.testing.assert_frame_equal(read_csv_with_names(tables[split]), written)
        members = [pd.read_parquet(path) for path in paths]
        np.testing.assert_allclose(
            written["score_Wjets"], (members[0]["score_Wjets"] + members[1]["score_Wjets"]) / 2
        )
