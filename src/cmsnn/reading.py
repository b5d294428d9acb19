"""Ingestion: "ROOT-derived" CSV files to typed Parquet tables with a class per event.

A CSV holds one event per row: the input variables, the event weight and the process
name (``ttbar.root``), with or without a header line. The result has the features as
float32, ``weight`` as float64, ``process``, the physics ``class`` the process belongs to
and its ``class_index`` in the configured class list (index 0 is the signal).
"""

from __future__ import annotations

import csv
import fnmatch
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from cmsnn.files import write_parquet

#: Column names the pipeline adds; input features may not use them.
RESERVED_COLUMNS = ("weight", "process", "class", "class_index")


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
    _check_finite(path, table, [*features, weight_column], header)
    _check_process_names(path, table, process_column, header)
    frame = table.to_pandas()
    frame = frame.rename(columns={weight_column: "weight", process_column: "process"})
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
    try:
        events = label_classes(events, classes)
    except ValueError as error:
        raise ValueError(f"{source}: {error}") from None
    write_parquet(events, output)


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


def _check_finite(path: Path, table: pa.Table, numeric: Sequence[str], header: bool) -> None:
    """Reject missing, NaN and infinite values, naming the first bad line and column."""
    for name in numeric:
        column = table.column(name)
        finite = pc.is_finite(column)
        if column.null_count or not pc.all(finite).as_py():
            row = pc.index(pc.invert(pc.fill_null(finite, False)), True).as_py()
            value = column[row].as_py()
            shown = "an empty or NaN value" if value is None else f"value {value!r}"
            raise ValueError(
                f"{path} line {_line_of_row(path, row, header)}, column {name!r}: {shown} is "
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


def _line_of_row(path: Path, row: int, header: bool) -> int:
    """File line of the ``row``-th event; blank lines, which the CSV reader skips, count."""
    rows_seen = -1 - int(header)
    with open(path, newline="") as stream:
        for line, fields in enumerate(csv.reader(stream), start=1):
            if fields:
                rows_seen += 1
                if rows_seen == row:
                    return line
    raise AssertionError(f"{path} has no event number {row}")


def _describe_malformed_csv(path: Path, names: Sequence[str], header: bool) -> ValueError | None:
    """Find the first malformed line with the csv module (only run once reading failed)."""
    with open(path, newline="") as stream:
        rows = csv.reader(stream)
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
        for line, row in enumerate(rows, start=1 + int(header)):
            if not row:  # blank lines are skipped by the reader
                continue
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
    return None


def _is_number(text: str) -> bool:
    """Whether the CSV reader accepts ``text`` as a number (it rejects ``1_000``)."""
    if "_" in text:
        return False
    try:
        float(text)
    except ValueError:
        return False
    return True
