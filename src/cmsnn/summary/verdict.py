"""The verdict at the end of a run: each model's test AUC, cut and FOM, and every
warning, so that a result that may mean nothing never passes in silence.
"""

from __future__ import annotations

import pandas as pd

from cmsnn.vocabulary import WARNING_SEPARATOR


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
    "binned_z_test": "binned Z",
    "limit_median_test": "limit μ",
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
    return [printable(line) for line in lines]


def printable(text: str) -> str:
    r"""``text`` with its control characters written out (``\x1b``), so that a name from
    a data file cannot move the cursor or rewrite what the console shows.

    >>> printable("ttbar\x1b[2K")
    'ttbar\\x1b[2K'
    """
    return "".join(
        character if character.isprintable() else character.encode("unicode_escape").decode()
        for character in text
    )


def _rounded(value) -> str:
    try:
        return f"{float(value):.4g}"
    except (TypeError, ValueError):
        return str(value)


def count_non_empty(warnings: pd.Series) -> int:
    return int((warnings.fillna("").astype(str) != "").sum())
