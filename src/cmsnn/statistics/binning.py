"""The bins of the binned likelihood, chosen on the validation split: from the highest
signal score downward, each bin closes once its background holds enough effective
(Kish) simulated events and a positive yield, at most ``max_bins`` bins; what is left at
the bottom joins the lowest bin. The same edges are then used on the test split, where
the criterion is checked again and a bin that fails it there is named.

A bin of few heavy simulated events has a background estimate that fluctuates from
seed to seed and from split to split; requiring enough effective events per bin is what
makes the binned significance a stable number (``benchmarks/binning_stability.py``
shows the spread over seeds against the requirement).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from cmsnn.statistics.effective_events import enough_background, kish_effective_events


def choose_edges(
    edges: np.ndarray,
    background_sumw: np.ndarray,
    background_sumw2: np.ndarray,
    min_effective_events: float,
    max_bins: int,
) -> tuple[np.ndarray, list[str]]:
    """Merge fine bins from the top down into at most ``max_bins`` bins whose background
    has a positive yield and at least ``min_effective_events`` effective events.

    Args:
        edges: the fine edges (ascending), one more than the sums.
        background_sumw, background_sumw2: the background's Σw and Σw² per fine bin.
        min_effective_events: the required Kish count per bin.
        max_bins: the most bins; the last one takes everything below.

    Returns:
        The chosen edges (ascending, the fine grid's ends kept) and warnings: one when no
        bin can satisfy the requirement (then one bin over the whole range).

    >>> edges = np.linspace(0, 1, 6)
    >>> sumw = np.array([50.0, 20.0, 10.0, 5.0, 2.0])
    >>> choose_edges(edges, sumw, sumw / 10, 10.0, 3)[0]  # Kish count = 10·Σw here
    array([0. , 0.6, 0.8, 1. ])
    """
    edges = np.asarray(edges, dtype=np.float64)
    sumw = np.asarray(background_sumw, dtype=np.float64)
    sumw2 = np.asarray(background_sumw2, dtype=np.float64)
    chosen = [len(edges) - 1]  # indices into edges, from the top
    accumulated_w = accumulated_w2 = 0.0
    for fine in range(len(sumw) - 1, -1, -1):
        if len(chosen) == max_bins:
            break  # the last bin takes everything below
        accumulated_w += sumw[fine]
        accumulated_w2 += sumw2[fine]
        if accumulated_w > 0 and _enough(accumulated_w, accumulated_w2, min_effective_events):
            if fine > 0:
                chosen.append(fine)
            accumulated_w = accumulated_w2 = 0.0
    # the rest at the bottom: a bin of its own if it satisfies the requirement, else it
    # joins the lowest bin chosen
    lowest = chosen[-1]
    rest_w, rest_w2 = sumw[:lowest].sum(), sumw2[:lowest].sum()
    enough_below = rest_w > 0 and _enough(rest_w, rest_w2, min_effective_events)
    if len(chosen) > 1 and not enough_below:
        chosen.pop()
    chosen.append(0)
    result = edges[sorted(set(chosen))]
    warnings = []
    if len(result) == 2:
        total = float(kish_effective_events(sumw.sum(), sumw2.sum()))
        if not (sumw.sum() > 0 and _enough(sumw.sum(), sumw2.sum(), min_effective_events)):
            warnings.append(
                f"the binning cannot keep statistics.min_background_events_per_bin = "
                f"{min_effective_events:g} effective background events in any bin (all "
                f"validation background together: {total:.1f}); one bin is used, and its "
                "background estimate rests on few simulated events"
            )
    return result, warnings


def failing_bins(
    edges: np.ndarray,
    background_sumw: Sequence[float],
    background_sumw2: Sequence[float],
    min_effective_events: float,
    split: str,
) -> list[str]:
    """Warnings for the bins of a split (with its own sums on the chosen ``edges``) whose
    background has no positive yield or too few effective events there."""
    warnings = []
    for index, (w, w2) in enumerate(zip(background_sumw, background_sumw2, strict=True)):
        if not (w > 0 and _enough(w, w2, min_effective_events)):
            count = float(kish_effective_events(w, w2))
            warnings.append(
                f"bin {index} ({edges[index]:.4g}–{edges[index + 1]:.4g}) holds "
                f"{count:.1f} effective background events on the {split} split, fewer "
                f"than statistics.min_background_events_per_bin = {min_effective_events:g}: "
                "its background estimate there rests on few simulated events"
            )
    return warnings


def _enough(sumw: float, sumw2: float, minimum: float) -> bool:
    return bool(enough_background(kish_effective_events(sumw, sumw2), minimum))
