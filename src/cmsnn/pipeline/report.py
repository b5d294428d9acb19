"""The command that builds a run's report, as the end of the run prints it, and the
check that a report is not filed in another run's results folder.

Standard library only: ``common.smk`` calls it at every start.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path

import yaml


def report_command(
    results: str,
    configfiles: Sequence = (),
    config_overrides: Mapping | None = None,
    snakefile=None,
    stylesheet=None,
    started_in=None,
) -> str:
    """The command that builds the report of *this* run: ``snakemake --report
    <results>/report.html`` with the run's own ``--configfile`` files and ``--config``
    overrides (and its Snakefile where it is not ``./Snakefile``), so that, run as printed
    from the folder the run was started in, it reports the results it was printed after.

    Args:
        results: the run's results folder (config key ``results``), relative to the
            working folder (Snakemake's ``--directory``, where this is called).
        configfiles: the ``--configfile`` files of the run (a profile's included).
        config_overrides: the ``--config`` values of the run, as Snakemake parsed them.
        snakefile: the run's Snakefile.
        stylesheet: the report's stylesheet (``report/report.css``: figures scaled to the
            window, a tall one's top kept in reach), for ``--report-stylesheet``.
        started_in: the folder the run was started in (the shell's ``PWD``); where it is
            not the working folder (``--directory``), the command names the working folder
            and gives every other path in full.

    Returns:
        The command, quoted for a POSIX shell.
    """
    working = Path.cwd()
    elsewhere = started_in is not None and Path(started_in).resolve() != working.resolve()
    path = (lambda value: str(Path(value).absolute())) if elsewhere else _relative
    words = ["snakemake"]
    if elsewhere:
        words += ["--directory", str(working)]
    if snakefile is not None and path(snakefile) != "Snakefile":
        words += ["--snakefile", path(snakefile)]
    words += ["--report", f"{results}/report.html"]
    if stylesheet is not None:
        words += ["--report-stylesheet", path(stylesheet)]
    if configfiles:
        words += ["--configfile", *(path(file) for file in configfiles)]
    if config_overrides:
        words += ["--config"]
        words += [f"{key}={_config_value(value)}" for key, value in config_overrides.items()]
    return shlex.join(words)


def _relative(path) -> str:
    """``path`` relative to the working folder where it lies under it, else absolute."""
    path = Path(path).absolute()
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _config_value(value) -> str:
    """A ``--config`` value as Snakemake parses it back (numbers, text, YAML flow)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value)
    text = yaml.safe_dump(value, default_flow_style=True, width=10**6).strip()
    return text.removesuffix("\n...")  # the document end PyYAML puts after a scalar


def check_report_target(arguments: Sequence[str], results: str) -> None:
    """A ``--report`` into another configuration's results folder is refused: the report
    shows the results of the config Snakemake was started with, so filed in another
    run's folder it would present one run's results as another's. A results folder is
    known by the config a run keeps there (``config.yaml`` whose ``results`` names that
    very folder), wherever it lies.

    Raises:
        ValueError: the report's folder, or one above it, is another run's results
            folder and not ``results``.
    """
    target = _report_argument(arguments)
    if target is None:
        return
    ours = Path(results).absolute()
    folder = Path(target).absolute().parent
    for candidate in (folder, *folder.parents):
        if candidate == ours:
            return
        if _kept_results_folder(candidate / "config.yaml") == candidate:
            raise ValueError(
                f"--report {target}: {candidate}/ holds the results of another configuration "
                f"(its config.yaml), but this one (config key results) writes to {results}/; "
                "the report would show this configuration's results under that folder's name. "
                "Run the report command printed at the end of that run, with its "
                "--configfile and --config options"
            )


def _kept_results_folder(kept) -> Path | None:
    """The results folder a run's kept ``config.yaml`` names (None for any other file)."""
    try:
        named = yaml.safe_load(Path(kept).read_text()).get("results")
    except (OSError, AttributeError, yaml.YAMLError):
        return None
    return Path(named).absolute() if isinstance(named, str) else None


def _report_argument(arguments: Sequence[str]) -> str | None:
    """The path given to ``--report`` in a command line, if any."""
    for index, word in enumerate(arguments):
        if word == "--report" and index + 1 < len(arguments):
            following = arguments[index + 1]
            return None if following.startswith("-") else following
        if word.startswith("--report="):
            return word.removeprefix("--report=")
    return None


#: The report's section of each model: a seed's figures and tables, or an ensemble's.
MODEL_CATEGORY = "2. Models"
MODEL_SUBCATEGORY = "{point}, seed-{seed}"

#: The label of each figure in the report. The report lists a subcategory's results by
#: their labels' text (else by file name), so the numbers give a model's page the order
#: a physicist reads it in: training, ROC, outputs with the KS test, FOM scan, then the
#: rest; the tables (the KS test's, statistics.smk) come last.
FIGURE_LABELS = {
    # a model's page (a seed's, or a seed ensemble's: its FOM scan and KS table)
    "history": "1. training history (loss, accuracy)",
    "roc": "2. ROC curves",
    "outputs": "3. output distributions, KS test",
    "fom": "4. FOM scan",
    "confusion": "5. confusion matrix",
    "importance": "6. variable importance",
    "classification": "7. 2-D view of the test events",
    "binned_output": "8. binned output (binned likelihood)",
    # "3. Across models"
    "spread": "1. seed spread of every grid point",
    "seeds": "2. seeds' FOM scans, {point}",
    "by_signal": "FOM per signal point",
    "limits": "1. expected limits per signal point",
    "binned_z": "2. binned Z per signal point",
    # "1. Inputs"
    "inputs": "input distributions",
    "correlations": "correlations",
    "samples": "2-D view of the samples",
}


def figure_label(name: str) -> str:
    """The report's label of figure ``name``.

    >>> figure_label("roc"), figure_label("seed_spread")
    ('2. ROC curves', 'seed spread')
    """
    return FIGURE_LABELS.get(name, name.replace("_", " "))


def member_subcategory(wildcards) -> str:
    """The report's subcategory of a seed or of a grid point's seed ensemble (a function
    of the wildcards, as Snakemake's ``report()`` allows): "{point}, seed-{seed}" as
    :data:`MODEL_SUBCATEGORY`, and "{point}, seed ensemble" as the ensemble's figures
    name it, so that every model is one entry of "2. Models". Without a member wildcard
    it is the ensemble's."""
    member = getattr(wildcards, "member", "ensemble")
    return f"{wildcards.point}, {'seed ensemble' if member == 'ensemble' else member}"


def experiment_label(config: Mapping) -> dict:
    """What every figure says above its corners (the fields of
    :class:`cmsnn.figures.style.ExperimentLabel`): the experiment and the figure's status,
    the luminosity of the FOM and the energy."""
    plots = config["plots"]
    return {
        "experiment": plots["experiment"],
        "status": plots["status"],
        "luminosity_pb": config["fom"]["luminosity"] if plots["show_luminosity"] else None,
        "energy": plots["energy"],
    }
