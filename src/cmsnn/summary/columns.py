"""The columns of ``fom_summary.csv``: their names, meaning and units, as the tables are
written and as ``docs/figure-of-merit.md`` lists them.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import pandas as pd

from cmsnn.vocabulary import ENSEMBLE, SEED

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
    "binned_z_test",
    "limit_median_test",
)


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
#: the column table of docs/figure-of-merit.md is generated from it
#: (``python -m cmsnn.summary.columns``).
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
    Column(
        ("binned_z_test", "binned_z_validation"),
        "the expected discovery significance of the binned likelihood of the signal output "
        "(pyhf, Asimov q0; bins chosen on validation; the FOM's `f` on the background in "
        "every bin, uncorrelated, and the MC statistics of every bin): the binned number "
        "to quote is the test one",
        "σ",
        decimals=3,
    ),
    Column(
        ("binned_z_test_stat_error",),
        "the bootstrap standard deviation of the binned test Z (MC statistics, the bins "
        "chosen again in every replica)",
        "σ",
        decimals=3,
    ),
    Column(
        ("binned_z_test_class_norms", "binned_z_validation_class_norms"),
        "the same with one normalisation uncertainty `f` per background class, correlated "
        "over the bins (lnN): the low-score bins constrain them, so this Z is close to one "
        "without background uncertainty",
        "σ",
        decimals=3,
    ),
    Column(
        ("binned_z_test_without_lowest_bin",),
        "the binned test Z without the lowest-score bin: how much the side bin carries",
        "σ",
        decimals=3,
    ),
    Column(
        (
            "limit_median_test",
            "limit_minus1_test",
            "limit_plus1_test",
            "limit_minus2_test",
            "limit_plus2_test",
        ),
        "the expected 95 % CL upper limit on the signal strength μ (asymptotic CLs, q̃μ, on "
        "the background-only Asimov data) on test, its median and ±1σ, ±2σ bands: below 1, "
        "the signal would be excluded",
        "× the signal's cross section",
        significant=3,
    ),
    Column(
        tuple(
            f"limit_{band}_test_class_norms"
            for band in ("median", "minus1", "plus1", "minus2", "plus2")
        ),
        "the same limits with per-class normalisation uncertainties",
        "× the signal's cross section",
        significant=3,
    ),
    Column(
        ("binned_z_optimism", "binned_z_optimism_low", "binned_z_optimism_high"),
        "the binned Z on validation (where the bins are chosen) minus on test, and its "
        "bootstrap 68 % interval; a warning where it exceeds the test Z's bootstrap error",
        "σ",
        decimals=3,
    ),
    Column(
        ("fom_optimism", "fom_optimism_low", "fom_optimism_high"),
        "the cut-based FOM on validation (where the cut is chosen) minus on test, and its "
        "interval of ± the two splits' bootstrap errors added in quadrature (independent "
        "samples); a warning where it exceeds the test FOM's bootstrap error",
        "σ",
        decimals=3,
    ),
    Column(("n_bins",), "the bins of the binned likelihood (chosen on validation)"),
)


def column_description(name: str) -> Column | None:
    """The :class:`Column` of a summary column; ``<column>_mean``, ``<column>_std`` and
    ``ensemble_<column>`` of the per-point tables are described by ``<column>``."""
    base = re.sub(r"_(mean|std)$", "", name.removeprefix(f"{ENSEMBLE}_"))
    return next((column for column in SUMMARY_COLUMNS if column.describes(base)), None)


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


def model_kinds(summary: pd.DataFrame) -> pd.Series:
    """Each summary row's ``kind`` (``seed`` or ``ensemble``); all seeds for a table
    written before ensembles had rows of their own."""
    if "kind" in summary:
        return summary["kind"]
    return pd.Series(SEED, index=summary.index)


if __name__ == "__main__":  # docs/figure-of-merit.md's column table
    print(column_table_markdown(), end="")
