"""Optional preselection: a cut in front of the network, applied to every split alike."""

from __future__ import annotations

import logging

import pandas as pd

from cmsnn.files import read_parquet, write_parquet

log = logging.getLogger(__name__)


def apply_preselection(events: pd.DataFrame, cut: str) -> pd.DataFrame:
    """Keep the events passing ``cut``, a pandas query such as ``"Met > 250 and Njet >= 2"``."""
    try:
        mask = events.eval(cut)
    except Exception as error:  # pandas raises many types for a bad expression
        columns = ", ".join(c for c in events.columns if c not in ("class", "class_index"))
        raise ValueError(
            f"preselection {cut!r} cannot be evaluated ({type(error).__name__}: {error}); "
            f"it may use the columns {columns}"
        ) from None
    if not pd.api.types.is_bool_dtype(mask):
        raise ValueError(f"preselection {cut!r} must be a condition (true/false per event)")
    return events[mask.to_numpy()].reset_index(drop=True)


def preselect_file(source, output, cut: str, split: str) -> None:
    """Rule entry point: apply the cut to one split and log its efficiency per process."""
    events = read_parquet(source)
    selected = apply_preselection(events, cut)
    if selected.empty:
        raise ValueError(f"preselection {cut!r} keeps no event of the {split} split; loosen it")
    before = events.groupby("process")["weight"].sum()
    after = selected.groupby("process")["weight"].sum().reindex(before.index, fill_value=0.0)
    for process, efficiency in (after / before).items():
        log.info("%s: weighted efficiency of %r for %s = %.4f", split, cut, process, efficiency)
    write_parquet(selected, output)
