"""Train / validation / test splitting, stratified per process.

Every process is split with the same fractions, so the three samples have the same
composition (the tutorial's requirement that training and validation be "exactly
similar"). Events keep their original weight; a yield in a split is therefore
``weight × luminosity / fraction`` (see :func:`cmsnn.fom.yield_weights`).
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from cmsnn.configuration import SPLITS, check_fractions
from cmsnn.files import read_parquet, write_parquet


def split_counts(n_events: int, fractions: Mapping[str, float]) -> dict[str, int]:
    """How many of ``n_events`` go to each split: rounded, the test split takes the rest."""
    train = round(n_events * fractions["train"])
    validation = min(round(n_events * fractions["validation"]), n_events - train)
    return {"train": train, "validation": validation, "test": n_events - train - validation}


def assign_splits(processes: pd.Series, fractions: Mapping[str, float], seed: int) -> np.ndarray:
    """The split name of every event, drawn at random within each process (see
    :func:`split_indices`)."""
    return np.array(SPLITS, dtype=object)[split_indices(processes, fractions, seed)]


def split_indices(processes, fractions: Mapping[str, float], seed: int) -> np.ndarray:
    """The index in :data:`SPLITS` of every event's split, drawn at random within each
    process (``processes``: the events' process names, a pandas or Arrow column).

    Each process has its own random stream (from the seed and its name), so adding or
    removing a process leaves the split of the others unchanged.
    """
    check_fractions(fractions)
    codes, names = _process_codes(processes)
    # the events of each process, in file order: the permutation draws from them
    events_by_process = np.split(
        np.argsort(codes, kind="stable"), np.cumsum(np.bincount(codes, minlength=len(names)))
    )
    assignment = np.empty(len(codes), dtype=np.int8)
    for code, process in enumerate(names):
        rng = np.random.default_rng([seed, zlib.crc32(str(process).encode())])
        positions = rng.permutation(events_by_process[code])
        counts = split_counts(len(positions), fractions)
        start = 0
        for index, split in enumerate(SPLITS):
            assignment[positions[start : start + counts[split]]] = index
            start += counts[split]
    return assignment


def _process_codes(processes) -> tuple[np.ndarray, list[str]]:
    """Each event's process as a number, and the process names (Arrow's dictionary
    encoding: no Python string per event)."""
    if isinstance(processes, pd.Series):
        processes = pa.chunked_array([pa.array(processes, pa.string())])
    elif isinstance(processes, pa.Array):
        processes = pa.chunked_array([processes])
    encoded = pc.dictionary_encode(processes).unify_dictionaries()
    if encoded.num_chunks == 0:
        return np.empty(0, dtype=np.int32), []
    codes = np.concatenate([chunk.indices.to_numpy() for chunk in encoded.chunks])
    return codes, encoded.chunk(0).dictionary.to_pylist()


def split_events(
    events: pd.DataFrame, fractions: Mapping[str, float], seed: int
) -> dict[str, pd.DataFrame]:
    """Split a table of events into ``{split: events}``, stratified per process."""
    assignment = assign_splits(events["process"], fractions, seed)
    return {split: events[assignment == split].reset_index(drop=True) for split in SPLITS}


def check_signal_processes_exist(
    events: pd.DataFrame, signal_class: str, signal_processes: Sequence[str]
) -> None:
    """The FOM's ``signal_processes`` are processes of the signal class: checked as soon
    as the events are together, long before any training."""
    if not signal_processes:
        return
    available = sorted(set(events.loc[events["class"] == signal_class, "process"]))
    unknown = sorted(set(signal_processes) - set(available))
    if unknown:
        raise ValueError(
            f"fom.signal_processes names {unknown}, which are not processes of the "
            f"{signal_class} class; choose among {available}"
        )


def split_files(
    sources: Sequence,
    outputs: Mapping[str, str],
    fractions: Mapping[str, float],
    seed: int,
    signal_class: str = "",
    signal_processes: Sequence[str] = (),
) -> None:
    """Rule entry point: per-process Parquet tables in, one Parquet table per split out.

    The events are held once, as Arrow tables (the files' columns, never copied into
    pandas), and each split is written as it is cut: at most two copies of the data."""
    events = pa.concat_tables(
        [pq.read_table(path) for path in sources], promote_options="permissive"
    )
    if signal_processes:  # checked on the distinct (class, process) pairs
        pairs = events.group_by(["class", "process"]).aggregate([]).to_pandas()
        check_signal_processes_exist(pairs, signal_class, signal_processes)
    indices = split_indices(events.column("process"), fractions, seed)
    for index, split in enumerate(SPLITS):
        write_parquet(events.filter(pa.array(indices == index)), outputs[split])


def collect_presplit_files(
    sources: Mapping[str, Sequence],
    outputs: Mapping[str, str],
    signal_class: str,
    signal_processes: Sequence[str] = (),
) -> None:
    """Rule entry point for the tutorial's layout: files already split
    (``train_sig``, ``train_bkg``, …) are only concatenated per split, after checking
    that the ``*_sig`` files hold only signal and the ``*_bkg`` files none."""
    splits = {}
    for split in SPLITS:
        tables = []
        for path in sources[split]:
            events = read_parquet(path)
            check_presplit_classes(events, path, signal_class)
            tables.append(events)
        splits[split] = pd.concat(tables, ignore_index=True)
    check_signal_processes_exist(splits["test"], signal_class, signal_processes)
    for split, events in splits.items():
        write_parquet(events, outputs[split])


def check_presplit_classes(events: pd.DataFrame, path, signal_class: str) -> None:
    """A ``*_sig`` file must hold only the signal class, a ``*_bkg`` file none of it."""
    is_signal_file = Path(path).stem.endswith("_sig")
    wrong = events[(events["class"] == signal_class) != is_signal_file]
    if len(wrong):
        kind = "signal" if is_signal_file else "background"
        raise ValueError(
            f"{path}: a {kind} file holds events of {sorted(wrong['process'].unique())}, "
            f"which the class patterns put in {sorted(wrong['class'].unique())}; fix "
            f"`classes:` in the config so that the processes of the file are {kind}"
        )
