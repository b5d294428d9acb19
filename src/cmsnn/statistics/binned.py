"""The binned likelihood of one model (a seed or a seed ensemble): the signal score's
histograms, the bins chosen on validation, and per signal (the headline signal, and each
signal process alone) and per split the expected discovery significance and the
expected upper limit on μ, for both background models; the workspaces and a Combine
datacard for the headline signal on test; and the optimism of the choice of bins.

What is quoted: the test split with the validation-chosen bins. The limits are computed
on test only (they are quoted, not chosen on); the significance on both splits.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import pyhf

from cmsnn.dataframes import read_predictions, write_csv
from cmsnn.files import write_json
from cmsnn.preprocessing.splitting import read_shares
from cmsnn.statistics.binning import choose_edges, failing_bins
from cmsnn.statistics.datacard import check_datacard, write_datacard
from cmsnn.statistics.histograms import fine_edges, rebin, score_histograms, totals
from cmsnn.statistics.likelihood import BACKGROUND_MODELS, expected_numbers, workspace_spec
from cmsnn.statistics.yields import at_mass_point, signal_process_names
from cmsnn.vocabulary import NetworkTask

log = logging.getLogger(__name__)

#: The splits the binned numbers are given for: chosen on the first, quoted on the last.
BINNED_SPLITS = ("validation", "test")
#: The name of the signal made of the headline processes in the tables.
HEADLINE = "headline"


def binned_histograms(
    predictions: Mapping[str, pd.DataFrame],
    fractions: Mapping[str, Mapping[str, float]],
    signal_class: str,
    options: Mapping,
    luminosity: float,
) -> tuple[np.ndarray, dict[str, pd.DataFrame], list[str]]:
    """The chosen edges, the histograms of each split on them, and warnings.

    Args:
        predictions: ``{split: prediction table}`` of validation and test.
        fractions: ``{split: {process: share}}``, the measured split shares.
        signal_class: the signal class.
        options: the config's ``statistics`` section.
        luminosity: in pb⁻¹.
    """
    fine = fine_edges(options["fine_bins"])
    histograms = {
        split: score_histograms(
            predictions[split], signal_class, fine, luminosity, fractions[split]
        )
        for split in BINNED_SPLITS
    }
    backgrounds = _background_processes(histograms["validation"], signal_class)
    warnings = []
    if options["edges"]:
        edges = np.asarray(options["edges"], dtype=np.float64)
        histograms = {split: rebin_to(table, edges) for split, table in histograms.items()}
        checked = BINNED_SPLITS
    else:
        sumw, sumw2 = totals(histograms["validation"], backgrounds)
        edges, warnings = choose_edges(
            fine, sumw, sumw2, options["min_background_events_per_bin"], options["max_bins"]
        )
        histograms = {split: rebin(table, edges) for split, table in histograms.items()}
        checked = ("test",)
    for split in checked:
        sumw, sumw2 = totals(
            histograms[split], _background_processes(histograms[split], signal_class)
        )
        warnings += failing_bins(
            edges, sumw, sumw2, options["min_background_events_per_bin"], split
        )
    return edges, histograms, warnings


def rebin_to(histograms: pd.DataFrame, edges: np.ndarray) -> pd.DataFrame:
    """Explicit edges (``statistics.edges``) on the fine histograms: each edge is moved to
    the nearest fine edge."""
    own = np.append(histograms["low"].unique(), histograms["high"].max())
    nearest = own[np.abs(own[:, None] - np.asarray(edges)[None, :]).argmin(axis=0)]
    return rebin(histograms, np.unique(nearest))


def signal_numbers(
    histograms: pd.DataFrame,
    signal_class: str,
    signal: Sequence[str],
    relative_uncertainty: float,
    model: str,
    limits: bool,
    without_lowest_bin: bool = False,
) -> dict:
    """The expected Z (and limits) of one signal against every background."""
    spec = _workspace(histograms, signal_class, signal, relative_uncertainty, model)
    numbers = expected_numbers(spec, limits=limits)
    if without_lowest_bin:
        top = histograms[histograms["bin"] > 0].assign(bin=lambda t: t["bin"] - 1)
        spec_top = _workspace(top, signal_class, signal, relative_uncertainty, model)
        numbers["z_without_lowest_bin"] = expected_numbers(spec_top, limits=False)["z"]
    return numbers | {"workspace": spec}


def _workspace(histograms, signal_class, signal, relative_uncertainty, model) -> dict:
    """The workspace of ``signal`` against every background class of ``histograms``."""
    backgrounds = _background_processes(histograms, signal_class)
    classes = histograms[histograms["process"].isin(backgrounds)].groupby("class")["process"]
    by_class = {name: totals(histograms, list(group.unique())) for name, group in classes}
    return workspace_spec(totals(histograms, signal), by_class, relative_uncertainty, model)


def signal_row(
    histograms: Mapping[str, pd.DataFrame], signal_class: str, members: Sequence[str], f: float
) -> tuple[dict, dict]:
    """One signal's numbers on both splits for both background models, and its test
    workspaces: the significance on both splits, the limits and the significance
    without the lowest bin on test."""
    row, workspaces = {}, {}
    for model in BACKGROUND_MODELS:
        suffix = "" if model == BACKGROUND_MODELS[0] else f"_{model}"
        for split in BINNED_SPLITS:
            quoted = split == "test"
            numbers = signal_numbers(
                histograms[split], signal_class, members, f, model, limits=quoted,
                without_lowest_bin=quoted and not suffix,
            )  # fmt: skip
            if quoted:
                workspaces[model] = numbers.pop("workspace")
            row[f"binned_z_{split}{suffix}"] = numbers["z"]
            for key, value in numbers.items():
                if key.startswith("limit_"):
                    row[f"{key}_{split}{suffix}"] = value
            if "z_without_lowest_bin" in numbers:
                row[f"binned_z_{split}_without_lowest_bin"] = numbers["z_without_lowest_bin"]
    return row, workspaces


def fit_binned_likelihood(
    predictions: Mapping[str, pd.DataFrame],
    fractions: Mapping[str, Mapping[str, float]],
    task: NetworkTask,
    options: Mapping,
    fom_options: Mapping,
    at_points: Mapping[str, pd.DataFrame] | None = None,
) -> dict:
    """Every binned number of one model: ``{"edges", "histograms", "numbers" (the
    headline signal's, for the summary), "by_signal" (a table), "workspaces",
    "binning_warnings" (the bins' own), "warnings" (all)}``. A parametrised network
    (``at_points``: ``{split: its other events at every signal point}``) is asked at
    each signal process's own point, with bins chosen there."""
    signal_class = task.signal_class
    f = fom_options["relative_background_uncertainty"]
    edges, histograms, warnings = binned_histograms(
        predictions, fractions, signal_class, options, fom_options["luminosity"]
    )
    processes = signal_process_names(predictions["test"], signal_class)
    headline = list(fom_options["signal_processes"]) or processes
    signals = {HEADLINE: headline} | {process: [process] for process in processes}
    rows, workspaces, computed = [], {}, {}
    for name, members in signals.items():
        key = tuple(sorted(members))
        if key in computed:  # the headline is often one of the signal points
            pass
        elif at_points is not None and name != HEADLINE:
            at_point = {
                split: at_mass_point(predictions[split], at_points[split], name, signal_class)
                for split in BINNED_SPLITS
            }
            _, own, _ = binned_histograms(
                at_point, fractions, signal_class, options, fom_options["luminosity"]
            )
            computed[key] = signal_row(own, signal_class, members, f)
        else:
            computed[key] = signal_row(histograms, signal_class, members, f)
        row, specs = computed[key]
        rows.append({"signal_process": name, **row})
        if name == HEADLINE:
            workspaces = specs
    by_signal = pd.DataFrame(rows)
    headline_row = by_signal.iloc[0].drop("signal_process").to_dict()
    optimism = binned_optimism(
        predictions, fractions, task, options, fom_options, headline, headline_row
    )
    binning_warnings = list(warnings)
    warnings = binning_warnings + optimism.pop("warnings", [])
    numbers = {**headline_row, **optimism, "n_bins": len(edges) - 1}
    return {
        "edges": edges,
        "binning_warnings": binning_warnings,
        "histograms": histograms,
        "numbers": numbers,
        "by_signal": by_signal.iloc[1:].reset_index(drop=True),
        "workspaces": workspaces,
        "warnings": warnings,
    }


def binned_optimism(
    predictions: Mapping[str, pd.DataFrame],
    fractions: Mapping[str, Mapping[str, float]],
    task: NetworkTask,
    options: Mapping,
    fom_options: Mapping,
    headline: Sequence[str],
    numbers: Mapping,
) -> dict:
    """How much the choice of bins on validation flatters it: the binned Z on validation
    minus on test, and a bootstrap interval of that difference (Poisson(1) multiplicities
    of the events; the bins chosen again in every replica). Warned about where it exceeds
    the test Z's own bootstrap standard deviation."""
    difference = numbers["binned_z_validation"] - numbers["binned_z_test"]
    replicas = options["bootstrap_replicas"]
    result = {"binned_z_optimism": difference}
    if replicas < 2:
        return result | {"binned_z_optimism_low": np.nan, "binned_z_optimism_high": np.nan}
    stream = zlib.crc32("\n".join(sorted(headline)).encode())
    rng = np.random.default_rng([fom_options["bootstrap_seed"], stream, 7])
    f = fom_options["relative_background_uncertainty"]
    differences, tests = [], []
    for _ in range(replicas):
        resampled = {
            split: table.assign(weight=table["weight"] * rng.poisson(1.0, len(table)))
            for split, table in predictions.items()
        }
        _, histograms, _ = binned_histograms(
            resampled, fractions, task.signal_class, options, fom_options["luminosity"]
        )
        z = {
            split: signal_numbers(
                histograms[split], task.signal_class, headline, f, BACKGROUND_MODELS[0], False
            )["z"]
            for split in BINNED_SPLITS
        }
        differences.append(z["validation"] - z["test"])
        tests.append(z["test"])
    low, high = np.percentile(differences, [16, 84])
    spread = float(np.std(tests, ddof=1))
    result |= {"binned_z_optimism_low": float(low), "binned_z_optimism_high": float(high)}
    result["binned_z_test_stat_error"] = spread
    if difference > spread:
        result["warnings"] = [
            f"the binned Z is {difference:.2f} higher on validation, where the bins were "
            f"chosen, than on test (the test Z's bootstrap error: {spread:.2f}): quote the "
            "test value"
        ]
    return result


def fit_binned_likelihood_files(
    *,
    predictions: Mapping[str, str],
    shares,
    histograms,
    binning,
    numbers,
    by_signal,
    workspace,
    workspace_class_norms,
    datacard,
    shapes,
    datacard_class_norms,
    shapes_class_norms,
    task: NetworkTask,
    options: Mapping,
    fom_options: Mapping,
    at_mass_points: Mapping[str, str] | None = None,
) -> None:
    """Entry point of rule ``fit_binned_likelihood``: one model's predictions of
    validation and test in; its binned likelihood out.

    Args:
        predictions: ``{split: prediction Parquet file}`` (validation and test are read).
        shares: the split step's ``shares.csv``.
        histograms: the histograms of both splits on the chosen bins (CSV).
        binning: the chosen edges and the binning's warnings (JSON).
        numbers: the headline signal's numbers and all warnings (JSON).
        by_signal: the numbers of each signal process alone (CSV).
        workspace, workspace_class_norms: the headline signal's pyhf workspaces on test,
            for both background models.
        datacard, shapes, datacard_class_norms, shapes_class_norms: the same as Combine
            datacards with their shapes ROOT files, each read back and checked against
            its workspace.
        task: what the network is asked.
        options: the config's ``statistics`` section.
        fom_options: the config's ``fom`` section (luminosity, ``f``, headline signal).
        at_mass_points: a parametrised network's ``{split: Parquet file}`` of the other
            events at every signal point (validation and test are read).
    """
    tables = {split: read_predictions(predictions[split]) for split in BINNED_SPLITS}
    at_points = {
        split: read_predictions(path) for split, path in (at_mass_points or {}).items()
    } or None
    fractions, _ = read_shares(shares)
    result = fit_binned_likelihood(tables, fractions, task, options, fom_options, at_points)
    for warning in result["warnings"]:
        log.warning("%s", warning)
    table = pd.concat(
        [frame.assign(split=split) for split, frame in result["histograms"].items()],
        ignore_index=True,
    )
    write_csv(table[["split", *table.columns.drop("split")]], histograms)
    write_json(
        {
            "edges": [float(edge) for edge in result["edges"]],
            "warnings": result["binning_warnings"],
        },
        binning,
    )
    write_json(
        {key: _plain(value) for key, value in result["numbers"].items()}
        | {"warnings": result["warnings"]},
        numbers,
    )
    write_csv(result["by_signal"], by_signal)
    for model, spec_path, card, card_shapes in (
        ("uncorrelated", workspace, datacard, shapes),
        ("class_norms", workspace_class_norms, datacard_class_norms, shapes_class_norms),
    ):
        spec = result["workspaces"][model]
        pyhf.schema.validate(spec, "workspace.json")  # what pyhf will read must be valid
        write_json(spec, spec_path)
        for note in write_datacard(spec, result["edges"], card, card_shapes):
            log.info("%s: %s", card, note)
        check_datacard(spec, card)


def _background_processes(histograms: pd.DataFrame, signal_class: str) -> list[str]:
    return sorted(histograms.loc[histograms["class"] != signal_class, "process"].unique())


def _plain(value):
    value = float(value) if isinstance(value, np.floating | np.integer) else value
    return None if isinstance(value, float) and not np.isfinite(value) else value
