"""How every figure looks and is saved: the CMS style (mplhep), the experiment label
above its corners, shared axes helpers, and atomic PNG, PDF and SVG files without
timestamps (the same figure gives the same bytes).

The drawing functions take data and return a :class:`matplotlib.figure.Figure`; none
touches pyplot's global state, so they run headless and in parallel jobs.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import matplotlib
import matplotlib.style
import mplhep
import numpy as np
import pandas as pd
import PIL.Image
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Annotation
from matplotlib.transforms import Bbox

from cmsnn.files import write_with

#: The splits in the order they are drawn, with their colours.
SPLIT_COLOURS = {"train": "C0", "validation": "C1", "test": "C2"}
#: Smaller text for figures made of many panels.
GRID_STYLE = {"font.size": 16}
#: Enough for a screen and the HTML report (a 12 x 10 inch figure is 1200 x 1000 pixels);
#: the PDFs are vector graphics for papers.
PNG_DPI = 100


@dataclass(frozen=True)
class ExperimentLabel:
    """What every figure says above its top corners: on the left the experiment in bold
    and the figure's status ("CMS Simulation Private Work"); on the right the integrated
    luminosity and the centre-of-mass energy ("35.9 fb⁻¹ (13 TeV)"). Empty parts are
    left out, so non-CMS users can drop the label altogether."""

    experiment: str = "CMS"
    status: str = "Simulation Private Work"
    luminosity_pb: float | None = None
    energy: str = ""

    def right_text(self) -> str:
        parts = []
        if self.luminosity_pb:
            parts.append(f"{self.luminosity_pb / 1000:.3g} fb$^{{-1}}$")
        if self.energy:
            parts.append(f"({self.energy})")
        return " ".join(parts)


#: The label of a figure drawn without one given: private work on simulation.
DEFAULT_LABEL = ExperimentLabel()


@contextmanager
def hep_style(overrides: Mapping | None = None) -> Iterator[None]:
    """Apply the CMS style (plus ``overrides``) inside the block, restoring it after."""
    with matplotlib.style.context([mplhep.style.CMS, dict(overrides or {})]):
        yield


def save_figure(figure: Figure, png_path, pdf_path=None, svg_path=None) -> None:
    """Write ``figure`` as PNG (:data:`PNG_DPI`, in 256 colours: a third of the bytes
    of full colour for line art, which keeps the HTML report small) and optionally as
    PDF and SVG (vector graphics), each atomically. The figure's layout is fixed by the
    PNG's drawing."""
    with hep_style(), matplotlib.rc_context({"svg.hashsalt": "cmsnn"}):
        write_with(png_path, lambda temporary: _write_palette_png(figure, temporary))
        # The layout the PNG's drawing made, kept for the other files: each save would
        # run the layout engine again (positions are fractions of the figure, the same
        # at every resolution).
        figure.set_layout_engine("none")
        for path, kind in ((pdf_path, "pdf"), (svg_path, "svg")):
            if path is not None:
                write_with(
                    path,
                    lambda temporary, kind=kind: figure.savefig(
                        temporary, format=kind, metadata=_NO_DATE[kind]
                    ),
                )


#: Vector files without a creation date (and SVGs without random ids, by a fixed
#: ``svg.hashsalt``): the same figure gives the same bytes, so reruns compare equal.
_NO_DATE = {"pdf": {"CreationDate": None}, "svg": {"Date": None}}


def _write_palette_png(figure: Figure, path) -> None:
    # Agg's pixels straight into Pillow (no full-colour PNG encoded and decoded on the
    # way); the fast octree palette: a tenth of the median cut's time, on line art no
    # worse; and zlib's default level (``optimize`` took five times as long for 2 %)
    dpi = figure.dpi
    figure.set_dpi(PNG_DPI)
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    pixels = PIL.Image.fromarray(np.asarray(canvas.buffer_rgba())).convert("RGB")
    figure.set_dpi(dpi)  # as savefig(dpi=...) leaves it, for the PDF's raster parts
    palette = pixels.quantize(
        colors=256, method=PIL.Image.Quantize.FASTOCTREE, dither=PIL.Image.Dither.NONE
    )
    _keep_pure(palette, np.asarray(pixels), ((255, 255, 255), (0, 0, 0)))
    palette.save(path, format="PNG", dpi=(PNG_DPI, PNG_DPI))


def _keep_pure(palette: PIL.Image.Image, rgb: np.ndarray, colours) -> None:
    """The palette entries that pure ``colours`` (the background's white, the text's
    black) map to set back to those colours: the octree stores its buckets' means, which
    tinted a white background where a colour map shared its bucket."""
    indices = np.asarray(palette)
    entries = palette.getpalette()
    for colour in colours:
        found = np.flatnonzero(np.all(rgb == colour, axis=-1).ravel())
        if found.size:
            index = int(indices.ravel()[found[0]])
            entries[3 * index : 3 * index + 3] = list(colour)
    palette.putpalette(entries)


# --- helpers --------------------------------------------------------------------------


def draw_experiment_label(
    target: Axes | Figure, label: ExperimentLabel = DEFAULT_LABEL, right: Axes | None = None
) -> None:
    """Write ``label`` above the top corners of ``target``: "**CMS** *Simulation Private
    Work*" on the left, "35.9 fb⁻¹ (13 TeV)" on the right (above ``right``'s top right
    corner if given: the last panel of a row of panels); empty parts left out. A figure of
    many panels (``target`` a Figure) gets it once, in its own top corners, where narrow
    panels leave room for it. Where the two parts would come closer than
    :data:`LABEL_GAP_POINTS` (a narrow panel), both shrink alike until they keep it.
    (``mplhep.cms.label`` would draw it, but it calls ``pyplot.gca()`` and so leaves a
    pyplot figure behind.)"""
    on_figure = isinstance(target, Figure)
    place = {
        "transform": target.transFigure if on_figure else target.transAxes,
        "va": "top" if on_figure else "bottom",
    }
    height = 0.998 if on_figure else 1.01
    left, status = None, None
    if label.experiment:
        left = target.text(0.0, height, label.experiment, ha="left", fontweight="bold",
                           fontsize="large", **place)  # fmt: skip
    if label.status and left is None:
        status = target.text(0.0, height, label.status, ha="left", style="italic", **place)
    elif label.status:
        # right after the experiment's name, whatever its width
        after = {"xy": (1.0, 0.0), "xycoords": left, "xytext": (8, 0), "style": "italic",
                 "textcoords": "offset points", "ha": "left", "va": "bottom"}  # fmt: skip
        if on_figure:  # a figure has no annotate()
            status = target.add_artist(Annotation(label.status, **after))
        else:
            status = target.annotate(label.status, **after)
    right_text = None
    if label.right_text():
        owner = right if right is not None and not on_figure else target
        place["transform"] = owner.transFigure if on_figure else owner.transAxes
        right_text = owner.text(1.0, height, label.right_text(), ha="right", **place)
    parts = [text for text in (left, status) if text is not None]
    if parts and right_text is not None:
        target.add_artist(_LabelFitter(parts, right_text))


#: The least space between the experiment label's left part and its right part.
LABEL_GAP_POINTS = 12.0


class _LabelFitter(Artist):
    """Drawn first (the lowest zorder), once the layout has placed the axes: gives the
    label's texts their own font sizes back and, where the left part and the right part
    would come closer than :data:`LABEL_GAP_POINTS`, shrinks all of them by the factor
    that keeps the gap. Nothing of its own is drawn."""

    def __init__(self, left: Sequence, right) -> None:
        super().__init__()
        self.left, self.right = list(left), right
        self.sizes = {text: text.get_fontsize() for text in [*self.left, right]}
        self.offsets = {text: text.xyann for text in self.left if isinstance(text, Annotation)}
        self.set_zorder(-1e9)
        self.set_in_layout(False)

    def draw(self, renderer) -> None:
        self._scale(1.0)
        left = Bbox.union([text.get_window_extent(renderer) for text in self.left])
        right = self.right.get_window_extent(renderer)
        gap = renderer.points_to_pixels(LABEL_GAP_POINTS)
        if right.x0 - left.x1 < gap:
            room = right.x1 - left.x0 - gap
            self._scale(max(room, 0.0) / (left.width + right.width) * 0.99)

    def _scale(self, factor: float) -> None:
        for text, size in self.sizes.items():
            text.set_fontsize(size * factor)
        for text, (x, y) in self.offsets.items():
            text.xyann = (x * factor, y * factor)


def panel_grid(
    count: int, max_columns: int, panel_size: tuple[float, float]
) -> tuple[Figure, list[Axes]]:
    """A figure with ``count`` panels in rows of at most ``max_columns``; the unused
    cells of the last row removed."""
    columns = max(1, min(count, max_columns))
    rows = max(1, math.ceil(count / columns))
    figure = Figure(figsize=(panel_size[0] * columns, panel_size[1] * rows), layout="constrained")
    panels = list(figure.subplots(rows, columns, squeeze=False).ravel())
    for unused in panels[count:]:
        figure.delaxes(unused)
    return figure, panels[:count]


def category_ticks(axes: Axes, columns, rows, rotation=90, fontsize=None) -> None:
    """Name the columns on the x axis and (if any) the rows on the y axis; no minor ticks."""
    alignment = {"ha": "right", "rotation_mode": "anchor"} if rotation % 90 else {}
    axes.set_xticks(range(len(columns)), columns, rotation=rotation, fontsize=fontsize, **alignment)
    axes.tick_params(axis="x", which="minor", bottom=False, top=False)
    if len(rows):
        axes.set_yticks(range(len(rows)), rows, fontsize=fontsize)
        axes.tick_params(axis="y", which="minor", left=False, right=False)


def outward_ticks(axes: Axes) -> None:
    """A heat map's ticks on its left and bottom edges only, pointing out: they sit at
    the middle of the edge cells, where the style's inward ticks would run into the
    values printed there."""
    axes.tick_params(which="both", direction="out", top=False, right=False)


def seed_marker(index: int) -> dict:
    """Colour and marker of the ``index``-th seed: ten colours, then the next marker."""
    markers = "o^vDPX<>"
    return {"color": matplotlib.colormaps["tab10"](index % 10), "marker": markers[index // 10 % 8]}


def unit_area_histogram(
    events: pd.DataFrame, class_name: str, column: str, edges: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """One class's weighted histogram of ``column`` normalised to unit area, and its
    error (square root of the sum of squared weights, normalised alike)."""
    members = events[events["class"] == class_name]
    values, weights = members[column].to_numpy(), members["weight"].to_numpy()
    sums, _ = np.histogram(values, bins=edges, weights=weights)
    squares, _ = np.histogram(values, bins=edges, weights=weights**2)
    total = float(np.sum(sums))
    if total == 0.0:
        return np.zeros_like(sums), np.zeros_like(sums)
    norm = total * np.diff(edges)
    return sums / norm, np.sqrt(squares) / norm


def is_integer_valued(values: np.ndarray) -> bool:
    return bool(np.all(values == np.round(values)))


def log_range_with_headroom(axes: Axes, values: np.ndarray, headroom: float) -> None:
    """Log y axis from half the smallest positive value (empty bins would reach down to
    zero) to a top leaving the fraction ``headroom`` of the height free for the legend."""
    axes.set_yscale("log")
    positive = values[values > 0]
    if positive.size == 0:
        return
    low, high = 0.5 * positive.min(), positive.max()
    decades = max(np.log10(high / low), 1.0)
    axes.set_ylim(low, high * 10 ** (decades * headroom / (1 - headroom)))


def weighted_quantiles(values: np.ndarray, weights: np.ndarray, quantiles) -> np.ndarray:
    order = np.argsort(values)
    cumulative = np.cumsum(weights[order])
    if cumulative[-1] <= 0:
        return np.quantile(values, quantiles)
    positions = (cumulative - 0.5 * weights[order]) / cumulative[-1]
    return np.interp(quantiles, positions, values[order])


def experiment_label(settings: Mapping | None = None) -> ExperimentLabel:
    """The figures' label from the rule's params (the fields of
    :class:`cmsnn.ExperimentLabel`); private work on simulation without them."""
    return ExperimentLabel(**settings) if settings else DEFAULT_LABEL


def save(figure, figures: Mapping[str, str], name: str) -> None:
    """Save ``figure`` to the files ``figures`` names ``<name>_png`` and ``<name>_pdf``
    (and ``<name>_svg`` where the rule has one: the report's first page shows it inline):
    the plotting rules' outputs, by the names the rules give them."""
    svg = figures.get(f"{name}_svg")
    save_figure(figure, figures[f"{name}_png"], figures[f"{name}_pdf"], svg)


def check_math_text(texts: Mapping[str, str], key: str) -> None:
    """Texts the figures show with matplotlib's TeX (``$…$``) must parse: an unknown
    command (``\\input``) or a nesting too deep would fail a plotting job after training.

    Raises:
        ValueError: naming the key, the text (80 characters at most) and the reason.
    """
    from matplotlib.mathtext import MathTextParser

    parser = MathTextParser("path")
    for name, text in texts.items():
        try:
            parser.parse(text)
        except (ValueError, RecursionError) as error:
            reason = " ".join(str(error).split())[:200] or type(error).__name__
            raise ValueError(
                f"{key}.{name}: {text[:80]!r} cannot be drawn as TeX ({reason}); write it "
                "as plain text, or as TeX that matplotlib knows"
            ) from None
