"""The hyper-parameter grid (point names, settings) and the summary tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cmsnn.config.grid import expand_grid, format_value, point_name, point_settings
from cmsnn.files import write_json
from cmsnn.summary.columns import column_description, column_table_markdown
from cmsnn.summary.tables import (
    aggregate_over_seeds,
    model_row,
    rounded_to_meaning,
    summarise_models_files,
    training_warnings,
)
from cmsnn.summary.verdict import headline_table, summary_warnings, verdict_lines
from cmsnn.vocabulary import parse_signal_point
from snakemake_runs import ROOT

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
        "classification": "multiclass",
        "best_epoch": best_epoch,
        "epochs_run": 40,
        "best_val_loss": loss,
        "training_seconds": 10.0 + seed,
    }


def test_model_row_flattens_lists():
    row = model_row("m", "p", facts(1, 0.001, 7, 0.3), {"auc_test": 0.9, "warnings": []})
    assert row["layers"] == "64x64"
    assert row["decay_rate"] == 0.001
    assert row["seed"] == 1 and row["classification"] == "multiclass"
    assert row["best_epoch"] == 7 and row["auc_test"] == 0.9
    assert row["kind"] == "seed" and row["warnings"] == ""


def test_a_model_whose_kept_epoch_is_its_last_is_flagged():
    assert training_warnings(facts(1, 0.001, 39, 0.3)) == []
    (warning,) = training_warnings(facts(1, 0.001, 40, 0.3))
    assert "last one trained (40 of 40)" in warning
    row = model_row("m", "p", facts(1, 0.001, 40, 0.3), {"warnings": ["cut at the edge"]})
    assert row["warnings"] == f"{warning} | cut at the edge"


def test_parse_signal_point():
    assert parse_signal_point("T2DegStop_550_520.root") == {
        "signal_model": "T2DegStop",
        "mass_1": 550.0,
        "mass_2": 520.0,
    }
    assert parse_signal_point("TChiWZ_ext_300_287.5")["mass_2"] == 287.5
    assert parse_signal_point("signal.root") == {
        "signal_model": None,
        "mass_1": None,
        "mass_2": None,
    }


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


def write_model_files(tmp_path, losses, warnings=None):
    """Training facts, evaluations and per-signal tables of the models in ``losses``
    (``{(point, seed): loss}``), and of each point's ensemble (its AUC one above the
    seeds' best); returns the entry point's inputs and params, by its keywords."""
    warnings = warnings or {}
    inputs = {key: [] for key in ("facts", "evaluations", "by_signal", "binned")}
    inputs |= {"binned_by_signal": [], "ensemble_binned": [], "ensemble_binned_by_signal": []}
    inputs |= {"ensemble_evaluations": [], "ensemble_by_signal": []}
    params = {"models": [], "points": [], "ensemble_points": []}
    for (point, seed), loss in losses.items():
        decay = 0.001 if point == "p1" else 0.0001
        stem = tmp_path / f"{point}_{seed}"
        write_json(facts(seed, decay, 5 * seed, loss), f"{stem}_facts.json")
        evaluation = {
            "auc_test": 1.0 - loss,
            "best_cut": 0.9,
            "fom_validation_at_best_cut": 9 * (1.0 - loss),
            "fom_test_at_best_cut": 10 * (1.0 - loss),
            "warnings": warnings.get((point, seed), []),
        }
        write_json(evaluation, f"{stem}_evaluation.json")
        signal_table(1.0 - loss).to_csv(f"{stem}_by_signal.csv", index=False)
        params["models"].append(f"{point}/seed-{seed}")
        params["points"].append(point)
        for key, suffix in (("facts", "facts.json"), ("evaluations", "evaluation.json")):
            inputs[key].append(f"{stem}_{suffix}")
        inputs["by_signal"].append(f"{stem}_by_signal.csv")
        write_binned(stem, 1.0 - loss, inputs["binned"], inputs["binned_by_signal"])
    for point in dict.fromkeys(params["points"]):
        best = max(1.0 - loss for (p, _), loss in losses.items() if p == point)
        stem = tmp_path / f"{point}_ensemble"
        write_json(
            {"auc_test": best + 0.01, "best_cut": 0.95, "fom_test_at_best_cut": 10 * best + 1,
             "warnings": []},
            f"{stem}_evaluation.json",
        )  # fmt: skip
        signal_table(best + 0.1).to_csv(f"{stem}_by_signal.csv", index=False)
        params["ensemble_points"].append(point)
        inputs["ensemble_evaluations"].append(f"{stem}_evaluation.json")
        inputs["ensemble_by_signal"].append(f"{stem}_by_signal.csv")
        write_binned(
            stem, best + 0.1, inputs["ensemble_binned"], inputs["ensemble_binned_by_signal"]
        )
    return inputs, params


def write_binned(stem, level, numbers_files, table_files):
    """A model's binned-likelihood numbers (``binned_z_test`` = 3 × level) and its
    per-signal table (the heavier point, the higher Z)."""
    numbers = {"binned_z_test": 3 * level, "limit_median_test": 1 / level, "warnings": []}
    write_json(numbers, f"{stem}_binned.json")
    table = signal_table(level)[["signal_process"]].assign(binned_z_test=[6 * level, 3 * level])
    table.to_csv(f"{stem}_binned_by_signal.csv", index=False)
    numbers_files.append(f"{stem}_binned.json")
    table_files.append(f"{stem}_binned_by_signal.csv")


def signal_table(level):
    """A per-signal-process table: the heavier point, the higher the FOM."""
    return pd.DataFrame(
        {
            "signal_process": ["T2DegStop_600_570.root", "T2DegStop_500_470.root"],
            "best_cut": [0.9, 0.8],
            "fom_test_at_best_cut": [2 * level, level],
            "warnings": ["", "edge"],
        }
    )


def summary_outputs(tmp_path):
    names = ("summary", "headline", "by_point", "by_signal_table", "by_signal_by_point")
    return {name: tmp_path / "out" / f"{name}.csv" for name in names}


def test_summarise_models_files(tmp_path):
    losses = {("p1", 1): 0.30, ("p1", 2): 0.34, ("p2", 1): 0.50, ("p2", 2): 0.40}
    inputs, params = write_model_files(tmp_path, losses, {("p2", 2): ["cut at the edge"]})
    outputs = summary_outputs(tmp_path)
    summarise_models_files(**inputs, **params, **outputs)
    summary = pd.read_csv(outputs["summary"], keep_default_na=False, na_values=[""])
    assert len(summary) == 6
    assert summary["model"].tolist() == [
        "p1/seed-1", "p1/seed-2", "p2/seed-1", "p2/seed-2", "p1/ensemble", "p2/ensemble"
    ]  # fmt: skip
    assert summary["kind"].tolist() == ["seed"] * 4 + ["ensemble"] * 2
    assert summary["grid_point"].tolist() == ["p1", "p1", "p2", "p2", "p1", "p2"]
    assert summary["seed"].iloc[:4].tolist() == [1, 2, 1, 2]
    assert summary["seed"].iloc[4:].isna().all()
    lines = outputs["summary"].read_text().splitlines()
    assert lines[1].startswith("p1/seed-1,p1,1,seed,True,")  # a seed stays an integer
    assert lines[5].startswith("p1/ensemble,p1,,ensemble,False,")
    # the best model: the highest validation FOM (the ensembles have none here)
    assert summary["best_model"].tolist() == [True] + [False] * 5
    assert summary["layers"].tolist() == ["64x64"] * 6
    assert summary["best_val_loss"].iloc[:4].tolist() == list(losses.values())
    assert summary["warnings"].fillna("").tolist() == ["", "", "", "cut at the edge", "", ""]
    # the evaluation of each model lands on its own row, the binned likelihood's beside it
    np.testing.assert_allclose(summary["auc_test"][:4], 1.0 - summary["best_val_loss"][:4])
    np.testing.assert_allclose(summary["binned_z_test"][:4], 3 * summary["auc_test"][:4], rtol=1e-3)
    by_signal = pd.read_csv(outputs["by_signal_table"])
    heavy = by_signal[by_signal["signal_process"] == "T2DegStop_600_570.root"]
    np.testing.assert_allclose(heavy["binned_z_test"], 3 * heavy["fom_test_at_best_cut"], rtol=1e-3)
    assert summary_warnings(outputs["summary"]) == ["p2/seed-2: cut at the edge"]
    verdict = verdict_lines(outputs["summary"], "results")
    header = next(i for i, line in enumerate(verdict) if line.lstrip().startswith("model"))
    # the columns this summary has (no validation FOM or error here), in verdict order
    assert verdict[header].split() == [
        "model", "AUC", "test", "cut", "FOM", "val.", "FOM", "test", "binned", "Z", "limit",
        "μ", "best", "warnings",
    ]  # fmt: skip
    rows = {line.split()[0]: line.split() for line in verdict[header + 1 : header + 7]}
    assert list(rows) == summary["model"].tolist()
    assert rows["p2/seed-2"][-1] == "1" and rows["p1/seed-1"][-2:] == ["yes", "0"]
    headline = pd.read_csv(outputs["headline"], keep_default_na=False)
    assert headline.columns.tolist() == [
        "model", "AUC test", "cut", "FOM val.", "FOM test", "binned Z", "limit μ", "best",
        "warnings",
    ]  # fmt: skip
    assert headline["best"].tolist() == ["yes"] + [""] * 5
    assert float(rows["p1/seed-2"][1]) == pytest.approx(summary["auc_test"][1], rel=1e-3)
    assert "  - p2/seed-2: cut at the edge" in verdict
    assert "Report:   snakemake --report results/report.html" in verdict

    by_point = pd.read_csv(outputs["by_point"]).set_index("grid_point")
    assert by_point.index.tolist() == ["p1", "p2"]
    assert by_point["n_seeds"].tolist() == [2, 2]  # the ensemble is not a seed
    assert by_point["n_seeds_with_warnings"].tolist() == [0, 1]
    assert by_point.loc["p2", "decay_rate"] == 0.0001
    assert by_point.loc["p1", "best_val_loss_mean"] == pytest.approx(0.32)
    spread = np.std([0.5, 0.4], ddof=1)  # written to 5 significant digits
    assert by_point.loc["p2", "best_val_loss_std"] == pytest.approx(spread, rel=1e-4)
    assert by_point.loc["p1", "auc_test_mean"] == pytest.approx(0.68)
    assert by_point.loc["p1", "ensemble_auc_test"] == pytest.approx(0.71)
    assert by_point.loc["p1", "ensemble_fom_test_at_best_cut"] == pytest.approx(8.0)
    assert by_point["ensemble_beats_seed_mean"].tolist() == [True, True]

    by_signal = pd.read_csv(outputs["by_signal_table"])
    assert len(by_signal) == 2 * 6
    assert by_signal["signal_model"].unique().tolist() == ["T2DegStop"]
    assert by_signal["mass_1"].tolist()[:2] == [600.0, 500.0]
    first = by_signal[by_signal["model"] == "p1/seed-1"]
    assert first["fom_test_at_best_cut"].tolist() == pytest.approx([1.4, 0.7])
    by_signal_by_point = pd.read_csv(outputs["by_signal_by_point"])
    assert len(by_signal_by_point) == 2 * 2
    row = by_signal_by_point.set_index(["grid_point", "signal_process"]).loc[
        ("p1", "T2DegStop_500_470.root")
    ]
    assert row["n_seeds"] == 2
    assert row["fom_test_at_best_cut_mean"] == pytest.approx(np.mean([0.7, 0.66]))
    assert row["ensemble_fom_test_at_best_cut"] == pytest.approx(0.8)
    assert row["n_seeds_with_warnings"] == 2


def test_summarise_models_files_rejects_lists_of_different_lengths(tmp_path):
    losses = {("p1", 1): 0.30, ("p1", 2): 0.34}
    inputs, params = write_model_files(tmp_path, losses)
    outputs = summary_outputs(tmp_path)
    with pytest.raises(ValueError):
        summarise_models_files(**inputs, **(params | {"points": params["points"][:1]}), **outputs)
    with pytest.raises(ValueError):
        shorter = inputs | {"evaluations": inputs["evaluations"][:1]}
        summarise_models_files(**shorter, **params, **outputs)
    assert not any(path.exists() for path in outputs.values())


def test_numbers_are_written_to_the_precision_they_carry():
    table = pd.DataFrame(
        {
            "model": ["p1/seed-1"],
            "auc_test": [0.864924321],
            "best_cut": [0.56905123],
            "fom_test_at_best_cut": [0.13267412],
            "fom_test_at_best_cut_stat_error_std": [0.0573021],
            "ensemble_signal_yield_test_at_best_cut": [1234.5678],
            "yield_test_at_best_cut_TTbar": [0.000123456],
            "background_effective_events_test_at_best_cut_mean": [3.04],
            "learning_rate": [0.00012345],  # a setting: as configured
            "n_seeds": [3],
        }
    )
    rounded = rounded_to_meaning(table).iloc[0]
    assert rounded["auc_test"] == 0.8649 and rounded["best_cut"] == 0.5691
    assert rounded["fom_test_at_best_cut"] == 0.133
    assert rounded["fom_test_at_best_cut_stat_error_std"] == 0.057
    assert rounded["ensemble_signal_yield_test_at_best_cut"] == 1235.0
    assert rounded["yield_test_at_best_cut_TTbar"] == 0.0001235
    assert rounded["background_effective_events_test_at_best_cut_mean"] == 3.0
    assert rounded["learning_rate"] == 0.00012345 and rounded["n_seeds"] == 3
    assert column_description("fom_test_at_best_cut_mean").unit == "σ"
    assert column_description("n_seeds") is None


def test_the_documented_column_table_is_the_one_the_code_generates():
    readme = (ROOT / "docs" / "figure-of-merit.md").read_text()
    start = readme.index("<!-- columns of fom_summary.csv: generated by")
    start = readme.index("\n", start) + 1
    end = readme.index("<!-- end of the generated table -->")
    assert readme[start:end] == column_table_markdown()


def test_the_verdict_marks_a_model_flagged_for_overtraining(tmp_path):
    summary = pd.DataFrame(
        {
            "model": ["p/seed-1", "p/seed-2"],
            "auc_test": [0.97, 0.96],
            "best_cut": [0.9, 0.91],
            "fom_test_at_best_cut": [3.1, 2.9],
            "overtraining_flag": [False, True],
            "best_model": [True, False],
            "warnings": ["", ""],
        }
    )
    summary.to_csv(tmp_path / "fom_summary.csv", index=False)
    verdict = verdict_lines(tmp_path / "fom_summary.csv")
    header = next(i for i, line in enumerate(verdict) if line.lstrip().startswith("model"))
    assert "KS flag" in verdict[header]
    table = headline_table(summary)
    assert table["KS flag"].tolist() == ["no", "yes"] and table["best"].tolist() == ["yes", ""]


def test_a_warning_every_model_has_is_said_once_in_the_verdict(tmp_path):
    data = "process b has no events in the test split (2 in all): the test yields leave it out"
    summary = pd.DataFrame(
        {
            "model": ["p/seed-1", "p/seed-2", "p/ensemble"],
            "warnings": [f"{data} | cut at the edge", data, data],
        }
    )
    summary.to_csv(tmp_path / "fom_summary.csv", index=False)
    assert summary_warnings(tmp_path / "fom_summary.csv") == [
        f"all models: {data}",
        "p/seed-1: cut at the edge",
    ]
    verdict = verdict_lines(tmp_path / "fom_summary.csv", "results", "snakemake --report x")
    assert verdict[-1] == "Report:   snakemake --report x"
