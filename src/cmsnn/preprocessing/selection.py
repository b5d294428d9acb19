"""Optional preselection: a cut in front of the network, applied to every split alike.

The cut is an expression of :mod:`cmsnn.ingestion.expressions` (parsed and checked, never run as
code) over the input variables, ``weight`` and ``process``."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd

from cmsnn.dataframes import read_parquet, write_parquet
from cmsnn.ingestion.expressions import check_condition, evaluate_expression, parse_expression

log = logging.getLogger(__name__)


#: Event columns a preselection may use besides the input variables.
PRESELECTION_COLUMNS = ("weight", "process")


def check_preselection(cut: str, features: Sequence[str]):
    """The checked syntax tree of ``cut`` (start-up check: a syntax error, a construct
    outside the grammar, an unknown name or a value that is not a condition fails here,
    naming it)."""
    tree = parse_expression(cut, [*features, *PRESELECTION_COLUMNS], what="preselection")
    check_condition(tree, cut, what="preselection")
    return tree


def apply_preselection(events: pd.DataFrame, cut: str) -> pd.DataFrame:
    """Keep the events passing ``cut``, such as ``"Met > 250 and Njet >= 2"``."""
    names = [c for c in events.columns if c not in ("class", "class_index")]
    tree = parse_expression(cut, names, what="preselection")
    columns = {name: events[name].to_numpy() for name in names}
    mask = np.asarray(evaluate_expression(tree, columns))
    if mask.dtype != bool or mask.shape != (len(events),):
        raise ValueError(f"preselection {cut!r} must be a condition (true/false per event)")
    return events[mask].reset_index(drop=True)


def preselect_files(*, events, selected, cut: str, split: str) -> None:
    """Entry point of rule ``preselect``: apply the cut to one split (``events`` in,
    ``selected`` out) and log its efficiency per process."""
    source, output = events, selected
    events = read_parquet(source)
    selected = apply_preselection(events, cut)
    if selected.empty:
        raise ValueError(f"preselection {cut!r} keeps no event of the {split} split; loosen it")
    before = events.groupby("process")["weight"].sum()
    after = selected.groupby("process")["weight"].sum().reindex(before.index, fill_value=0.0)
    for process, efficiency in (after / before).items():
        log.info("%s: weighted efficiency of %r for %s = %.4f", split, cut, process, efficiency)
    write_parquet(selected, output)
