"""Train / validation / test splitting, stratified per process.

Every process is split with the same fractions, so the three samples have the same
composition (the tutorial's requirement that training and validation be "exactly
similar"). Events keep their original weight; a yield in a split is therefore
``weight × luminosity / fraction`` (see :func:`cmsnn.weighting.yield_weights`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from cmsnn.files import read_parquet, write_parquet

SPLITS = ("train", "validation", "test")


def check_fractions(fractions: Mapping[str, float]) -> None:
    """The fractions must be positive and sum to one."""
    if set(fractions) != set(SPLITS):
        raise ValueError(f"split fractions must be given for {SPLITS}, got {sorted(fractions)}")
    if any(value <= 0 for value in fractions.values()):
        raise ValueError(f"split fractions must be positive, got {dict(fractions)}")
    if not np.isclose(sum(fractions.values()), 1.0, atol=1e-9):
        raise ValueError(f"split fractions must sum to 1, got {dict(fractions)}")


def split_counts(n_events: int, fractions: Mapping[str, float]) -> dict[str, int]:
    """How many of ``n_events`` go to each split: rounded, the test split takes the rest."""
    train = round(n_events * fractions["train"])
    validation = min(round(n_events * fractions["validation"]), n_events - train)
    return {"train": train, "validation": validation, "test": n_events - train - validation}


def assign_splits(processes: pd.Series, fractions: Mapping[str, float], seed: int) -> np.ndarray:
    """The split name of every event, drawn at random within each process."""
    check_fractions(fractions)
    rng = np.random.default_rng(seed)
    assignment = np.empty(len(processes), dtype=object)
    groups = processes.groupby(processes, sort=True).indices
    for process in sorted(groups):
        positions = rng.permutation(groups[process])
        counts = split_counts(len(positions), fractions)
        start = 0
        for split in SPLITS:
            assignment[positions[start : start + counts[split]]] = split
            start += counts[split]
    return assignment


def split_events(
    events: pd.DataFrame, fractions: Mapping[str, float], seed: int
) -> dict[str, pd.DataFrame]:
    """Split a table of events into ``{split: events}``, stratified per process."""
    assignment = assign_splits(events["process"], fractions, seed)
    return {split: events[assignment == split].reset_index(drop=True) for split in SPLITS}


def split_files(
    sources: Sequence, outputs: Mapping[str, str], fractions: Mapping[str, float], seed: int
) -> None:
    """Rule entry point: per-process Parquet tables in, one Parquet table per split out."""
    events = pd.concat([read_parquet(path) for path in sources], ignore_index=True)
    for split, table in split_events(events, fractions, seed).items():
        write_parquet(table, outputs[split])


def collect_presplit_files(sources: Mapping[str, Sequence], outputs: Mapping[str, str]) -> None:
    """Rule entry point for the tutorial's layout: files already split
    (``train_sig.csv``, ``train_bkg.csv``, …) are only concatenated per split."""
    for split in SPLITS:
        tables = [read_parquet(path) for path in sources[split]]
        write_parquet(pd.concat(tables, ignore_index=True), outputs[split])
