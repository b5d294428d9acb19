"""Ingestion: "ROOT-derived" CSV files to typed Parquet tables with a class per event.

A CSV holds one event per row: the input variables, the event weight and the process
name (``ttbar.root``), with or without a header line. The result has the features as
float32, ``weight`` as float64, ``process``, the physics ``class`` the process belongs to
and its ``class_index`` in the configured class list (index 0 is the signal).
"""

from __future__ import annotations

import csv
import gzip
import logging
import math
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from queue import Empty, Full, Queue
from threading import Event, Thread

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from cmsnn.config.checks import (
    FORMULA_STARTS,
    assign_classes,
    check_feature_names,
    check_unique_names,
    name_problem,
)
from cmsnn.files import atomic_path
from cmsnn.ingestion.processes import process_table, sum_process_tables

log = logging.getLogger(__name__)

#: How a CSV writes an infinity (which is not a number too large for float32).
_INFINITY = re.compile(r"[-+]?(inf|infinity)", re.IGNORECASE)


#: Bytes of CSV text parsed at a time. Ingestion holds a few blocks and their typed
#: tables, whatever the file's size (``benchmarks/csv_ingestion.py``). It is also the
#: longest line an event may have.
BLOCK_SIZE = 32 << 20


def read_event_batches(
    path: str | Path,
    features: Sequence[str],
    weight_column: str,
    process_column: str,
    header: bool,
    block_size: int = BLOCK_SIZE,
) -> Iterator[pa.Table]:
    """Stream one CSV as typed, checked tables of ``features…, weight, process``.

    Without a header, the columns must be the features in the configured order, then the
    weight, then the process. With a header, the configured names are picked from it and
    other columns are ignored. Any malformed value fails with the file, line and column.
    The file is parsed in blocks of whole lines (each with every core), so memory does
    not grow with it. (pyarrow's own streaming reader parses on one core and, measured,
    still held as much memory as the file.)
    """
    path = Path(path)
    _check_feature_names(features, weight_column, process_column)
    names = [*features, weight_column, process_column]
    types = {name: pa.float32() for name in features}
    types |= {weight_column: pa.float64(), process_column: pa.string()}
    convert_options = pacsv.ConvertOptions(column_types=types, include_columns=names)
    renamed = [*features, "weight", "process"]
    file_columns = None if header else names  # the header, once read, names the columns
    rows_before = 0
    with _described_csv_errors(path, names, header, block_size):
        for block in _blocks_of_lines(path, block_size):
            table = _parsed_block(block, file_columns, convert_options)
            if file_columns is None:
                file_columns = _header_names(block)
            if table.num_rows == 0:  # a header, or blank lines
                continue
            table = table.select(names).rename_columns(renamed)
            _check_finite(path, table, [*features, "weight"], header, names, rows_before)
            _check_process_names(path, table, process_column, header, rows_before)
            rows_before += table.num_rows
            # " ttbar.root" and "ttbar.root" are one process, not a new one for the catch-all
            process = pc.utf8_trim_whitespace(table.column("process"))
            yield table.set_column(len(names) - 1, "process", process)
    if rows_before == 0:
        raise ValueError(f"{path}: holds no events; remove it from the inputs or fill it")


def _parsed_block(block: bytes, columns, convert_options) -> pa.Table:
    """One block of whole lines parsed, on every core (Arrow splits it into blocks of its
    own); a field longer than Arrow's block (a very long text) is parsed with one block."""
    try:
        read_options = pacsv.ReadOptions(column_names=columns)
        return pacsv.read_csv(
            pa.py_buffer(block), read_options=read_options, convert_options=convert_options
        )
    except pa.ArrowInvalid as error:
        if "straddl" not in str(error):
            raise
    read_options = pacsv.ReadOptions(column_names=columns, block_size=len(block) + 1)
    return pacsv.read_csv(
        pa.py_buffer(block), read_options=read_options, convert_options=convert_options
    )


def _blocks_of_lines(path: Path, block_size: int) -> Iterator[bytes]:
    """The text of a CSV file (plain or compressed, by its extension) in blocks of about
    ``block_size`` bytes that end at a line end. A line longer than a block is an error
    (the reader could not parse it either; it is described with its line number)."""
    with pa.input_stream(path, compression="detect") as stream:
        rest = b""
        while data := stream.read(block_size):
            data = rest + data
            end = data.rfind(b"\n") + 1
            if end == 0 and len(data) > block_size:
                raise pa.ArrowInvalid(f"a line is longer than the block of {block_size:,} bytes")
            if end:
                yield data[:end]
            rest = data[end:]
        if rest:
            yield rest


def _header_names(block: bytes) -> list[str]:
    """The column names in the header line at the start of ``block``."""
    first_line = block[: block.find(b"\n") + 1 or len(block)]
    return pacsv.read_csv(pa.py_buffer(first_line)).column_names


def read_events(
    path: str | Path,
    features: Sequence[str],
    weight_column: str,
    process_column: str,
    header: bool,
) -> pd.DataFrame:
    """Read one CSV into ``features… , weight, process`` (see :func:`read_event_batches`)."""
    batches = read_event_batches(path, features, weight_column, process_column, header)
    return pa.concat_tables(batches).to_pandas()


@contextmanager
def _described_csv_errors(
    path: Path, names: Sequence[str], header: bool, block_size: int
) -> Iterator[None]:
    """Turn the CSV reader's error into one naming the file, line and column."""
    try:
        yield
    except (pa.ArrowInvalid, pa.ArrowKeyError) as error:
        raise _describe_malformed_csv(path, names, header, block_size) or ValueError(
            f"{path}: cannot be read as CSV ({error})"
        ) from error


def label_classes(events: pd.DataFrame, classes: Sequence[Mapping]) -> pd.DataFrame:
    """Add the ``class`` name and ``class_index`` columns from the process names."""
    assignment = assign_classes(events["process"].unique(), classes)
    class_index = events["process"].map(assignment).astype(np.int32)
    names = np.array([entry["name"] for entry in classes], dtype=object)
    return events.assign(**{"class": names[class_index.to_numpy()], "class_index": class_index})


def ingest_csv_files(
    *,
    csv,
    parquet,
    features: Sequence[str],
    weight_column: str,
    process_column: str,
    header: bool,
    classes: Sequence[Mapping],
    block_size: int = BLOCK_SIZE,
) -> None:
    """Entry point of rule ``ingest_csv``: one CSV file in, one labelled Parquet table
    out, written one row group per block of the CSV as it is read (memory does not grow
    with the file).

    Args:
        csv: the CSV file (gzip-compressed where its name ends in ``.gz``).
        parquet: the Parquet table to write.
        features: the input variables (columns) to keep, in order.
        weight_column, process_column: the columns of the event weight and the process.
        header: whether the file's first line names the columns (else they come in the
            order ``features``, weight, process).
        classes: the config's ``classes``, to label every event with its class.
        block_size: bytes per block read.

    Raises:
        ValueError: a malformed row, naming the file, line and column and what to do.
    """
    source, output = csv, parquet
    batches = read_event_batches(source, features, weight_column, process_column, header,
                                 block_size)  # fmt: skip
    process_tables = []
    # The next blocks are parsed on a second core while this one is labelled and written.
    with atomic_path(output) as temporary:
        writer = None
        rows_before = 0
        for batch in read_ahead(batches, depth=2):
            events = _labelled_batch(batch, source, rows_before, classes)
            rows_before += events.num_rows
            process_tables.append(process_table(events))
            if writer is None:
                # dictionaries pay for the repeated names only, not for the numbers
                strings = [field.name for field in events.schema if field.type == pa.string()]
                writer = pq.ParquetWriter(temporary, events.schema, use_dictionary=strings)
            writer.write_table(events)
        writer.close()
    table = sum_process_tables(process_tables)
    log.info("%s: processes, their classes, events and sums of weights:\n%s", source,
             table.to_string(index=False))  # fmt: skip


def read_ahead(items: Iterator, depth: int) -> Iterator:
    """Iterate ``items`` in a thread, at most ``depth`` items ahead of the caller, so that
    producing the next items (the CSV parser, which releases the GIL) overlaps with
    consuming this one. The producer's exceptions are raised in the caller; a caller that
    stops early stops the producer."""
    queue: Queue = Queue(maxsize=depth)
    stopped = Event()
    finished = object()

    def produce() -> None:
        try:
            for item in items:
                while not stopped.is_set():
                    try:
                        queue.put((item, None), timeout=0.1)
                        break
                    except Full:
                        continue
                if stopped.is_set():
                    return
            queue.put((finished, None))
        except BaseException as error:  # handed to the caller, which raises it
            queue.put((None, error))

    thread = Thread(target=produce, name="read_ahead", daemon=True)
    thread.start()
    try:
        while True:
            item, error = queue.get()
            if error is not None:
                raise error
            if item is finished:
                return
            yield item
    finally:
        stopped.set()
        while thread.is_alive():  # unblock a producer waiting on a full queue
            try:
                queue.get(timeout=0.1)
            except Empty:
                pass
        thread.join()


def _labelled_batch(
    batch: pa.Table, source, rows_before: int, classes: Sequence[Mapping]
) -> pa.Table:
    """One block of events with its class, class index and where each event came from."""
    processes = batch.column("process")
    try:
        assignment = assign_classes(pc.unique(processes).to_pylist(), classes)
    except ValueError as error:
        raise ValueError(f"{source}: {error}") from None
    known = pa.array(sorted(assignment))
    class_index = np.array([assignment[name] for name in known.to_pylist()], dtype=np.int32)
    class_index = class_index[pc.index_in(processes, value_set=known).to_numpy()]
    names = pa.array([entry["name"] for entry in classes], pa.string())
    rows = batch.num_rows
    return (
        batch.append_column("source_file", pa.repeat(pa.scalar(str(source)), rows))
        .append_column("source_entry", pa.array(np.arange(rows_before, rows_before + rows)))
        .append_column("class", names.take(class_index))
        .append_column("class_index", pa.array(class_index))
    )


def _check_feature_names(features, weight_column, process_column) -> None:
    names = [*features, weight_column, process_column]
    check_unique_names(
        names, "data.features, data.weight_column and data.process_column", "list each column once"
    )
    check_feature_names(features)


def _check_finite(
    path: Path,
    table: pa.Table,
    numeric: Sequence[str],
    header: bool,
    names: Sequence[str],
    rows_before: int = 0,
) -> None:
    """Reject missing, NaN and infinite values, naming the first bad line and column
    (``table`` holds the events after the file's first ``rows_before``; ``numeric`` are
    its columns, ``names`` the file's, in the same order)."""
    for name, file_name in zip(numeric, names, strict=False):
        column = table.column(name)
        finite = pc.is_finite(column)
        if column.null_count or not pc.all(finite).as_py():
            row = pc.index(pc.invert(pc.fill_null(finite, False)), True).as_py()
            value = column[row].as_py()
            line = _line_of_row(path, rows_before + row, header)
            if value is not None and math.isinf(value) and column.type == pa.float32():
                text = _field_at(path, line, file_name, names, header).strip()
                if not _INFINITY.fullmatch(text):
                    raise ValueError(
                        f"{path} line {line}, column {file_name!r}: {text!r} is beyond the "
                        "range of the input variables' float32 (±3.4e38); rescale the "
                        "variable (for example to TeV) or drop the event"
                    )
            shown = "an empty or NaN value" if value is None else f"value {value!r}"
            raise ValueError(
                f"{path} line {line}, column {file_name!r}: {shown} is "
                "not a finite number; fix or drop the event before running the pipeline"
            )


def _check_process_names(
    path: Path, table: pa.Table, process_column: str, header: bool, rows_before: int = 0
) -> None:
    empty = pc.equal(pc.utf8_trim_whitespace(table.column("process")), "")
    if pc.any(empty).as_py():
        row = rows_before + pc.index(empty, True).as_py()
        raise ValueError(
            f"{path} line {_line_of_row(path, row, header)}, column {process_column!r}: "
            "the process name is empty; every event needs its process (e.g. ttbar.root)"
        )
    for name in pc.unique(table.column("process")).to_pylist():
        problem = name_problem(name)
        if problem is not None:
            row = rows_before + pc.index(table.column("process"), name).as_py()
            raise ValueError(
                f"{path} line {_line_of_row(path, row, header)}, column {process_column!r}: "
                f"the process name {name[:80]!r} holds {problem}, which tables, the report "
                "and the console would show as it is; rename the process"
            )
        if name.startswith(FORMULA_STARTS):
            # kept as it is (a name must read back exactly); said, since a spreadsheet
            # opening the tables would read it as a formula
            log.warning(
                "%s: the process name %r starts with %r: a spreadsheet opening the tables "
                "reads it as a formula; rename the process if the tables go to one",
                path, name, name[0],
            )  # fmt: skip


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
            yield csv.reader(_bounded_lines(stream, path))
    finally:
        csv.field_size_limit(previous_limit)


#: The longest line read to describe a malformed file (characters): longer than any line
#: the reader could parse, short enough to hold in memory.
LONGEST_LINE_READ = 2 * BLOCK_SIZE


def _bounded_lines(stream, path: Path, limit: int = LONGEST_LINE_READ) -> Iterator[str]:
    """The lines of ``stream``, each read to at most ``limit`` characters: a file without
    line breaks (a binary file, ``/dev/zero``) is named instead of filling the memory."""
    for number, line in enumerate(iter(lambda: stream.readline(limit + 1), ""), start=1):
        if len(line) > limit:
            raise ValueError(
                f"{path} line {number}: longer than {limit:,} characters without a line "
                "break; is it a CSV file? Remove it from data.csv_files, or break its lines"
            )
        yield line


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


def _describe_malformed_csv(
    path: Path, names: Sequence[str], header: bool, block_size: int = BLOCK_SIZE
) -> ValueError | None:
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
            if length > block_size and longest is None:
                longest = ValueError(
                    f"{path} line {line}: {length:,} characters long, more than the CSV "
                    f"reader's block of {block_size:,} (a missing line break?)"
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
                        f"{path} line {line}, column {name!r}: {_quoted(value)} is not a number"
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


def _quoted(value: str, limit: int = 80) -> str:
    """A value for a message: at most ``limit`` characters of it, and its length if cut."""
    if len(value) <= limit:
        return repr(value)
    return f"{value[:limit]!r}… ({len(value):,} characters)"
