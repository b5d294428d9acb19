"""Per-model evaluation: weighted AUCs and the figure-of-merit scan of every split."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from cmsnn.files import write_csv, write_json
from cmsnn.fom import (
    background_yields_by_class,
    best_cut_summary,
    check_signal_processes,
    cut_values,
    scan_split,
)
from cmsnn.metrics import weighted_auc
from cmsnn.splitting import SPLITS


def evaluate_predictions(
    predictions: Mapping[str, pd.DataFrame],
    fractions: Mapping[str, float],
    fom_options: Mapping,
    mode: str,
    class_names: Sequence[str],
) -> tuple[pd.DataFrame, dict]:
    """The FOM scan (one row per cut, columns per split) and the model's key numbers."""
    signal_class = class_names[0]
    check_signal_processes(predictions["test"], signal_class, fom_options["signal_processes"])
    cuts = cut_values(fom_options["cut_min"], fom_options["cut_max"], fom_options["steps"])
    scans = {
        split: scan_split(
            predictions[split], cuts, fractions[split], fom_options, mode, signal_class
        )
        for split in SPLITS
    }
    table = pd.DataFrame({"cut": cuts})
    for split, scan in scans.items():
        for column in scan.columns.drop("cut"):
            table[f"{column}_{split}"] = scan[column].to_numpy()
    numbers = {f"auc_{split}": weighted_auc(predictions[split], signal_class) for split in SPLITS}
    numbers |= best_cut_summary(scans)
    per_class = background_yields_by_class(
        predictions["test"],
        numbers["best_cut"],
        fractions["test"],
        fom_options["luminosity"],
        mode,
        class_names,
    )
    numbers |= {f"yield_test_at_best_cut_{name}": value for name, value in per_class.items()}
    return table, numbers


def evaluate_files(
    sources: Mapping[str, str],
    scan_output,
    numbers_output,
    fractions: Mapping[str, float],
    fom_options: Mapping,
    mode: str,
    class_names: Sequence[str],
) -> None:
    """Rule entry point: prediction CSVs in; FOM scan CSV and evaluation JSON out."""
    predictions = {split: pd.read_csv(sources[split]) for split in SPLITS}
    table, numbers = evaluate_predictions(predictions, fractions, fom_options, mode, class_names)
    write_csv(table, scan_output)
    write_json(numbers, numbers_output)
