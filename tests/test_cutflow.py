"""The cutflow: each process's events and sum of weights at each stage."""

from __future__ import annotations

import pandas as pd
import pytest

from cmsnn.dataframes import write_parquet
from cmsnn.preprocessing.cutflow import tabulate_cutflow_files


def events(rows):
    return pd.DataFrame(rows, columns=["process", "class", "weight"])


def test_every_stage_counts_events_and_weights_per_process(tmp_path):
    read = events([("ttbar", "TTbar", 1.0)] * 4 + [("stop", "Signal", 0.5)] * 2)
    train = events([("ttbar", "TTbar", 1.0)] * 2 + [("stop", "Signal", 0.5)])
    test = events([("ttbar", "TTbar", 1.0)] * 2 + [("stop", "Signal", 0.5)])
    # the preselection removes every stop event of the training split
    preselected = events([("ttbar", "TTbar", 1.0)] * 2)
    # drop policy: the negative-weight event stays in the file with training weight 0
    training = preselected.assign(weight=[1.0, -1.0], training_weight=[2.0, 0.0])
    paths = {}
    for name, frame in [("read", read), ("train", train), ("test", test),
                        ("preselected", preselected), ("training", training)]:  # fmt: skip
        paths[name] = tmp_path / f"{name}.parquet"
        write_parquet(frame, paths[name])
    tabulate_cutflow_files(
        ingested=[paths["read"]],
        splits={"train": paths["train"], "test": paths["test"]},
        preselected={"train": paths["preselected"]},
        training_set=paths["training"],
        cutflow=tmp_path / "cutflow.csv",
    )
    table = pd.read_csv(tmp_path / "cutflow.csv", keep_default_na=False).set_index("process")
    assert list(table.columns) == [
        "class", "read_events", "read_sum_of_weights", "train_events", "train_sum_of_weights",
        "test_events", "test_sum_of_weights", "preselected_train_events",
        "preselected_train_sum_of_weights", "training_set_events", "training_set_sum_of_weights",
    ]  # fmt: skip
    assert table.loc["ttbar", ["read_events", "train_events", "preselected_train_events",
                               "training_set_events"]].tolist() == [4, 2, 2, 1]  # fmt: skip
    assert table.loc["stop", ["read_events", "preselected_train_events"]].tolist() == [2, 0]
    assert table.loc["stop", "read_sum_of_weights"] == pytest.approx(1.0)
    assert table.loc["ttbar", "training_set_sum_of_weights"] == pytest.approx(1.0)
    assert table.loc["total", "read_events"] == 6 and table.loc["total", "test_events"] == 3
