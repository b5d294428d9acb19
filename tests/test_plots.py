"""The figures: each draws the data it is given, in the CMS style, without global state."""

from __future__ import annotations

import io
import subprocess
import sys

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PathCollection
from matplotlib.container import BarContainer, ErrorbarContainer
from matplotlib.contour import ContourSet
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle, StepPatch

from cmsnn.drawing import (
    CONTOUR_LEVELS,
    ExperimentLabel,
    input_bin_edges,
    plot_confusion_matrix,
    plot_correlation_matrices,
    plot_fom_by_signal,
    plot_fom_scan,
    plot_fom_scans_of_seeds,
    plot_importance,
    plot_input_distributions,
    plot_output_distributions,
    plot_roc_curves,
    plot_seed_spread,
    plot_training_history,
    plot_two_dimensional_classification,
    plot_two_dimensional_samples,
    save_figure,
)

CLASSES = ["Stop", "WJets", "TTJets"]


# --- helpers ------------------------------------------------------------------------


def legend_texts(axes) -> list[str]:
    return [text.get_text() for text in axes.get_legend().get_texts()]


def lines_with_x(axes, x) -> list:
    """The lines whose x data equal ``x`` (at least one)."""
    matches = [
        line
        for line in axes.get_lines()
        if len(line.get_xdata()) == len(x) and np.allclose(line.get_xdata(), x)
    ]
    assert len(matches) >= 1, f"no line with x data {x}"
    return matches


def vertical_lines(axes) -> list[float]:
    """x of every vertical line (axvline: two points with the same x)."""
    return [
        float(line.get_xdata()[0])
        for line in axes.get_lines()
        if len(line.get_xdata()) == 2 and line.get_xdata()[0] == line.get_xdata()[1]
    ]


def stairs(axes) -> list[StepPatch]:
    return [patch for patch in axes.patches if isinstance(patch, StepPatch)]


def area(step: StepPatch) -> float:
    values, edges, _ = step.get_data()
    return float(np.sum(values * np.diff(edges)))


def events_of(classes, rng, n=400) -> pd.DataFrame:
    """Events of each class: a score in [0, 1], Met, the integer-valued Njet, weights."""
    frames = []
    for index, name in enumerate(classes):
        frames.append(
            pd.DataFrame(
                {
                    "score": np.clip(rng.normal(0.8 - 0.3 * index, 0.15, n), 0, 1),
                    "Met": rng.exponential(200.0, n) + 100 * index,
                    "Njet": rng.poisson(2 + index, n).astype(float),
                    "weight": rng.uniform(0.5, 2.0, n),
                    "class": name,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


@pytest.fixture
def rng():
    return np.random.default_rng(7)


@pytest.fixture(autouse=True)
def no_global_state():
    """No figure is left in pyplot and the rcParams are as before."""
    before = dict(matplotlib.rcParams)
    yield
    assert dict(matplotlib.rcParams) == before
    if "matplotlib.pyplot" in sys.modules:
        assert sys.modules["matplotlib.pyplot"].get_fignums() == []


def render(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=20)
    return buffer.getvalue()


# --- saving -------------------------------------------------------------------------


def test_save_figure_writes_png_and_pdf_without_partial_files(tmp_path):
    figure = plot_training_history(history_table(), best_epoch=3)
    png, pdf = tmp_path / "out" / "history.png", tmp_path / "out" / "history.pdf"
    save_figure(figure, png, pdf)
    assert png.read_bytes().startswith(b"\x89PNG")
    assert pdf.read_bytes().startswith(b"%PDF")
    assert sorted(path.name for path in png.parent.iterdir()) == ["history.pdf", "history.png"]


def test_save_figure_writes_a_small_palette_png_and_an_svg_on_request(tmp_path):
    from PIL import Image

    figure = plot_roc_curves(roc_curves(CLASSES))
    png, svg = tmp_path / "roc.png", tmp_path / "roc.svg"
    save_figure(figure, png, svg_path=svg)
    with Image.open(png) as image:
        assert image.mode == "P"  # 256 colours: a third of the bytes of full colour
        assert image.size == (1400, 1400)  # two 7-inch panels a row at 100 dpi
    assert svg.read_text().lstrip().startswith("<?xml") and "<svg" in svg.read_text()


def test_the_same_figure_gives_the_same_bytes_in_every_format(tmp_path):
    """No creation date and no random ids: a rerun's figures compare equal to the last."""
    for attempt in ("first", "second"):
        (tmp_path / attempt).mkdir()
        paths = [tmp_path / attempt / f"roc.{kind}" for kind in ("png", "pdf", "svg")]
        save_figure(plot_roc_curves(roc_curves(CLASSES)), *paths)
    for kind in ("png", "pdf", "svg"):
        first = (tmp_path / "first" / f"roc.{kind}").read_bytes()
        assert first == (tmp_path / "second" / f"roc.{kind}").read_bytes(), kind


def test_save_figure_without_pdf_writes_only_the_png(tmp_path):
    save_figure(plot_importance(importance_table()), tmp_path / "importance.png")
    assert [path.name for path in tmp_path.iterdir()] == ["importance.png"]
    assert (tmp_path / "importance.png").stat().st_size > 0


def test_the_module_does_not_import_tensorflow_or_keras():
    code = "import sys, cmsnn.drawing; print(sorted({'tensorflow', 'keras'} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


# --- training -----------------------------------------------------------------------


def history_table() -> pd.DataFrame:
    epochs = np.arange(1, 7)
    return pd.DataFrame(
        {
            "epoch": epochs,
            "loss": 1.0 / epochs,
            "val_loss": 1.1 / epochs + 0.02 * epochs,
            "accuracy": 1 - 0.3 / epochs,
            "val_accuracy": 1 - 0.35 / epochs,
            "learning_rate": 1e-3 / (1 + 0.1 * epochs),
        }
    )


def test_training_history_draws_loss_and_accuracy_with_the_kept_epoch():
    history = history_table()
    figure = plot_training_history(history, best_epoch=3)
    loss_axes, accuracy_axes = figure.axes
    for axes, metric in ((loss_axes, "loss"), (accuracy_axes, "accuracy")):
        drawn = [list(line.get_ydata()) for line in lines_with_x(axes, history["epoch"])]
        assert list(history[metric]) in drawn
        assert list(history[f"val_{metric}"]) in drawn
        assert vertical_lines(axes) == [3.0]
        assert "Kept epoch (3)" in legend_texts(axes)
    assert accuracy_axes.get_xlabel() == "Epoch"
    render(figure)


# --- ROC ------------------------------------------------------------------------------


def roc_curves(classes) -> dict:
    curves = {}
    for index, name in enumerate(classes):
        fpr = np.linspace(0, 1, 5 + index)
        curves[name] = {
            split: (fpr, np.sqrt(fpr), 0.9 + 0.01 * index + 0.001 * number)
            for number, split in enumerate(("train", "validation", "test"))
        }
    return curves


def test_roc_curve_as_hep_papers_draw_it_rejection_against_signal_efficiency():
    curves = roc_curves(["Stop"])
    figure = plot_roc_curves(curves)  # the default style
    (axes,) = figure.axes
    fpr, tpr, _ = curves["Stop"]["train"]
    kept = fpr > 0  # no background left: the rejection is infinite, not drawn
    drawn = lines_with_x(axes, tpr[kept])
    assert any(np.allclose(line.get_ydata(), 1 / fpr[kept]) for line in drawn)
    assert axes.get_yscale() == "log"
    assert axes.get_xlabel() == "Signal efficiency $\\varepsilon_S$"
    assert axes.get_ylabel() == "Background rejection $1/\\varepsilon_B$"
    assert legend_texts(axes) == [
        "train (AUC = 0.9000)",
        "validation (AUC = 0.9010)",
        "test (AUC = 0.9020)",
        "random",
    ]
    render(figure)


def test_roc_curve_as_true_against_false_positive_rate_on_request():
    curves = roc_curves(["Stop"])
    (axes,) = plot_roc_curves(curves, style="efficiency").axes
    fpr, tpr, _ = curves["Stop"]["train"]
    assert any(np.allclose(line.get_ydata(), tpr) for line in lines_with_x(axes, fpr))
    assert lines_with_x(axes, [0, 1])  # the diagonal
    assert axes.get_yscale() == "linear"
    with pytest.raises(ValueError, match="plots.roc must be one of"):
        plot_roc_curves(curves, style="roc")


def test_multiclass_roc_curves_get_one_panel_per_class():
    curves = roc_curves(CLASSES)
    figure = plot_roc_curves(curves)
    assert len(figure.axes) == 3  # a 2 x 2 grid without its unused cell
    for axes, name in zip(figure.axes, CLASSES, strict=True):
        assert axes.get_legend().get_title().get_text() == f"{name} vs rest"
        assert axes.get_xlabel().startswith(f"{name} efficiency")
        fpr, tpr, _ = curves[name]["test"]
        lines_with_x(axes, tpr[fpr > 0])
        assert f"test (AUC = {curves[name]['test'][2]:.4f})" in legend_texts(axes)


def test_every_figure_carries_the_configured_experiment_label():
    label = ExperimentLabel("CMS", "Preliminary", luminosity_pb=35866, energy="13 TeV")
    (axes,) = plot_roc_curves(roc_curves(["Stop"]), label=label).axes
    texts = [text.get_text() for text in axes.texts]
    assert texts == ["CMS", "Preliminary", "35.9 fb$^{-1}$ (13 TeV)"]
    # the default: private work on simulation, nothing on the right
    (axes,) = plot_roc_curves(roc_curves(["Stop"])).axes
    assert [text.get_text() for text in axes.texts] == ["CMS", "Simulation Private Work"]
    # a non-CMS user: no label at all
    blank = ExperimentLabel("", "", None, "")
    (axes,) = plot_roc_curves(roc_curves(["Stop"]), label=blank).axes
    assert list(axes.texts) == []
    render(plot_roc_curves(roc_curves(["Stop"]), label=label))


# --- output distributions -------------------------------------------------------------


def test_output_distributions_are_weighted_unit_area_histograms(rng):
    train, validation = events_of(CLASSES, rng), events_of(CLASSES, rng)
    ks = pd.DataFrame(
        {"statistic": [0.05, 0.1, 0.3], "p_value": [0.4321, 0.05, 1.2e-5]}, index=CLASSES
    )
    figure = plot_output_distributions(train, validation, "score", CLASSES, ks, bins=20)
    (axes,) = figure.axes
    assert axes.get_yscale() == "log" and axes.get_ylim()[0] > 0
    # the legend sits below the axes: the top leaves 5 % of the decades, not 10^4
    tallest = max(step.get_data()[0].max() for step in stairs(axes))
    assert axes.get_ylim()[1] < 3 * tallest
    training = stairs(axes)
    assert len(training) == 3
    assert all(area(step) == pytest.approx(1.0) for step in training)
    values, edges, _ = training[0].get_data()
    stop = train[train["class"] == "Stop"]
    expected, _ = np.histogram(stop["score"], bins=20, range=(0, 1), weights=stop["weight"])
    np.testing.assert_allclose(values, expected / expected.sum() / 0.05)
    np.testing.assert_allclose(edges, np.linspace(0, 1, 21))

    points = [c for c in axes.containers if isinstance(c, ErrorbarContainer)]
    assert len(points) == 3
    stop = validation[validation["class"] == "Stop"]
    sums, _ = np.histogram(stop["score"], bins=20, range=(0, 1), weights=stop["weight"])
    squares, _ = np.histogram(stop["score"], bins=20, range=(0, 1), weights=stop["weight"] ** 2)
    marker_line, _, (bars,) = points[0].lines
    np.testing.assert_allclose(marker_line.get_ydata(), sums / sums.sum() / 0.05)
    half_lengths = [(segment[1, 1] - segment[0, 1]) / 2 for segment in bars.get_segments()]
    np.testing.assert_allclose(half_lengths, np.sqrt(squares) / sums.sum() / 0.05)

    labels = " ".join(text.get_text() for text in figure.legends[0].get_texts())
    assert "KS D = 0.050, p = 0.43" in labels and "KS D = 0.100, p = 0.05" in labels
    assert "KS D = 0.300, p = 1.2e-05" in labels
    render(figure)


def test_output_distributions_leave_out_a_missing_ks_p_value(rng):
    train, validation = events_of(CLASSES[:2], rng), events_of(CLASSES[:2], rng)
    ks = pd.DataFrame({"statistic": [np.nan], "p_value": [np.nan]}, index=["Stop"])
    figure = plot_output_distributions(train, validation, "score", CLASSES[:2], ks)
    assert [text.get_text() for text in figure.legends[0].get_texts()] == [
        "Stop train",
        "WJets train",
        "Stop validation",
        "WJets validation",
    ]


# --- confusion matrix -----------------------------------------------------------------


def test_confusion_matrix_annotates_every_cell_with_its_value():
    values = np.array([[0.8, 0.15, 0.05], [0.1, 0.7, 0.2], [0.333, 0.333, 0.334]])
    matrix = pd.DataFrame(values, index=CLASSES, columns=CLASSES)
    figure = plot_confusion_matrix(matrix)
    axes = figure.axes[0]
    np.testing.assert_allclose(axes.images[0].get_array(), values)
    cells = {text.get_position(): text.get_text() for text in axes.texts}
    for (row, column), value in np.ndenumerate(values):
        assert cells[(column, row)] == f"{value:.2f}"
    assert [label.get_text() for label in axes.get_xticklabels()] == CLASSES
    assert [label.get_text() for label in axes.get_yticklabels()] == CLASSES
    assert (axes.get_xlabel(), axes.get_ylabel()) == ("Predicted class (test split)", "True class")
    render(figure)


# --- FOM scan -------------------------------------------------------------------------


def fom_scan_table() -> pd.DataFrame:
    cuts = np.linspace(0, 0.99, 12)
    table = {"cut": cuts}
    for number, split in enumerate(("train", "validation", "test")):
        table[f"fom_{split}"] = np.sin(np.pi * cuts) * (1 + 0.1 * number)
        table[f"fom_stat_error_{split}"] = 0.05 + 0.1 * cuts
        table[f"signal_efficiency_{split}"] = 1 - cuts**2
        table[f"background_efficiency_{split}"] = (1 - cuts) ** 3 + 1e-4
    return pd.DataFrame(table)


def fom_evaluation() -> dict:
    return {
        "best_cut": 0.54,
        "fom_validation_at_best_cut": 1.1,
        "fom_validation_at_best_cut_stat_error": 0.08,
        "fom_test_at_best_cut": 1.1734,
        "fom_test_at_best_cut_stat_error": 0.11,
        "fom_test_max": 1.2,
        "cut_test_max": 0.45,
        "signal_yield_test_at_best_cut": 12.5,
        "background_yield_test_at_best_cut": 40.0,
        "yield_test_at_best_cut_WJets": 30.25,
        "yield_test_at_best_cut_TTJets": 9.75,
    }


def test_fom_scan_draws_every_split_and_marks_the_chosen_and_best_test_cuts():
    scan, evaluation = fom_scan_table(), fom_evaluation()
    figure = plot_fom_scan(scan, evaluation, CLASSES)
    fom_axes, efficiency_axes = figure.axes
    drawn = [list(line.get_ydata()) for line in lines_with_x(fom_axes, scan["cut"])]
    for split in ("train", "validation", "test"):
        assert list(scan[f"fom_{split}"]) in drawn
    assert sorted(vertical_lines(fom_axes)) == [0.45, 0.54]
    labels = " ".join(legend_texts(fom_axes))
    assert "1.173 ± 0.11" in labels and "1.100 ± 0.08" in labels and "1.200" in labels
    # the MC-statistics bands of validation and test: FOM ± its bootstrap error
    bands = [patch for patch in fom_axes.collections if "MC statistics" in patch.get_label()]
    assert len(bands) == 2
    for band, split in zip(bands, ("validation", "test"), strict=True):
        ys = band.get_paths()[0].vertices[:, 1]
        upper = scan[f"fom_{split}"] + scan[f"fom_stat_error_{split}"]
        lower = scan[f"fom_{split}"] - scan[f"fom_stat_error_{split}"]
        assert ys.max() == pytest.approx(upper.max()) and ys.min() == pytest.approx(lower.min())

    drawn = [list(line.get_ydata()) for line in lines_with_x(efficiency_axes, scan["cut"])]
    assert list(scan["signal_efficiency_validation"]) in drawn
    assert list(scan["background_efficiency_validation"]) in drawn
    assert vertical_lines(efficiency_axes) == [0.54]
    assert efficiency_axes.get_yscale() == "log"
    assert efficiency_axes.get_xlabel() == "Lower cut on the signal output"
    yields = " ".join(legend_texts(efficiency_axes))
    assert "Stop: 12.5" in yields and "WJets: 30.25" in yields and "TTJets: 9.75" in yields
    render(figure)


# --- importance -----------------------------------------------------------------------


def importance_table(with_std: bool = False) -> pd.DataFrame:
    table = pd.DataFrame({"feature": ["Met", "HT", "Njet"], "auc_drop": [0.12, 0.05, -0.001]})
    if with_std:
        table["auc_drop_std"] = [0.01, 0.005, 0.002]
    return table


@pytest.mark.parametrize("with_std", [False, True])
def test_importance_bars_keep_the_order_most_important_at_the_top(with_std):
    table = importance_table(with_std)
    figure = plot_importance(table)
    (axes,) = figure.axes
    bars = [patch for patch in axes.patches if isinstance(patch, Rectangle)]
    np.testing.assert_allclose([bar.get_width() for bar in bars], table["auc_drop"])
    heights = [bar.get_y() for bar in bars]
    assert heights == sorted(heights, reverse=True)
    ticks = sorted(axes.get_yticklabels(), key=lambda label: -label.get_position()[1])
    assert [label.get_text() for label in ticks] == list(table["feature"])
    (bar_container,) = [c for c in axes.containers if isinstance(c, BarContainer)]
    assert (bar_container.errorbar is not None) == with_std
    render(figure)


# --- inputs ---------------------------------------------------------------------------


def test_input_distributions_one_normalised_panel_per_feature(rng):
    events = events_of(CLASSES, rng)
    features = ["Met", "Njet", "score", "Met", "Njet"]
    units = {"Met": "GeV", "Njet": ""}
    figure = plot_input_distributions(events, features, CLASSES, units, bins=25)
    assert len(figure.axes) == 5  # a 2 x 4 grid without its three unused cells
    labels = [axes.get_xlabel() for axes in figure.axes]
    assert labels == ["Met [GeV]", "Njet", "score", "Met [GeV]", "Njet"]
    # log only for continuous non-negative variables; counts and signed ones linear
    assert [axes.get_yscale() for axes in figure.axes] == ["log", "linear", "log", "log", "linear"]
    for axes in figure.axes:
        assert len(stairs(axes)) == 3
        assert all(area(step) == pytest.approx(1.0) for step in stairs(axes))
    _, njet_edges, _ = stairs(figure.axes[1])[0].get_data()
    assert np.all(njet_edges % 1 == 0.5)  # integer-valued: bins centred on integers
    assert [text.get_text() for text in figure.legends[0].get_texts()] == CLASSES
    assert figure.legends[0].get_title().get_text() == "training split, before scaling"
    render(figure)


def test_signed_variables_keep_a_linear_axis(rng):
    events = events_of(CLASSES, rng)
    events["LepEta"] = rng.normal(0, 1.2, len(events))
    figure = plot_input_distributions(events, ["LepEta", "Met"], CLASSES, {}, bins=20)
    assert [axes.get_yscale() for axes in figure.axes] == ["linear", "log"]


def test_input_bins_span_the_central_weighted_quantiles():
    values = np.concatenate([np.linspace(0, 100, 1000), [1e6]])  # one far outlier
    weights = np.ones_like(values)
    edges = input_bin_edges(values, weights, bins=10)
    assert len(edges) == 11
    assert edges[0] == pytest.approx(0.5, abs=0.2) and edges[-1] == pytest.approx(99.5, abs=0.2)
    heavy = weights.copy()
    heavy[values > 50] = 100.0  # the weights move the range up
    assert input_bin_edges(values, heavy, bins=10)[0] > 5


def test_integer_bins_merge_integers_when_there_are_more_than_bins():
    values = np.arange(0, 101, dtype=float)
    edges = input_bin_edges(values, np.ones_like(values), bins=10)
    assert np.all(edges % 1 == 0.5)
    assert len(edges) - 1 <= 11 and edges[0] <= 0 and edges[-1] >= 100


def test_correlation_matrices_one_heat_map_per_class_and_a_shared_colour_bar():
    features = ["Met", "HT", "Njet"]
    matrices = {
        name: pd.DataFrame(
            np.array([[1.0, 0.5 * i, -0.2], [0.5 * i, 1.0, 0.1], [-0.2, 0.1, 1.0]]),
            index=features,
            columns=features,
        )
        for i, name in enumerate(CLASSES)
    }
    figure = plot_correlation_matrices(matrices)
    heat_maps = [axes for axes in figure.axes if axes.images]
    assert len(heat_maps) == 3 and len(figure.axes) == 4  # three panels, one colour bar
    for axes, (name, matrix) in zip(heat_maps, matrices.items(), strict=True):
        image = axes.images[0]
        np.testing.assert_allclose(image.get_array(), matrix.to_numpy())
        assert image.get_clim() == (-1, 1)
        assert [label.get_text() for label in axes.get_xticklabels()] == features
        assert axes.get_title(loc="right") == name
        # every coefficient printed in percent, as TMVA does
        cells = {text.get_position(): text.get_text() for text in axes.texts}
        for (row, column), value in np.ndenumerate(matrix.to_numpy()):
            assert cells[(column, row)] == str(round(100 * value))
    assert "training split" in figure.get_suptitle()
    render(figure)


# --- seeds ----------------------------------------------------------------------------


def test_seed_spread_shows_every_seed_and_the_mean_with_the_sample_std():
    summary = pd.DataFrame(
        {
            "grid_point": ["decay-0.001"] * 3 + ["decay-0.0001"],
            "seed": [1, 2, 3, 1],
            "auc_validation": [0.90, 0.92, 0.94, 0.88],
            "fom_test_at_best_cut": [1.0, 1.5, 2.0, 3.0],
        }
    )
    metrics = ["auc_validation", "fom_test_at_best_cut"]
    figure = plot_seed_spread(summary, metrics)
    assert len(figure.axes) == 2
    for axes, metric in zip(figure.axes, metrics, strict=True):
        (summary_points,) = axes.containers
        marker_line, _, (bars,) = summary_points.lines
        three_seeds, one_seed = summary[metric].iloc[:3], summary[metric].iloc[3]
        np.testing.assert_allclose(marker_line.get_ydata(), [three_seeds.mean(), one_seed])
        half_lengths = [(segment[1, 1] - segment[0, 1]) / 2 for segment in bars.get_segments()]
        np.testing.assert_allclose(half_lengths, [three_seeds.std(ddof=1), 0.0], atol=1e-12)
        seed_values = sorted(
            value
            for line in axes.get_lines()
            if line.get_label().startswith("seed")
            for value in line.get_ydata()
        )
        assert seed_values == sorted(summary[metric])
        assert axes.get_ylabel() == metric
        ticks = [label.get_text() for label in axes.get_xticklabels()]
        assert ticks == ["decay-0.001", "decay-0.0001"]
    assert {"seed 1", "seed 2", "seed 3", "mean ± std"} <= set(legend_texts(figure.axes[0]))
    render(figure)


def test_the_seeds_fom_scans_overlay_with_their_chosen_cuts():
    scans, evaluations = {}, {}
    for index, name in enumerate(["seed 1", "seed 2", "ensemble"]):
        scan = fom_scan_table()
        scan["fom_test"] *= 1 + 0.2 * index
        scans[name] = scan
        evaluations[name] = {**fom_evaluation(), "best_cut": 0.3 + 0.1 * index}
    evaluations["seed 2"]["best_cut"] = float("nan")  # no cut chosen: nothing marked
    figure = plot_fom_scans_of_seeds(scans, evaluations)
    (axes,) = figure.axes
    for name, scan in scans.items():
        drawn = lines_with_x(axes, scan["cut"])
        assert any(np.allclose(line.get_ydata(), scan["fom_test"]) for line in drawn), name
    assert sorted(vertical_lines(axes)) == pytest.approx([0.3, 0.5])
    assert legend_texts(axes) == ["seed 1", "seed 2", "ensemble", "validation-chosen cuts"]
    assert axes.get_ylabel() == "Asimov significance Z (test split)"
    render(figure)


def test_fom_scan_without_a_chosen_cut_says_so():
    evaluation = fom_evaluation() | {"best_cut": float("nan"), "fom_test_at_best_cut": float("nan")}
    figure = plot_fom_scan(fom_scan_table(), evaluation, CLASSES)
    fom_axes, efficiency_axes = figure.axes
    assert vertical_lines(fom_axes) == [0.45]  # only the test maximum
    assert vertical_lines(efficiency_axes) == []
    assert "No cut chosen" in fom_axes.get_title()
    render(figure)


def test_seed_spread_marks_the_ensemble():
    summary = pd.DataFrame(
        {
            "grid_point": ["a", "a", "b", "b", "a", "b"],
            "seed": [1, 2, 1, 2, None, None],
            "kind": ["seed"] * 4 + ["ensemble"] * 2,
            "fom_test_at_best_cut": [1.0, 2.0, 3.0, 4.0, 2.5, 3.9],
        }
    )
    figure = plot_seed_spread(summary, ["fom_test_at_best_cut"])
    (axes,) = figure.axes
    (marker_line, _, _) = axes.containers[0].lines
    np.testing.assert_allclose(marker_line.get_ydata(), [1.5, 3.5])  # seeds only
    (ensemble,) = [line for line in axes.get_lines() if line.get_label() == "seed ensemble"]
    np.testing.assert_allclose(ensemble.get_ydata(), [2.5, 3.9])
    render(figure)


def test_fom_by_signal_draws_every_point_in_the_given_order():
    table = pd.DataFrame(
        {
            "grid_point": ["p1", "p1", "p2", "p2"],
            "signal_process": ["S_600_570.root", "S_500_470.root"] * 2,
            "fom_test_at_best_cut_mean": [3.0, 1.0, 3.5, 1.5],
            "fom_test_at_best_cut_std": [0.3, 0.1, float("nan"), 0.2],
            "ensemble_fom_test_at_best_cut": [3.2, 1.1, 3.6, 1.4],
        }
    )
    figure = plot_fom_by_signal(table, ["S_500_470.root", "S_600_570.root"])
    (axes,) = figure.axes
    assert [label.get_text() for label in axes.get_xticklabels()] == ["S_500_470", "S_600_570"]
    first = axes.containers[0]
    marker_line = first.lines[0]
    np.testing.assert_allclose(marker_line.get_xdata(), [1 - 0.2, 0 - 0.2])
    np.testing.assert_allclose(marker_line.get_ydata(), [3.0, 1.0])
    ensembles = [line for line in axes.get_lines() if "ensemble" in line.get_label()]
    np.testing.assert_allclose(ensembles[1].get_ydata(), [3.6, 1.4])
    assert axes.get_ylabel() == "Test Z at the validation-chosen cut"
    render(figure)


# --- the two-dimensional toy ------------------------------------------------------------


def plane_events(rng, n=2000) -> tuple[pd.DataFrame, pd.DataFrame]:
    signal = pd.DataFrame(rng.normal([2, 2], 1.5, (n, 2)), columns=["x1", "x2"])
    background = pd.DataFrame(rng.normal([-2, -1], 2.0, (n, 2)), columns=["x1", "x2"])
    return signal, background


def test_two_dimensional_samples_are_contours_of_both_histograms(rng):
    signal, background = plane_events(rng)
    figure = plot_two_dimensional_samples(signal, background, "x1", "x2")
    (axes,) = figure.axes
    contours = [c for c in axes.collections if isinstance(c, ContourSet)]
    assert len(contours) == 2
    for contour in contours:
        np.testing.assert_allclose(contour.levels, CONTOUR_LEVELS)
    assert contours[0].get_cmap().name == "Reds" and contours[1].get_cmap().name == "Blues"
    assert axes.get_xlim() == (-10, 10) and axes.get_ylim() == (-10, 10)
    assert legend_texts(axes) == ["Signal", "Background"]
    assert (axes.get_xlabel(), axes.get_ylabel()) == ("x1", "x2")
    render(figure)


def test_two_dimensional_classification_splits_correct_and_wrong_events(rng):
    signal, background = plane_events(rng, n=100)
    events = pd.concat([signal, background], ignore_index=True)
    is_signal = np.arange(200) < 100
    predicted = events["x1"].to_numpy() + events["x2"].to_numpy() > 0
    figure = plot_two_dimensional_classification(events, "x1", "x2", is_signal, predicted)
    assert len(figure.axes) == 2
    for axes, name, members in zip(
        figure.axes, ("Signal", "Background"), (is_signal, ~is_signal), strict=True
    ):
        correct_points, wrong_points = [
            c for c in axes.collections if isinstance(c, PathCollection)
        ]
        wrong = members & (predicted != is_signal)
        np.testing.assert_allclose(wrong_points.get_offsets(), events[wrong][["x1", "x2"]])
        assert len(correct_points.get_offsets()) == members.sum() - wrong.sum()
        assert correct_points.get_rasterized() and wrong_points.get_rasterized()
        assert axes.get_title(loc="center") == f"{name}: {wrong.sum() / 100:.1%} misclassified"
    render(figure)


@pytest.mark.parametrize(
    ("processes", "order"),
    [
        (  # every name a mass point: by model, then the masses, each once
            ["T2DegStop_600_570.root", "T2DegStop_500_470.root", "T2DegStop_500_420.root",
             "T2DegStop_600_570.root", "Stop4Body_300_250.root"],
            ["Stop4Body_300_250.root", "T2DegStop_500_420.root", "T2DegStop_500_470.root",
             "T2DegStop_600_570.root"],
        ),
        (  # one name that is not: the order given (the configured one), each once
            ["T2DegStop_600_570.root", "signal_b.root", "T2DegStop_500_470.root",
             "signal_b.root"],
            ["T2DegStop_600_570.root", "signal_b.root", "T2DegStop_500_470.root"],
        ),
    ],
)  # fmt: skip
def test_signal_points_are_drawn_in_mass_order_when_every_name_gives_one(processes, order):
    from cmsnn.figures import signal_point_order

    assert signal_point_order(processes) == order
