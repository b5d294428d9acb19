"""The cutflow: events and sum of weights of every process at each stage, from the
files read to the events the network trains on, so that what each step kept is seen."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import pandas as pd
import pyarrow.parquet as pq

from cmsnn.dataframes import read_csv_with_names, write_csv
from cmsnn.vocabulary import SPLITS

log = logging.getLogger(__name__)

#: The columns every stage is counted from.
_COLUMNS = ["process", "class", "weight"]


def stage_counts(frames: Sequence[pd.DataFrame], stage: str, trained_only: bool = False):
    """``(process, class)`` → ``<stage>_events`` and ``<stage>_sum_of_weights``; with
    ``trained_only`` the events whose training weight is not 0 (the negative-weight
    policy ``drop`` sets it to 0)."""
    events = pd.concat(frames, ignore_index=True)
    if trained_only:
        events = events[events["training_weight"] != 0]
    grouped = events.groupby(["process", "class"], sort=True)["weight"]
    return grouped.agg(**{f"{stage}_events": "size", f"{stage}_sum_of_weights": "sum"})


def cutflow_table(
    stages: Mapping[str, Sequence[pd.DataFrame]], training_set, shares: pd.DataFrame | None = None
) -> pd.DataFrame:
    """One row per process (and a ``total`` row), the stages as column pairs in order;
    a process a stage removed entirely has 0 there. With ``shares`` (the split step's
    ``shares.csv``), each split's pair is followed by ``<split>_share``, the share of the
    process's events in that split: the split fraction its yields are divided by."""
    counts = [stage_counts(frames, stage) for stage, frames in stages.items()]
    counts.append(stage_counts([training_set], "training_set", trained_only=True))
    table = pd.concat(counts, axis=1).fillna(0.0)
    event_columns = [column for column in table if column.endswith("_events")]
    table[event_columns] = table[event_columns].astype("int64")
    table = table.reset_index()
    total = table.drop(columns=["process", "class"]).sum()
    table.loc[len(table)] = {"process": "total", "class": "", **total.to_dict()}
    if shares is not None:
        table = _with_shares(table, shares)
    return table


def _with_shares(table: pd.DataFrame, shares: pd.DataFrame) -> pd.DataFrame:
    """``<split>_share`` after each split's columns (the total row: all events' share)."""
    splits = [split for split in SPLITS if f"{split}_events" in table]
    share_columns = [f"{split}_share" for split in splits]
    merged = table.merge(
        shares[["process", "class", *share_columns]], on=["process", "class"], how="left"
    )
    total = merged["process"] == "total"
    all_events = sum(merged.loc[total, f"{split}_events"] for split in splits)
    for split in splits:
        merged.loc[total, f"{split}_share"] = merged.loc[total, f"{split}_events"] / all_events
    order = []
    for column in table.columns:
        order.append(column)
        split = column.removesuffix("_sum_of_weights")
        if split in splits:
            order.append(f"{split}_share")
    return merged[order]


def tabulate_cutflow_files(
    *,
    ingested: Sequence[str],
    splits: Mapping[str, str],
    preselected: Mapping[str, str],
    training_set: str,
    cutflow: str,
    shares: str | None = None,
) -> None:
    """Entry point of rule ``tabulate_cutflow``: the cutflow of a run (events and sum
    of weights per process and stage: read, each split, preselected, trained on),
    logged and written as CSV to ``cutflow``; ``shares`` is the split step's
    ``shares.csv``."""
    output = cutflow
    stages = {"read": [_read(path) for path in ingested]}
    stages |= {split: [_read(path)] for split, path in splits.items()}
    stages |= {f"preselected_{split}": [_read(path)] for split, path in preselected.items()}
    training = pq.read_table(training_set, columns=[*_COLUMNS, "training_weight"]).to_pandas()
    table = cutflow_table(stages, training, read_csv_with_names(shares) if shares else None)
    log.info("cutflow (events and sum of weights per process and stage):\n%s",
             table.to_string(index=False))  # fmt: skip
    write_csv(table, output, float_format="%.8g")


def _read(path) -> pd.DataFrame:
    return pq.read_table(path, columns=_COLUMNS).to_pandas()
