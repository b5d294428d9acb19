"""Histograms of the network's signal output: per process, the sum of the yield weights
and of their squares in every bin (expected events at the FOM's luminosity, as the FOM
counts them), the input of the binned likelihood.

Binary and multi-class networks alike are histogrammed in the signal class's score of
every event: no argmax preselection, so no event is lost before the fit (a multi-class
argmax can leave a signal class with next to no events) and the fit sees the whole
background shape; the softmax's signal score orders events by their signal probability,
which is what the binning ranks.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from cmsnn.statistics.yields import event_split_fractions, yield_weights
from cmsnn.vocabulary import OUTPUT_RANGE, SCORE_PREFIX

#: Columns of a histogram table: one row per process and bin.
HISTOGRAM_COLUMNS = ("process", "class", "bin", "low", "high", "sumw", "sumw2")


def fine_edges(fine_bins: int) -> np.ndarray:
    """Equal-width edges over the output range, the grid the binning merges.

    >>> fine_edges(4)
    array([0.  , 0.25, 0.5 , 0.75, 1.  ])
    """
    return np.linspace(*OUTPUT_RANGE, fine_bins + 1)


def score_histograms(
    predictions: pd.DataFrame,
    signal_class: str,
    edges: np.ndarray,
    luminosity: float,
    split_fraction: float | Mapping[str, float],
) -> pd.DataFrame:
    """Σw and Σw² of the yield weights per process and bin of the signal score.

    Args:
        predictions: one split's prediction file (``weight``, ``process``, ``class``,
            ``score_<signal class>``).
        signal_class: the signal class, whose score is histogrammed.
        edges: the bin edges (ascending; the last bin includes its upper edge).
        luminosity: in pb⁻¹.
        split_fraction: the split's share of each process (``{process: share}``) or one
            number.

    Returns:
        A table of :data:`HISTOGRAM_COLUMNS`, every process with every bin (zeros too).
    """
    edges = np.asarray(edges, dtype=np.float64)
    score = predictions[f"{SCORE_PREFIX}{signal_class}"].to_numpy(dtype=np.float64)
    weights = yield_weights(
        predictions["weight"].to_numpy(),
        luminosity,
        event_split_fractions(predictions, split_fraction),
    )
    # the top edge belongs to the last bin (a score of exactly 1.0 is counted)
    index = np.clip(np.searchsorted(edges, score, side="right") - 1, 0, len(edges) - 2)
    # one pass over the events: each process's bins are a block of one bincount
    codes, processes = pd.factorize(predictions["process"], sort=True)
    if not len(processes):
        return pd.DataFrame(columns=list(HISTOGRAM_COLUMNS))
    n_bins = len(edges) - 1
    flat = codes * n_bins + index
    size = len(processes) * n_bins
    first = np.unique(codes, return_index=True)[1]
    return pd.DataFrame(
        {
            "process": np.repeat(np.asarray(processes, dtype=object), n_bins),
            "class": np.repeat(predictions["class"].to_numpy(dtype=object)[first], n_bins),
            "bin": np.tile(np.arange(n_bins), len(processes)),
            "low": np.tile(edges[:-1], len(processes)),
            "high": np.tile(edges[1:], len(processes)),
            "sumw": np.bincount(flat, weights, minlength=size),
            "sumw2": np.bincount(flat, weights**2, minlength=size),
        }
    )[list(HISTOGRAM_COLUMNS)]


def rebin(histograms: pd.DataFrame, edges: np.ndarray) -> pd.DataFrame:
    """The histograms on coarser ``edges``, each a subset of their own edges.

    Raises:
        ValueError: an edge that is not one of the histograms' edges.
    """
    own = np.append(histograms["low"].unique(), histograms["high"].max())
    edges = np.asarray(edges, dtype=np.float64)
    positions = np.searchsorted(own, edges)
    positions = np.clip(positions, 0, len(own) - 1)
    if not np.allclose(own[positions], edges, rtol=0, atol=1e-12):
        raise ValueError(f"the edges {list(edges)} are not among the histograms' edges")
    coarse = np.searchsorted(positions, histograms["bin"].to_numpy(), side="right") - 1
    grouped = histograms.assign(bin=coarse).groupby(["process", "class", "bin"], sort=True)
    table = grouped[["sumw", "sumw2"]].sum().reset_index()
    table["low"] = edges[table["bin"].to_numpy()]
    table["high"] = edges[table["bin"].to_numpy() + 1]
    return table[list(HISTOGRAM_COLUMNS)]


def totals(histograms: pd.DataFrame, processes) -> tuple[np.ndarray, np.ndarray]:
    """``(Σw, Σw²)`` per bin of the sum of ``processes``."""
    chosen = histograms["process"].isin(list(processes)).to_numpy()
    bins = histograms["bin"].to_numpy(dtype=np.int64)
    n_bins = int(bins.max()) + 1 if len(bins) else 0
    return tuple(
        np.bincount(bins[chosen], histograms[column].to_numpy()[chosen], minlength=n_bins)
        for column in ("sumw", "sumw2")
    )
