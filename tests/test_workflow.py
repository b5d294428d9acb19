"""End to end: the real workflow, run by Snakemake on tiny configs, and its outputs."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml

from cmsnn.ingestion.toydata import TUTORIAL_FEATURES
from cmsnn.preprocessing.splitting import split_counts
from snakemake_runs import ROOT, make_workdir, planned_jobs, snakemake, workflow_copy

pytestmark = pytest.mark.slow

MODEL = "results/models/decay_rate-0.001/seed-1"


@pytest.fixture(scope="module")
def multiclass_run(tmp_path_factory):
    workdir = make_workdir(tmp_path_factory.mktemp("multiclass"), "tiny_multiclass.yaml")
    result = snakemake(workdir)
    (workdir / "console.txt").write_text(result.stdout + result.stderr)
    return workdir


@pytest.fixture(scope="module")
def binary_run(tmp_path_factory):
    workdir = make_workdir(tmp_path_factory.mktemp("binary"), "tiny_binary.yaml")
    snakemake(workdir)
    return workdir


def read(workdir, path):
    return pq.read_table(workdir / path).to_pandas()


def test_summary_has_one_row_per_model_and_the_seed_spread(multiclass_run):
    everything = pd.read_csv(multiclass_run / "results/fom_summary.csv")
    summary = everything[everything["kind"] == "seed"]
    assert sorted(zip(summary["decay_rate"], summary["seed"], strict=True)) == [
        (0.0001, 1), (0.0001, 2), (0.001, 1), (0.001, 2)
    ]  # fmt: skip
    # multi-class balances sqrt by default
    assert set(everything["balancing"]) == {"sqrt"} and set(everything["scaling"]) == {"quantile"}
    # results only: two identical runs give identical tables (times are in training.json)
    assert not [c for c in everything if "second" in c or "time" in c or "duration" in c]
    assert (summary["auc_validation"] > 0.7).all() and (summary["auc_test"] <= 1).all()
    # the automatic range: from the validation signal's median output to its highest
    assert (everything["scan_cut_min"] > 0.3).all() and (everything["scan_cut_max"] <= 1).all()
    assert (
        everything["best_cut"].between(everything["scan_cut_min"], everything["scan_cut_max"]).all()
    )
    assert (everything["fom_test_at_best_cut"] > 0).all()
    assert (everything["fom_test_at_best_cut_stat_error"] > 0).all()
    assert (everything["fom_validation_at_best_cut_stat_error"] > 0).all()
    by_point = pd.read_csv(multiclass_run / "results/fom_summary_by_point.csv")
    assert list(by_point["n_seeds"]) == [2, 2]
    for _, point in by_point.iterrows():
        rows = summary[summary["grid_point"] == point["grid_point"]]
        # the tables are written to the precision they carry (AUC 4, FOM 3 decimals);
        # means and spreads are taken before rounding
        assert point["auc_test_mean"] == pytest.approx(rows["auc_test"].mean(), abs=1e-4)
        assert point["fom_test_max_std"] == pytest.approx(rows["fom_test_max"].std(), abs=2e-3)
        ensemble = everything[everything["model"] == f"{point['grid_point']}/ensemble"]
        assert point["ensemble_auc_test"] == pytest.approx(ensemble["auc_test"].iloc[0])
        difference = point["ensemble_fom_test_at_best_cut"] - point["fom_test_at_best_cut_mean"]
        if abs(difference) > 1e-3:  # closer than the written precision: either way
            assert point["ensemble_beats_seed_mean"] == (difference > 0)
    assert everything["best_model"].sum() == 1
    best = everything.loc[everything["best_model"]].iloc[0]
    assert best["fom_validation_at_best_cut"] == everything["fom_validation_at_best_cut"].max()


def test_the_ensemble_averages_its_seeds_predictions(multiclass_run):
    point = multiclass_run / "results/models/decay_rate-0.001"
    for split in ("validation", "test"):
        members = [pd.read_csv(point / f"seed-{seed}/predictions_{split}.csv") for seed in (1, 2)]
        ensemble = pd.read_csv(point / f"ensemble/predictions_{split}.csv")
        for name in ("Signal", "Wjets", "TTbar", "Z2nu", "Other"):
            column = f"score_{name}"
            expected = (members[0][column] + members[1][column]) / 2
            np.testing.assert_allclose(ensemble[column], expected, rtol=1e-6)
    evaluation = json.loads((point / "ensemble/evaluation.json").read_text())
    assert evaluation["auc_test"] > 0.7
    assert (point / "ensemble/plots/fom_scan.png").stat().st_size > 10_000


def test_every_signal_point_gets_its_own_fom(multiclass_run):
    by_signal = pd.read_csv(multiclass_run / "results/fom_by_signal.csv")
    points = ["T2DegStop_500_470.root", "T2DegStop_550_520.root", "T2DegStop_600_570.root"]
    models = pd.read_csv(multiclass_run / "results/fom_summary.csv")["model"]
    assert len(models) == 6  # 2 x 2 seeds and 2 ensembles
    for model in models:
        rows = by_signal[by_signal["model"] == model]
        assert sorted(rows["signal_process"]) == points, model
        assert sorted(rows["mass_1"]) == [500, 550, 600]
        assert (rows["signal_efficiency_test_at_best_cut"] > 0).all()
    # the headline signal alone is the same computation as the summary's
    summary = pd.read_csv(multiclass_run / "results/fom_summary.csv").set_index("model")
    headline = by_signal[by_signal["signal_process"] == "T2DegStop_550_520.root"].set_index("model")
    for column in ("best_cut", "fom_test_at_best_cut", "fom_test_at_best_cut_stat_error"):
        np.testing.assert_allclose(headline[column], summary.loc[headline.index, column])
    by_point = pd.read_csv(multiclass_run / "results/fom_by_signal_by_point.csv")
    assert len(by_point) == 2 * 3 and (by_point["n_seeds"] == 2).all()
    assert (multiclass_run / "results/plots/fom_by_signal.pdf").read_bytes().startswith(b"%PDF")


def test_split_is_stratified_per_process_and_complete(multiclass_run):
    ingested = pd.concat(
        read(multiclass_run, p) for p in (multiclass_run / "results/ingested").glob("*.parquet")
    )
    splits = {
        s: read(multiclass_run, f"results/split/{s}.parquet")
        for s in ("train", "validation", "test")
    }
    for process, events in ingested.groupby("process"):
        expected = split_counts(len(events), {"train": 0.25, "validation": 0.25, "test": 0.5})
        for split, table in splits.items():
            assert (table["process"] == process).sum() == expected[split], (process, split)
    total = sum(table["weight"].sum() for table in splits.values())
    assert total == pytest.approx(ingested["weight"].sum())
    schema = pq.read_schema(multiclass_run / "results/split/train.parquet")
    assert str(schema.field("Met").type) == "float" and str(schema.field("weight").type) == "double"


def test_prepared_inputs_are_scaled_on_train_and_sqrt_balanced(multiclass_run):
    folder = multiclass_run / "results/prepared/quantile-sqrt"
    scaler = json.loads((folder / "scaler.json").read_text())
    assert scaler["method"] == "quantile" and scaler["features"] == list(TUTORIAL_FEATURES)
    train = read(multiclass_run, "results/prepared/quantile-sqrt/train.parquet")
    assert abs(train["Met"].mean()) < 0.1 and train["Met"].std() == pytest.approx(1, abs=0.1)
    sums = train.groupby("class")["training_weight"].sum()
    raw = train.groupby("class")["weight"].sum()
    n_signal = (train["class"] == "Signal").sum()
    assert sums["Signal"] == pytest.approx(n_signal)
    for name in ("Wjets", "TTbar", "Z2nu", "Other"):
        assert sums[name] == pytest.approx(n_signal * math.sqrt(raw[name] / raw["Signal"]))


def test_training_keeps_best_epoch_and_decays_the_learning_rate(multiclass_run):
    history = pd.read_csv(multiclass_run / MODEL / "history.csv")
    facts = json.loads((multiclass_run / MODEL / "training.json").read_text())
    assert list(history["epoch"]) == list(range(1, 9))
    assert facts["best_epoch"] == int(history["val_loss"].idxmin()) + 1
    n_train = len(read(multiclass_run, "results/prepared/quantile-sqrt/train.parquet"))
    steps = math.ceil(n_train / 128) * history["epoch"]
    expected = 0.01 / (1 + 0.001 * steps)
    np.testing.assert_allclose(history["learning_rate"], expected, rtol=1e-5)
    log = (multiclass_run / "results/logs/train_model/decay_rate-0.001/seed-1.log").read_text()
    assert "epoch 1/8: loss" in log and "epoch 8/8: loss" in log and "training on CPU" in log
    # the toy has no negative weights: the counts say so; the checkpoint is gone
    assert facts["negative_weights"]["train"]["Signal"]["negative_events"] == 0
    assert facts["settings"]["negative_weights"] == "abs"
    assert facts["resumed_from_epoch"] == 0
    assert not (multiclass_run / MODEL / "checkpoint").exists()
    processes = pd.read_csv(multiclass_run / "results/ingested/processes.csv")
    assert len(processes) == 13 and set(processes["class"]) == {
        "Signal", "Wjets", "TTbar", "Z2nu", "Other"
    }  # fmt: skip
    # each ingestion log shows its file's process → class → events → sum of weights
    ttbar = processes[processes["process"] == "TTJets_DiLept.root"].iloc[0]
    log = (multiclass_run / "results/logs/ingest_csv/TTJets_DiLept.log").read_text()
    assert re.search(rf"TTJets_DiLept\.root +TTbar +{ttbar['events']} ", log), log


def test_predictions_carry_original_weights_and_softmax_scores(multiclass_run):
    predictions = pd.read_csv(multiclass_run / MODEL / "predictions_test.csv")
    test = read(multiclass_run, "results/split/test.parquet")
    scores = predictions[[f"score_{c}" for c in ("Signal", "Wjets", "TTbar", "Z2nu", "Other")]]
    np.testing.assert_allclose(scores.sum(axis=1), 1.0, atol=1e-5)
    assert (predictions["predicted_class"] == scores.idxmax(axis=1).str[6:]).all()
    np.testing.assert_allclose(np.sort(predictions["weight"]), np.sort(test["weight"]))
    assert (predictions["process"].to_numpy() == test["process"].to_numpy()).all()
    assert (predictions["class"].to_numpy() == test["class"].to_numpy()).all()


def test_predictions_join_back_to_the_input_files(multiclass_run):
    """Each prediction names its input file and row there (as TMVA's friend trees):
    joined on them, the input file gives the same process and weight."""
    predictions = pd.read_csv(multiclass_run / MODEL / "predictions_test.csv")
    assert predictions["source_entry"].dtype == np.int64
    for source_file, rows in list(predictions.groupby("source_file"))[:4]:
        inputs = pd.read_csv(multiclass_run / source_file, header=None)
        joined = inputs.iloc[rows["source_entry"]]
        assert joined.iloc[:, -1].tolist() == rows["process"].tolist()
        np.testing.assert_allclose(joined.iloc[:, -2], rows["weight"], rtol=1e-12)
    # every test event once
    assert not predictions.duplicated(["source_file", "source_entry"]).any()


def test_fom_numbers_agree_with_an_independent_count(multiclass_run):
    evaluation = json.loads((multiclass_run / MODEL / "evaluation.json").read_text())
    scan = pd.read_csv(multiclass_run / MODEL / "fom_scan.csv")
    predictions = pd.read_csv(multiclass_run / MODEL / "predictions_test.csv")
    best = scan["fom_validation"].idxmax()
    cut = evaluation["best_cut"]
    assert cut == pytest.approx(scan["cut"][best])
    assert evaluation["fom_test_at_best_cut"] == pytest.approx(scan["fom_test"][best])
    passing = predictions[
        (predictions["predicted_class"] == "Signal") & (predictions["score_Signal"] > cut)
    ]
    to_yield = 35866 / 0.5
    signal = passing[passing["process"] == "T2DegStop_550_520.root"]["weight"].sum() * to_yield
    assert evaluation["signal_yield_test_at_best_cut"] == pytest.approx(signal)
    for name in ("Wjets", "TTbar", "Z2nu", "Other"):
        expected = passing[passing["class"] == name]["weight"].sum() * to_yield
        assert evaluation[f"yield_test_at_best_cut_{name}"] == pytest.approx(expected)
    low, high = evaluation["scan_cut_min"], evaluation["scan_cut_max"]
    assert len(scan) == 60 and scan["cut"].iloc[0] == pytest.approx(low)
    assert scan["cut"].iloc[1] - low == pytest.approx((high - low) / 60)
    # the automatic range ends at the highest output of the counted validation signal
    validation = pd.read_csv(multiclass_run / MODEL / "predictions_validation.csv")
    counted = validation[
        (validation["predicted_class"] == "Signal")
        & (validation["process"] == "T2DegStop_550_520.root")
    ]
    assert high == pytest.approx(counted["score_Signal"].max())
    # the MC statistics: sigma_b^2 = (0.2 b)^2 + sum of squared yields above the cut
    background = passing[passing["class"] != "Signal"]["weight"] * to_yield
    b = background.sum()
    relative = math.sqrt((background**2).sum()) / b
    assert evaluation["background_mc_relative_uncertainty_test_at_best_cut"] == pytest.approx(
        relative
    )
    assert evaluation["background_effective_events_test_at_best_cut"] == pytest.approx(
        b**2 / (background**2).sum()
    )


def test_nothing_reruns_when_nothing_changed(multiclass_run):
    assert planned_jobs(multiclass_run, "results/fom_summary.csv") == {}
    # how often training saves its checkpoint changes how a job runs, not its result
    (multiclass_run / "checkpoints.yaml").write_text("training: {checkpoint_seconds: 0}\n")
    checkpoints = str(multiclass_run / "checkpoints.yaml")
    assert planned_jobs(multiclass_run, "--configfile", checkpoints) == {}


def test_changing_one_decay_rate_reruns_only_that_grid_point(multiclass_run):
    config = yaml.safe_load((multiclass_run / "config.yaml").read_text())
    config["grid"]["decay_rate"] = [0.001, 0.0003]
    (multiclass_run / "changed.yaml").write_text(yaml.safe_dump(config))
    jobs = planned_jobs(multiclass_run, "--configfile", str(multiclass_run / "changed.yaml"))
    assert jobs == {
        "train_model": 2,
        "predict": 2,
        "permutation_importance": 2,
        "average_seed_predictions": 1,
        "evaluate_model": 3,
        "plot_model": 2,
        "plot_ensemble_fom_scan": 1,
        "summarise_models": 1,
        "plot_seed_spread": 1,
        "plot_fom_by_signal": 1,
        "write_model_card": 2,
        "fit_binned_likelihood": 3,
        "plot_binned_output": 3,
        "plot_limits": 1,
        "all": 1,
    }


#: What a change to the FOM reruns: the evaluation of 4 seeds and 2 ensembles, and after.
FOM_RERUN = {
    "evaluate_model": 6,
    "summarise_models": 1,
    "plot_model": 4,
    "plot_ensemble_fom_scan": 2,
    "plot_seed_spread": 1,
    "plot_fom_by_signal": 1,
    "plot_limits": 1,
    "write_model_card": 4,
    "all": 1,
}


def test_only_edits_that_change_what_code_does_rerun_its_stage(multiclass_run, tmp_path):
    """The rules carry a digest of their stage's code as a param: an edit to a comment, a
    docstring or an I/O helper reruns nothing; a changed constant of the FOM scan (a
    module of the statistics subpackage) reruns the FOM scans and what follows them, and
    nothing before (no training)."""
    copy = workflow_copy(tmp_path / "workflow")
    snakefile = copy / "Snakefile"
    assert planned_jobs(multiclass_run, snakefile=snakefile) == {}
    package = copy / "src" / "cmsnn"
    fom, files = package / "statistics" / "scan.py", package / "files.py"
    source = fom.read_text()
    edited = source.replace('"""', '"""An edited docstring. ', 1) + "\n# a comment\n"
    fom.write_text(edited)
    files.write_text(files.read_text() + "\n\ndef unused_helper():\n    return 1\n")
    assert planned_jobs(multiclass_run, snakefile=snakefile) == {}
    assert "AUTO_LOWER_QUANTILE = 0.5\n" in source
    fom.write_text(edited.replace("AUTO_LOWER_QUANTILE = 0.5\n", "AUTO_LOWER_QUANTILE = 0.4\n"))
    assert planned_jobs(multiclass_run, snakefile=snakefile) == FOM_RERUN


def test_every_figure_is_written_as_png_and_pdf(multiclass_run):
    for seed in (1, 2):
        folder = multiclass_run / f"results/models/decay_rate-0.001/seed-{seed}/plots"
        for name in (
            "training_history", "roc", "output_distributions", "confusion_matrix", "fom_scan",
            "importance",
        ):  # fmt: skip
            assert (folder / f"{name}.png").read_bytes().startswith(b"\x89PNG"), name
            assert (folder / f"{name}.pdf").read_bytes().startswith(b"%PDF"), name
    for name in ("input_distributions", "correlations", "seed_spread"):
        assert (multiclass_run / f"results/plots/{name}.png").stat().st_size > 10_000


def test_overtraining_table_and_importance_are_written_per_model(multiclass_run):
    ks = pd.read_csv(multiclass_run / MODEL / "overtraining_ks.csv")
    assert list(ks["class"]) == ["Signal", "Wjets", "TTbar", "Z2nu", "Other"]
    assert ks["statistic"].between(0, 1).all() and ks["p_value"].between(0, 1).all()
    importance = pd.read_csv(multiclass_run / MODEL / "importance.csv")
    assert sorted(importance["feature"]) == sorted(TUTORIAL_FEATURES)
    assert importance["auc_drop"].is_monotonic_decreasing
    summary = pd.read_csv(multiclass_run / "results/fom_summary.csv").set_index("model")
    auc = summary.loc["decay_rate-0.001/seed-1", "auc_validation"]
    assert importance["auc_reference"].iloc[0] == pytest.approx(auc, abs=1e-4)
    # the evaluation's KS result reaches the summary, for the seeds and the ensembles
    for model in summary.index:
        ks = pd.read_csv(multiclass_run / "results/models" / model / "overtraining_ks.csv")
        smallest = summary.loc[model, "ks_p_value_min"]
        assert smallest == pytest.approx(ks["p_value"].min(), rel=0.05)  # 2 digits kept
        assert summary.loc[model, "ks_p_value_min_class"] == ks["class"][ks["p_value"].idxmin()]
        assert summary.loc[model, "overtraining_flag"] == (ks["p_value"].min() < 0.01)


def test_the_report_builds_with_figures_and_tables(multiclass_run):
    snakemake(multiclass_run, "--report", "results/report.html")
    html = (multiclass_run / "results/report.html").read_text()
    for text in ("Models", "Across models", "Inputs", "fom_summary.csv", "overtraining_ks.csv"):
        assert text in html, text
    assert html.count("output_distributions.png") >= 4
    # the first page: the models' headline table and the seed-spread figure inline
    assert '<th class=\\"head\\">AUC test</th>' in html and "<svg" in html


def test_changing_a_plotting_option_reruns_only_plotting_and_the_model_cards(multiclass_run):
    (multiclass_run / "plots.yaml").write_text("plots: {bins: 20, units: {Met: TeV}}\n")
    jobs = planned_jobs(multiclass_run, "--configfile", str(multiclass_run / "plots.yaml"))
    # the cards quote the variables' units
    assert jobs == {"plot_inputs": 1, "plot_model": 4, "write_model_card": 4, "all": 1}


def test_every_model_is_exported_as_onnx_of_the_raw_variables(multiclass_run):
    from cmsnn.learning.export import onnx_scores

    config = yaml.safe_load((multiclass_run / "config.yaml").read_text())
    test = read(multiclass_run, "results/split/test.parquet")  # raw, unscaled variables
    classes = ["Signal", "Wjets", "TTbar", "Z2nu", "Other"]
    for point in ("decay_rate-0.001", "decay_rate-0.0001"):
        for seed in (1, 2):
            folder = multiclass_run / f"results/models/{point}/seed-{seed}"
            predictions = pd.read_csv(folder / "predictions_test.csv")
            raw = test[list(TUTORIAL_FEATURES)].to_numpy("float32")
            scores = onnx_scores(folder / "model.onnx", raw)
            expected = predictions[[f"score_{name}" for name in classes]].to_numpy()
            np.testing.assert_allclose(scores, expected, atol=1e-5, rtol=0)
            card = json.loads((folder / "model_card.json").read_text())
            evaluation = json.loads((folder / "evaluation.json").read_text())
            assert [v["name"] for v in card["input"]["variables"]] == list(TUTORIAL_FEATURES)
            assert card["input"]["scaling"]["method"] == "quantile"
            assert card["classes"] == classes and card["training"]["seed"] == seed
            assert card["metrics"]["best_cut"] == evaluation["best_cut"]
            assert card["metrics"]["auc_test"] == evaluation["auc_test"]
            assert card["check"]["largest_absolute_difference"] <= 1e-5
            assert card["training"]["settings"]["decay_rate"] == float(point.split("-")[1])
    assert config["classification"] == "multiclass"


def test_changing_a_fom_option_never_retrains(multiclass_run):
    """The FOM's f is the binned likelihood's too: both are redone, nothing before."""
    (multiclass_run / "fom.yaml").write_text("fom: {relative_background_uncertainty: 0.1}\n")
    jobs = planned_jobs(multiclass_run, "--configfile", str(multiclass_run / "fom.yaml"))
    assert jobs == FOM_RERUN | {"fit_binned_likelihood": 6, "plot_binned_output": 6}


def test_changing_a_statistics_option_reruns_only_the_fits_and_what_reads_them(
    multiclass_run,
):
    (multiclass_run / "stat.yaml").write_text("statistics: {max_bins: 4}\n")
    jobs = planned_jobs(multiclass_run, "--configfile", str(multiclass_run / "stat.yaml"))
    assert jobs == {
        "fit_binned_likelihood": 6,
        "plot_binned_output": 6,
        "summarise_models": 1,
        "plot_seed_spread": 1,
        "plot_fom_by_signal": 1,
        "plot_limits": 1,
        "all": 1,
    }


def test_the_binned_likelihood_of_every_model(multiclass_run):
    """Every seed and ensemble gets its binned numbers; the workspace it writes gives the
    same Z in pyhf's own hypotest; its datacard reads back as the workspace; the
    summary and the per-signal table carry the numbers."""
    import pyhf
    from scipy.stats import norm

    from cmsnn.statistics.datacard import check_datacard

    summary = pd.read_csv(multiclass_run / "results/fom_summary.csv").set_index("model")
    assert len(summary) == 6
    for model in summary.index:
        folder = multiclass_run / "results/models" / model / "binned"
        numbers = json.loads((folder / "numbers.json").read_text())
        assert numbers["binned_z_test"] > 0 and numbers["n_bins"] >= 1
        bands = [numbers[f"limit_{band}_test"] for band in ("minus2", "minus1", "median",
                                                             "plus1", "plus2")]  # fmt: skip
        assert bands == sorted(bands) and bands[0] > 0
        assert summary.loc[model, "binned_z_test"] == pytest.approx(
            numbers["binned_z_test"], abs=1e-3
        )
        spec = json.loads((folder / "workspace.json").read_text())
        workspace = pyhf.Workspace(spec)
        pdf = workspace.model()
        pars = np.asarray(pdf.config.suggested_init())
        pars[pdf.config.poi_index] = 1.0
        p0 = pyhf.infer.hypotest(0.0, pdf.expected_data(pars), pdf, test_stat="q0")
        assert norm.isf(float(p0)) == pytest.approx(numbers["binned_z_test"], rel=1e-3)
        check_datacard(spec, folder / "datacard.txt")
        edges = json.loads((folder / "binning.json").read_text())["edges"]
        assert len(edges) == numbers["n_bins"] + 1 and edges[0] == 0.0 and edges[-1] == 1.0
    by_signal = pd.read_csv(multiclass_run / "results/fom_by_signal.csv")
    assert by_signal["binned_z_test"].gt(0).all() and by_signal["limit_median_test"].gt(0).all()
    for name in ("limits", "binned_z"):
        assert (multiclass_run / f"results/plots/{name}.png").stat().st_size > 10_000


def test_binary_pipeline_with_preselection_and_equal_weights(binary_run):
    preselected = read(binary_run, "results/preselected/train.parquet")
    assert (preselected["Met"] > 220).all()
    train = read(binary_run, "results/prepared/minmax-equal/train.parquet")
    assert train["Met"].min() == pytest.approx(-1) and train["Met"].max() == pytest.approx(1)
    is_signal = train["class"] == "Signal"
    n_background = (~is_signal).sum()
    assert train.loc[is_signal, "training_weight"].sum() == pytest.approx(n_background)
    assert train.loc[~is_signal, "training_weight"].sum() == pytest.approx(n_background)
    predictions = pd.read_csv(
        binary_run / "results/models/decay_rate-0.001/seed-1/predictions_validation.csv"
    )
    assert [c for c in predictions.columns if c.startswith("score_")] == ["score_Signal"]
    assert predictions["score_Signal"].between(0, 1).all()
    summary = pd.read_csv(binary_run / "results/fom_summary.csv", keep_default_na=False)
    assert len(summary) == 1 and summary["classification"][0] == "binary"
    assert summary["auc_test"][0] > 0.8
    # the binary defaults (equal balancing, automatic range) give a FOM, no option set;
    # with sqrt balancing and a 0.7-1.0 scan this was FOM 0 and no word
    assert summary["balancing"][0] == "equal"
    assert float(summary["fom_test_at_best_cut"][0]) > 1
    assert float(summary["fom_validation_at_best_cut"][0]) > 1
    assert "FOM is 0" not in summary["warnings"][0]
    by_signal = pd.read_csv(binary_run / "results/fom_by_signal.csv")
    assert sorted(by_signal["signal_process"]) == [
        f"T2DegStop_{m1}_{m2}.root" for m1, m2 in ((500, 470), (550, 520), (600, 570))
    ]
    assert (by_signal["fom_test_at_best_cut"] > 0).all()
    log = (binary_run / "results/logs/train_model/decay_rate-0.001/seed-1.log").read_text()
    assert "TensorFlow threads: intra-op 2, inter-op 2" in log


def test_the_documented_onnx_snippet_runs_as_written(multiclass_run):
    readme = (ROOT / "docs" / "export.md").read_text()
    snippet = readme.split("In Python, with ONNX Runtime", 1)[1].split("```python\n", 1)[1]
    snippet = snippet.split("```", 1)[0]
    check = "\nassert scores.shape == (len(events), 5)\n"
    check += "assert abs(scores.sum(axis=1) - 1).max() < 1e-5\n"
    subprocess.run([sys.executable, "-c", snippet + check], cwd=multiclass_run, check=True,
                   timeout=300)  # fmt: skip


def test_the_cutflow_follows_each_process_from_the_files_to_the_training_set(binary_run):
    cutflow = pd.read_csv(binary_run / "results/cutflow.csv", keep_default_na=False)
    cutflow = cutflow.set_index("process")
    processes = pd.read_csv(binary_run / "results/ingested/processes.csv").set_index("process")
    assert (cutflow.loc[processes.index, "read_events"] == processes["events"]).all()
    splits = cutflow[["train_events", "validation_events", "test_events"]].sum(axis=1)
    assert (splits == cutflow["read_events"]).all()
    preselected = read(binary_run, "results/preselected/train.parquet")
    counted = preselected.groupby("process").size()
    assert (cutflow.loc[counted.index, "preselected_train_events"] == counted).all()
    # the abs policy trains on every preselected training event
    assert (cutflow["training_set_events"] == cutflow["preselected_train_events"]).all()
    assert cutflow.loc["total", "read_events"] == processes["events"].sum()
    log = (binary_run / "results/logs/tabulate_cutflow.log").read_text()
    assert "cutflow (events and sum of weights per process and stage)" in log


def test_the_binary_onnx_model_takes_the_preselected_raw_events(binary_run):
    from cmsnn.learning.export import onnx_scores

    folder = binary_run / "results/models/decay_rate-0.001/seed-1"
    test = read(binary_run, "results/preselected/test.parquet")
    scores = onnx_scores(folder / "model.onnx", test[list(TUTORIAL_FEATURES)].to_numpy("float32"))
    predictions = pd.read_csv(folder / "predictions_test.csv")
    np.testing.assert_allclose(scores[:, 0], predictions["score_Signal"], atol=1e-5, rtol=0)
    card = json.loads((folder / "model_card.json").read_text())
    assert card["output"]["columns"] == ["score_Signal"]
    assert card["input"]["scaling"]["method"] == "minmax"


def test_binary_fom_counts_every_event_above_the_cut(binary_run):
    model = binary_run / "results/models/decay_rate-0.001/seed-1"
    evaluation = json.loads((model / "evaluation.json").read_text())
    predictions = pd.read_csv(model / "predictions_test.csv")
    passing = predictions[predictions["score_Signal"] > evaluation["best_cut"]]
    to_yield = 35866 / 0.5
    signal = passing.loc[passing["class"] == "Signal", "weight"].sum() * to_yield
    background = passing.loc[passing["class"] != "Signal", "weight"].sum() * to_yield
    assert evaluation["signal_yield_test_at_best_cut"] == pytest.approx(signal)
    assert evaluation["background_yield_test_at_best_cut"] == pytest.approx(background)
    assert evaluation["background_events_test_at_best_cut"] == (passing["class"] != "Signal").sum()
    s, b, f = signal, background, 0.2
    sum_w2 = ((passing.loc[passing["class"] != "Signal", "weight"] * to_yield) ** 2).sum()
    sigma2 = (f * b) ** 2 + sum_w2
    by_hand = math.sqrt(
        2
        * (
            (s + b) * math.log((s + b) * (b + sigma2) / (b * b + (s + b) * sigma2))
            - b * b / sigma2 * math.log(1 + sigma2 * s / (b * (b + sigma2)))
        )
    )
    assert evaluation["fom_test_at_best_cut"] == pytest.approx(by_hand, rel=1e-6)


def test_a_meaningless_fom_is_reported_loudly(binary_run):
    """No cut can be chosen (no background estimate is good enough): the run warns on
    the console, and the summary says why instead of quoting a best cut."""
    (binary_run / "strict.yaml").write_text("fom: {min_background_events: 1.0e+9}\n")
    result = snakemake(
        binary_run, "results/fom_summary.csv", "--configfile", str(binary_run / "strict.yaml")
    )
    assert "warning(s) in results/fom_summary.csv (column 'warnings')" in result.stderr
    assert "no scanned cut keeps fom.min_background_events = 1e+09 effective" in result.stderr
    # the verdict: each model's line, then where the results are
    assert "Results (results/fom_summary.csv):" in result.stderr
    assert "Tables:   results/fom_summary.csv (per model)" in result.stderr
    summary = pd.read_csv(binary_run / "results/fom_summary.csv")
    model = summary[summary["kind"] == "seed"].iloc[0]
    assert np.isnan(model["best_cut"]) and np.isnan(model["fom_test_at_best_cut"])
    assert "no cut is chosen" in model["warnings"]
    log = (binary_run / "results/logs/evaluate_model/decay_rate-0.001/seed-1.log").read_text()
    assert "WARNING" in log and "no cut is chosen" in log


def test_the_console_keeps_to_what_a_user_reads(multiclass_run):
    """Progress, the verdict and where things are, not every job's inputs and outputs;
    and the training logs without TensorFlow's known-harmless lines."""
    console = (multiclass_run / "console.txt").read_text()
    jobs = int(re.search(r"^total\s+(\d+)$", console, re.M).group(1))
    lines = console.splitlines()
    # a line per job's start and end, the verdict, and one line per warning of the run
    warnings = [line for line in lines if line.startswith("  - ")]
    assert len(lines) - len(warnings) < 6 * jobs + 60, f"{len(lines)} lines for {jobs} jobs"
    assert len(set(warnings)) == len(warnings)
    assert max(len(line) for line in lines) < 400
    assert "src/cmsnn" not in console and "localrule all" not in console
    assert "Results (results/fom_summary.csv):" in console
    assert re.search(r"job \d+: train_model \(point=decay_rate-0\.001, seed=1\) log: ", console)
    log = (multiclass_run / f"results/logs/train_model/{MODEL.split('models/')[1]}.log").read_text()
    assert "epoch 1/" in log
    assert "use_unbounded_threadpool" not in log and "absl::InitializeLog" not in log


def test_the_design_cards_commands_need_no_cores_option(multiclass_run):
    """`snakemake results/fom_summary.csv` and plain `snakemake`, as the README writes
    them (pointed at the test's folder): the workflow's default profile gives the cores."""
    for target in (["results/fom_summary.csv"], []):
        command = [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"),
                   "--directory", str(multiclass_run), *target]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True, timeout=900)
        output = result.stdout + result.stderr
        assert result.returncode == 0, output[-3000:]
        assert "workflow specific profile" in output and "Nothing to be done" in output


def test_a_second_configuration_in_its_own_folder_leaves_the_first_intact(binary_run):
    before = {
        path: path.stat().st_mtime_ns
        for path in (binary_run / "results").rglob("*")
        if path.is_file() and "second" not in path.parts
    }
    kept = yaml.safe_load((binary_run / "results/config.yaml").read_text())
    assert kept["classification"] == "binary" and kept["results"] == "results"
    (binary_run / "second.yaml").write_text("results: results/second\nclassification: multiclass\n")
    target = "results/second/split/train.parquet"
    snakemake(binary_run, target, "--configfile", str(binary_run / "second.yaml"))
    after = {path: path.stat().st_mtime_ns for path in before if path.exists()}
    assert after == before  # not one file of the first configuration touched
    second = yaml.safe_load((binary_run / "results/second/config.yaml").read_text())
    assert second["classification"] == "multiclass" and (binary_run / target).is_file()
