"""The summary tables: one row per model (every seed, and each grid point's seed
ensemble), the spread over seeds per grid point, and the same for every signal process
taken alone as the signal."""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from cmsnn.files import read_json, write_csv
from cmsnn.grid import format_value
from cmsnn.logs import WARNING_SEPARATOR

log = logging.getLogger(__name__)

#: ``kind`` of a summary row: one trained network, or the mean of a grid point's seeds.
SEED, ENSEMBLE = "seed", "ensemble"
#: Columns that name a row rather than measure it.
IDENTITY_COLUMNS = (
    "model",
    "grid_point",
    "seed",
    "kind",
    "classification",
    "signal_process",
    "signal_model",
    "mass_1",
    "mass_2",
)
#: Counts that stay integers in the tables even where a row has none (ensembles, no cut).
INTEGER_COLUMNS = ("seed", "best_epoch", "epochs_run", "background_events_test_at_best_cut")
#: Ensemble results repeated beside the seeds' mean ± std in the per-point table.
ENSEMBLE_RESULTS = (
    "auc_test",
    "best_cut",
    "fom_validation_at_best_cut",
    "fom_test_at_best_cut",
    "fom_test_at_best_cut_stat_error",
    "fom_test_max",
)
#: ``<model>_<m1>_<m2>``, the usual naming of simplified-model signal samples.
_SIGNAL_POINT = re.compile(r"(?P<model>.+?)_(?P<mass_1>\d+(?:\.\d+)?)_(?P<mass_2>\d+(?:\.\d+)?)")


@dataclass(frozen=True)
class Column:
    """One column, or columns of one meaning (``names``; ``<class>`` stands for any
    class name), of the summary tables: what it means, its unit, and the precision it
    is written with (``decimals`` after the point, or ``significant`` digits), which is
    what it means: an AUC from ten thousand events is not known to 1e-6."""

    names: tuple[str, ...]
    meaning: str
    unit: str = ""
    decimals: int | None = None
    significant: int | None = None

    def describes(self, name: str) -> bool:
        return any(
            name.startswith(known.split("<")[0]) if "<" in known else name == known
            for known in self.names
        )

    def rounded(self, value):
        if not isinstance(value, float) or not math.isfinite(value):
            return value
        if self.decimals is not None:
            return round(value, self.decimals)
        if self.significant is not None and value != 0:
            return float(f"{value:.{self.significant}g}")
        return value


_EVENTS = "events expected at `fom.luminosity`"
#: Every column of ``fom_summary.csv`` (and of ``fom_by_signal.csv``) in table order:
#: the column table of docs/figure-of-merit.md is generated from it (``python -m cmsnn.summary``).
SUMMARY_COLUMNS = (
    Column(
        ("model",),
        "the model's folder under `models/`: `<grid point>/seed-<seed>`, or `<grid "
        "point>/ensemble` for the mean of the point's seeds' outputs",
    ),
    Column(("grid_point",), "the hyper-parameter grid point, e.g. `decay_rate-0.001`"),
    Column(("seed",), "the training seed (empty for an ensemble)"),
    Column(("kind",), "`seed` (one trained network) or `ensemble`"),
    Column(
        ("best_model",),
        "`True` on the one row with the highest validation FOM at its chosen cut: the model to use"
        " (chosen on validation, so its test FOM stays unbiased)",
    ),
    Column(("classification",), "`binary` or `multiclass`"),
    Column(
        ("signal_process", "signal_model", "mass_1", "mass_2"),
        "(`fom_by_signal.csv` only) the signal process taken alone as the signal, and its model "
        "and masses parsed from `<model>_<m1>_<m2>`",
        "GeV (masses)",
    ),
    Column(
        (
            "activation",
            "backend",
            "balancing",
            "batch_size",
            "decay_rate",
            "dropout",
            "early_stopping_patience",
            "epochs",
            "initializer",
            "jit_compile",
            "l2",
            "layers",
            "learning_rate",
            "negative_weights",
            "scaling",
            "shuffle",
        ),
        "the model's training and preprocessing settings (`training.*`, `preprocessing.*` with the"
        " grid point's values; layers as `64x64`)",
    ),
    Column(
        ("best_epoch", "epochs_run"),
        "the kept epoch (lowest validation loss) and the epochs trained",
    ),
    Column(
        ("best_val_loss",),
        "the validation loss at the kept epoch (weighted cross-entropy)",
        significant=5,
    ),
    Column(
        ("auc_train", "auc_validation", "auc_test"),
        "weighted AUC of the signal class against the rest, per split",
        decimals=4,
    ),
    Column(
        ("scan_cut_min", "scan_cut_max"),
        "the scanned range of the cut on the signal output (automatic: median to highest output of"
        " the counted validation signal)",
        decimals=4,
    ),
    Column(
        ("best_cut",),
        "the cut maximising the validation FOM among the allowed cuts; empty when none has a FOM "
        "above 0 (then `warnings` says why)",
        decimals=4,
    ),
    Column(
        ("fom_validation_at_best_cut",),
        "validation Asimov significance Z at that cut",
        "σ",
        decimals=3,
    ),
    Column(
        ("fom_test_at_best_cut",), "test Z at the same cut: the number to quote", "σ", decimals=3
    ),
    Column(
        ("fom_validation_at_best_cut_stat_error", "fom_test_at_best_cut_stat_error"),
        "the bootstrap standard error of that Z (MC statistics)",
        "σ",
        decimals=3,
    ),
    Column(
        ("signal_yield_test_at_best_cut",),
        "test signal yield above the cut",
        _EVENTS,
        significant=4,
    ),
    Column(
        ("signal_efficiency_test_at_best_cut",),
        "test signal efficiency of the cut (weighted)",
        significant=4,
    ),
    Column(
        ("background_yield_test_at_best_cut",),
        "test background yield above the cut",
        _EVENTS,
        significant=4,
    ),
    Column(
        ("background_mc_relative_uncertainty_test_at_best_cut",),
        "the background's MC statistical uncertainty there, √Σw²/b",
        decimals=3,
    ),
    Column(
        ("background_events_test_at_best_cut",),
        "simulated background events above the cut",
        "simulated events",
    ),
    Column(
        ("background_effective_events_test_at_best_cut",),
        "their Kish effective number (Σw)²/Σw²",
        "simulated events",
        decimals=1,
    ),
    Column(
        ("fom_test_max",),
        "the highest test Z among the allowed cuts (optimistic: chosen on the test split)",
        "σ",
        decimals=3,
    ),
    Column(("cut_test_max",), "the cut where it is reached", decimals=4),
    Column(
        ("warnings",),
        "why a number is meaningless or suspect (` \\| `-separated); empty when all is well",
    ),
    Column(
        ("yield_test_at_best_cut_<class>",),
        "test yield of each background class above the cut (`…_<class>`)",
        _EVENTS,
        significant=4,
    ),
    Column(
        ("ks_p_value_min",),
        "the smallest p-value, over the true classes, of the weighted Kolmogorov-Smirnov test of "
        "the signal output between training and validation events (overtraining_ks.csv)",
        significant=2,
    ),
    Column(("ks_p_value_min_class",), "the class it belongs to"),
    Column(
        ("overtraining_flag",),
        "`True` when that p-value is below `overtraining.p_value_threshold` (default 0.01): "
        "compare the training and validation outputs in output_distributions.png",
    ),
)


def column_description(name: str) -> Column | None:
    """The :class:`Column` of a summary column; ``<column>_mean``, ``<column>_std`` and
    ``ensemble_<column>`` of the per-point tables are described by ``<column>``."""
    base = re.sub(r"_(mean|std)$", "", name.removeprefix(f"{ENSEMBLE}_"))
    return next((column for column in SUMMARY_COLUMNS if column.describes(base)), None)


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


def column_table_markdown() -> str:
    """The table of the summary's columns in docs/figure-of-merit.md (meaning, unit, precision)."""
    lines = ["| column | meaning | unit | written to |", "| --- | --- | --- | --- |"]
    for column in SUMMARY_COLUMNS:
        names = ", ".join(f"`{name}`" for name in column.names)
        if column.decimals is not None:
            precision = f"{column.decimals} decimal{'s' if column.decimals > 1 else ''}"
        elif column.significant is not None:
            precision = f"{column.significant} significant digits"
        else:
            precision = ""
        lines.append(f"| {names} | {column.meaning} | {column.unit} | {precision} |")
    return "\n".join(lines) + "\n"


def training_warnings(facts: Mapping) -> list[str]:
    """The training's own warnings (classes whose weights mostly cancel), and a network
    whose kept epoch is its last: it was still improving when training stopped, so its
    FOM is not that of a trained model."""
    warnings = list(facts.get("warnings", []))
    if facts["epochs_run"] > 1 and facts["best_epoch"] == facts["epochs_run"]:
        warnings.append(
            f"the kept epoch is the last one trained ({facts['best_epoch']} of "
            f"{facts['epochs_run']}): the validation loss was still falling; train longer"
        )
    return warnings


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
    kinds = summary["kind"] if "kind" in summary else pd.Series(SEED, index=summary.index)
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
        table.insert(1, "n_seeds_with_warnings", grouped["warnings"].agg(_count_non_empty))
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


def parse_signal_point(process: str) -> dict:
    """``{signal_model, mass_1, mass_2}`` from a name such as ``T2DegStop_550_520.root``;
    empty values where the name does not follow ``<model>_<m1>_<m2>``."""
    match = _SIGNAL_POINT.fullmatch(process.removesuffix(".root"))
    if not match:
        return {"signal_model": None, "mass_1": None, "mass_2": None}
    return {
        "signal_model": match["model"],
        "mass_1": float(match["mass_1"]),
        "mass_2": float(match["mass_2"]),
    }


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


def summarise_files(inputs: Mapping, params: Mapping, outputs: Mapping) -> None:
    """Rule entry point. ``inputs``: per trained model (in ``params["models"]`` order)
    ``facts``, ``evaluation``, ``by_signal``; per grid point (``params["ensemble_points"]``)
    ``ensemble_evaluation``, ``ensemble_by_signal``. ``outputs``: ``summary``,
    ``headline``, ``by_point``, ``by_signal``, ``by_signal_by_point``."""
    facts = [read_json(path) for path in inputs["facts"]]
    rows, signal_tables = [], []
    for model_id, point, model_facts, evaluation, by_signal in zip(
        params["models"],
        params["points"],
        facts,
        inputs["evaluation"],
        inputs["by_signal"],
        strict=True,
    ):
        rows.append(model_row(model_id, point, model_facts, read_json(evaluation)))
        signal_tables.append(by_signal_rows(rows[-1], pd.read_csv(by_signal)))
    for point, evaluation, by_signal in zip(
        params["ensemble_points"],
        inputs["ensemble_evaluation"],
        inputs["ensemble_by_signal"],
        strict=True,
    ):
        members = [f for f, p in zip(facts, params["points"], strict=True) if p == point]
        rows.append(ensemble_row(point, members, read_json(evaluation)))
        signal_tables.append(by_signal_rows(rows[-1], pd.read_csv(by_signal)))
    summary = mark_best_model(_integer_columns(pd.DataFrame(rows)))
    settings = list(_settings(facts[0]))
    by_signal = _integer_columns(pd.concat(signal_tables, ignore_index=True))
    for row in summary.itertuples():
        if row.warnings:
            log.warning("%s: %s", row.model, row.warnings)
    # The means and spreads are taken before rounding, so rounding happens once.
    rounded = rounded_to_meaning(summary)
    write_csv(rounded, outputs["summary"])
    write_csv(headline_table(rounded), outputs["headline"])
    write_csv(rounded_to_meaning(aggregate_over_seeds(summary, settings)), outputs["by_point"])
    write_csv(rounded_to_meaning(by_signal), outputs["by_signal"])
    by_signal_settings = by_signal.merge(summary[["model", *settings]], on="model")
    by_signal_by_point = aggregate_over_seeds(
        by_signal_settings, settings, by=("grid_point", "signal_process")
    )
    write_csv(rounded_to_meaning(by_signal_by_point), outputs["by_signal_by_point"])


def summary_warnings(summary_path) -> list[str]:
    """``model: warning`` for every warning in a ``fom_summary.csv`` (for the console);
    ``all models: warning`` once for a warning every model has."""
    summary = pd.read_csv(summary_path, keep_default_na=False)
    if "warnings" not in summary:
        return []
    per_model = [
        [warning for warning in str(cell).split(WARNING_SEPARATOR) if warning]
        for cell in summary["warnings"]
    ]
    # A warning on every model (one about the data, such as a process missing from a
    # split) is said once.
    shared = (
        [w for w in per_model[0] if all(w in ws for ws in per_model)] if len(summary) > 1 else []
    )
    lines = [f"all models: {warning}" for warning in shared]
    return lines + [
        f"{model}: {warning}"
        for model, warnings in zip(summary["model"], per_model, strict=True)
        for warning in warnings
        if warning not in shared
    ]


#: The columns of the end-of-run verdict and the report's first page, with headings.
VERDICT_COLUMNS = {
    "model": "model",
    "auc_test": "AUC test",
    "best_cut": "cut",
    "fom_validation_at_best_cut": "FOM val.",
    "fom_test_at_best_cut": "FOM test",
    "fom_test_at_best_cut_stat_error": "± stat.",
    "overtraining_flag": "KS flag",
    "best_model": "best",
    "warnings": "warnings",
}


def headline_table(summary: pd.DataFrame) -> pd.DataFrame:
    """The summary a user reads first: per model the test AUC, the validation-chosen
    cut, the validation and test FOM there with the latter's error, the overtraining
    flag ("yes" or "no"), the best model marked, and the number of warnings."""
    table = summary[[c for c in VERDICT_COLUMNS if c in summary]].copy()
    table["warnings"] = [
        len([w for w in str(text).split(WARNING_SEPARATOR) if w and w != "nan"])
        for text in table["warnings"]
    ]
    flags = ["best_model", "overtraining_flag"]
    # The best model is marked; the KS flag reads "yes" or "no" (a blank cell would be
    # taken for a test not done), blank only where it is unknown. (Read back from the
    # CSV without NA parsing, a flag is the text "True" or "False".)
    words = {True: "yes", "True": "yes", False: "no", "False": "no"}
    if "best_model" in table:
        table["best_model"] = [
            "yes" if words.get(value) == "yes" else "" for value in table["best_model"]
        ]
    if "overtraining_flag" in table:
        table["overtraining_flag"] = [words.get(value, "") for value in table["overtraining_flag"]]
    for column in table.columns.drop(["model", "warnings", *flags], errors="ignore"):
        table[column] = [_rounded(value) for value in table[column]]
    return table.rename(columns=VERDICT_COLUMNS)


def verdict_lines(summary_path, results: str = "results", report_command: str = "") -> list[str]:
    """What a run ends with on the console: one line per model and ensemble (test AUC,
    the validation-chosen cut, the FOM there with its error, the best model, the number
    of warnings), every warning, and where the tables, figures and report are.

    ``report_command`` is the command that builds this run's report (with the run's
    own config files and overrides); ``snakemake --report <results>/report.html``
    without it."""
    summary = pd.read_csv(summary_path, keep_default_na=False)
    lines = ["", f"Results ({summary_path}):"]
    lines += headline_table(summary).to_string(index=False).splitlines()
    warnings = summary_warnings(summary_path)
    if warnings:
        lines += ["", f"WARNING: {len(warnings)} warning(s) in {summary_path} (column 'warnings'):"]
        lines += [f"  - {warning}" for warning in warnings]
    lines += [
        "",
        f"Tables:   {results}/fom_summary.csv (per model), {results}/fom_summary_by_point.csv, "
        f"{results}/fom_by_signal.csv",
        f"Figures:  {results}/plots/, {results}/models/<point>/<seed or ensemble>/plots/",
        f"Networks: {results}/models/<point>/seed-<seed>/model.onnx and model_card.json",
        f"Report:   {report_command or f'snakemake --report {results}/report.html'}",
    ]
    return lines


def _rounded(value) -> str:
    try:
        return f"{float(value):.4g}"
    except (TypeError, ValueError):
        return str(value)


def _settings(facts: Mapping) -> dict:
    return {key: _cell(value) for key, value in facts["settings"].items()}


def _integer_columns(table: pd.DataFrame) -> pd.DataFrame:
    """Counts as nullable integers, so that a missing one does not turn 37 into 37.0."""
    present = [column for column in INTEGER_COLUMNS if column in table]
    return table.astype(dict.fromkeys(present, "Int64"))


def _count_non_empty(warnings: pd.Series) -> int:
    return int((warnings.fillna("").astype(str) != "").sum())


def _cell(value):
    """Lists (layer sizes) become ``64x64`` so that a table cell holds them."""
    return format_value(value) if isinstance(value, list | tuple) else value


if __name__ == "__main__":
    print(column_table_markdown(), end="")
