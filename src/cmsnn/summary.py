"""The summary tables: one row per model, and the spread over seeds per grid point."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from cmsnn.files import read_json, write_csv
from cmsnn.grid import format_value


def model_row(model_id: str, point: str, facts: Mapping, numbers: Mapping) -> dict:
    """One summary row: identity, hyper-parameters, training facts and evaluation."""
    settings = {key: _cell(value) for key, value in facts["settings"].items()}
    return {
        "model": model_id,
        "grid_point": point,
        "seed": facts["seed"],
        "classification": facts["mode"],
        **settings,
        "best_epoch": facts["best_epoch"],
        "epochs_run": facts["epochs_run"],
        "best_val_loss": facts["best_val_loss"],
        "training_seconds": facts["training_seconds"],
        **numbers,
    }


def aggregate_over_seeds(summary: pd.DataFrame, settings_columns: Sequence[str]) -> pd.DataFrame:
    """Mean and standard deviation over seeds of every result, per grid point."""
    results = [
        column
        for column in summary.columns
        if column not in {"model", "grid_point", "seed", "classification", *settings_columns}
        and pd.api.types.is_numeric_dtype(summary[column])
    ]
    grouped = summary.groupby("grid_point", sort=False)
    table = grouped[list(settings_columns)].first()
    table.insert(0, "n_seeds", grouped["seed"].count())
    statistics = grouped[results].agg(["mean", "std"])
    statistics.columns = [f"{column}_{statistic}" for column, statistic in statistics.columns]
    return table.join(statistics).reset_index()


def summarise_files(
    model_ids: Sequence[str],
    points: Sequence[str],
    facts_files: Sequence,
    evaluation_files: Sequence,
    summary_output,
    by_point_output,
) -> None:
    """Rule entry point: the models' training facts and evaluations, in the same order."""
    facts = [read_json(path) for path in facts_files]
    rows = [
        model_row(model_id, point, model_facts, read_json(evaluation))
        for model_id, point, model_facts, evaluation in zip(
            model_ids, points, facts, evaluation_files, strict=True
        )
    ]
    summary = pd.DataFrame(rows)
    write_csv(summary, summary_output)
    write_csv(aggregate_over_seeds(summary, list(facts[0]["settings"])), by_point_output)


def _cell(value):
    """Lists (layer sizes) become ``64x64`` so that a table cell holds them."""
    return format_value(value) if isinstance(value, list | tuple) else value
