"""The summary tables: one row per model (every seed, and each grid point's seed
ensemble), the spread over seeds per grid point, and the same for every signal process
taken alone as the signal."""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence

import pandas as pd

from cmsnn.config.grid import format_value
from cmsnn.dataframes import write_csv
from cmsnn.files import read_json
from cmsnn.learning.facts import unconverged_warning
from cmsnn.summary.columns import (
    ENSEMBLE_RESULTS,
    IDENTITY_COLUMNS,
    INTEGER_COLUMNS,
    column_description,
    model_kinds,
)
from cmsnn.summary.verdict import count_non_empty, headline_table
from cmsnn.vocabulary import ENSEMBLE, SEED, WARNING_SEPARATOR, parse_signal_point

log = logging.getLogger(__name__)


def rounded_to_meaning(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with every described numeric column rounded to its precision."""
    table = table.copy()
    for name in table.columns:
        column = column_description(name)
        if column is not None and pd.api.types.is_float_dtype(table[name]):
            table[name] = table[name].map(column.rounded)
    return table


def mark_best_model(summary: pd.DataFrame) -> pd.DataFrame:
    """Add ``best_model`` after ``kind``: true on the row with the highest validation
    FOM at its chosen cut (the first of equals); false everywhere when no model has a
    chosen cut. Validation, not test: the test FOM of the chosen model stays unbiased."""
    fom = pd.to_numeric(
        summary.get("fom_validation_at_best_cut", pd.Series(index=summary.index)), errors="coerce"
    )
    best = pd.Series(False, index=summary.index)
    if fom.notna().any() and fom.max() > 0:
        best[fom.idxmax()] = True
    summary = summary.copy()
    summary.insert(summary.columns.get_loc("kind") + 1, "best_model", best)
    return summary


def training_warnings(facts: Mapping) -> list[str]:
    """The training's own warnings (classes whose weights mostly cancel), and a network
    whose kept epoch is its last: it was still improving when training stopped, so its
    FOM is not that of a trained model."""
    unconverged = unconverged_warning(facts)
    return [*facts.get("warnings", []), *([unconverged] if unconverged else [])]


def model_row(model_id: str, point: str, facts: Mapping, numbers: Mapping) -> dict:
    """One summary row of a trained network: identity, hyper-parameters, training facts,
    evaluation, and every warning of its training and its cut."""
    warnings = training_warnings(facts) + list(numbers["warnings"])
    return {
        "model": model_id,
        "grid_point": point,
        "seed": facts["seed"],
        "kind": SEED,
        "classification": facts["classification"],
        **_settings(facts),
        "best_epoch": facts["best_epoch"],
        "epochs_run": facts["epochs_run"],
        "best_val_loss": facts["best_val_loss"],
        **numbers,
        "warnings": WARNING_SEPARATOR.join(warnings),
    }


def ensemble_row(point: str, member_facts: Sequence[Mapping], numbers: Mapping) -> dict:
    """The summary row of a grid point's seed ensemble (no training of its own); its
    warnings include its members' training warnings."""
    warnings = [
        f"seed {facts['seed']}: {warning}"
        for facts in member_facts
        for warning in training_warnings(facts)
    ]
    return {
        "model": f"{point}/{ENSEMBLE}",
        "grid_point": point,
        "seed": None,
        "kind": ENSEMBLE,
        "classification": member_facts[0]["classification"],
        **_settings(member_facts[0]),
        **numbers,
        "warnings": WARNING_SEPARATOR.join(warnings + list(numbers["warnings"])),
    }


def aggregate_over_seeds(
    summary: pd.DataFrame, settings_columns: Sequence[str], by: Sequence[str] = ("grid_point",)
) -> pd.DataFrame:
    """Mean and standard deviation over the seeds (not the ensembles) of every numeric
    result, per group (grid point, or grid point and signal process); the ensemble's
    main results beside them, and whether its test FOM beats the seeds' mean."""
    by = list(by)
    kinds = model_kinds(summary)
    seeds = summary[kinds == SEED]
    results = [
        column
        for column in seeds.columns
        if column not in {*IDENTITY_COLUMNS, *settings_columns, *by}
        and pd.api.types.is_numeric_dtype(seeds[column])
    ]
    grouped = seeds.groupby(by, sort=False)
    table = grouped[list(settings_columns)].first()
    table.insert(0, "n_seeds", grouped["model"].count())
    if "warnings" in seeds:
        table.insert(1, "n_seeds_with_warnings", grouped["warnings"].agg(count_non_empty))
    statistics = grouped[results].agg(["mean", "std"])
    statistics.columns = [f"{column}_{statistic}" for column, statistic in statistics.columns]
    table = table.join(statistics)
    ensembles = summary[kinds == ENSEMBLE].set_index(by)
    if len(ensembles):
        present = [column for column in ENSEMBLE_RESULTS if column in ensembles]
        table = table.join(ensembles[present].add_prefix(f"{ENSEMBLE}_"))
        table[f"{ENSEMBLE}_beats_seed_mean"] = (
            table[f"{ENSEMBLE}_fom_test_at_best_cut"] > table["fom_test_at_best_cut_mean"]
        )
    return table.reset_index()


def by_signal_rows(model_row_: Mapping, by_signal: pd.DataFrame) -> pd.DataFrame:
    """The per-signal-process rows of one model, with the model's identity in front and
    the parsed mass point beside the process."""
    identity = {key: model_row_[key] for key in ("model", "grid_point", "seed", "kind")}
    masses = pd.DataFrame([parse_signal_point(name) for name in by_signal["signal_process"]])
    table = pd.concat(
        [by_signal[["signal_process"]], masses, by_signal.drop(columns="signal_process")], axis=1
    )
    for position, (key, value) in enumerate(identity.items()):
        table.insert(position, key, value)
    return table


def model_numbers(evaluation, by_signal, binned, binned_by_signal) -> tuple[dict, pd.DataFrame]:
    """One model's numbers, the cut-based evaluation's and the binned likelihood's
    together (their warnings one list), and its per-signal-process table, both kinds of
    columns side by side; with the cut-based FOM's optimism (validation minus test) and
    a warning where it exceeds the test FOM's bootstrap error."""
    numbers, fitted = read_json(evaluation), read_json(binned)
    warnings = [*numbers.pop("warnings"), *fitted.pop("warnings")]
    validation, test = (
        numbers.get("fom_validation_at_best_cut"),
        numbers.get("fom_test_at_best_cut"),
    )
    optimism = validation - test if None not in (validation, test) else None
    error = numbers.get("fom_test_at_best_cut_stat_error")
    if optimism is not None:
        # validation and test are independent samples: their bootstrap errors add in
        # quadrature (NaN without a bootstrap)
        errors = [numbers.get(f"fom_{s}_at_best_cut_stat_error") for s in ("validation", "test")]
        spread = math.hypot(*errors) if None not in errors else math.nan
        numbers |= {"fom_optimism_low": optimism - spread, "fom_optimism_high": optimism + spread}
    if optimism is not None and error is not None and math.isfinite(error) and optimism > error:
        warnings.append(
            f"the cut-based FOM is {optimism:.2f} higher on validation, where the cut was "
            f"chosen, than on test (the test FOM's bootstrap error: {error:.2f}): quote the "
            "test value, or the binned Z"
        )
    numbers = {**numbers, "fom_optimism": optimism, **fitted, "warnings": warnings}
    table = pd.read_csv(by_signal).merge(
        pd.read_csv(binned_by_signal), on="signal_process", how="left", validate="one_to_one"
    )
    return numbers, table


def summarise_models_files(
    *,
    models: Sequence[str],
    points: Sequence[str],
    facts: Sequence,
    evaluations: Sequence,
    by_signal: Sequence,
    binned: Sequence,
    binned_by_signal: Sequence,
    ensemble_points: Sequence[str],
    ensemble_evaluations: Sequence,
    ensemble_by_signal: Sequence,
    ensemble_binned: Sequence,
    ensemble_binned_by_signal: Sequence,
    summary,
    headline,
    by_point,
    by_signal_table,
    by_signal_by_point,
) -> None:
    """Entry point of rule ``summarise_models``: the tables across models.

    Args:
        models, points: every trained model's name and grid point, in one order.
        facts, evaluations, by_signal: each model's training facts, evaluation and
            per-signal-process table, in the order of ``models``.
        binned, binned_by_signal: each model's binned-likelihood numbers (JSON) and
            per-signal-process table, in the same order.
        ensemble_points: the grid points with a seed ensemble.
        ensemble_evaluations, ensemble_by_signal, ensemble_binned,
            ensemble_binned_by_signal: the same of each ensemble, in the order of
            ``ensemble_points``.
        summary, headline, by_point: the tables to write (``fom_summary.csv``, its
            headline columns, and the mean and spread over seeds per grid point).
        by_signal_table, by_signal_by_point: the same per signal process.
    """
    model_facts = [read_json(path) for path in facts]
    rows, signal_tables = [], []
    for model_id, point, these_facts, *files in zip(
        models, points, model_facts, evaluations, by_signal, binned, binned_by_signal,
        strict=True,
    ):  # fmt: skip
        numbers, signal_table = model_numbers(*files)
        rows.append(model_row(model_id, point, these_facts, numbers))
        signal_tables.append(by_signal_rows(rows[-1], signal_table))
    for point, *files in zip(
        ensemble_points, ensemble_evaluations, ensemble_by_signal, ensemble_binned,
        ensemble_binned_by_signal, strict=True,
    ):  # fmt: skip
        members = [f for f, p in zip(model_facts, points, strict=True) if p == point]
        numbers, signal_table = model_numbers(*files)
        rows.append(ensemble_row(point, members, numbers))
        signal_tables.append(by_signal_rows(rows[-1], signal_table))
    table = mark_best_model(_integer_columns(pd.DataFrame(rows)))
    settings = list(_settings(model_facts[0]))
    signals = _integer_columns(pd.concat(signal_tables, ignore_index=True))
    for row in table.itertuples():
        if row.warnings:
            log.warning("%s: %s", row.model, row.warnings)
    # The means and spreads are taken before rounding, so rounding happens once.
    rounded = rounded_to_meaning(table)
    write_csv(rounded, summary)
    write_csv(headline_table(rounded), headline)
    write_csv(rounded_to_meaning(aggregate_over_seeds(table, settings)), by_point)
    write_csv(rounded_to_meaning(signals), by_signal_table)
    signal_settings = signals.merge(table[["model", *settings]], on="model")
    signals_by_point = aggregate_over_seeds(
        signal_settings, settings, by=("grid_point", "signal_process")
    )
    write_csv(rounded_to_meaning(signals_by_point), by_signal_by_point)


def _settings(facts: Mapping) -> dict:
    return {key: _cell(value) for key, value in facts["settings"].items()}


def _integer_columns(table: pd.DataFrame) -> pd.DataFrame:
    """Counts as nullable integers, so that a missing one does not turn 37 into 37.0."""
    present = [column for column in INTEGER_COLUMNS if column in table]
    return table.astype(dict.fromkeys(present, "Int64"))


def _cell(value):
    """Lists (layer sizes) become ``64x64`` so that a table cell holds them."""
    return format_value(value) if isinstance(value, list | tuple) else value
