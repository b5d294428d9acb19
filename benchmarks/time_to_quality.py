"""Time to quality: how soon each training recipe comes within 0.01 of the best AUC
any classifier can reach, on a 12-variable benchmark whose optimum is known.

The generator: a signal and three backgrounds (cross-section weights), each a correlated
Gaussian in 12 dimensions, overlapping; every column is then put through its own
monotone map so that it looks like a physics variable: exponential tails like transverse
momenta, tiny signed impact parameters, an integer count, sums in the thousands,
bounded pseudorapidity-like values, a cubic mass-like one. A strictly monotone map of a
column leaves the likelihood ratio unchanged; the count (a step function, which is not
strictly monotone) is drawn independent of the other columns, so its exact probabilities
per class enter the ratio as a factor. The optimal AUC is the weighted AUC of that exact
ratio on the same test events the networks are scored on.

Each recipe trains with the project's own pieces (``fit_scaler``, ``balance_class_weights``,
``build_model``, ``epoch_order``: the steps of ``train_model``), one epoch per
compiled call with its validation, as ``train_model`` runs them (``CompiledEpochs``); the
test AUC is computed after every epoch, outside the timed part. The table gives,
per recipe, the training seconds and epochs until the test AUC first comes within 0.01 of
the optimum, the best AUC reached, and the ratio of times. Writes
``benchmarks/time_to_quality.csv``::

    python benchmarks/time_to_quality.py --train-events 200000 --max-epochs 1000

The tutorial's recipe trains until it gets there or for ``--budget-factor`` (10) times the
default's time to quality, whichever comes first: the ratio is then a lower bound.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np
import pandas as pd
from scipy import special, stats
from sklearn.metrics import roc_auc_score

N_VARIABLES = 12
#: process: (cross section in pb, mean shift in every dimension, spread)
PROCESSES = {
    "signal": (0.05, 0.3, 0.9),
    "background_a": (20.0, 0.0, 1.0),
    "background_b": (5.0, -0.25, 1.15),
    "background_c": (1.0, 0.2, 0.8),
}
#: The column drawn independent of the others, and made an integer count.
COUNT_COLUMN = 6
LUMINOSITY = 1000.0
TOLERANCE = 0.01


def class_densities(seed: int) -> dict[str, dict]:
    """Per process: the mean and covariance of its Gaussian (the count column
    uncorrelated with the rest in every process)."""
    rng = np.random.default_rng(seed)
    directions = rng.normal(size=N_VARIABLES)
    shared = rng.normal(size=(N_VARIABLES, 3))  # correlations common to all processes
    densities = {}
    for name, (_, shift, spread) in PROCESSES.items():
        own = rng.normal(scale=0.5, size=(N_VARIABLES, 2))
        loadings = np.hstack([shared * 0.6, own])
        covariance = loadings @ loadings.T + np.eye(N_VARIABLES)
        scale = spread / np.sqrt(np.diag(covariance))
        covariance = covariance * np.outer(scale, scale)
        covariance[COUNT_COLUMN, :] = covariance[:, COUNT_COLUMN] = 0.0
        covariance[COUNT_COLUMN, COUNT_COLUMN] = spread**2
        mean = shift * directions / np.abs(directions).mean() + rng.normal(0, 0.1, N_VARIABLES)
        densities[name] = {"mean": mean, "covariance": covariance}
    return densities


def to_physics(z: np.ndarray) -> np.ndarray:
    """The monotone maps from the Gaussian coordinates to physics-like variables."""
    x = np.empty_like(z)
    for column in range(4):  # transverse momenta: exponential tails above a threshold
        x[:, column] = 25.0 + 30.0 * (column + 1) * -special.log_ndtr(-z[:, column])
    x[:, 4] = 1e-3 * np.sinh(1.5 * z[:, 4])  # impact parameters in cm
    x[:, 5] = 2e-3 * np.sinh(1.2 * z[:, 5])
    x[:, COUNT_COLUMN] = count_of(z[:, COUNT_COLUMN])  # a number of jets
    x[:, 7] = 1500.0 * np.exp(0.4 * z[:, 7])  # scalar sums in the thousands
    x[:, 8] = 900.0 * np.exp(0.6 * z[:, 8]) + 200.0
    x[:, 9] = 2.5 * np.tanh(z[:, 9] / 2)  # pseudorapidities
    x[:, 10] = 2.5 * np.tanh(z[:, 10] / 2)
    x[:, 11] = 80.0 + 10.0 * z[:, 11] ** 3  # a mass-like variable
    return x


def count_of(z: np.ndarray) -> np.ndarray:
    return np.clip(np.floor(2.0 + 1.5 * z), 0, None)


def count_log_probability(counts: np.ndarray, mean: float, sigma: float) -> np.ndarray:
    """log P(count | process): the Gaussian mass of the interval that maps to it."""
    low = np.where(counts == 0, -np.inf, (counts - 2.0) / 1.5)
    high = (counts - 1.0) / 1.5
    return np.log(stats.norm.cdf(high, mean, sigma) - stats.norm.cdf(low, mean, sigma))


def generate(events_per_process: int, seed: int) -> tuple[pd.DataFrame, dict]:
    """Events of every process: the physics-like variables, the weight, the class, and
    the exact log-density of each process at the event (for the optimal ratio)."""
    densities = class_densities(seed)
    rng = np.random.default_rng(seed + 1)
    frames = []
    for index, (name, density) in enumerate(densities.items()):
        z = rng.multivariate_normal(density["mean"], density["covariance"], events_per_process)
        x = to_physics(z)
        frame = pd.DataFrame(x.astype(np.float32), columns=[f"x{i}" for i in range(12)])
        frame["weight"] = PROCESSES[name][0] * LUMINOSITY / events_per_process
        frame["class_index"] = index
        frame["z"] = list(z)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True), densities


def optimal_score(events: pd.DataFrame, densities: dict) -> np.ndarray:
    """log p_signal - log Σ σ_b p_b at each event: the exact likelihood ratio."""
    z = np.stack(events["z"].to_numpy())
    counts = events[f"x{COUNT_COLUMN}"].to_numpy(np.float64)
    continuous = [i for i in range(N_VARIABLES) if i != COUNT_COLUMN]
    log_density = {}
    for name, density in densities.items():
        mean, covariance = density["mean"], density["covariance"]
        log_density[name] = stats.multivariate_normal.logpdf(
            z[:, continuous], mean[continuous], covariance[np.ix_(continuous, continuous)]
        ) + count_log_probability(
            counts, mean[COUNT_COLUMN], np.sqrt(covariance[COUNT_COLUMN, COUNT_COLUMN])
        )
    backgrounds = [name for name in densities if name != "signal"]
    background = special.logsumexp(
        [np.log(PROCESSES[name][0]) + log_density[name] for name in backgrounds], axis=0
    )
    return log_density["signal"] - background


def weighted_auc(events: pd.DataFrame, score: np.ndarray) -> float:
    return roc_auc_score(events["class_index"] == 0, score, sample_weight=events["weight"])


RECIPES = {
    "default (config.yaml)": {
        "classification": "multiclass",
        "scaling": "quantile",
        "balancing": "sqrt",
        "settings": {},
    },
    "tutorial binary": {
        "classification": "binary",
        "scaling": "minmax",
        "balancing": "equal",
        "settings": {
            "layers": [50, 50],
            "activation": "relu",
            "initializer": "glorot_uniform",
            "learning_rate": 5e-3,
            "decay_rate": 0.0,
            "batch_size": 5000,
        },  # fmt: skip
    },
}


def run_recipe(
    recipe: dict, splits: dict, config: dict, max_epochs: int, max_seconds: float, optimum: float
):
    import keras

    from cmsnn.config.grid import point_settings
    from cmsnn.learning.callbacks import epoch_order
    from cmsnn.learning.epochs import CompiledEpochs
    from cmsnn.learning.model import build_model
    from cmsnn.learning.prediction import score_columns
    from cmsnn.learning.training import _arrays
    from cmsnn.preprocessing.scaling import apply_scaler, fit_scaler
    from cmsnn.preprocessing.weighting import balance_class_weights

    features = [f"x{i}" for i in range(N_VARIABLES)]
    settings = point_settings(config, {}) | recipe["settings"]
    classification, classes = recipe["classification"], list(PROCESSES)
    scaler = fit_scaler(splits["train"][features], recipe["scaling"])
    prepared = {}
    for split, events in splits.items():
        frame = pd.DataFrame(apply_scaler(scaler, events), columns=features)
        frame["class_index"] = events["class_index"].to_numpy()
        frame["training_weight"] = balance_class_weights(
            events["weight"].to_numpy(), frame["class_index"].to_numpy(),
            recipe["balancing"], classification, classes,
        )  # fmt: skip
        prepared[split] = frame
    keras.utils.set_random_seed(1)
    x, y, w = _arrays(prepared["train"], features, classification, len(classes))
    validation = _arrays(prepared["validation"], features, classification, len(classes))
    model = build_model(len(features), len(classes), classification, settings)
    epochs = CompiledEpochs(model, classification, settings["batch_size"], (x, y, w), validation)
    x_test = prepared["test"][features].to_numpy(np.float32)
    signal_column = (
        0
        if classification == "binary"
        else score_columns(classification, classes).index("score_signal")
    )
    seconds, reached, curve = 0.0, None, []
    for epoch in range(max_epochs):
        order = epoch_order(len(x), 1, epoch, True)
        started = time.perf_counter()
        epochs.train(order)
        epochs.validate()
        seconds += time.perf_counter() - started
        scores = model.predict(x_test, batch_size=8192, verbose=0)[:, signal_column]
        auc = weighted_auc(splits["test"], scores)
        curve.append(auc)
        if auc >= optimum - TOLERANCE:
            reached = (epoch + 1, seconds)
            break
        if seconds > max_seconds:
            break
    return reached, max(curve), seconds, len(curve)


def main() -> None:
    from cmsnn.config.schema import read_config_files
    from cmsnn.learning.training import configure_backend

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-events", type=int, default=200_000)
    parser.add_argument("--max-epochs", type=int, default=100)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--budget-factor", type=float, default=10.0)
    parser.add_argument("--output", type=str, default=__file__.removesuffix(".py") + ".csv")
    arguments = parser.parse_args()
    configure_backend(arguments.threads)
    per_process = arguments.train_events // len(PROCESSES)
    events, densities = generate(per_process * 4, arguments.seed)  # train, val, 2x test
    rng = np.random.default_rng(arguments.seed)
    split = rng.choice(4, size=len(events))
    splits = {
        "train": events[split == 0].reset_index(drop=True),
        "validation": events[split == 1].reset_index(drop=True),
        "test": events[split >= 2].reset_index(drop=True),
    }
    optimum = weighted_auc(splits["test"], optimal_score(splits["test"], densities))
    config = read_config_files(os.path.join(os.path.dirname(__file__), "..", "config.yaml"))
    rows = []
    max_seconds = np.inf
    for name, recipe in RECIPES.items():
        reached, best, seconds, epochs = run_recipe(
            recipe, splits, config, arguments.max_epochs, max_seconds, optimum
        )
        if max_seconds == np.inf and reached:
            # the next recipes train until they get there, or for this many times as long
            max_seconds = arguments.budget_factor * reached[1]
        rows.append(
            {
                "recipe": name,
                "optimal_auc": round(optimum, 4),
                "best_auc": round(best, 4),
                "epochs_to_quality": reached[0] if reached else None,
                "seconds_to_quality": round(reached[1], 1) if reached else None,
                "epochs_run": epochs,
                "seconds_run": round(seconds, 1),
            }
        )
        print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    # the tutorial's time to quality, or at least the time it ran without getting there
    tutorial = table.iloc[-1]
    reached = not pd.isna(tutorial["seconds_to_quality"])
    reference = tutorial["seconds_to_quality"] if reached else tutorial["seconds_run"]
    at_least = "" if reached else "≥ "
    table["tutorial_time_over_this"] = [
        "not reached" if pd.isna(seconds) else f"{at_least}{reference / seconds:.1f}"
        for seconds in table["seconds_to_quality"]
    ]
    table.to_csv(arguments.output, index=False)
    print(
        f"{platform.machine()}, {os.cpu_count()} cores, {arguments.threads} thread(s); "
        f"{len(splits['train']):,} training events, test AUC within {TOLERANCE} of the optimum"
    )
    print(table.to_markdown(index=False))


if __name__ == "__main__":
    main()
