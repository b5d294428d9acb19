"""Tables on disk: Parquet and CSV written atomically (through :mod:`cmsnn.files`) and
read back with process and class names kept as text.
"""

from __future__ import annotations

import os

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from cmsnn.files import write_with


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


def write_predictions(
    frame: pd.DataFrame, parquet: str | os.PathLike, csv: str | os.PathLike
) -> None:
    """Write per-event predictions twice: as Parquet, which the workflow's rules read
    (a quarter of the size, read 1.1-1.7× faster at 1-5 million events), and as CSV
    for people and their scripts
    (:func:`write_predictions_csv`), both from one Arrow table.
    ``benchmarks/prediction_output.py`` measures both."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    write_parquet(table, parquet)
    write_predictions_csv(table, csv)


def read_predictions(path: str | os.PathLike, columns=None) -> pd.DataFrame:
    """Read predictions written by :func:`write_predictions` (the Parquet file), with
    only ``columns`` where given (a callable keeps the columns it accepts)."""
    if callable(columns):
        columns = [name for name in pq.read_schema(path).names if columns(name)]
    return pq.read_table(path, columns=columns).to_pandas()


def write_predictions_csv(table: pd.DataFrame | pa.Table, path: str | os.PathLike) -> None:
    """Write a per-event table (the predictions) as CSV with pyarrow's writer,
    atomically: the same numbers as pandas' writer (the shortest text that reads back
    exactly), strings quoted, and several times faster for millions of events
    (``benchmarks/prediction_output.py``)."""
    if isinstance(table, pd.DataFrame):
        table = pa.Table.from_pandas(table, preserve_index=False)
    write_with(path, lambda temporary: pacsv.write_csv(table, temporary))
