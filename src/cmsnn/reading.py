"""Ingestion: "ROOT-derived" CSV files to typed Parquet tables with a class per event.

A CSV holds one event per row: the input variables, the event weight and the process
name (``ttbar.root``), with or without a header line. The result has the features as
float32, ``weight`` as float64, ``process``, the physics ``class`` the process belongs to
and its ``class_index`` in the configured class list (index 0 is the signal).
"""

from __future__ import annotations

import csv
import fnmatch
import gzip
import logging
import math
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from cmsnn.files import write_csv, write_parquet

log = logging.getLogger(__name__)

#: The longest line an event may have: beyond it the CSV reader's block breaks.
LONGEST_LINE = 1 << 20
#: How a CSV writes an infinity (which is not a number too large for float32).
_INFINITY = re.compile(r"[-+]?(inf|infinity)", re.IGNORECASE)

#: Column names the pipeline adds; input features may not use them.
#: Where each event came from: the input file as configured, and the event's 0-based
#: entry in it (the data row of a CSV, header not counted; the entry of a ROOT tree).
#: They travel with the event to the prediction files, so that those join back to the
#: inputs (``pd.read_csv(source_file).iloc[source_entry]``), as TMVA's friend trees do.
EVENT_ID_COLUMNS = ("source_file", "source_entry")
RESERVED_COLUMNS = ("weight", "process", "class", "class_index", *EVENT_ID_COLUMNS)


def read_events(
    path: str | Path,
    features: Sequence[str],
    weight_column: str,
    process_column: str,
    header: bool,
) -> pd.DataFrame:
    """Read one CSV into ``features… , weight, process`` with checked types and values.

    Without a header, the columns must be the features in the configured order, then the
    weight, then the process. With a header, the configured names are picked from it and
    other columns are ignored. Any malformed value fails with the file, line and column.
    """
    path = Path(path)
    _check_feature_names(features, weight_column, process_column)
    names = [*features, weight_column, process_column]
    types = {name: pa.float32() for name in features}
    types |= {weight_column: pa.float64(), process_column: pa.string()}
    read_options = pacsv.ReadOptions(column_names=None if header else names)
    convert_options = pacsv.ConvertOptions(column_types=types, include_columns=names)
    try:
        table = pacsv.read_csv(path, read_options=read_options, convert_options=convert_options)
    except (pa.ArrowInvalid, pa.ArrowKeyError) as error:
        raise _describe_malformed_csv(path, names, header) or ValueError(
            f"{path}: cannot be read as CSV ({error})"
        ) from error
    if table.num_rows == 0:
        raise ValueError(f"{path}: holds no events; remove it from the inputs or fill it")
    _check_finite(path, table, [*features, weight_column], header, names)
    _check_process_names(path, table, process_column, header)
    frame = table.to_pandas()
    frame = frame.rename(columns={weight_column: "weight", process_column: "process"})
    # " ttbar.root" and "ttbar.root" are one process, not a new one for the catch-all class
    frame["process"] = frame["process"].str.strip()
    return frame[[*features, "weight", "process"]]


def assign_classes(processes: Sequence[str], classes: Sequence[Mapping]) -> dict[str, int]:
    """Map each process name to the index of the first class whose glob pattern matches it.

    ``classes`` is the ordered config list ``[{name, patterns}, …]``; the first class is
    the signal. A process no pattern matches is an error: add a pattern, or a catch-all
    ``"*"`` class last.
    """
    assignment = {}
    for process in sorted(set(processes)):
        for index, entry in enumerate(classes):
            if any(fnmatch.fnmatchcase(process, pattern) for pattern in entry["patterns"]):
                assignment[process] = index
                break
        else:
            names = ", ".join(f"{c['name']} {c['patterns']}" for c in classes)
            raise ValueError(
                f"process {process!r} matches no class pattern ({names}); add a pattern for "
                "it under `classes:` in the config, or a last class with pattern '*'"
            )
    return assignment


def check_classes(classes: Sequence[Mapping]) -> None:
    """Start-up check of the class list: names are unique (training uses the class
    index, predictions and the FOM the name), and no class comes after one whose
    pattern matches every process (``*``): it could never receive an event."""
    names = [entry["name"] for entry in classes]
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise ValueError(
            f"classes: the names {duplicated} are used twice; give every class its own"
        )
    for index, entry in enumerate(classes[:-1]):
        catch_all = [pattern for pattern in entry["patterns"] if set(pattern) == {"*"}]
        if catch_all:
            later = [later_entry["name"] for later_entry in classes[index + 1 :]]
            raise ValueError(
                f"classes: {entry['name']} has the pattern {catch_all[0]!r}, which catches every "
                f"process, so the later classes {later} can never receive an event; move "
                f"{entry['name']} to the end of the list"
            )


def check_every_class_has_a_process(processes: Sequence[str], classes: Sequence[Mapping]) -> None:
    """Every class receives at least one of ``processes`` (a multi-class network cannot
    learn a class without events)."""
    assignment = assign_classes(processes, classes)
    empty = [
        entry["name"] for index, entry in enumerate(classes) if index not in assignment.values()
    ]
    if empty:
        raise ValueError(
            f"classes: {empty} match none of the processes {sorted(set(processes))}; fix their "
            "patterns or remove them"
        )


def label_classes(events: pd.DataFrame, classes: Sequence[Mapping]) -> pd.DataFrame:
    """Add the ``class`` name and ``class_index`` columns from the process names."""
    assignment = assign_classes(events["process"].unique(), classes)
    class_index = events["process"].map(assignment).astype(np.int32)
    names = np.array([entry["name"] for entry in classes], dtype=object)
    return events.assign(**{"class": names[class_index.to_numpy()], "class_index": class_index})


def ingest_csv(
    source,
    output,
    features: Sequence[str],
    weight_column: str,
    process_column: str,
    header: bool,
    classes: Sequence[Mapping],
) -> None:
    """Rule entry point: one CSV in, one labelled Parquet table out."""
    events = read_events(source, features, weight_column, process_column, header)
    events["source_file"] = str(source)
    events["source_entry"] = np.arange(len(events), dtype=np.int64)
    try:
        events = label_classes(events, classes)
    except ValueError as error:
        raise ValueError(f"{source}: {error}") from None
    log.info("%s: processes, their classes, events and sums of weights:\n%s", source,
             process_table(events).to_string(index=False))  # fmt: skip
    write_parquet(events, output)


#: Columns of the process table.
PROCESS_TABLE_COLUMNS = ("process", "class", "events", "sum_of_weights")


def process_table(events: pd.DataFrame) -> pd.DataFrame:
    """Process → class → number of events → sum of weights, one row per process, so that
    what the catch-all class received is visible."""
    grouped = events.groupby(["process", "class"], sort=True)["weight"]
    table = grouped.agg(events="size", sum_of_weights="sum").reset_index()
    return table[list(PROCESS_TABLE_COLUMNS)]


def tabulate_process_files(sources: Sequence, output) -> None:
    """Rule entry point: the process table of every ingested file, in one CSV."""
    tables = [
        process_table(pq.read_table(path, columns=["process", "class", "weight"]).to_pandas())
        for path in sources
    ]
    table = pd.concat(tables).groupby(["process", "class"], sort=True).sum().reset_index()
    log.info(
        "processes, their classes, events and sums of weights:\n%s", table.to_string(index=False)
    )
    write_csv(table, output)


def _check_feature_names(features, weight_column, process_column) -> None:
    names = [*features, weight_column, process_column]
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise ValueError(f"column names {duplicated} are listed twice in the data config")
    reserved = sorted(set(features) & set(RESERVED_COLUMNS))
    if reserved:
        raise ValueError(
            f"features may not be named {reserved}: the pipeline uses these names; "
            "rename the columns in data.features"
        )


def _check_finite(
    path: Path, table: pa.Table, numeric: Sequence[str], header: bool, names: Sequence[str]
) -> None:
    """Reject missing, NaN and infinite values, naming the first bad line and column."""
    for name in numeric:
        column = table.column(name)
        finite = pc.is_finite(column)
        if column.null_count or not pc.all(finite).as_py():
            row = pc.index(pc.invert(pc.fill_null(finite, False)), True).as_py()
            value = column[row].as_py()
            line = _line_of_row(path, row, header)
            if value is not None and math.isinf(value) and column.type == pa.float32():
                text = _field_at(path, line, name, names, header).strip()
                if not _INFINITY.fullmatch(text):
                    raise ValueError(
                        f"{path} line {line}, column {name!r}: {text!r} is beyond the range of "
                        "the input variables' float32 (±3.4e38); rescale the variable (for "
                        "example to TeV) or drop the event"
                    )
            shown = "an empty or NaN value" if value is None else f"value {value!r}"
            raise ValueError(
                f"{path} line {line}, column {name!r}: {shown} is "
                "not a finite number; fix or drop the event before running the pipeline"
            )


def _check_process_names(path: Path, table: pa.Table, process_column: str, header: bool) -> None:
    empty = pc.equal(pc.utf8_trim_whitespace(table.column(process_column)), "")
    if pc.any(empty).as_py():
        row = pc.index(empty, True).as_py()
        raise ValueError(
            f"{path} line {_line_of_row(path, row, header)}, column {process_column!r}: "
            "the process name is empty; every event needs its process (e.g. ttbar.root)"
        )


@contextmanager
def _csv_rows(path: Path) -> Iterator[Iterator[list[str]]]:
    """The records of a CSV file, plain or gzip-compressed, for describing what is wrong
    with it: bytes that are not UTF-8 become U+FFFD instead of failing, and records of
    any length are read."""
    opener = gzip.open if path.suffix in (".gz", ".gzip") else open
    previous_limit = csv.field_size_limit()
    csv.field_size_limit(sys.maxsize)
    try:
        with opener(path, "rt", encoding="utf-8", errors="replace", newline="") as stream:
            yield csv.reader(stream)
    finally:
        csv.field_size_limit(previous_limit)


def _line_of_row(path: Path, row: int, header: bool) -> int:
    """File line of the ``row``-th event; blank lines, which the CSV reader skips, count."""
    rows_seen = -1 - int(header)
    with _csv_rows(path) as rows:
        for line, fields in enumerate(rows, start=1):
            if fields:
                rows_seen += 1
                if rows_seen == row:
                    return line
    raise AssertionError(f"{path} has no event number {row}")


def _field_at(path: Path, line: int, name: str, names: Sequence[str], header: bool) -> str:
    """The text of column ``name`` on file line ``line``."""
    with _csv_rows(path) as rows:
        first = next(rows, [])
        position = first.index(name) if header else list(names).index(name)
        if line == 1:
            return first[position]
        for number, fields in enumerate(rows, start=2):
            if number == line:
                return fields[position]
    return ""


def _describe_malformed_csv(path: Path, names: Sequence[str], header: bool) -> ValueError | None:
    """Find the first malformed line with the csv module (only run once reading failed)."""
    with _csv_rows(path) as rows:
        positions = {name: index for index, name in enumerate(names)}
        if header:
            first = next(rows, [])
            missing = [name for name in names if name not in first]
            if missing:
                return ValueError(
                    f"{path} line 1: header lacks the columns {missing}; it has {first}. "
                    "Fix data.features / weight_column / process_column, or set "
                    "data.header: false if the file has no header"
                )
            positions = {name: first.index(name) for name in names}
        expected = len(first) if header else len(names)
        what = "as in the header" if header else f"{len(names) - 2} features, weight, process"
        longest = None  # a line too long for the reader, if nothing else is wrong
        for line, row in enumerate(rows, start=1 + int(header)):
            if not row:  # blank lines are skipped by the reader
                continue
            length = sum(len(field) for field in row) + len(row) - 1
            if length > LONGEST_LINE and longest is None:
                longest = ValueError(
                    f"{path} line {line}: {length:,} characters long, more than the CSV "
                    f"reader's block of {LONGEST_LINE:,} (a missing line break?)"
                )
            undecodable = [name for name in names if "\ufffd" in _get(row, positions[name])]
            if undecodable:
                return ValueError(
                    f"{path} line {line}, column {undecodable[0]!r}: holds bytes that are not "
                    "UTF-8 text; save the file as UTF-8 (or ASCII)"
                )
            if len(row) != expected:
                return ValueError(
                    f"{path} line {line}: {len(row)} fields, expected {expected} ({what})"
                )
            for name in names[:-1]:
                value = row[positions[name]]
                if not _is_number(value):
                    return ValueError(
                        f"{path} line {line}, column {name!r}: {value!r} is not a number"
                    )
    return longest


def _get(row: list[str], position: int) -> str:
    return row[position] if position < len(row) else ""


def _is_number(text: str) -> bool:
    """Whether the CSV reader accepts ``text`` as a number (it rejects ``1_000``)."""
    if "_" in text:
        return False
    try:
        float(text)
    except ValueError:
        return False
    return True
