"""How fast each input scaling trains the default network on the default data.

Runs side by side, in one process, with the same split, seed, weights and network:
for each scaling method it trains the default configuration and prints a table of the
weighted validation loss after a few epochs, the epoch at which the validation loss
first comes within 2 % of the best loss any method reached, and the validation AUC.

    python benchmarks/scaling_convergence.py [--epochs 40] [--seeds 1 2]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from cmsnn.config.checks import read_process_table
from cmsnn.config.grid import point_settings
from cmsnn.config.schema import read_config_files
from cmsnn.ingestion.csv_files import label_classes
from cmsnn.ingestion.toydata import generate_process
from cmsnn.learning.metrics import weighted_auc
from cmsnn.learning.prediction import predict_events
from cmsnn.learning.training import configure_backend, train_model
from cmsnn.preprocessing.scaling import apply_scaler, fit_scaler
from cmsnn.preprocessing.splitting import split_events
from cmsnn.preprocessing.weighting import balance_class_weights
from cmsnn.vocabulary import SCALING_METHODS

ROOT = Path(__file__).resolve().parents[1]


def default_config() -> dict:
    """The default run's config as a run resolves it (the schema's defaults filled in)."""
    return read_config_files(ROOT / "config.yaml")


def default_splits(config: dict) -> dict[str, pd.DataFrame]:
    toy = config["data"]["toy"]
    table = read_process_table(ROOT / toy["processes"])
    events = pd.concat(
        [generate_process(name, p, p["events"], toy["seed"]) for name, p in table.items()],
        ignore_index=True,
    ).rename(columns={"Weights": "weight", "Process": "process"})
    events = label_classes(events, config["classes"])
    return split_events(events, config["split"]["fractions"], config["split"]["seed"])


def prepared(splits, features, scaling, balancing, classification, class_names):
    scaler = fit_scaler(splits["train"][features], scaling)
    result = {}
    for split, events in splits.items():
        frame = events.copy()
        frame[features] = apply_scaler(scaler, events)
        frame["training_weight"] = balance_class_weights(
            events["weight"], events["class_index"], balancing, classification, class_names
        )
        result[split] = frame
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    arguments = parser.parse_args()

    config = default_config()
    features = config["data"]["features"]
    classification = config["classification"]
    class_names = [c["name"] for c in config["classes"]]
    splits = default_splits(config)
    settings = point_settings(config, {}) | {"epochs": arguments.epochs}

    runs = []
    for scaling in SCALING_METHODS:
        data = prepared(
            splits, features, scaling, settings["balancing"], classification, class_names
        )
        for seed in arguments.seeds:
            configure_backend(threads=1)
            started = time.perf_counter()
            model, history, facts = train_model(
                data["train"],
                data["validation"],
                features,
                settings,
                classification,
                len(class_names),
                seed,
            )
            seconds = time.perf_counter() - started
            scores = predict_events(
                model, data["validation"], features, classification, class_names
            )
            runs.append(
                {
                    "scaling": scaling,
                    "seed": seed,
                    "val_loss": history["val_loss"].to_numpy(),
                    "auc_validation": weighted_auc(scores, class_names[0]),
                    "seconds": seconds,
                }
            )

    best = min(run["val_loss"].min() for run in runs)
    rows = []
    for run in runs:
        within = np.flatnonzero(run["val_loss"] <= 1.02 * best)
        rows.append(
            {
                "scaling": run["scaling"],
                "seed": run["seed"],
                "val_loss@5": run["val_loss"][min(4, len(run["val_loss"]) - 1)],
                "val_loss@10": run["val_loss"][min(9, len(run["val_loss"]) - 1)],
                "val_loss_min": run["val_loss"].min(),
                "epochs_to_2pct_of_best": int(within[0]) + 1 if within.size else np.nan,
                "auc_validation": run["auc_validation"],
                "seconds": run["seconds"],
            }
        )
    table = pd.DataFrame(rows)
    print(f"\nBest validation loss over all runs: {best:.4f} ({arguments.epochs} epochs)\n")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    print("\nMean over seeds:\n")
    means = table.drop(columns="seed").groupby("scaling", sort=False).mean()
    print(means.to_string(float_format=lambda v: f"{v:.4f}"))


if __name__ == "__main__":
    main()
