"""The binned likelihood's figures: the binned output (stacked backgrounds, the scaled
signal, the MC statistical band), the expected limits per signal point (the "Brazil"
plot) and the binned significance beside the cut-based one, read back from what is
drawn."""

from __future__ import annotations

import json
import sys

import matplotlib
import numpy as np
import pandas as pd
import pytest
import yaml
from matplotlib.collections import PolyCollection
from matplotlib.container import ErrorbarContainer
from matplotlib.patches import StepPatch
from test_plots import FULL_LABEL, draw, label_parts, overlapping_texts

from cmsnn.config.mass_plane import mass_plane_processes
from cmsnn.figures.binned import (
    plot_binned_output,
    plot_binned_output_files,
    plot_binned_z_by_signal,
    plot_limits_by_signal,
    plot_limits_files,
    visible_scale,
)
from cmsnn.figures.style import LABEL_GAP_POINTS
from snakemake_runs import ROOT

CLASSES = ["Stop", "WJets", "TTJets", "ZInv"]
EDGES = np.array([0.0, 0.3, 0.55, 0.75, 0.9, 1.0])
SIGNALS = ["T2DegStop_550_520.root", "T2DegStop_500_470.root"]
#: Processes and their class: two signal points, two W+jets samples, one each of the rest.
PROCESSES = {
    SIGNALS[0]: "Stop",
    SIGNALS[1]: "Stop",
    "WJets_HT100.root": "WJets",
    "WJets_HT200.root": "WJets",
    "TTJets.root": "TTJets",
    "ZInv.root": "ZInv",
}
#: Expected events per bin of each class's processes, falling towards signal-like outputs.
SHAPES = {
    "Stop": [0.01, 0.02, 0.03, 0.05, 0.08],
    "WJets": [5000, 800, 120, 20, 4],
    "TTJets": [3000, 500, 60, 9, 1.5],
    "ZInv": [800, 100, 15, 3, 0.6],
}


@pytest.fixture(autouse=True)
def no_global_state():
    """No figure is left in pyplot and the rcParams are as before."""
    before = dict(matplotlib.rcParams)
    yield
    assert dict(matplotlib.rcParams) == before
    if "matplotlib.pyplot" in sys.modules:
        assert sys.modules["matplotlib.pyplot"].get_fignums() == []


def histogram_table(seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for process, class_name in PROCESSES.items():
        for index, expected in enumerate(SHAPES[class_name]):
            sumw = expected * rng.uniform(0.5, 1.5)
            rows.append(
                {
                    "process": process,
                    "class": class_name,
                    "bin": index,
                    "low": EDGES[index],
                    "high": EDGES[index + 1],
                    "sumw": sumw,
                    "sumw2": sumw * rng.uniform(0.1, 0.5),
                }
            )
    return pd.DataFrame(rows)


def filled(axes) -> list[StepPatch]:
    """The stacked layers: filled step patches without a hatch."""
    return [
        patch
        for patch in axes.patches
        if isinstance(patch, StepPatch) and patch.get_fill() and not patch.get_hatch()
    ]


def hatched(axes) -> StepPatch:
    (band,) = [patch for patch in axes.patches if patch.get_hatch()]
    return band


def signal_line(axes) -> StepPatch:
    (line,) = [p for p in axes.patches if isinstance(p, StepPatch) and not p.get_fill()]
    return line


def legend_texts(target) -> list[str]:
    legend = target.get_legend() if hasattr(target, "get_legend") else target.legends[0]
    return [text.get_text() for text in legend.get_texts()]


# --- the binned output ----------------------------------------------------------------


def test_the_stack_holds_each_background_class_per_bin_in_class_order():
    table = histogram_table()
    figure = plot_binned_output(table, SIGNALS, CLASSES)
    (axes,) = figure.axes
    layers = filled(axes)
    assert [layer.get_label() for layer in layers] == CLASSES[1:]
    below = np.zeros(len(EDGES) - 1)
    for layer, name in zip(layers, CLASSES[1:], strict=True):
        values, edges, baseline = layer.get_data()
        expected = table[table["class"] == name].groupby("bin")["sumw"].sum().to_numpy()
        np.testing.assert_allclose(edges, EDGES)
        np.testing.assert_allclose(baseline, below)  # on top of the classes before it
        np.testing.assert_allclose(values - baseline, expected)
        below = values
    # stable colours: a class keeps its colour without the classes after it
    fewer = plot_binned_output(table[table["class"] != "ZInv"], SIGNALS, CLASSES[:3])
    colours = [layer.get_facecolor() for layer in filled(fewer.axes[0])]
    assert colours == [layer.get_facecolor() for layer in layers[:2]]


def test_the_band_is_the_total_background_and_its_mc_statistical_error():
    table = histogram_table()
    (axes,) = plot_binned_output(table, SIGNALS, CLASSES).axes
    values, edges, baseline = hatched(axes).get_data()
    backgrounds = table[table["class"] != "Stop"].groupby("bin")[["sumw", "sumw2"]].sum()
    np.testing.assert_allclose(edges, EDGES)
    np.testing.assert_allclose((values - baseline) / 2, np.sqrt(backgrounds["sumw2"]))
    np.testing.assert_allclose((values + baseline) / 2, backgrounds["sumw"])


def test_the_axes_are_events_per_bin_on_a_log_scale_over_the_output_range():
    (axes,) = plot_binned_output(histogram_table(), SIGNALS, CLASSES).axes
    assert axes.get_yscale() == "log"
    assert axes.get_xlim() == (0.0, 1.0)
    assert "Events / bin" in axes.get_ylabel() and "not per unit width" in axes.get_ylabel()
    assert "signal output" in axes.get_xlabel().lower()


def test_the_signal_is_scaled_to_be_seen_and_the_legend_says_by_how_much():
    table = histogram_table()
    (axes,) = plot_binned_output(table, SIGNALS, CLASSES).axes
    signal = table[table["process"].isin(SIGNALS)].groupby("bin")["sumw"].sum().to_numpy()
    background = table[table["class"] != "Stop"].groupby("bin")["sumw"].sum().to_numpy()
    factor = visible_scale(signal, background)
    # a round factor that brings the top bin up to the background's there, not beyond
    assert factor > 1 and signal[-1] * factor <= background[-1] < signal[-1] * factor * 2.5
    assert f"{factor:g}"[0] in "125" and set(f"{factor:g}"[1:]) <= {"0"}
    np.testing.assert_allclose(signal_line(axes).get_data()[0], signal * factor)
    texts = legend_texts(axes)
    assert set(CLASSES[1:]) <= set(texts)
    assert f"Signal (Stop) × {factor:,.0f}" in texts
    assert axes.get_legend().get_bbox_to_anchor().x0 > axes.bbox.x1  # beside the panel


def test_a_given_scale_is_used_and_one_signal_point_is_named():
    table = histogram_table()
    (axes,) = plot_binned_output(table, SIGNALS[:1], CLASSES, signal_scale=5).axes
    signal = table[table["process"] == SIGNALS[0]]["sumw"].to_numpy()
    np.testing.assert_allclose(signal_line(axes).get_data()[0], 5 * signal)
    assert "Signal (T2DegStop_550_520) × 5" in legend_texts(axes)


def test_without_signal_processes_the_whole_first_class_is_the_signal():
    table = histogram_table()
    (axes,) = plot_binned_output(table, [], CLASSES, signal_scale=1).axes
    signal = table[table["class"] == "Stop"].groupby("bin")["sumw"].sum().to_numpy()
    np.testing.assert_allclose(signal_line(axes).get_data()[0], signal)
    assert "Signal (Stop)" in legend_texts(axes)  # unscaled: no factor


@pytest.mark.parametrize(
    ("signal", "background", "factor"),
    [
        ([0.1, 0.4], [100.0, 9.0], 20.0),
        ([1.0, 3.0], [10.0, 3.0], 1.0),
        ([1.0, 5.0], [10.0, 2.0], 1.0),
        ([1.0, 0.0], [10.0, 5.0], 10.0),
        ([0.0, 0.0], [1.0, 1.0], 1.0),
        ([1e-4, 1e-4], [5e3, 1e3], 1e7),
    ],
)
def test_the_visible_scale_is_a_round_factor_of_at_least_one(signal, background, factor):
    assert visible_scale(np.array(signal), np.array(background)) == factor


# --- the limits and the significance per signal point ---------------------------------

POINTS = ["decay_rate-0.001", "decay_rate-0.01"]
#: The signal points out of mass order, as a configuration may list them.
SIGNAL_POINTS = [f"T2DegStop_{mass}_{mass - 30}.root" for mass in (600, 500, 550)]
MASS_ORDER = sorted(SIGNAL_POINTS)


def by_signal_table() -> pd.DataFrame:
    rows = []
    for point, factor in zip(POINTS, (1.0, 0.6), strict=True):
        for median, process in zip((2.0, 0.5, 1.0), SIGNAL_POINTS, strict=True):
            median *= factor
            rows.append(
                {
                    "grid_point": point,
                    "signal_process": process,
                    **{
                        f"limit_{key}_test_mean": median * scale
                        for key, scale in (
                            ("minus2", 0.5),
                            ("minus1", 0.7),
                            ("median", 1.0),
                            ("plus1", 1.5),
                            ("plus2", 2.1),
                        )
                    },
                    "binned_z_test_mean": 2 / median,
                    "binned_z_test_std": 0.2 / median,
                    "fom_test_at_best_cut_mean": 1.5 / median,
                    "fom_test_at_best_cut_std": 0.3 / median,
                    "binned_z_test_class_norms_mean": 1.8 / median,
                }
            )
    return pd.DataFrame(rows)


def in_mass_order(table: pd.DataFrame, point: str, column: str) -> np.ndarray:
    rows = table[table["grid_point"] == point].set_index("signal_process")
    return rows.loc[MASS_ORDER, column].to_numpy(dtype=float)


def test_the_limits_are_drawn_per_grid_point_with_their_bands_in_mass_order():
    table = by_signal_table()
    figure = plot_limits_by_signal(table)
    assert len(figure.axes) == len(POINTS)
    for axes, point in zip(figure.axes, POINTS, strict=True):
        assert axes.get_yscale() == "log"
        ticks = [tick.get_text() for tick in axes.get_xticklabels()]
        assert ticks == [name.removesuffix(".root") for name in MASS_ORDER]
        assert point in [text.get_text() for text in axes.texts]
        (median,) = [line for line in axes.get_lines() if line.get_linestyle() == "--"]
        np.testing.assert_allclose(median.get_xdata(), range(3))
        expected = in_mass_order(table, point, "limit_median_test_mean")
        np.testing.assert_allclose(median.get_ydata(), expected)
        bands = [c for c in axes.collections if isinstance(c, PolyCollection)]
        assert len(bands) == 2
        for band in bands:
            outline = band.get_paths()[0].vertices
            for x, y in zip(median.get_xdata(), expected, strict=True):
                at_x = outline[np.isclose(outline[:, 0], x), 1]
                assert at_x.min() < y < at_x.max()
        assert any(list(line.get_ydata()) == [1.0, 1.0] for line in axes.get_lines()), (
            "no line at μ = 1"
        )
        low, high = axes.get_ylim()
        assert low < table.filter(like="limit_").to_numpy().min()
        assert high > table.filter(like="limit_").to_numpy().max()
    assert legend_texts(figure) == ["Expected ± 2σ", "Expected ± 1σ", "Median expected", "μ = 1"]


def test_one_grid_point_gets_one_panel():
    table = by_signal_table()
    figure = plot_limits_by_signal(table[table["grid_point"] == POINTS[0]])
    assert len(figure.axes) == 1


@pytest.mark.parametrize("plot", [plot_limits_by_signal, plot_binned_z_by_signal])
def test_a_mass_plane_stacks_its_wide_panels_and_a_few_points_sit_side_by_side(plot):
    """The embedded mass plane's 18 points make panels of 26 inches: one above the
    other (the figure at most 30 inches wide); the three tutorial points side by side."""
    few = plot(by_signal_table())
    few.draw_without_rendering()  # the layout places the panels
    assert [axes.get_position().y0 for axes in few.axes][0] == pytest.approx(
        few.axes[1].get_position().y0
    )
    processes = yaml.safe_load((ROOT / "resources/toy_massplane.yaml").read_text())
    plane = mass_plane_processes(processes["mass_plane"])
    template = by_signal_table().iloc[[0, 3]]
    table = pd.concat([template.assign(signal_process=name) for name in plane], ignore_index=True)
    figure = plot(table)
    figure.draw_without_rendering()
    assert figure.get_size_inches()[0] <= 30
    first, second = figure.axes[:2]
    assert first.get_position().x0 == pytest.approx(second.get_position().x0)
    assert first.get_position().y0 > second.get_position().y1
    assert len(first.get_xticklabels()) == 18


SERIES = {"Binned Z": "binned_z_test", "Cut-based Z at the chosen cut": "fom_test_at_best_cut"}


def test_the_binned_z_has_the_seeds_std_as_error_bars_beside_the_cut_based_fom():
    table = by_signal_table()
    figure = plot_binned_z_by_signal(table)
    assert len(figure.axes) == len(POINTS)
    for axes, point in zip(figure.axes, POINTS, strict=True):
        bars = {c.get_label(): c for c in axes.containers if isinstance(c, ErrorbarContainer)}
        for name, column in SERIES.items():
            line, _, (errors,) = bars[name]
            mean = in_mass_order(table, point, f"{column}_mean")
            std = in_mass_order(table, point, f"{column}_std")
            np.testing.assert_allclose(line.get_ydata(), mean)
            spans = np.array([[segment[0][1], segment[1][1]] for segment in errors.get_segments()])
            np.testing.assert_allclose(spans, np.column_stack([mean - std, mean + std]))
        open_markers = bars["Binned Z, class normalisations"][0]
        assert open_markers.get_markerfacecolor() == "none"
        np.testing.assert_allclose(
            open_markers.get_ydata(), in_mass_order(table, point, "binned_z_test_class_norms_mean")
        )
        assert axes.get_ylim()[0] == 0


# --- every figure ---------------------------------------------------------------------

FIGURES = {
    "binned output": lambda: plot_binned_output(
        histogram_table(),
        SIGNALS,
        CLASSES,
        FULL_LABEL,
        warnings=["bin 4 has 12 effective test background events (< 40)"] * 5,
    ),
    "binned output, one class": lambda: plot_binned_output(
        histogram_table()[lambda t: t["class"].isin(["Stop", "WJets"])], [], CLASSES, FULL_LABEL
    ),
    "limits": lambda: plot_limits_by_signal(by_signal_table(), FULL_LABEL),
    "limits, one point": lambda: plot_limits_by_signal(by_signal_table().iloc[:3], FULL_LABEL),
    "binned Z": lambda: plot_binned_z_by_signal(by_signal_table(), FULL_LABEL),
    "binned Z, one point": lambda: plot_binned_z_by_signal(by_signal_table().iloc[:3], FULL_LABEL),
}


@pytest.mark.parametrize("name", list(FIGURES))
def test_no_text_overlaps_another_and_every_text_is_inside(name):
    figure = FIGURES[name]()
    assert overlapping_texts(figure) == []
    drawn = draw(figure)
    left, right, _ = label_parts(drawn, FULL_LABEL)
    assert right[:, 0].min() - left[:, 0].max() >= LABEL_GAP_POINTS * figure.dpi / 72 * 0.99
    corners = np.vstack([outline for _, outline in drawn])
    assert corners.min() >= 0
    assert (corners[:, 0] <= figure.bbox.width).all()
    assert (corners[:, 1] <= figure.bbox.height).all()


# --- the entry points -----------------------------------------------------------------


def outputs(tmp_path, *names) -> dict[str, str]:
    return {
        f"{name}_{kind}": str(tmp_path / f"{name}.{kind}")
        for name in names
        for kind in ("png", "pdf")
    }


def written(files: dict[str, str]) -> None:
    for key, path in files.items():
        with open(path, "rb") as handle:
            assert handle.read(5) == (b"\x89PNG\r" if key.endswith("_png") else b"%PDF-")


def test_the_binned_output_files_draw_the_test_split(tmp_path):
    table = histogram_table()
    validation = histogram_table(seed=4).assign(sumw=lambda t: 100 * t["sumw"])
    both = pd.concat([validation.assign(split="validation"), table.assign(split="test")])
    both[["split", *table.columns]].to_csv(tmp_path / "histograms.csv", index=False)
    binning = {"edges": list(EDGES), "warnings": ["bin 4 has 12 effective events (< 40)"]}
    (tmp_path / "binning.json").write_text(json.dumps(binning))
    figures = outputs(tmp_path, "binned_output")
    plot_binned_output_files(
        histograms=tmp_path / "histograms.csv",
        binning=tmp_path / "binning.json",
        figures=figures,
        class_names=CLASSES,
        signal_processes=[],
        label={"luminosity_pb": 35866, "energy": "13 TeV"},
    )
    written(figures)


def test_the_binned_output_files_refuse_histograms_of_other_bins(tmp_path):
    histogram_table().assign(split="test").to_csv(tmp_path / "histograms.csv", index=False)
    (tmp_path / "binning.json").write_text(json.dumps({"edges": [0, 0.5, 1], "warnings": []}))
    with pytest.raises(ValueError, match="bin edges"):
        plot_binned_output_files(
            histograms=tmp_path / "histograms.csv",
            binning=tmp_path / "binning.json",
            figures=outputs(tmp_path, "binned_output"),
            class_names=CLASSES,
            signal_processes=SIGNALS,
        )


def test_the_limits_files_draw_the_limits_and_the_binned_z(tmp_path):
    by_signal_table().to_csv(tmp_path / "fom_by_signal_by_point.csv", index=False)
    figures = outputs(tmp_path, "limits", "binned_z")
    plot_limits_files(by_signal_by_point=tmp_path / "fom_by_signal_by_point.csv", figures=figures)
    written(figures)
