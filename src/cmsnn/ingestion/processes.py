"""The process table: events and sum of weights per process and class of the ingested
samples (``results/ingested/processes.csv``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from cmsnn.dataframes import write_csv
from cmsnn.vocabulary import PROCESS_TABLE_COLUMNS

log = logging.getLogger(__name__)


def sum_process_tables(tables: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """One process table from those of the blocks of a file, or of several files."""
    grouped = pd.concat(tables).groupby(["process", "class"], sort=True)
    return grouped[["events", "sum_of_weights"]].sum().reset_index()


def process_table(events: pd.DataFrame | pa.Table) -> pd.DataFrame:
    """Process → class → number of events → sum of weights, one row per process, so that
    what the catch-all class received is visible (grouped by Arrow: no Python string
    per event)."""
    if isinstance(events, pd.DataFrame):
        events = pa.Table.from_pandas(events[["process", "class", "weight"]], preserve_index=False)
    grouped = events.group_by(["process", "class"], use_threads=False)
    table = grouped.aggregate([("weight", "count"), ("weight", "sum")]).to_pandas()
    table = table.rename(columns={"weight_count": "events", "weight_sum": "sum_of_weights"})
    return table.sort_values(["process", "class"], ignore_index=True)[list(PROCESS_TABLE_COLUMNS)]


def tabulate_processes_files(*, parquet: Sequence, table) -> None:
    """Entry point of rule ``tabulate_processes``: the process table (events and sum of
    weights per process and class) of every ingested file (``parquet``), in one CSV."""
    sources, output = parquet, table
    tables = [
        process_table(pq.read_table(path, columns=["process", "class", "weight"]))
        for path in sources
    ]
    table = sum_process_tables(tables)
    log.info(
        "processes, their classes, events and sums of weights:\n%s", table.to_string(index=False)
    )
    write_csv(table, output)
