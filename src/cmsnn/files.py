"""Atomic writers for the files the stages produce.

Every output is written to a temporary file beside its destination and renamed into
place, so an interrupted or failed job never leaves a half-written file that a later
step could mistake for a result.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

#: Length of the random part of :func:`tempfile.mkstemp`'s names.
_RANDOM_CHARACTERS = 8


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` on success.

    The temporary name keeps the destination's extension, which some writers (Keras)
    insist on.
    """
    destination = Path(path)
    destination.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_partials(destination)
    handle, temporary = tempfile.mkstemp(
        dir=destination.parent,
        prefix=f".{destination.stem}.",
        suffix=f".partial{destination.suffix}",
    )
    os.close(handle)
    try:
        yield Path(temporary)
        # mkstemp creates the file for its owner only; a result gets the usual mode
        # (the umask's), so that shared analysis areas can read it.
        os.chmod(temporary, _umask_mode())
        os.replace(temporary, destination)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def remove_stale_partials(destination: Path) -> list[Path]:
    """Remove what an interrupted write of ``destination`` left behind (a job killed
    between writing and renaming); returns the removed paths."""
    pattern = f".{destination.stem}.{'?' * _RANDOM_CHARACTERS}.partial{destination.suffix}"
    stale = sorted(destination.parent.glob(pattern))
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


def _umask_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def write_with(path: str | os.PathLike, writer: Callable[[Path], None]) -> None:
    """Call ``writer(temporary_path)`` and move the result onto ``path`` atomically."""
    with atomic_path(path) as temporary:
        writer(temporary)


def write_parquet(table: pd.DataFrame | pa.Table, path: str | os.PathLike) -> None:
    """Write a table to Parquet atomically, without the pandas index."""
    if isinstance(table, pd.DataFrame):
        table = pa.Table.from_pandas(table, preserve_index=False)
    write_with(path, lambda temporary: pq.write_table(table, temporary))


def read_parquet(path: str | os.PathLike) -> pd.DataFrame:
    """Read a Parquet file written by :func:`write_parquet`."""
    return pq.read_table(path).to_pandas()


def write_csv(frame: pd.DataFrame, path: str | os.PathLike, **options) -> None:
    """Write a DataFrame to CSV atomically, without the pandas index."""
    write_with(path, lambda temporary: frame.to_csv(temporary, index=False, **options))


def read_csv_with_names(path: str | os.PathLike) -> pd.DataFrame:
    """Read a CSV the pipeline wrote, its ``process`` and ``class`` columns kept as the
    text they are: a process named ``550`` or ``NA`` is a name, not a number or a gap."""
    return pd.read_csv(path, dtype={"process": str, "class": str}, keep_default_na=False)


def write_predictions_csv(frame: pd.DataFrame, path: str | os.PathLike) -> None:
    """Write a per-event table (the predictions) as CSV with pyarrow's writer,
    atomically: the same numbers as pandas' writer (the shortest text that reads back
    exactly), strings quoted, and several times faster for millions of events
    (``benchmarks/prediction_output.py``)."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    write_with(path, lambda temporary: pacsv.write_csv(table, temporary))


def write_json(document: dict, path: str | os.PathLike) -> None:
    """Write a JSON document atomically, indented for people to read."""

    def dump(temporary: Path) -> None:
        temporary.write_text(json.dumps(document, indent=2, sort_keys=False) + "\n")

    write_with(path, dump)


def read_json(path: str | os.PathLike) -> dict:
    return json.loads(Path(path).read_text())
