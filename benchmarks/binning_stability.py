"""How stable the binned significance is against the binning's requirement of effective
background events per bin, over the seeds of a finished run (the default run's six
seed models), beside the cut-based FOM; and what a fit and a limit cost.

    snakemake --cores 2                                  # the default run, first
    python benchmarks/binning_stability.py results       # prints the table, writes the CSV

For each ``statistics.min_background_events_per_bin``: the mean, standard deviation and
coefficient of variation (CV) over the seed models of the headline signal's binned test
Z (default background model), the number of bins, and the ratio of its CV to the
cut-based test FOM's CV over the same models (the goal: at most 0.5). Then the time of
one discovery fit and one set of expected limits on a 10-bin model.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from cmsnn.config.schema import resolved_config
from cmsnn.dataframes import read_csv_with_names
from cmsnn.preprocessing.splitting import read_shares
from cmsnn.statistics.binned import binned_histograms, signal_numbers
from cmsnn.vocabulary import NetworkTask

REQUIREMENTS = (5, 10, 20, 30, 40, 80)


def main(results: Path) -> pd.DataFrame:
    # the run's kept config, with this version's defaults for what it does not say
    kept = yaml.safe_load((results / "config.yaml").read_text())
    config = resolved_config(kept, Path(__file__).resolve().parents[1])
    summary = pd.read_csv(results / "fom_summary.csv")
    seeds = summary[summary["kind"] == "seed"]
    fractions, _ = read_shares(results / "split" / "shares.csv")
    task = NetworkTask(
        config["classification"], [c["name"] for c in config["classes"]], config["data"]["features"]
    )
    fom = config["fom"]
    headline = fom["signal_processes"]
    predictions = {
        model: {
            split: read_csv_with_names(results / "models" / model / f"predictions_{split}.csv")
            for split in ("validation", "test")
        }
        for model in seeds["model"]
    }
    cut_z = seeds["fom_test_at_best_cut"].to_numpy()
    cut_cv = cut_z.std(ddof=1) / cut_z.mean()
    rows = []
    for requirement in REQUIREMENTS:
        options = {**config["statistics"], "min_background_events_per_bin": requirement}
        zs, bins = [], []
        for tables in predictions.values():
            edges, histograms, _ = binned_histograms(
                tables, fractions, task.signal_class, options, fom["luminosity"]
            )
            numbers = signal_numbers(
                histograms["test"], task.signal_class, headline,
                fom["relative_background_uncertainty"], "uncorrelated", limits=False,
            )  # fmt: skip
            zs.append(numbers["z"])
            bins.append(len(edges) - 1)
        zs = np.asarray(zs)
        cv = zs.std(ddof=1) / zs.mean()
        rows.append({
            "min_background_events_per_bin": requirement, "bins_mean": np.mean(bins),
            "binned_z_test_mean": zs.mean(), "binned_z_test_std": zs.std(ddof=1),
            "binned_z_test_cv": cv, "cut_fom_test_mean": cut_z.mean(),
            "cut_fom_test_cv": cut_cv, "cv_ratio_binned_to_cut": cv / cut_cv,
        })  # fmt: skip
    table = pd.DataFrame(rows)
    print(f"{len(seeds)} seed models of {results}, headline signal: {headline}")
    print(table.round(4).to_string(index=False))
    # the cost of one fit and one set of limits, on a 10-bin model of the last seed
    options = {**config["statistics"], "min_background_events_per_bin": 10, "max_bins": 10}
    _, histograms, _ = binned_histograms(
        tables, fractions, task.signal_class, options, fom["luminosity"]
    )
    timing = {}
    for what, limits in (("discovery Z", False), ("Z and expected limits", True)):
        start = time.perf_counter()
        signal_numbers(histograms["test"], task.signal_class, headline,
                       fom["relative_background_uncertainty"], "uncorrelated", limits)  # fmt: skip
        timing[what] = time.perf_counter() - start
    print("seconds per model of", int(histograms["test"]["bin"].max()) + 1, "bins:",
          {key: round(value, 3) for key, value in timing.items()})  # fmt: skip
    return table


if __name__ == "__main__":
    results = Path(sys.argv[1] if len(sys.argv) > 1 else "results")
    table = main(results)
    table.to_csv(Path(__file__).with_suffix(".csv"), index=False)
