"""The hyper-parameter grid (point names, settings) and the summary tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cmsnn.files import write_json
from cmsnn.grid import expand_grid, format_value, point_name, point_settings
from cmsnn.summary import aggregate_over_seeds, model_row, summarise_files

# --- grid ----------------------------------------------------------------------------


def test_expand_grid_single_key_names():
    points = expand_grid({"decay_rate": [0.001, 0.0001]})
    assert points == {
        "decay_rate-0.001": {"decay_rate": 0.001},
        "decay_rate-0.0001": {"decay_rate": 0.0001},
    }


def test_expand_grid_is_the_product_in_grid_order():
    grid = {"layers": [[64, 64], [32]], "learning_rate": [0.0005, 0.001], "shuffle": [True]}
    points = expand_grid(grid)
    assert list(points) == [
        "layers-64x64_learning_rate-0.0005_shuffle-true",
        "layers-64x64_learning_rate-0.001_shuffle-true",
        "layers-32_learning_rate-0.0005_shuffle-true",
        "layers-32_learning_rate-0.001_shuffle-true",
    ]
    assert points["layers-32_learning_rate-0.001_shuffle-true"] == {
        "layers": [32],
        "learning_rate": 0.001,
        "shuffle": True,
    }
    assert len(points) == 2 * 2 * 1


def test_empty_grid_is_one_default_point():
    assert expand_grid({}) == {"default": {}}
    assert point_name({}) == "default"


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.001, "0.001"), (1e-5, "1e-05"), (64, "64"), ([64, 32, 16], "64x32x16"),
     ((8,), "8"), (False, "false"), ("relu", "relu"), (0.5, "0.5")],
)  # fmt: skip
def test_format_value(value, text):
    assert format_value(value) == text


@pytest.mark.parametrize(
    "grid",
    [
        {"learning_rate": [0.1, 0.10]},
        {"epochs": [10, 10.0]},
        {"layers": [[64, 64], (64, 64)]},
        {"shuffle": [True, "true"]},
    ],
)
def test_duplicate_point_names_rejected(grid):
    with pytest.raises(ValueError, match="share the folder name"):
        expand_grid(grid)


def test_point_settings_overrides_defaults():
    config = {
        "preprocessing": {"scaling": "quantile", "balancing": "sqrt"},
        "training": {"layers": [64, 64], "learning_rate": 0.001, "decay_rate": 0.001},
    }
    settings = point_settings(config, {"decay_rate": 0.0001, "scaling": "minmax"})
    assert settings == {
        "scaling": "minmax",
        "balancing": "sqrt",
        "layers": [64, 64],
        "learning_rate": 0.001,
        "decay_rate": 0.0001,
    }
    # the config itself is left alone
    assert config["training"]["decay_rate"] == 0.001
    assert config["preprocessing"]["scaling"] == "quantile"


# --- summary -------------------------------------------------------------------------


def facts(seed, decay_rate, best_epoch, loss):
    return {
        "settings": {"layers": [64, 64], "decay_rate": decay_rate},
        "seed": seed,
        "mode": "multiclass",
        "best_epoch": best_epoch,
        "epochs_run": 40,
        "best_val_loss": loss,
        "training_seconds": 10.0 + seed,
    }


def test_model_row_flattens_lists():
    row = model_row("m", "p", facts(1, 0.001, 7, 0.3), {"auc_test": 0.9})
    assert row["layers"] == "64x64"
    assert row["decay_rate"] == 0.001
    assert row["seed"] == 1 and row["classification"] == "multiclass"
    assert row["best_epoch"] == 7 and row["auc_test"] == 0.9


def test_aggregate_over_seeds_against_numpy():
    summary = pd.DataFrame(
        {
            "model": ["a1", "a2", "a3", "b1", "b2"],
            "grid_point": ["A", "A", "A", "B", "B"],
            "seed": [1, 2, 3, 1, 2],
            "classification": "binary",
            "decay_rate": [0.001, 0.001, 0.001, 0.0001, 0.0001],
            "layers": "64x64",
            "auc_test": [0.81, 0.85, 0.83, 0.90, 0.86],
            "best_epoch": [10, 12, 17, 30, 31],
            "comment": ["x", "y", "z", "u", "v"],  # not numeric: not aggregated
        }
    )
    table = aggregate_over_seeds(summary, ["decay_rate", "layers"]).set_index("grid_point")
    assert list(table.index) == ["A", "B"]
    assert table.loc["A", "n_seeds"] == 3 and table.loc["B", "n_seeds"] == 2
    assert table.loc["A", "decay_rate"] == 0.001 and table.loc["B", "layers"] == "64x64"
    for point, auc, epochs in (
        ("A", [0.81, 0.85, 0.83], [10, 12, 17]),
        ("B", [0.90, 0.86], [30, 31]),
    ):
        assert table.loc[point, "auc_test_mean"] == pytest.approx(np.mean(auc))
        assert table.loc[point, "auc_test_std"] == pytest.approx(np.std(auc, ddof=1))
        assert table.loc[point, "best_epoch_mean"] == pytest.approx(np.mean(epochs))
        assert table.loc[point, "best_epoch_std"] == pytest.approx(np.std(epochs, ddof=1))
    assert not any(column.startswith(("comment", "seed_", "decay_rate_")) for column in table)


def test_single_seed_has_undefined_spread():
    summary = pd.DataFrame(
        {"model": ["a"], "grid_point": ["A"], "seed": [1], "classification": "binary",
         "lr": [0.1], "auc_test": [0.8]}
    )  # fmt: skip
    table = aggregate_over_seeds(summary, ["lr"])
    assert table["n_seeds"].tolist() == [1]
    assert table["auc_test_mean"].tolist() == [0.8]
    assert np.isnan(table["auc_test_std"].iloc[0])


def write_model_files(tmp_path, losses):
    model_ids, points, facts_files, evaluation_files = [], [], [], []
    for (point, seed), loss in losses.items():
        decay = 0.001 if point == "p1" else 0.0001
        facts_path = tmp_path / f"{point}_{seed}_facts.json"
        evaluation_path = tmp_path / f"{point}_{seed}_evaluation.json"
        write_json(facts(seed, decay, 5 * seed, loss), facts_path)
        write_json({"auc_test": 1.0 - loss, "best_cut": 0.9}, evaluation_path)
        model_ids.append(f"{point}/seed-{seed}")
        points.append(point)
        facts_files.append(facts_path)
        evaluation_files.append(evaluation_path)
    return model_ids, points, facts_files, evaluation_files


def test_summarise_files(tmp_path):
    losses = {("p1", 1): 0.30, ("p1", 2): 0.34, ("p2", 1): 0.50, ("p2", 2): 0.40}
    model_ids, points, facts_files, evaluation_files = write_model_files(tmp_path, losses)
    summary_path, by_point_path = tmp_path / "summary.csv", tmp_path / "by_point.csv"
    summarise_files(model_ids, points, facts_files, evaluation_files, summary_path, by_point_path)
    summary = pd.read_csv(summary_path)
    assert len(summary) == 4
    assert summary["model"].tolist() == ["p1/seed-1", "p1/seed-2", "p2/seed-1", "p2/seed-2"]
    assert summary["grid_point"].tolist() == ["p1", "p1", "p2", "p2"]
    assert summary["seed"].tolist() == [1, 2, 1, 2]
    assert summary["layers"].tolist() == ["64x64"] * 4
    assert summary["best_val_loss"].tolist() == list(losses.values())
    # the evaluation of each model lands on its own row
    np.testing.assert_allclose(summary["auc_test"], 1.0 - summary["best_val_loss"])
    by_point = pd.read_csv(by_point_path).set_index("grid_point")
    assert by_point.index.tolist() == ["p1", "p2"]
    assert by_point["n_seeds"].tolist() == [2, 2]
    assert by_point.loc["p2", "decay_rate"] == 0.0001
    assert by_point.loc["p1", "best_val_loss_mean"] == pytest.approx(0.32)
    assert by_point.loc["p2", "best_val_loss_std"] == pytest.approx(np.std([0.5, 0.4], ddof=1))
    assert by_point.loc["p1", "auc_test_mean"] == pytest.approx(0.68)


def test_summarise_files_rejects_lists_of_different_lengths(tmp_path):
    losses = {("p1", 1): 0.30, ("p1", 2): 0.34}
    model_ids, points, facts_files, evaluation_files = write_model_files(tmp_path, losses)
    outputs = (tmp_path / "summary.csv", tmp_path / "by_point.csv")
    with pytest.raises(ValueError):
        summarise_files(model_ids, points[:1], facts_files, evaluation_files, *outputs)
    with pytest.raises(ValueError):
        summarise_files(model_ids, points, facts_files, evaluation_files[:1], *outputs)
    assert not outputs[0].exists() and not outputs[1].exists()
