# The workflow's start: the config resolved and checked, the run's paths and models, the
# wildcard constraints, and the input functions the rules share. Everything that is
# more than a call lives in the package (cmsnn.config, cmsnn.pipeline), with its tests.
import os
import re
import sys
from pathlib import Path

# Only light modules here (standard library and PyYAML): checking an up-to-date workflow
# must not cost the second that importing pandas and pyarrow takes.
from cmsnn.config.checks import (
    check_classes,
    check_config_text,
    check_results_folder,
    check_sample_names,
    check_unique_names,
    check_cut_range,
    check_fractions,
    check_known_processes,
    check_presplit_fractions,
    describe_data,
    ingested_process_names,
    read_process_catalogue,
)
from cmsnn.config.grid import PREPROCESSING_KEYS, canonical, expand_grid, point_settings
from cmsnn.config.schema import SCHEMA_FILE, command_line_values, load_schema, resolved_config
from cmsnn.config.size import check_config_size
from cmsnn.pipeline.code_digest import PackageCode
from cmsnn.pipeline.hooks import (
    keep_resolved_config,
    print_failures,
    print_verdict,
    record_main_process,
    remove_stale_locks,
)
from cmsnn.pipeline.inputs import input_csv_files
from cmsnn.pipeline.paths import (
    MassPointComparison,
    Models,
    ResultPaths,
    check_no_links,
    check_results_own,
)
from cmsnn.pipeline.report import (
    MODEL_CATEGORY,
    MODEL_SUBCATEGORY,
    check_report_target,
    experiment_label,
    figure_label,
    member_subcategory,
    report_command,
)
from cmsnn.pipeline.resources import job_resources
from cmsnn.vocabulary import BALANCING_SCHEMES, MASS_INPUTS, SCALING_METHODS, SPLITS, NetworkTask

# The conda environments install this package from here (envs/*.yaml: -e ${CMSNN_WORKFLOW_DIR}).
os.environ["CMSNN_WORKFLOW_DIR"] = str(Path(workflow.basedir).resolve())


# ... and cluster jobs get it too.
envvars:
    "CMSNN_WORKFLOW_DIR",


# `--config seeds=[1,2]` arrives as text: read as YAML where the schema wants a list,
# a mapping, a number or a boolean.
if workflow.config_settings.config:
    config.update(
        command_line_values(
            workflow.config_settings.config, load_schema(Path(workflow.basedir) / SCHEMA_FILE)
        )
    )
# Before anything walks the config: nested YAML aliases (in config.yaml, a --configfile
# or --config) would keep every check below busy for hours.
check_config_size(config, workflow.configfiles)
# Pre-split input brings its own split shares: split.fractions is refused for it (the
# check needs the config as given, before the schema's defaults fill it in).
check_presplit_fractions(config)
# Defaults from the schema; a typo names the key and its neighbours (not the whole
# schema, as Snakemake's own message does).
config.update(
    resolved_config(
        config,
        workflow.basedir,
        validator_schema=".snakemake/cmsnn/config.schema.json",
        cache_file=".snakemake/cmsnn/resolved_config.json",
    )
)
SOURCE = config["data"]["source"]
#: The embedded dataset's process table and what it says of its data, read once (data
#: source toy only; a relative path is taken from the workflow's folder).
TOY_TABLE, TOY_DESCRIPTION = (
    read_process_catalogue(Path(workflow.basedir) / config["data"]["toy"]["processes"])
    if SOURCE == "toy"
    else ({}, {})
)
# What describes the data (the headline signal, the units) comes from the data's own
# description: the embedded data's process table; your own data inherits nothing of it.
describe_data(config, TOY_DESCRIPTION)
# Checks the schema cannot express, done now rather than in a job after training.
check_config_text(config)
check_results_folder(config["results"], os.getcwd())
check_unique_names(config["data"]["features"], "data.features", "list each variable once")
check_fractions(config["split"]["fractions"])
check_classes(config["classes"])
if any("$" in text for text in config["plots"]["units"].values()):
    # (matplotlib: only when a unit is written as TeX)
    from cmsnn.figures.style import check_math_text

    check_math_text(config["plots"]["units"], "plots.units")
if config["preselection"]:
    from cmsnn.preprocessing.selection import check_preselection

    check_preselection(config["preselection"], config["data"]["features"])
check_cut_range(config["fom"]["cut_min"], config["fom"]["cut_max"], config["fom"]["steps"])

GRID = expand_grid(config["grid"])
SEEDS = config["seeds"]
CLASS_NAMES = [entry["name"] for entry in config["classes"]]
#: A parametrised network (training.parametrised): the signal point's masses are inputs,
#: and the non-signal events are predicted at every signal point too.
PARAMETRISED = config["training"]["parametrised"]
#: What the network is asked: one value for every rule that needs to know.
TASK = NetworkTask(
    config["classification"],
    CLASS_NAMES,
    config["data"]["features"],
    mass_inputs=MASS_INPUTS if PARAMETRISED else (),
)
#: Every path of the run (rules write ``PATHS.model``, never a path of their own) and
#: its models: one per grid point and seed.
PATHS = ResultPaths(config["results"])
RESULTS = PATHS.results
MODELS = Models(PATHS, list(GRID), SEEDS)
#: A parametrised run's comparison with dedicated networks (for the grid's first point):
#: the network of every point when points are held out, and a dedicated network (asked
#: without masses) per held-out point and per point of training.dedicated_networks.
COMPARISON = MassPointComparison(
    PATHS,
    next(iter(GRID)),
    SEEDS,
    config["training"]["held_out_mass_points"],
    config["training"]["dedicated_networks"],
)
DEDICATED_TASK = NetworkTask(config["classification"], CLASS_NAMES, config["data"]["features"])
if workflow.is_main_process:  # not in every job's own start on a cluster
    # a run killed outright left its locks: the same command resumes it
    remove_stale_locks()
    # a link planted in the results folder would be read into the report or written
    # over (checked once per run, not at every job's start on a cluster)
    check_no_links(RESULTS)
    # ... and a folder that was never a results folder would be read and written over
    check_results_own(RESULTS, config["results_may_hold_other_files"])
#: The command that builds this run's report, as the end of the run prints it: with the
#: run's own --configfile files and --config values, so that it reports this run.
REPORT_COMMAND = report_command(
    RESULTS,
    workflow.config_settings.configfiles,
    workflow.config_settings.config,
    workflow.main_snakefile,
    Path(workflow.basedir) / "report" / "report.css",
    started_in=os.environ.get("PWD"),
)
# A report filed in another configuration's results folder would present this run's
# results under that run's name: refused.
check_report_target(sys.argv, RESULTS)


wildcard_constraints:
    point="[^/]+",
    seed=r"\d+",
    member=r"seed-\d+|ensemble",
    split="|".join(SPLITS),
    sample="[^/]+",
    scaling="|".join(SCALING_METHODS),
    balancing="|".join(BALANCING_SCHEMES),
    process="|".join(re.escape(point) for point in COMPARISON.dedicated_points) or "[^/]+",


#: The package's modules as the rules run them; parsed modules are remembered in
#: .snakemake/ by their source's checksum, so that a start parses only what changed.
PACKAGE_CODE = PackageCode(
    Path(workflow.basedir) / "src" / "cmsnn", cache_file=".snakemake/cmsnn/package_code.json"
)


def code_version(stage):
    """A digest of the code a stage runs (its module and what it imports, without
    comments and docstrings), as a rule's param: an edit that changes what the stage
    does reruns its jobs; a comment, a docstring or the I/O and logging helpers do not."""
    return PACKAGE_CODE.version(stage)


#: ``{sample: (process name, generator parameters)}`` of the embedded dataset.
TOY_PROCESSES = {
    name.removesuffix(".root"): (name, parameters) for name, parameters in TOY_TABLE.items()
}
INPUT_CSV = input_csv_files(config["data"], TOY_PROCESSES, PATHS)
# sample names become wildcards, paths and job arguments (a batch system's shell sees them)
check_sample_names(INPUT_CSV, f"data.{'csv_files' if SOURCE == 'csv' else SOURCE}")
#: ``{process name: its config entry}`` of the ROOT ntuples (data.source: root).
ROOT_PROCESSES = {process["name"]: process for process in config["data"]["root"]["processes"]}
if SOURCE == "root":
    from cmsnn.ingestion.root_files import check_root_processes, resolve_files

    check_root_processes(config["data"]["root"]["processes"], config["data"]["features"])
    check_sample_names(
        {name: name for name in ROOT_PROCESSES}, "data.root.processes (the name of each)"
    )
#: Every ingested sample: a CSV file, or a process of ROOT files.
SAMPLES = list(ROOT_PROCESSES) if SOURCE == "root" else list(INPUT_CSV)


def ingested_files():
    return [PATHS.ingested.format(sample=sample) for sample in SAMPLES]


# Where the process names are known now (the embedded data's, the ROOT ntuples', a CSV's
# once its up-to-date ingestion has tabulated them), the FOM's signal processes and the
# classes of a multi-class network are checked against them.
check_known_processes(
    config,
    (
        [name for name, _ in TOY_PROCESSES.values()]
        if SOURCE == "toy"
        else (
            list(ROOT_PROCESSES)
            if SOURCE == "root"
            else ingested_process_names(
                PATHS.process_table, ingested_files(), list(INPUT_CSV.values())
            )
        )
    ),
)


def selected_split(split):
    """The events of a split as the network sees them: after the optional preselection."""
    return PATHS.selected_split(split, bool(config["preselection"]))


#: The splits with a preselection file (none without a preselection).
PRESELECTED_SPLITS = list(SPLITS) if config["preselection"] else []
#: Each grid point's training and preprocessing settings, and the folder of its prepared
#: inputs: worked out once here, not in every job's params and input functions.
POINT_SETTINGS = {point: point_settings(config, values) for point, values in GRID.items()}
PREPARED_DIRS = {
    point: PATHS.prepared.format(**{key: settings[key] for key in PREPROCESSING_KEYS})
    for point, settings in POINT_SETTINGS.items()
}
if workflow.is_main_process:
    PLANNED_JOBS = (
        MODELS.jobs(
            samples=len(SAMPLES),
            generated=SOURCE == "toy",
            preselection=bool(config["preselection"]),
            preparations=len(set(PREPARED_DIRS.values())),
            two_dimensional=len(config["data"]["features"]) == 2,
        )
        + COMPARISON.jobs()
    )
    print(
        f"cmsnn: {MODELS.plan()}{COMPARISON.plan()}, {PLANNED_JOBS:,} jobs from scratch (results in {RESULTS}/)",
        file=sys.stderr,
    )


def prepared_file(name):
    """``name`` in the wildcards' grid point's prepared folder (an input function)."""
    return lambda wildcards: f"{PREPARED_DIRS[wildcards.point]}/{name}"


def prepared_split(split):
    return prepared_file(f"{split}.parquet")


def member_outputs(filename):
    """``filename`` of every seed of the wildcards' grid point (an input function)."""
    return lambda wildcards: MODELS.member_outputs(wildcards.point, filename)


def member_predictions(split):
    """The predictions of every seed of the wildcards' grid point, for the ensemble."""
    return member_outputs(f"predictions_{split}.parquet")


def comparison_prepared(folder, name):
    """``name`` in a compared network's prepared folder (an input function): the grid
    point's scaling and balancing."""

    def path(wildcards):
        settings = POINT_SETTINGS[wildcards.point]
        return f"{folder}/{name}".format(
            point=wildcards.point,
            process=wildcards.get("process", ""),
            **{key: settings[key] for key in PREPROCESSING_KEYS},
        )

    return path


def trained_files(folder):
    """The outputs of a training job whose model folder is ``folder``."""
    return {
        "model": f"{folder}/model.keras",
        "onnx": f"{folder}/model.onnx",
        "network": f"{folder}/network.onnx",
        "check": f"{folder}/onnx_check.json",
        "history": f"{folder}/history.csv",
        "facts": f"{folder}/training.json",
    }


def prediction_files(folder):
    """The prediction tables (Parquet and CSV) of a prediction job writing to ``folder``."""
    return {
        **{split: f"{folder}/predictions_{split}.parquet" for split in SPLITS},
        **{f"{split}_csv": f"{folder}/predictions_{split}.csv" for split in SPLITS},
    }


def at_mass_points(folder, splits=SPLITS):
    """A parametrised network's tables of its non-signal events at every signal point,
    ``{at_mass_points_<split>: file}``; none for another network."""
    if not PARAMETRISED:
        return {}
    return {
        f"at_mass_points_{split}": f"{folder}/at_mass_points_{split}.parquet" for split in splits
    }


def member_at_mass_points():
    """Every seed's tables at the mass points, for the ensemble; none if unparametrised."""
    if not PARAMETRISED:
        return {}
    return {
        f"at_mass_points_{split}": member_outputs(f"at_mass_points_{split}.parquet")
        for split in SPLITS
    }


def mass_point_params():
    """What the predictions of a parametrised network need: the masses given in the
    config and the headline point; nothing for another network (so its jobs keep their
    params)."""
    if not PARAMETRISED:
        return {}
    return {
        "signal_masses": config["training"]["signal_masses"],
        "headline": config["fom"]["signal_processes"],
    }


def figure(name, stem, caption, category, subcategory):
    """The PNG (shown in the report with its caption and label) and PDF outputs of one
    figure."""
    return {
        f"{name}_png": report(
            f"{stem}.png",
            caption=f"../../report/{caption}",
            category=category,
            subcategory=subcategory,
            labels={"result": figure_label(name)},
        ),
        f"{name}_pdf": f"{stem}.pdf",
    }


def two_dimensional():
    """The 2-D chapter's views are drawn when the network has exactly two inputs."""
    return len(config["data"]["features"]) == 2


def get_final_outputs(wildcards):
    """Every result of the default run, as the input function of the default target;
    so the list (a thousand files for 60 models) is built only when that target is asked
    for, not at every start (``snakemake results/fom_summary.csv`` does not need it)."""
    return MODELS.final_outputs(two_dimensional()) + COMPARISON.outputs()
