"""Train / validation / test splitting, stratified per process.

Every process is split with the same fractions, so the three samples have the same
composition (the tutorial's requirement that training and validation be "exactly
similar"). Events keep their original weight; a yield in a split is therefore
``weight × luminosity / share``, with the share of the event's process in that split
measured from the events (:func:`split_shares`, written beside the splits as
``shares.csv``), never assumed: the tutorial's pre-split files may hold any share of
each process (see :func:`cmsnn.fom.yield_weights`).
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from cmsnn.config.checks import check_fractions, check_signal_processes
from cmsnn.dataframes import read_csv_with_names, read_parquet, write_csv, write_parquet
from cmsnn.vocabulary import SPLITS

log = logging.getLogger(__name__)


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
    available = events.loc[events["class"] == signal_class, "process"].unique()
    check_signal_processes(signal_processes, list(available), signal_class)


def split_events_files(
    *,
    ingested: Sequence,
    splits: Mapping[str, str],
    shares: str,
    fractions: Mapping[str, float],
    seed: int,
    signal_class: str = "",
    signal_processes: Sequence[str] = (),
) -> None:
    """Entry point of rule ``split_events``: the per-process Parquet tables
    (``ingested``) in; one Parquet table per split (``splits``) and each process's
    measured share of each split (``shares``, CSV) out.

    The events are held once, as Arrow tables (the files' columns, never copied into
    pandas), and each split is written as it is cut: at most two copies of the data."""
    outputs = {**splits, "shares": shares}
    events = pa.concat_tables(
        [pq.read_table(path) for path in ingested], promote_options="permissive"
    )
    if signal_processes:  # checked on the distinct (class, process) pairs
        pairs = events.group_by(["class", "process"]).aggregate([]).to_pandas()
        check_signal_processes_exist(pairs, signal_class, signal_processes)
    indices = split_indices(events.column("process"), fractions, seed)
    tables = {}
    for index, split in enumerate(SPLITS):
        tables[split] = events.filter(pa.array(indices == index))
        write_parquet(tables[split], outputs[split])
    write_shares(tables, outputs["shares"], presplit=False)


def collect_presplit_files(
    *,
    ingested: Mapping[str, Sequence],
    splits: Mapping[str, str],
    shares: str,
    signal_class: str,
    signal_processes: Sequence[str] = (),
) -> None:
    """Entry point of rule ``collect_presplit``, for the tutorial's layout: files
    already split (``ingested``: ``{split: [its *_sig and *_bkg files]}``) are only
    concatenated per split (``splits``), after checking that the ``*_sig`` files hold
    only signal and the ``*_bkg`` files none; ``shares`` as for a split of ours."""
    sources, outputs = ingested, {**splits, "shares": shares}
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
    write_shares(splits, outputs["shares"], presplit=True)


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


#: How far (in standard deviations) a measured share may stray before it is named.
SHARE_TOLERANCE_SIGMA = 5.0


def split_shares(splits: Mapping[str, pa.Table | pd.DataFrame]) -> pd.DataFrame:
    """Where the events of every process went: one row per ``(process, class)`` with its
    events, sum of weights and sum of squared weights over all splits, and per split its
    events, sum of weights, ``<split>_share`` (the split's share of the process's
    *events*: the yields' split fraction) and ``<split>_weight_share`` (its share of the
    sum of weights, shown for comparison).

    Why events and not weights: a split is a draw of events, so the chance that an event
    of a process falls into a split is estimated by the share of its events, whatever its
    weight. The share of the weights is noisy where a few heavy events dominate, and is
    meaningless (negative, or beyond 1) for NLO samples whose weights nearly cancel. Where
    the two disagree beyond statistics the files were not split at random (see
    :func:`share_warnings`)."""
    counts = []
    for split in SPLITS:
        table = splits[split]
        if isinstance(table, pd.DataFrame):
            table = pa.Table.from_pandas(table, preserve_index=False)
        if "class" not in table.column_names:  # events not yet given classes
            table = table.append_column("class", pa.array([""] * len(table), pa.string()))
        table = table.select(["process", "class", "weight"])
        table = table.append_column("weight_squared", pc.multiply(table["weight"], table["weight"]))
        grouped = (
            table.group_by(["process", "class"])
            .aggregate([("weight", "count"), ("weight", "sum"), ("weight_squared", "sum")])
            .to_pandas()
            .set_index(["process", "class"])
        )
        grouped.columns = [f"{split}_events", f"{split}_sum_of_weights", f"{split}_w2"]
        counts.append(grouped)
    table = pd.concat(counts, axis=1).fillna(0.0).sort_index()
    events = sum(table[f"{split}_events"] for split in SPLITS)
    weights = sum(table[f"{split}_sum_of_weights"] for split in SPLITS)
    shares = pd.DataFrame(
        {
            "events": events.astype("int64"),
            "sum_of_weights": weights,
            "sum_of_squared_weights": sum(table[f"{split}_w2"] for split in SPLITS),
        },
        index=table.index,
    )
    for split in SPLITS:
        shares[f"{split}_events"] = table[f"{split}_events"].astype("int64")
        shares[f"{split}_sum_of_weights"] = table[f"{split}_sum_of_weights"]
        shares[f"{split}_share"] = table[f"{split}_events"] / events
        with np.errstate(divide="ignore", invalid="ignore"):
            shares[f"{split}_weight_share"] = table[f"{split}_sum_of_weights"] / weights
    return shares.reset_index()


def share_warnings(shares: pd.DataFrame, presplit: bool) -> list[str]:
    """What in the measured shares makes a yield or a training suspect, one sentence each:

    - a process whose weights are all zero (it counts nowhere);
    - a process with no events in a split (its yield is missing there, or the network
      never sees it);
    - pre-split files only (a split made here is random and stratified by construction):
      a process whose share of the weights differs from its share of the events beyond
      statistics (the files were not split at random: by weight, HT bin or run), and a
      process whose share of a split differs from that of all events beyond statistics
      (the splits differ in composition: yields are corrected per process, but the
      network trains on another mixture than it is tested on).

    "Beyond statistics" is :data:`SHARE_TOLERANCE_SIGMA` standard deviations of a random
    split with the measured share: binomial for the events, ``√(f(1−f)·Σw²)/|Σw|`` for the
    weights."""
    consequence = {
        "train": "the network never sees it",
        "validation": "the validation yields and the chosen cut leave it out",
        "test": "the test yields leave it out",
    }
    warnings = []
    total_events = shares["events"].sum()
    for row in shares.itertuples(index=False):
        row = row._asdict()
        if row["events"] > 0 and row["sum_of_squared_weights"] == 0:
            warnings.append(
                f"process {row['process']}: all {row['events']} of its weights are zero; it "
                "adds nothing to any yield or to the training: check its weight column"
            )
        for split in SPLITS:
            if row[f"{split}_events"] == 0:
                warnings.append(
                    f"process {row['process']} has no events in the {split} split "
                    f"({row['events']} in all): {consequence[split]}"
                )
        if not presplit:
            continue
        for split in SPLITS:
            share = row[f"{split}_share"]
            if row[f"{split}_events"] == 0 or share == 1.0:
                continue
            weight_share = row[f"{split}_weight_share"]
            sigma = np.sqrt(share * (1 - share) * row["sum_of_squared_weights"])
            sigma /= abs(row["sum_of_weights"]) if row["sum_of_weights"] else np.nan
            # weights summing to 0 (NLO) give no share of weights to compare
            if (
                np.isfinite(weight_share)
                and np.isfinite(sigma)
                and (abs(weight_share - share) > SHARE_TOLERANCE_SIGMA * sigma)
            ):
                warnings.append(
                    f"process {row['process']}: the {split} split holds {share:.1%} of its "
                    f"events but {weight_share:.1%} of its sum of weights, beyond statistics: "
                    "the files were not split at random; its yields use the share of events"
                )
            overall = shares[f"{split}_events"].sum() / total_events
            spread = np.sqrt(overall * (1 - overall) / row["events"])
            if abs(share - overall) > max(SHARE_TOLERANCE_SIGMA * spread, 0.1 * overall):
                warnings.append(
                    f"process {row['process']}: the {split} split holds {share:.1%} of its "
                    f"events against {overall:.1%} of all events: the splits differ in "
                    "composition; its yields are corrected by its own share, but the network "
                    "trains on another mixture of processes than it is tested on"
                )
    return warnings


def write_shares(splits: Mapping[str, pa.Table | pd.DataFrame], path, presplit: bool) -> None:
    """The measured shares (:func:`split_shares`) as CSV, with ``split_by`` saying who
    split the events (``files``: the input came pre-split; ``workflow``: drawn here), and
    their warnings in the log."""
    shares = split_shares(splits)
    shares.insert(2, "split_by", "files" if presplit else "workflow")
    columns = ["process", "events", *(f"{split}_share" for split in SPLITS)]
    log.info("each process's share of every split (events):\n%s",
             shares[columns].to_string(index=False))  # fmt: skip
    for warning in share_warnings(shares, presplit):
        log.warning("%s", warning)
    write_csv(shares, path, float_format="%.10g")


def read_shares(path) -> tuple[dict[str, dict[str, float]], list[str]]:
    """``({split: {process: share}}, warnings)`` from a ``shares.csv``: the yields' split
    fractions and what :func:`share_warnings` says of them."""
    shares = read_csv_with_names(path)
    for column in shares.columns.drop(["process", "class", "split_by"], errors="ignore"):
        # a share of weights that sum to 0 is written as an empty cell: NaN again
        shares[column] = pd.to_numeric(shares[column], errors="coerce")
    by_split = {
        split: dict(zip(shares["process"], shares[f"{split}_share"].astype(float), strict=True))
        for split in SPLITS
    }
    presplit = bool(len(shares)) and (shares["split_by"] == "files").all()
    return by_split, share_warnings(shares, presplit)
