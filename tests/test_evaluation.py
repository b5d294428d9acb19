"""Per-model evaluation: weighted AUC and the files the evaluation step writes."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import confusion_matrix, roc_auc_score, roc_curve

from cmsnn.learning.metrics import (
    ROC_POINTS_DRAWN,
    roc_curve_of,
    roc_curves,
    weighted_auc,
    weighted_confusion_matrix,
)
from cmsnn.preprocessing.splitting import write_shares
from cmsnn.statistics.evaluation import (
    evaluate_model_files,
    evaluate_predictions,
    overtraining_numbers,
)
from cmsnn.statistics.overtraining import weighted_ks_2samp
from cmsnn.statistics.significance import asimov_significance, asimov_significance_with_uncertainty
from cmsnn.vocabulary import SPLITS, NetworkTask

CLASS_NAMES = ["Signal", "Wjets", "TTbar", "Other"]


def brute_force_auc(scores, is_signal, weights):
    """P(score_signal > score_background) over weighted pairs, ties counting one half."""
    s_scores, s_weights = scores[is_signal], weights[is_signal]
    b_scores, b_weights = scores[~is_signal], weights[~is_signal]
    greater = s_scores[:, None] > b_scores[None, :]
    equal = s_scores[:, None] == b_scores[None, :]
    pair_weights = s_weights[:, None] * b_weights[None, :]
    return float(((greater + 0.5 * equal) * pair_weights).sum() / pair_weights.sum())


def random_predictions(rng, n, classification):
    class_index = rng.integers(0, 3, n)
    scores = np.clip(rng.normal(0.35 + 0.3 * (class_index == 0), 0.2, n), 0, 1).round(3)
    frame = pd.DataFrame(
        {
            "score_Signal": scores,
            "weight": rng.uniform(0.01, 1.0, n) * np.where(class_index == 0, 0.01, 1.0),
            "process": np.array(["sig.root", "w.root", "tt.root"])[class_index],
            "class": np.array(CLASS_NAMES[:3])[class_index],
        }
    )
    if classification == "multiclass":
        frame["score_Wjets"] = (1 - scores) / 2
        frame["score_TTbar"] = (1 - scores) / 2
        frame["predicted_class"] = np.where(
            scores > 1 / 3, "Signal", np.array(CLASS_NAMES[:3])[class_index]
        )
    return frame


def test_weighted_auc_matches_sklearn_and_pair_counting():
    rng = np.random.default_rng(0)
    predictions = random_predictions(rng, 600, "binary")
    auc = weighted_auc(predictions, "Signal")
    is_signal = (predictions["class"] == "Signal").to_numpy()
    scores = predictions["score_Signal"].to_numpy()
    weights = predictions["weight"].to_numpy()
    assert auc == pytest.approx(roc_auc_score(is_signal, scores, sample_weight=weights), rel=1e-12)
    assert auc == pytest.approx(brute_force_auc(scores, is_signal, weights), rel=1e-9)
    assert 0.6 < auc < 1.0
    # the weights matter: unweighted is a different number
    assert auc != pytest.approx(roc_auc_score(is_signal, scores), abs=1e-6)


@pytest.mark.parametrize("negative_share", [0.0, 0.2])
def test_the_roc_curve_is_scikit_learns(negative_share):
    """The curve is computed here (scikit-learn's import costs more than the curve) and
    is scikit-learn's ``roc_curve`` point for point: ties in the scores, negative
    weights, one point per distinct score."""
    rng = np.random.default_rng(5)
    predictions = random_predictions(rng, 700, "binary")
    predictions["score_Signal"] = np.round(predictions["score_Signal"], 2)  # ties
    negative = rng.uniform(size=len(predictions)) < negative_share
    predictions["weight"] = np.where(negative, -1.0, 1.0) * predictions["weight"]
    predictions.loc[::50, "weight"] = 0.0  # events without weight add no point
    fpr, tpr, area = roc_curve_of(predictions, "Signal")
    expected_fpr, expected_tpr, _ = roc_curve(
        (predictions["class"] == "Signal").to_numpy(), predictions["score_Signal"].to_numpy(),
        sample_weight=predictions["weight"].to_numpy(), drop_intermediate=False,
    )  # fmt: skip
    weighted = predictions[predictions["weight"] != 0]
    assert len(fpr) == len(np.unique(weighted["score_Signal"])) + 1
    np.testing.assert_allclose(fpr, expected_fpr, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(tpr, expected_tpr, rtol=1e-12, atol=1e-15)
    assert area == pytest.approx(float(np.trapezoid(expected_tpr, expected_fpr)), rel=1e-12)


def test_weighted_auc_perfect_separation():
    predictions = pd.DataFrame(
        {
            "score_Signal": [0.9, 0.8, 0.3, 0.1, 0.2],
            "weight": [1e-3, 2.0, 5.0, 0.1, 1.0],
            "class": ["Signal", "Signal", "Wjets", "TTbar", "Wjets"],
        }
    )
    assert weighted_auc(predictions, "Signal") == 1.0
    inverted = predictions.assign(score_Signal=1 - predictions["score_Signal"])
    assert weighted_auc(inverted, "Signal") == 0.0


def test_weighted_auc_with_negative_weights_matches_pair_counting():
    """NLO samples carry negative weights: the ROC curve is then not monotonic, which
    scikit-learn's own AUC refuses; the area must still be the weighted pair count."""
    rng = np.random.default_rng(4)
    predictions = random_predictions(rng, 500, "binary")
    negative = rng.uniform(size=len(predictions)) < 0.2
    predictions["weight"] = np.where(negative, -1.0, 1.0) * rng.uniform(0.1, 1.0, 500)
    is_signal = (predictions["class"] == "Signal").to_numpy()
    weights = predictions["weight"].to_numpy()
    assert (weights[is_signal] < 0).any() and (weights[~is_signal] < 0).any()
    scores = predictions["score_Signal"].to_numpy()
    assert len(np.unique(scores)) < len(scores)  # ties, which count one half
    auc = weighted_auc(predictions, "Signal")
    assert np.isfinite(auc)
    assert auc == pytest.approx(brute_force_auc(scores, is_signal, weights), rel=1e-9)


def test_weighted_auc_by_hand_with_a_negative_weight():
    # signal (0.9, w 2), (0.4, w -1); background (0.5, w 1), (0.4, w 3)
    # pairs: 2*1*1 + 2*3*1 + (-1)*1*0 + (-1)*3*0.5 = 6.5; W_S W_B = 1 * 4
    predictions = pd.DataFrame(
        {
            "score_Signal": [0.9, 0.4, 0.5, 0.4],
            "weight": [2.0, -1.0, 1.0, 3.0],
            "class": ["Signal", "Signal", "Wjets", "TTbar"],
        }
    )
    assert weighted_auc(predictions, "Signal") == pytest.approx(6.5 / 4.0, rel=1e-12)


FOM_OPTIONS = {
    "luminosity": 35866.0,
    "relative_background_uncertainty": 0.2,
    "cut_min": 0.7,
    "cut_max": 1.0,
    "steps": 30,
    "signal_processes": [],
    "min_background_events": 0,
    "include_mc_statistics": False,
    "bootstrap_replicas": 0,
    "bootstrap_seed": 0,
}
FRACTIONS = {"train": 0.25, "validation": 0.25, "test": 0.5}


@pytest.mark.parametrize("classification", ["binary", "multiclass"])
def test_evaluate_model_files(tmp_path, classification):
    rng = np.random.default_rng(1)
    fom_options = FOM_OPTIONS | {"include_mc_statistics": True, "bootstrap_replicas": 20}
    sources, frames = {}, {}
    for split in SPLITS:
        frames[split] = random_predictions(rng, 400, classification)
        sources[split] = tmp_path / f"predictions_{split}.parquet"
        frames[split].to_parquet(sources[split], index=False)
    scan_path = tmp_path / "out" / "fom_scan.csv"
    numbers_path = tmp_path / "out" / "evaluation.json"
    by_signal_path = tmp_path / "out" / "fom_by_signal.csv"
    outputs = {"scan": scan_path, "evaluation": numbers_path, "by_signal": by_signal_path,
               "ks_table": tmp_path / "out" / "overtraining_ks.csv"}  # fmt: skip
    sources["shares"] = tmp_path / "shares.csv"
    write_shares(frames, sources["shares"], presplit=True)
    evaluate_model_files(
        predictions={split: sources[split] for split in SPLITS},
        shares=sources["shares"],
        **outputs,
        fom_options=fom_options,
        task=NetworkTask(classification, CLASS_NAMES, features=()),
    )
    # each process's share of each split, counted here from the prediction files
    counts = pd.concat(frames, names=["split"]).groupby(["split", "process"]).size()
    shares = counts / counts.groupby("process").transform("sum")

    scan = pd.read_csv(scan_path)
    expected_columns = ["cut"] + [
        f"{quantity}_{split}"
        for split in SPLITS
        for quantity in (
            "fom",
            "fom_stat_error",
            "signal_yield",
            "background_yield",
            "background_uncertainty",
            "background_mc_relative_uncertainty",
            "signal_events",
            "background_events",
            "background_effective_events",
            "signal_efficiency",
            "background_efficiency",
        )
    ]
    assert sorted(scan.columns) == sorted(expected_columns)
    assert len(scan) == 30
    np.testing.assert_allclose(scan["cut"], 0.7 + np.arange(30) * 0.01, atol=1e-12)

    # yields recomputed independently from the prediction files
    for split in SPLITS:
        frame = frames[split]
        if classification == "multiclass":
            frame = frame[frame["predicted_class"] == "Signal"]
        yields = frame["weight"].to_numpy() * 35866.0 / frame["process"].map(shares[split])
        yields = yields.to_numpy()
        score = frame["score_Signal"].to_numpy()
        signal = (frame["class"] == "Signal").to_numpy()
        for row in scan.itertuples():
            above = score > row.cut
            s = yields[above & signal].sum()
            b = yields[above & ~signal].sum()
            assert getattr(row, f"signal_yield_{split}") == pytest.approx(s, rel=1e-9)
            assert getattr(row, f"background_yield_{split}") == pytest.approx(b, rel=1e-9)
            assert getattr(row, f"signal_events_{split}") == np.count_nonzero(above & signal)
            assert getattr(row, f"background_events_{split}") == np.count_nonzero(above & ~signal)
            # sigma_b^2 = (f b)^2 + sum of squared yields above the cut
            sigma = np.sqrt((0.2 * b) ** 2 + (yields[above & ~signal] ** 2).sum())
            assert getattr(row, f"background_uncertainty_{split}") == pytest.approx(sigma)
            assert getattr(row, f"fom_{split}") == pytest.approx(
                asimov_significance_with_uncertainty(s, b, sigma), rel=1e-9
            )
            if s > 0 and b > 0:  # the MC statistics lower the FOM
                assert getattr(row, f"fom_{split}") < asimov_significance(s, b, 0.2)

    numbers = json.loads(numbers_path.read_text())
    # the overtraining test: per true class, the signal output of training vs validation
    ks = pd.read_csv(outputs["ks_table"]).set_index("class")
    for name in CLASS_NAMES[:3]:
        train, validation = frames["train"], frames["validation"]
        a, b = train[train["class"] == name], validation[validation["class"] == name]
        expected = weighted_ks_2samp(a["score_Signal"], a["weight"], b["score_Signal"], b["weight"])
        assert tuple(ks.loc[name]) == pytest.approx(expected)
    assert ks.loc["Other"].isna().all()  # no event of that class
    assert numbers["ks_p_value_min"] == pytest.approx(ks["p_value"].min())
    assert numbers["ks_p_value_min_class"] == ks["p_value"].idxmin()
    assert numbers["overtraining_flag"] is False  # the splits come from one distribution
    for split in SPLITS:
        frame = frames[split]
        expected_auc = roc_auc_score(
            frame["class"] == "Signal", frame["score_Signal"], sample_weight=frame["weight"]
        )
        assert numbers[f"auc_{split}"] == pytest.approx(expected_auc, rel=1e-12)
    best = int(np.argmax(scan["fom_validation"]))
    assert numbers["best_cut"] == pytest.approx(scan["cut"][best])
    assert numbers["fom_validation_at_best_cut"] == pytest.approx(scan["fom_validation"].max())
    for split in ("validation", "test"):
        error = numbers[f"fom_{split}_at_best_cut_stat_error"]
        assert error == pytest.approx(scan[f"fom_stat_error_{split}"][best])
    assert numbers["fom_validation_at_best_cut_stat_error"] > 0
    # the per-signal-process table: one process here, so the headline numbers again
    by_signal = pd.read_csv(by_signal_path)
    assert by_signal["signal_process"].tolist() == ["sig.root"]
    assert by_signal["best_cut"][0] == pytest.approx(numbers["best_cut"])
    assert by_signal["fom_test_at_best_cut"][0] == pytest.approx(numbers["fom_test_at_best_cut"])
    # the same signal (the whole class is sig.root alone), the same bootstrap
    for key in ("fom_test_at_best_cut_stat_error", "fom_validation_at_best_cut_stat_error"):
        assert by_signal[key][0] == pytest.approx(numbers[key])
    assert numbers["fom_test_at_best_cut"] == pytest.approx(scan["fom_test"][best])
    assert numbers["fom_test_max"] == pytest.approx(scan["fom_test"].max())
    assert numbers["signal_yield_test_at_best_cut"] == pytest.approx(
        scan["signal_yield_test"][best]
    )
    assert numbers["background_events_test_at_best_cut"] == scan["background_events_test"][best]
    assert type(numbers["background_events_test_at_best_cut"]) is int
    # background per class at the best cut, every background class present (0 if none)
    test = frames["test"]
    if classification == "multiclass":
        test = test[test["predicted_class"] == "Signal"]
    above = test[(test["score_Signal"] > numbers["best_cut"]) & (test["class"] != "Signal")]
    for name in CLASS_NAMES[1:]:
        of_class = above[above["class"] == name]
        expected = (
            of_class["weight"] * 35866.0 / of_class["process"].map(shares["test"]).astype(float)
        ).sum()
        assert numbers[f"yield_test_at_best_cut_{name}"] == pytest.approx(expected, rel=1e-9)
    assert numbers["yield_test_at_best_cut_Other"] == 0.0
    assert sum(numbers[f"yield_test_at_best_cut_{name}"] for name in CLASS_NAMES[1:]) == (
        pytest.approx(numbers["background_yield_test_at_best_cut"], rel=1e-9)
    )
    assert "yield_test_at_best_cut_Signal" not in numbers
    assert [key for key in numbers if key.startswith("yield_test_at_best_cut_")] == [
        f"yield_test_at_best_cut_{name}" for name in CLASS_NAMES[1:]
    ]


def prediction_splits(classification, seed=2, n=400):
    rng = np.random.default_rng(seed)
    return {split: random_predictions(rng, n, classification) for split in SPLITS}


def test_a_signal_point_whose_fom_means_nothing_warns_in_the_models_own_list(tmp_path):
    """A mass point taken alone whose FOM is 0 at every cut reaches the model's warnings
    (evaluation.json, and so the summary, the log and the console), named by process;
    the headline signal's own row does not repeat the headline's warnings."""
    rng = np.random.default_rng(3)
    sources = {}
    for split in SPLITS:
        frame = random_predictions(rng, 400, "binary")
        unseen = frame[frame["class"] == "Signal"].assign(process="far.root", score_Signal=0.1)
        sources[split] = tmp_path / f"predictions_{split}.parquet"
        pd.concat([frame, unseen]).to_parquet(sources[split], index=False)
    outputs = {
        name: tmp_path / "out" / file
        for name, file in (
            ("scan", "fom_scan.csv"),
            ("evaluation", "evaluation.json"),
            ("by_signal", "fom_by_signal.csv"),
            ("ks_table", "overtraining_ks.csv"),
        )
    }
    options = FOM_OPTIONS | {"signal_processes": ["sig.root"]}
    sources["shares"] = tmp_path / "shares.csv"
    tables = {split: pd.read_parquet(sources[split]) for split in SPLITS}
    write_shares(tables, sources["shares"], True)
    evaluate_model_files(
        predictions={split: sources[split] for split in SPLITS},
        shares=sources["shares"],
        **outputs,
        fom_options=options,
        task=NetworkTask("binary", CLASS_NAMES, features=()),
    )

    warnings = json.loads(outputs["evaluation"].read_text())["warnings"]
    by_signal = pd.read_csv(outputs["by_signal"], keep_default_na=False).set_index("signal_process")
    assert by_signal.loc["far.root", "warnings"].startswith("the validation FOM is 0")
    assert [w for w in warnings if w.startswith("far.root alone: the validation FOM is 0")]
    assert not [w for w in warnings if w.startswith("sig.root alone")]


def test_evaluate_predictions_rejects_unknown_signal_processes():
    predictions = prediction_splits("binary")
    options = FOM_OPTIONS | {"signal_processes": ["sig.root", "T2DegStop_999_1.root"]}
    with pytest.raises(ValueError, match=r"T2DegStop_999_1\.root.*\['sig\.root'\]"):
        evaluate_predictions(predictions, FRACTIONS, options, "binary", CLASS_NAMES)
    # a process of a background class is not a signal process either
    options = FOM_OPTIONS | {"signal_processes": ["w.root"]}
    with pytest.raises(ValueError, match="w.root"):
        evaluate_predictions(predictions, FRACTIONS, options, "binary", CLASS_NAMES)
    options = FOM_OPTIONS | {"signal_processes": ["sig.root"]}
    evaluate_predictions(predictions, FRACTIONS, options, "binary", CLASS_NAMES)


@pytest.mark.parametrize("classification", ["binary", "multiclass"])
def test_evaluate_predictions_min_background_events(classification):
    predictions = prediction_splits(classification)
    scan_range = FOM_OPTIONS | {"cut_min": 0.4, "cut_max": 0.9, "steps": 50}
    free_table, free = evaluate_predictions(
        predictions, FRACTIONS, scan_range, classification, CLASS_NAMES
    )
    # without a minimum the best cut sits where a handful of background events remain
    free_best = int(np.argmax(free_table["fom_validation"]))
    assert free_table["background_effective_events_validation"][free_best] < 10
    options = scan_range | {"min_background_events": 10}
    table, numbers = evaluate_predictions(
        predictions, FRACTIONS, options, classification, CLASS_NAMES
    )
    # the scan itself is unchanged: the requirement only restricts the choice
    pd.testing.assert_frame_equal(table, free_table)
    enough = table["background_effective_events_validation"] >= 10
    assert enough.any() and not enough.all()
    best = int(np.argmax(np.where(enough, table["fom_validation"], 0.0)))
    assert numbers["best_cut"] == pytest.approx(table["cut"][best])
    assert best < free_best and numbers["best_cut"] < free["best_cut"]
    # the test FOM at the chosen cut is the test FOM there, whatever the test count
    assert numbers["fom_test_at_best_cut"] == table["fom_test"][best]
    assert numbers["background_events_test_at_best_cut"] == table["background_events_test"][best]
    test_enough = table["background_effective_events_test"] >= 10
    assert numbers["fom_test_max"] == np.where(test_enough, table["fom_test"], 0.0).max()
    # the AUCs do not depend on the cut
    for split in SPLITS:
        assert numbers[f"auc_{split}"] == free[f"auc_{split}"]


def test_evaluate_predictions_takes_the_class_order_from_class_names():
    predictions = prediction_splits("binary")
    names = ["Signal", "Other", "TTbar", "Wjets"]
    _, numbers = evaluate_predictions(predictions, FRACTIONS, FOM_OPTIONS, "binary", names)
    assert [key for key in numbers if key.startswith("yield_test_at_best_cut_")] == [
        "yield_test_at_best_cut_Other",
        "yield_test_at_best_cut_TTbar",
        "yield_test_at_best_cut_Wjets",
    ]
    assert numbers["yield_test_at_best_cut_Other"] == 0.0


# --- ROC curves and confusion matrices (the figures' numbers) ---------------------------

THREE_CLASSES = ["Signal", "Wjets", "TTbar"]


def softmax_predictions(rng, n):
    """Multi-class outputs: a softmax whose largest logit tends to be the true class."""
    class_index = rng.integers(0, 3, n)
    logits = rng.normal(0, 1, (n, 3)) + 1.2 * np.eye(3)[class_index]
    scores = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    frame = pd.DataFrame(scores.round(3), columns=[f"score_{name}" for name in THREE_CLASSES])
    frame["weight"] = rng.uniform(0.01, 1.0, n) * np.where(class_index == 0, 0.05, 1.0)
    frame["class"] = np.array(THREE_CLASSES)[class_index]
    frame["predicted_class"] = np.array(THREE_CLASSES)[np.argmax(scores, axis=1)]
    return frame


def test_roc_curve_of_matches_sklearn_auc():
    rng = np.random.default_rng(21)
    predictions = softmax_predictions(rng, 800)
    for target in THREE_CLASSES:
        fpr, tpr, area = roc_curve_of(predictions, target)
        expected = roc_auc_score(
            predictions["class"] == target,
            predictions[f"score_{target}"],
            sample_weight=predictions["weight"],
        )
        assert isinstance(area, float)
        assert area == pytest.approx(expected, rel=1e-12)
        assert 0.6 < area < 1.0
        # a proper ROC curve from (0, 0) to (1, 1), monotonic for positive weights
        assert len(fpr) == len(tpr)
        assert (fpr[0], tpr[0]) == (0.0, 0.0)
        assert fpr[-1] == pytest.approx(1.0) and tpr[-1] == pytest.approx(1.0)
        assert (np.diff(fpr) >= 0).all() and (np.diff(tpr) >= 0).all()
        assert area == pytest.approx(np.trapezoid(tpr, fpr), rel=1e-15)


def test_roc_curves_multiclass_is_one_vs_rest_per_split():
    rng = np.random.default_rng(22)
    predictions = {split: softmax_predictions(rng, 500) for split in SPLITS}
    curves = roc_curves(predictions, "multiclass", THREE_CLASSES)
    assert list(curves) == THREE_CLASSES
    for target in THREE_CLASSES:
        assert list(curves[target]) == list(SPLITS)
        for split, frame in predictions.items():
            fpr, tpr, area = curves[target][split]
            expected = roc_auc_score(
                frame["class"] == target, frame[f"score_{target}"], sample_weight=frame["weight"]
            )
            assert area == pytest.approx(expected, rel=1e-12)
            np.testing.assert_array_equal(fpr, roc_curve_of(frame, target)[0])
            np.testing.assert_array_equal(tpr, roc_curve_of(frame, target)[1])
    # the signal's curve is the one weighted_auc integrates
    for split, frame in predictions.items():
        assert curves["Signal"][split][2] == weighted_auc(frame, "Signal")


def test_roc_curves_are_thinned_for_drawing_with_the_whole_curves_area():
    rng = np.random.default_rng(24)
    predictions = {
        split: pd.DataFrame(
            {
                "class": rng.choice(CLASS_NAMES, 20_000),
                "score_Signal": rng.uniform(size=20_000),  # a point per event
                "weight": rng.uniform(0.5, 2.0, 20_000),
            }
        )
        for split in SPLITS
    }
    curves = roc_curves(predictions, "binary", CLASS_NAMES)
    for split, frame in predictions.items():
        full_fpr, full_tpr, area = roc_curve_of(frame, "Signal")
        fpr, tpr, drawn_area = curves["Signal"][split]
        assert len(full_fpr) > 4 * ROC_POINTS_DRAWN
        assert len(fpr) <= 2 * ROC_POINTS_DRAWN
        assert drawn_area == area  # from every point, not from the drawn ones
        # points of the curve itself, in order, its ends and its start densely kept
        positions = np.searchsorted(full_fpr, fpr)
        assert np.all(np.diff(positions) >= 0)
        np.testing.assert_array_equal(fpr[[0, -1]], full_fpr[[0, -1]])
        np.testing.assert_array_equal(tpr[[0, -1]], full_tpr[[0, -1]])
        np.testing.assert_array_equal(fpr[:50], full_fpr[:50])
        np.testing.assert_array_equal(tpr[:50], full_tpr[:50])


def test_roc_curves_binary_only_the_signal():
    rng = np.random.default_rng(23)
    predictions = {split: random_predictions(rng, 400, "binary") for split in SPLITS}
    curves = roc_curves(predictions, "binary", CLASS_NAMES)
    assert list(curves) == ["Signal"]
    assert list(curves["Signal"]) == list(SPLITS)
    for split, frame in predictions.items():
        expected = roc_auc_score(
            frame["class"] == "Signal", frame["score_Signal"], sample_weight=frame["weight"]
        )
        assert curves["Signal"][split][2] == pytest.approx(expected, rel=1e-12)


def confusion_by_hand(true, predicted, weights, labels):
    """Row-normalised weighted confusion matrix from explicit sums."""
    true, predicted, weights = np.asarray(true), np.asarray(predicted), np.asarray(weights)
    matrix = np.array(
        [[weights[(true == t) & (predicted == p)].sum() for p in labels] for t in labels]
    )
    return matrix / matrix.sum(axis=1, keepdims=True)


def test_weighted_confusion_matrix_multiclass():
    rng = np.random.default_rng(24)
    predictions = softmax_predictions(rng, 1000)
    matrix = weighted_confusion_matrix(predictions, "multiclass", THREE_CLASSES)
    assert list(matrix.index) == THREE_CLASSES and list(matrix.columns) == THREE_CLASSES
    assert matrix.index.name == "true class"
    assert matrix.columns.name == "predicted class"
    expected = confusion_by_hand(
        predictions["class"], predictions["predicted_class"], predictions["weight"], THREE_CLASSES
    )
    np.testing.assert_allclose(matrix.to_numpy(), expected, rtol=1e-12)
    reference = confusion_matrix(
        predictions["class"].to_numpy(),
        predictions["predicted_class"].to_numpy(),
        labels=THREE_CLASSES,
        sample_weight=predictions["weight"].to_numpy(),
        normalize="true",
    )
    np.testing.assert_allclose(matrix.to_numpy(), reference, rtol=1e-12)
    np.testing.assert_allclose(matrix.sum(axis=1), 1.0, rtol=1e-12)
    # mostly right, not perfectly
    assert (np.diag(matrix) > 0.4).all() and (np.diag(matrix) < 1.0).all()
    # the weights matter
    unweighted = confusion_by_hand(
        predictions["class"], predictions["predicted_class"], np.ones(1000), THREE_CLASSES
    )
    assert not np.allclose(matrix.to_numpy(), unweighted, atol=1e-3)


def test_weighted_confusion_matrix_follows_the_class_order():
    rng = np.random.default_rng(25)
    predictions = softmax_predictions(rng, 300)
    order = ["TTbar", "Signal", "Wjets"]
    matrix = weighted_confusion_matrix(predictions, "multiclass", order)
    assert list(matrix.index) == order and list(matrix.columns) == order
    original = weighted_confusion_matrix(predictions, "multiclass", THREE_CLASSES)
    pd.testing.assert_frame_equal(matrix, original.loc[order, order])


def test_weighted_confusion_matrix_binary():
    rng = np.random.default_rng(26)
    predictions = random_predictions(rng, 800, "binary")
    # scores exactly at the threshold are background (signal needs > 0.5)
    predictions.loc[:9, "score_Signal"] = 0.5
    matrix = weighted_confusion_matrix(predictions, "binary", CLASS_NAMES)
    labels = ["Signal", "background"]
    assert list(matrix.index) == labels and list(matrix.columns) == labels
    true = np.where(predictions["class"] == "Signal", "Signal", "background")
    predicted = np.where(predictions["score_Signal"] > 0.5, "Signal", "background")
    expected = confusion_by_hand(true, predicted, predictions["weight"], labels)
    np.testing.assert_allclose(matrix.to_numpy(), expected, rtol=1e-12)
    np.testing.assert_allclose(matrix.sum(axis=1), 1.0, rtol=1e-12)
    assert 0 < matrix.loc["Signal", "Signal"] < 1
    assert 0 < matrix.loc["background", "background"] < 1


def test_weighted_confusion_matrix_binary_threshold_by_hand():
    predictions = pd.DataFrame(
        {
            "score_Signal": [0.9, 0.5, 0.2, 0.51, 0.5, 0.1],
            "weight": [3.0, 1.0, 1.0, 2.0, 5.0, 3.0],
            "class": ["Signal", "Signal", "Signal", "Wjets", "TTbar", "Wjets"],
        }
    )
    matrix = weighted_confusion_matrix(predictions, "binary", ["Signal", "Wjets", "TTbar"])
    # signal: 3 of 5 above 0.5; background: 2 of 10 above 0.5 (0.5 itself is not)
    np.testing.assert_allclose(matrix.to_numpy(), [[0.6, 0.4], [0.2, 0.8]], rtol=1e-14)


def test_the_overtraining_flag_is_the_smallest_p_value_below_the_threshold(caplog):
    ks = pd.DataFrame(
        {"statistic": [0.1, 0.3, np.nan], "p_value": [0.2, 0.004, np.nan]},
        index=pd.Index(["Signal", "Wjets", "Other"], name="class"),
    )
    numbers = overtraining_numbers(ks, 0.01)
    assert numbers == {
        "ks_p_value_min": 0.004, "ks_p_value_min_class": "Wjets", "overtraining_flag": True
    }  # fmt: skip
    assert "class Wjets differs between training and validation" in caplog.text
    assert overtraining_numbers(ks, 0.001)["overtraining_flag"] is False
    empty = overtraining_numbers(ks.iloc[2:], 0.01)
    assert empty["ks_p_value_min"] is None and empty["overtraining_flag"] is False
