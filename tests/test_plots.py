"""The figures: each draws the data it is given, in the CMS style, without global state."""

from __future__ import annotations

import io
import itertools
import math
import subprocess
import sys
from contextlib import contextmanager

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PathCollection
from matplotlib.container import BarContainer, ErrorbarContainer
from matplotlib.contour import ContourSet
from matplotlib.figure import Figure
from matplotlib.markers import MarkerStyle
from matplotlib.patches import Rectangle, StepPatch
from matplotlib.text import Text

from cmsnn.figures.across_models import plot_fom_by_signal, plot_seed_spread
from cmsnn.figures.classifier import (
    plot_confusion_matrix,
    plot_importance,
    plot_output_distributions,
    plot_roc_curves,
    plot_training_history,
    plot_two_dimensional_classification,
)
from cmsnn.figures.fom import plot_fom_scan, plot_fom_scans_of_seeds, seed_name
from cmsnn.figures.inputs import (
    CONTOUR_LEVELS,
    input_bin_edges,
    plot_correlation_matrices,
    plot_input_distributions,
    plot_two_dimensional_samples,
)
from cmsnn.figures.style import LABEL_GAP_POINTS, ExperimentLabel, hep_style, save_figure
from cmsnn.statistics.cut_choice import best_cut_summary

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


# --- what a drawn figure shows where ----------------------------------------------------


@contextmanager
def recording_drawn_texts():
    """``{id: (text, its outline in pixels)}`` of every non-empty text a draw draws (an
    axis's tick labels outside its view, say, are not drawn, and so not recorded)."""
    drawn = {}
    original = Text.draw

    def draw(self, renderer):
        original(self, renderer)
        if self.get_visible() and self.get_text().strip():
            drawn[id(self)] = (self, text_outline(self, renderer))

    Text.draw = draw
    try:
        yield drawn
    finally:
        Text.draw = original


def draw(figure: Figure) -> list[tuple[Text, np.ndarray]]:
    """Draw ``figure`` as :func:`save_figure` does (Agg, in the CMS style: fonts and
    colours are looked up at drawing time) and return every text drawn with its outline."""
    FigureCanvasAgg(figure)
    with hep_style(), recording_drawn_texts() as drawn:
        figure.canvas.draw()
    return list(drawn.values())


def text_outline(text: Text, renderer) -> np.ndarray:
    """The four corners (pixels) of a text's box, turned with the text: a turned tick
    label's upright bounding box would cover its neighbour's without any letter doing so."""
    box = text.get_window_extent(renderer)
    angle = math.radians(text.get_rotation() % 180)
    sine, cosine = abs(math.sin(angle)), abs(math.cos(angle))
    x0, y0, x1, y1 = box.x0, box.y0, box.x1, box.y1
    if min(sine, cosine) < 1e-6 or abs(sine - cosine) < 1e-3:  # upright (or at 45°: its box)
        return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])
    # the box of a w x h rectangle turned by the angle is (w·cos + h·sin) x (w·sin + h·cos)
    width = (box.width * cosine - box.height * sine) / (cosine**2 - sine**2)
    height = (box.height * cosine - box.width * sine) / (cosine**2 - sine**2)
    if math.sin(angle) * math.cos(angle) > 0:  # turned anticlockwise
        return np.array([[x0 + height * sine, y0], [x1, y0 + width * sine],
                         [x0 + width * cosine, y1], [x0, y0 + height * cosine]])  # fmt: skip
    return np.array([[x0, y0 + width * sine], [x0 + width * cosine, y0],
                     [x1, y0 + height * cosine], [x0 + height * sine, y1]])  # fmt: skip


def outlines_overlap(first: np.ndarray, second: np.ndarray) -> bool:
    """Whether two convex outlines (corners in order) share any area: no edge normal of
    either separates their projections (touching edges do not count)."""
    for outline in (first, second):
        edges = np.roll(outline, -1, axis=0) - outline
        for normal in np.column_stack([-edges[:, 1], edges[:, 0]]):
            a, b = first @ normal, second @ normal
            if a.max() <= b.min() + 1e-9 or b.max() <= a.min() + 1e-9:
                return False
    return True


def overlapping_texts(figure: Figure) -> list[tuple[str, str]]:
    """Every pair of drawn texts whose boxes share area."""
    return [
        (first.get_text(), second.get_text())
        for (first, a), (second, b) in itertools.combinations(draw(figure), 2)
        if outlines_overlap(a, b)
    ]


def boxes_overlap(first, second) -> bool:
    return (
        first.x0 < second.x1
        and second.x0 < first.x1
        and first.y0 < second.y1
        and second.y0 < first.y1
    )


def tick_marks(axes) -> list:
    """The drawn tick marks of ``axes`` as boxes in pixels (a tick is a line segment)."""
    from matplotlib.transforms import Bbox

    marks = []
    dpi = axes.get_figure().dpi
    for axis in (axes.xaxis, axes.yaxis):
        low, high = sorted(axis.get_view_interval())
        ticks = axis.get_major_ticks() + axis.get_minor_ticks()
        for tick in ticks:
            if not low <= tick.get_loc() <= high:
                continue
            for line in (tick.tick1line, tick.tick2line):
                if not line.get_visible() or line.get_markersize() == 0:
                    continue
                style = MarkerStyle(line.get_marker())
                path = style.get_path().transformed(style.get_transform())
                start = line.get_transform().transform(line.get_xydata())[0]
                ends = start + path.vertices * line.get_markersize() * dpi / 72
                marks.append(Bbox([ends.min(axis=0), ends.max(axis=0)]))
    return marks


def label_parts(drawn, label: ExperimentLabel):
    """The drawn boxes of the experiment label: its left part (name and status) and its
    right part, and the right part's font size."""
    texts = {text.get_text(): (text, outline) for text, outline in drawn}
    left = [texts[part][1] for part in (label.experiment, label.status)]
    right_text, right = texts[label.right_text()]
    return np.vstack(left), right, right_text


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
    code = "import sys, cmsnn.figures; print(sorted({'tensorflow', 'keras'} & set(sys.modules)))"
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


#: The label of the default run: the longest there is on both sides.
FULL_LABEL = ExperimentLabel("CMS", "Simulation Private Work", 35866, "13 TeV")


def test_the_confusion_matrix_label_parts_keep_apart():
    """Reported: "Simulation Private Work35.9 fb⁻¹" ran together above a 5-class matrix
    (a square panel, narrower than the label): the parts keep a gap, on one line, inside
    the figure; on a figure wide enough the label keeps its size."""
    names = ["Signal", "Wjets", "TTbar", "Z2nu", "Other"]
    values = np.random.default_rng(1).dirichlet(np.ones(5), 5)
    figure = plot_confusion_matrix(
        pd.DataFrame(values, index=names, columns=names), label=FULL_LABEL
    )
    drawn = draw(figure)
    left, right, right_text = label_parts(drawn, FULL_LABEL)
    gap = right[:, 0].min() - left[:, 0].max()
    assert gap >= LABEL_GAP_POINTS * figure.dpi / 72 * 0.99
    assert left[:, 0].min() >= 0 and right[:, 0].max() <= figure.bbox.width
    assert right[:, 1].min() < left[:, 1].max() and left[:, 1].min() < right[:, 1].max()
    with hep_style():
        nominal = matplotlib.font_manager.FontProperties(size="medium").get_size_in_points()
    assert right_text.get_fontsize() < nominal  # shrunk to fit
    # wide enough: as it was given
    scan, evaluation = fom_scan_with_counts(np.linspace(1, 2, 12), np.full(12, 50.0), 10)
    drawn = draw(plot_fom_scan(scan, evaluation, CLASSES, FULL_LABEL, 10))
    assert label_parts(drawn, FULL_LABEL)[2].get_fontsize() == pytest.approx(nominal)


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
        # one unit in the figure: the colours are in percent, as every printed coefficient
        np.testing.assert_allclose(image.get_array(), 100 * matrix.to_numpy())
        assert image.get_clim() == (-100, 100)
        assert [label.get_text() for label in axes.get_xticklabels()] == features
        assert axes.get_title(loc="center") == name
        cells = {text.get_position(): text.get_text() for text in axes.texts}
        for (row, column), value in np.ndenumerate(matrix.to_numpy()):
            assert cells[(column, row)] == str(round(100 * value))
    assert "training split" in figure.get_suptitle()
    render(figure)


def test_correlation_colour_bar_is_in_percent_like_the_printed_values():
    features = ["Met", "HT"]
    matrix = pd.DataFrame([[1.0, -0.5], [-0.5, 1.0]], index=features, columns=features)
    figure = plot_correlation_matrices({"Stop": matrix, "WJets": matrix})
    (colour_bar,) = [
        image.colorbar for axes in figure.axes for image in axes.images if image.colorbar
    ]
    assert (colour_bar.vmin, colour_bar.vmax) == (-100, 100)
    assert colour_bar.ax.get_ylim() == (-100, 100)
    assert colour_bar.ax.get_ylabel() == "Correlation coefficient [%]"
    draw(figure)
    ticks = [float(tick.get_text().replace("−", "-")) for tick in colour_bar.ax.get_yticklabels()]
    assert min(ticks) == -100 and max(ticks) == 100


def test_heat_map_ticks_stay_off_the_printed_values():
    """Seventeen variables make the cells small: inward ticks at the edges (the style's)
    would run into the first and last row and column of numbers."""
    features = [f"x{index}" for index in range(17)]
    values = np.random.default_rng(3).uniform(-1, 1, (17, 17))
    matrix = pd.DataFrame((values + values.T) / 2, index=features, columns=features)
    figure = plot_correlation_matrices({"Stop": matrix})
    from matplotlib.transforms import Bbox

    drawn = dict((id(text), outline) for text, outline in draw(figure))
    heat_map = figure.axes[0]
    cells = [
        Bbox([drawn[id(text)].min(axis=0), drawn[id(text)].max(axis=0)]) for text in heat_map.texts
    ]
    assert len(cells) == 17 * 17
    marks = tick_marks(heat_map)
    for mark in marks:
        assert not any(boxes_overlap(mark, cell) for cell in cells)
    assert len(marks) == 2 * 17  # bottom and left only, pointing out


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
    (legend,) = figure.legends
    assert {"seed 1", "seed 2", "seed 3", "mean ± std"} <= {t.get_text() for t in legend.texts}
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
    assert legend_texts(axes) == [
        "seed 1",
        "seed 2: no cut chosen",
        "ensemble",
        "validation-chosen cuts",
    ]
    assert axes.get_ylabel() == "Asimov significance Z (test split)"
    render(figure)


def test_fom_scan_without_a_chosen_cut_says_so():
    evaluation = fom_evaluation() | {"best_cut": float("nan"), "fom_test_at_best_cut": float("nan")}
    figure = plot_fom_scan(fom_scan_table(), evaluation, CLASSES)
    fom_axes, efficiency_axes = figure.axes
    assert vertical_lines(fom_axes) == [0.45]  # only the test maximum
    assert vertical_lines(efficiency_axes) == []
    assert figure.get_suptitle().startswith("No cut chosen")
    render(figure)


def fom_scan_with_counts(
    validation_fom, effective_events, min_background_events: float
) -> tuple[pd.DataFrame, dict]:
    """A scan of every split with the given validation FOM and effective validation
    background events (test as validation), and the evaluation that
    :func:`cmsnn.fom.best_cut_summary` makes of it (as evaluate_model does)."""
    validation_fom = np.asarray(validation_fom, dtype=float)
    cuts = np.round(np.linspace(0.7, 0.99, len(validation_fom)), 6)
    split = pd.DataFrame(
        {
            "cut": cuts,
            "fom": validation_fom,
            "fom_stat_error": 0.1,
            "signal_yield": 10.0,
            "signal_efficiency": 1 - cuts,
            "background_yield": 5.0,
            "background_efficiency": (1 - cuts) ** 2 + 1e-4,
            "background_mc_relative_uncertainty": 0.2,
            "background_events": np.ceil(effective_events).astype(int),
            "background_effective_events": np.asarray(effective_events, dtype=float),
        }
    )
    splits = {name: split for name in ("train", "validation", "test")}
    evaluation = best_cut_summary(splits, min_background_events)
    evaluation |= {f"yield_test_at_best_cut_{name}": 1.0 for name in CLASSES[1:]}
    scan = pd.concat(
        [frame.drop(columns="cut").add_suffix(f"_{name}") for name, frame in splits.items()],
        axis=1,
    )
    scan.insert(0, "cut", cuts)
    return scan, evaluation


def shaded_ranges(axes) -> list[tuple[float, float]]:
    """The cut ranges a FOM-scan panel shades as not allowed (hatched spans)."""
    spans = [patch for patch in axes.patches if patch.get_hatch()]
    return sorted((patch.get_x(), patch.get_x() + patch.get_width()) for patch in spans)


def is_shaded(cut: float, ranges) -> bool:
    return any(low <= cut <= high for low, high in ranges)


#: The issue's case: a validation FOM of 0.8, but only at cuts whose validation
#: background has fewer than 10 effective events; 0 at every cut with enough of them.
TOO_FEW_EVENTS_AT_THE_PEAK = ([0.0] * 7 + [0.8] * 5, [50.0 - 5 * i for i in range(7)] + [4.0] * 5)
FOM_SCENARIOS = {
    "the peak among too few events": (*TOO_FEW_EVENTS_AT_THE_PEAK, 10),
    "a peak with enough events": (
        np.sin(np.linspace(0.2, 3.0, 12)),
        np.linspace(100, 2, 12),
        10,
    ),
    "no minimum": (np.sin(np.linspace(0.2, 3.0, 12)), np.linspace(100, 2, 12), 0),
    "0 everywhere, no minimum": (np.zeros(12), np.linspace(100, 2, 12), 0),
}


@pytest.mark.parametrize("scenario", list(FOM_SCENARIOS))
def test_the_fom_scan_never_contradicts_itself(scenario):
    """What the title says about the chosen cut is true of the curve and the shading
    drawn; and the title stays clear of the experiment label."""
    fom, effective, minimum = FOM_SCENARIOS[scenario]
    scan, evaluation = fom_scan_with_counts(fom, effective, minimum)
    label = ExperimentLabel("CMS", "Simulation Private Work", 35866, "13 TeV")
    figure = plot_fom_scan(scan, evaluation, CLASSES, label, min_background_events=minimum)
    fom_axes, efficiency_axes = figure.axes
    title = figure.get_suptitle()
    (validation,) = [line for line in fom_axes.get_lines() if line.get_label() == "validation"]
    cuts, drawn_fom = validation.get_xdata(), validation.get_ydata()
    ranges = shaded_ranges(fom_axes)
    assert shaded_ranges(efficiency_axes) == ranges
    allowed = np.array([not is_shaded(cut, ranges) for cut in cuts])
    np.testing.assert_array_equal(allowed, np.asarray(effective) >= minimum)
    if title.startswith("Chosen cut"):
        best = evaluation["best_cut"]
        assert title.startswith(f"Chosen cut {best:.3f}: the highest validation FOM")
        assert best in vertical_lines(fom_axes) and not is_shaded(best, ranges)
        assert drawn_fom[cuts == best] == pytest.approx(drawn_fom[allowed].max())
        assert (f"≥ {minimum} effective validation background events" in title) == (minimum > 0)
    elif minimum > 0:
        assert title == (
            "No cut chosen: no cut with ≥ 10 effective validation background events\n"
            "has a validation FOM above 0 (the shaded cuts are not allowed)"
        )
        assert drawn_fom[allowed].max() == 0 and drawn_fom.max() == pytest.approx(0.8)
        assert "Not allowed: < 10 effective\nvalidation background events" in legend_texts(fom_axes)
    else:
        assert title == "No cut chosen: the validation FOM is 0 at every scanned cut"
        assert drawn_fom.max() == 0 and ranges == []
    # the title above the label's line, and no text over another anywhere
    drawn = draw(figure)
    (title_outline,) = [outline for text, outline in drawn if text.get_text() == title]
    left, right, _ = label_parts(drawn, label)
    assert title_outline[:, 1].min() >= max(left[:, 1].max(), right[:, 1].max())
    assert overlapping_texts(figure) == []


def test_the_fom_scan_shades_every_run_of_cuts_that_may_not_be_chosen():
    """Negative weights can make the effective count rise again: each run is shaded,
    from half-way to its allowed neighbours (the scan's edge at its end)."""
    effective = [30, 30, 5, 5, 30, 30, 30, 3, 3, 3]
    fom = np.linspace(0.5, 1.0, 10)
    scan, evaluation = fom_scan_with_counts(fom, effective, 10)
    figure = plot_fom_scan(scan, evaluation, CLASSES, min_background_events=10)
    fom_axes, _ = figure.axes
    cuts = scan["cut"].to_numpy()
    step = cuts[1] - cuts[0]
    expected = [(cuts[2] - step / 2, cuts[3] + step / 2), (cuts[7] - step / 2, cuts[9])]
    np.testing.assert_allclose(shaded_ranges(fom_axes), expected, atol=1e-6)
    assert (
        legend_texts(fom_axes).count("Not allowed: < 10 effective\nvalidation background events")
        == 1
    )
    # chosen: the best of the allowed cuts (cut 6), not the best of all (cut 9)
    assert evaluation["best_cut"] == cuts[6] and cuts[6] in vertical_lines(fom_axes)
    # no minimum: nothing is shaded
    scan, evaluation = fom_scan_with_counts(fom, effective, 0)
    assert shaded_ranges(plot_fom_scan(scan, evaluation, CLASSES).axes[0]) == []


def test_the_fom_scan_legends_stand_beside_the_panels():
    """No legend text over a curve: each legend lies outside its panel."""
    scan, evaluation = fom_scan_with_counts(*TOO_FEW_EVENTS_AT_THE_PEAK, 10)
    figure = plot_fom_scan(scan, evaluation, CLASSES, min_background_events=10)
    draw(figure)
    for axes in figure.axes:
        legend, panel = axes.get_legend().get_window_extent(), axes.get_window_extent()
        assert legend.x0 >= panel.x1


def test_the_seeds_fom_scans_dot_the_cuts_that_may_not_be_chosen():
    scans, evaluations = {}, {}
    counts = {"seed 1": [50.0 - 5 * i for i in range(12)], "seed 2": [4.0] * 12}
    counts["ensemble"] = counts["seed 1"]
    for name, effective in counts.items():
        scans[name], evaluations[name] = fom_scan_with_counts(np.linspace(1, 2, 12), effective, 10)
    figure = plot_fom_scans_of_seeds(scans, evaluations, min_background_events=10)
    (axes,) = figure.axes
    for name, scan in scans.items():
        allowed = np.asarray(counts[name]) >= 10
        lines = lines_with_x(axes, scan["cut"])
        dotted = [line for line in lines if line.get_linestyle() == ":"]
        solid = [line for line in lines if line.get_linestyle() == "-"]
        assert any(np.allclose(line.get_ydata(), scan["fom_test"]) for line in dotted), name
        kept = [np.isfinite(line.get_ydata()) for line in solid]
        assert any(np.array_equal(finite, allowed) for finite in kept), name
    assert vertical_lines(axes) == pytest.approx([evaluations["seed 1"]["best_cut"]] * 2)
    texts = legend_texts(axes)
    assert "seed 2: no cut chosen" in texts and "seed 1" in texts
    assert "not allowed (dotted): < 10 effective\nvalidation background events" in texts
    assert overlapping_texts(figure) == []


def test_the_ensemble_fom_scan_files_hand_the_minimum_to_both_figures(tmp_path, monkeypatch):
    """The plotting rules' ``min_background_events`` reaches the FOM scan (shaded) and
    the seeds' overlay (dotted), whose seeds are named as integers."""
    from cmsnn.figures import fom as figures
    from cmsnn.files import write_json

    drawn = {}
    monkeypatch.setattr(figures, "save", lambda figure, files, name: drawn.update({name: figure}))
    for name, effective in (("ensemble", [50.0 - 5 * i for i in range(12)]), ("seed", [4.0] * 12)):
        scan, evaluation = fom_scan_with_counts(np.linspace(1, 2, 12), effective, 10)
        scan.to_csv(tmp_path / f"{name}.csv", index=False)
        write_json(evaluation, tmp_path / f"{name}.json")
    figures.plot_ensemble_fom_scan_files(
        scan=tmp_path / "ensemble.csv",
        evaluation=tmp_path / "ensemble.json",
        seed_scans=[tmp_path / "seed.csv"],
        seed_evaluations=[tmp_path / "seed.json"],
        seeds=[7.0],
        figures={},
        class_names=CLASSES,
        min_background_events=10,
    )
    fom_axes = drawn["fom"].axes[0]
    assert shaded_ranges(fom_axes) and drawn["fom"].get_suptitle().startswith("Chosen cut")
    texts = legend_texts(drawn["seeds"].axes[0])
    assert "seed 7: no cut chosen" in texts and any("not allowed (dotted)" in t for t in texts)


def test_seed_spread_names_the_seeds_as_the_integers_they_are():
    """An ensemble row leaves the seed empty, which makes the column float: still no
    "seed 1.0" in the legend."""
    summary = pd.DataFrame(
        {
            "grid_point": ["a", "a", "a"],
            "seed": [1, 2, None],
            "kind": ["seed", "seed", "ensemble"],
            "auc_validation": [0.9, 0.91, 0.92],
        }
    )
    assert summary["seed"].dtype == float
    figure = plot_seed_spread(summary, ["auc_validation"])
    legends = figure.legends + [axes.get_legend() for axes in figure.axes if axes.get_legend()]
    texts = [text.get_text() for legend in legends for text in legend.texts]
    assert texts[:2] == ["seed 1", "seed 2"] and not any(".0" in text for text in texts)
    (legend,) = figure.legends
    assert [seed_name(seed) for seed in (1.0, np.float64(2), 3, "x")] == ["1", "2", "3", "x"]
    # the legend below the panels, where no point lies under it
    draw(figure)
    assert legend.get_window_extent().y1 <= min(a.get_window_extent().y0 for a in figure.axes)


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
        # in the legend's title: above the panels is the experiment label's line
        title = axes.get_legend().get_title().get_text()
        assert title == f"{name} (test split):\n{wrong.sum() / 100:.1%} misclassified"
        assert axes.get_title(loc="center") == ""
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
    from cmsnn.figures.across_models import signal_point_order

    assert signal_point_order(processes) == order


# --- every figure ------------------------------------------------------------------


def every_figure(rng) -> dict:
    """Every figure the workflow draws, with the longest label and small data."""
    events = events_of(CLASSES, rng)
    ks = pd.DataFrame({"statistic": 0.03, "p_value": 0.4}, index=CLASSES)
    features = ["Met", "HT", "Njet"]
    correlation = pd.DataFrame(np.eye(3), index=features, columns=features)
    confusion = pd.DataFrame(np.full((3, 3), 1 / 3), index=CLASSES, columns=CLASSES)
    scan, evaluation = fom_scan_with_counts(*TOO_FEW_EVENTS_AT_THE_PEAK, 10)
    chosen_scan, chosen = fom_scan_with_counts(
        np.sin(np.linspace(0.2, 3, 12)), np.linspace(100, 2, 12), 10
    )
    summary = pd.DataFrame(
        {
            "grid_point": ["decay_rate-0.001"] * 3,
            "seed": [1, 2, None],
            "kind": ["seed", "seed", "ensemble"],
            **{
                metric: [0.9, 0.91, 0.92]
                for metric in ("auc_validation", "auc_test", "fom_test_at_best_cut", "fom_test_max")
            },
        }
    )
    by_signal = pd.DataFrame(
        {
            "grid_point": ["p1"] * 3,
            "signal_process": [f"T2DegStop_{m}_{m - 30}.root" for m in (500, 550, 600)],
            "fom_test_at_best_cut_mean": [1.0, 2.0, 3.0],
            "fom_test_at_best_cut_std": [0.1, 0.2, 0.3],
            "ensemble_fom_test_at_best_cut": [1.1, 2.1, 3.1],
        }
    )
    signal, background = plane_events(rng, n=500)
    plane = pd.concat([signal, background], ignore_index=True)
    is_signal = np.arange(len(plane)) < len(signal)
    label = FULL_LABEL
    return {
        "history": lambda: plot_training_history(history_table(), 3, label),
        "roc, binary": lambda: plot_roc_curves(roc_curves(["Stop"]), label=label),
        "roc, three classes": lambda: plot_roc_curves(roc_curves(CLASSES), label=label),
        "outputs": lambda: plot_output_distributions(
            events, events, "score", CLASSES, ks, label=label
        ),
        "confusion": lambda: plot_confusion_matrix(confusion, label=label),
        "fom scan, no cut": lambda: plot_fom_scan(scan, evaluation, CLASSES, label, 10),
        "fom scan, chosen": lambda: plot_fom_scan(chosen_scan, chosen, CLASSES, label, 10),
        "fom scans of seeds": lambda: plot_fom_scans_of_seeds(
            {"seed 1": chosen_scan, "seed 2": scan, "ensemble": chosen_scan},
            {"seed 1": chosen, "seed 2": evaluation, "ensemble": chosen},
            label=label,
            min_background_events=10,
        ),
        "importance": lambda: plot_importance(importance_table(with_std=True), label=label),
        "inputs, two": lambda: plot_input_distributions(
            events, ["Met", "Njet"], CLASSES, {"Met": "GeV"}, label=label
        ),
        "correlations": lambda: plot_correlation_matrices(
            {name: correlation for name in CLASSES}, label
        ),
        "seed spread": lambda: plot_seed_spread(summary, list(summary.columns[3:]), label=label),
        "fom by signal": lambda: plot_fom_by_signal(
            by_signal, list(by_signal["signal_process"]), label
        ),
        "2-D samples": lambda: plot_two_dimensional_samples(signal, background, "x1", "x2", label),
        "2-D classification": lambda: plot_two_dimensional_classification(
            plane, "x1", "x2", is_signal, plane["x1"].to_numpy() > 0, label
        ),
    }


FIGURE_NAMES = [
    "history",
    "roc, binary",
    "roc, three classes",
    "outputs",
    "confusion",
    "fom scan, no cut",
    "fom scan, chosen",
    "fom scans of seeds",
    "importance",
    "inputs, two",
    "correlations",
    "seed spread",
    "fom by signal",
    "2-D samples",
    "2-D classification",
]


@pytest.mark.parametrize("name", FIGURE_NAMES)
def test_no_text_overlaps_another_on_any_figure(name, rng):
    """No two drawn texts share area (labels, titles, tick labels, legends, cell values),
    the experiment label's parts keep their gap, and every text is inside the figure."""
    figures = every_figure(rng)
    assert list(figures) == FIGURE_NAMES
    figure = figures[name]()
    drawn = draw(figure)
    pairs = [
        (first.get_text(), second.get_text())
        for (first, a), (second, b) in itertools.combinations(drawn, 2)
        if outlines_overlap(a, b)
    ]
    assert pairs == []
    left, right, _ = label_parts(drawn, FULL_LABEL)
    assert right[:, 0].min() - left[:, 0].max() >= LABEL_GAP_POINTS * figure.dpi / 72 * 0.99
    corners = np.vstack([outline for _, outline in drawn])
    width, height = figure.bbox.width, figure.bbox.height
    assert corners.min() >= -1 and corners[:, 0].max() <= width + 1
    assert corners[:, 1].max() <= height + 1


def test_a_png_in_256_colours_keeps_a_white_background_and_black_text(tmp_path):
    """The palette's buckets hold their colours' means: a colour map's lightest shades
    share the white background's bucket, which must still be written white (and the
    text black), as the figure draws them."""
    from PIL import Image

    from cmsnn.figures.style import save_figure

    figure = Figure(figsize=(4, 3))
    axes = figure.subplots()
    axes.imshow(np.linspace(0, 1, 400).reshape(20, 20), cmap="Blues")
    axes.set_title("black text")
    save_figure(figure, tmp_path / "figure.png")
    pixels = np.asarray(Image.open(tmp_path / "figure.png").convert("RGB"))
    assert tuple(pixels[1, 1]) == (255, 255, 255)
    assert (pixels == 0).all(axis=-1).any()
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 50  # the colour map kept
