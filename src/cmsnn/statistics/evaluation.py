"""Per-model evaluation: weighted AUCs, the figure-of-merit scan of every split for the
headline signal, and the validation-chosen cut for every signal process alone."""

from __future__ import annotations

import logging
import zlib
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from cmsnn.config.checks import check_signal_processes
from cmsnn.dataframes import read_predictions, write_csv
from cmsnn.files import write_json
from cmsnn.learning.metrics import weighted_auc
from cmsnn.preprocessing.splitting import read_shares
from cmsnn.statistics.cut_choice import best_cut_summary
from cmsnn.statistics.overtraining import ks_per_class
from cmsnn.statistics.scan import cut_values, scan_range, scan_split
from cmsnn.statistics.yields import (
    at_mass_point,
    background_yields_by_class,
    signal_process_names,
)
from cmsnn.vocabulary import SPLITS, WARNING_SEPARATOR, NetworkTask

log = logging.getLogger(__name__)


def evaluate_predictions(
    predictions: Mapping[str, pd.DataFrame],
    fractions: Mapping[str, float | Mapping[str, float]],
    fom_options: Mapping,
    classification: str,
    class_names: Sequence[str],
) -> tuple[pd.DataFrame, dict]:
    """The headline signal's FOM scan (one row per cut, columns per split) and the
    model's key numbers, ``warnings`` among them."""
    signal_class = class_names[0]
    available = signal_process_names(predictions["test"], signal_class)
    check_signal_processes(fom_options["signal_processes"], available, signal_class)
    scans, chosen = scan_signal(predictions, fractions, fom_options, classification, signal_class)
    table = pd.DataFrame({"cut": scans["test"]["cut"]})
    for split, scan in scans.items():
        for column in scan.columns.drop("cut"):
            table[f"{column}_{split}"] = scan[column].to_numpy()
    numbers = {f"auc_{split}": weighted_auc(predictions[split], signal_class) for split in SPLITS}
    numbers |= chosen
    per_class = background_yields_by_class(
        predictions["test"],
        numbers["best_cut"],
        fractions["test"],
        fom_options["luminosity"],
        classification,
        class_names,
    )
    numbers |= {f"yield_test_at_best_cut_{name}": value for name, value in per_class.items()}
    return table, numbers


def scan_signal(
    predictions: Mapping[str, pd.DataFrame],
    fractions: Mapping[str, float | Mapping[str, float]],
    options: Mapping,
    classification: str,
    signal_class: str,
) -> tuple[dict[str, pd.DataFrame], dict]:
    """The scans of every split over one range, for the signal ``options`` names, and
    the chosen cut's numbers. The bootstrap's random numbers depend on the seed, the
    split and the signal processes, so the same signal gets the same errors wherever it
    is evaluated (the headline and its row of the per-signal table)."""
    processes = headline_processes(predictions["test"], options, signal_class)
    stream = zlib.crc32("\n".join(sorted(processes)).encode())
    cut_min, cut_max, range_warnings = scan_range(
        predictions["validation"], options, classification, signal_class
    )
    cuts = cut_values(cut_min, cut_max, options["steps"])
    scans = {
        split: scan_split(
            predictions[split],
            cuts,
            fractions[split],
            options,
            classification,
            signal_class,
            rng=np.random.default_rng([options["bootstrap_seed"], stream, index]),
        )
        for index, split in enumerate(SPLITS)
    }
    chosen = {"scan_cut_min": cut_min, "scan_cut_max": cut_max}
    chosen |= best_cut_summary(scans, options["min_background_events"])
    chosen["warnings"] = range_warnings + chosen["warnings"]
    return scans, chosen


def fom_by_signal_process(
    predictions: Mapping[str, pd.DataFrame],
    fractions: Mapping[str, float | Mapping[str, float]],
    fom_options: Mapping,
    classification: str,
    class_names: Sequence[str],
    at_points: Mapping[str, pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """One row per process of the signal class, each alone as the signal against every
    background: its scan range, validation-chosen cut, validation and test FOMs there
    with their bootstrap errors, test efficiency, yields and counts, the test maximum.
    A parametrised network (``at_points``: ``{split: its other events at every signal
    point}``) is asked at each process's own point."""
    signal_class = class_names[0]
    rows = []
    for process in signal_process_names(predictions["test"], signal_class):
        options = {**fom_options, "signal_processes": [process]}
        at_point = {
            split: at_mass_point(table, at_points and at_points[split], process, signal_class)
            for split, table in predictions.items()
        }
        _, chosen = scan_signal(at_point, fractions, options, classification, signal_class)
        rows.append({"signal_process": process, **chosen})
    return pd.DataFrame(rows)


def headline_processes(test: pd.DataFrame, fom_options: Mapping, signal_class: str) -> list:
    """The processes the headline FOM counts as signal."""
    return list(fom_options["signal_processes"]) or signal_process_names(test, signal_class)


def signal_point_warnings(by_signal: pd.DataFrame, headline: Sequence[str]) -> list[str]:
    """The per-signal-process rows' warnings, named by their process, for the model's own
    list (and so the summary and the console); a row that is the headline itself is
    left out, its warnings are the headline's."""
    return [
        f"{row.signal_process} alone: {warning}"
        for row in by_signal.itertuples()
        if [row.signal_process] != list(headline)
        for warning in row.warnings
    ]


def evaluate_model_files(
    *,
    predictions: Mapping[str, str],
    shares,
    scan,
    evaluation,
    by_signal,
    ks_table,
    fom_options: Mapping,
    task: NetworkTask,
    ks_p_value_threshold: float = 0.01,
    at_mass_points: Mapping[str, str] | None = None,
) -> None:
    """Entry point of rule ``evaluate_model``: one model's (or seed ensemble's)
    predictions in, its numbers out. Warnings go to the log and into the files.

    Args:
        predictions: ``{split: prediction Parquet file}``.
        shares: each process's measured share of each split (the split step's
            ``shares.csv``): the yields' split fractions.
        scan: the FOM scan (CSV: one row per cut, columns per split).
        evaluation: the model's numbers (JSON: AUCs, the chosen cut, FOMs, warnings).
        by_signal: the same for every signal process taken alone (CSV).
        ks_table: the overtraining KS test per class (CSV).
        fom_options: the config's ``fom`` section.
        task: what the network is asked.
        ks_p_value_threshold: below it a class's KS test warns of overtraining.
        at_mass_points: a parametrised network's ``{split: Parquet file}`` of the other
            events at every signal point, for the table of each signal process.
    """
    classification, class_names = task.classification, task.class_names
    outputs = {"scan": scan, "evaluation": evaluation, "by_signal": by_signal}
    outputs["ks_table"] = ks_table
    predictions = {split: read_predictions(predictions[split]) for split in SPLITS}
    # Each process's measured share of each split: the yields' split fractions.
    fractions, share_warnings = read_shares(shares)
    table, numbers = evaluate_predictions(
        predictions, fractions, fom_options, classification, class_names
    )
    ks = ks_per_class(
        predictions["train"], predictions["validation"], f"score_{class_names[0]}", class_names
    )
    numbers |= overtraining_numbers(ks, ks_p_value_threshold)
    at_points = {
        split: read_predictions(path) for split, path in (at_mass_points or {}).items()
    } or None
    by_signal = fom_by_signal_process(
        predictions, fractions, fom_options, classification, class_names, at_points
    )
    numbers["warnings"] = (
        share_warnings
        + numbers["warnings"]
        + signal_point_warnings(
            by_signal, headline_processes(predictions["test"], fom_options, class_names[0])
        )
    )
    for warning in numbers["warnings"]:
        log.warning("%s", warning)
    by_signal["warnings"] = by_signal["warnings"].map(WARNING_SEPARATOR.join)
    write_csv(table, outputs["scan"])
    write_json(numbers, outputs["evaluation"])
    write_csv(by_signal, outputs["by_signal"])
    write_csv(ks.reset_index(), outputs["ks_table"])


def overtraining_numbers(ks: pd.DataFrame, p_value_threshold: float) -> dict:
    """The smallest per-class KS p-value of a :func:`ks_per_class` table, its class, and
    the flag: below ``p_value_threshold`` (logged as a warning)."""
    p_values = ks["p_value"].dropna()
    if p_values.empty:
        return {"ks_p_value_min": None, "ks_p_value_min_class": None, "overtraining_flag": False}
    smallest = p_values.idxmin()
    flagged = bool(p_values[smallest] < p_value_threshold)
    if flagged:
        log.warning(
            "overtraining: the signal output of class %s differs between training and validation"
            " events (weighted KS p = %.3g < %g); compare them in output_distributions.png",
            smallest, p_values[smallest], p_value_threshold,
        )  # fmt: skip
    return {
        "ks_p_value_min": float(p_values[smallest]),
        "ks_p_value_min_class": str(smallest),
        "overtraining_flag": flagged,
    }
