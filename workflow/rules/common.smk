import glob
import math
import os
import sys
from pathlib import Path

import yaml

# Only light modules here (standard library and PyYAML): checking an up-to-date workflow
# must not cost the second that importing pandas and pyarrow takes.
from cmsnn.config.checks import check_classes, check_cut_range, check_every_class_has_a_process, check_fractions, check_headline_signal, check_presplit_fractions, describe_data, ingested_process_names, read_process_catalogue
from cmsnn.vocabulary import BALANCING_SCHEMES, SCALING_METHODS, SPLITS
from cmsnn.config.grid import PREPROCESSING_KEYS, canonical, expand_grid, point_settings
from cmsnn.logs import failure_summary
from cmsnn.config.schema import resolved_config
from cmsnn.pipeline.code_digest import PackageCode
from cmsnn.pipeline.report import check_report_target, report_command

# The conda environments install this package from here (envs/*.yaml: -e ${CMSNN_WORKFLOW_DIR}).
os.environ["CMSNN_WORKFLOW_DIR"] = str(Path(workflow.basedir).resolve())


# ... and cluster jobs get it too.
envvars:
    "CMSNN_WORKFLOW_DIR",


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


def toy_processes_file():
    """The process table of the embedded dataset; a relative path is taken from the
    workflow's folder, so the default works from any working directory."""
    return str(Path(workflow.basedir) / config["data"]["toy"]["processes"])


#: The embedded dataset's process table and what it says of its data, read once (data
#: source toy only).
TOY_TABLE, TOY_DESCRIPTION = (
    read_process_catalogue(toy_processes_file()) if config["data"]["source"] == "toy" else ({}, {})
)
# What describes the data (the headline signal, the units) comes from the data's own
# description: the embedded data's process table; your own data inherits nothing of it.
describe_data(config, TOY_DESCRIPTION)
# Checks the schema cannot express, done now rather than in a job after training.
check_fractions(config["split"]["fractions"])
check_classes(config["classes"])
if config["preselection"]:
    from cmsnn.preprocessing.selection import check_preselection

    check_preselection(config["preselection"], config["data"]["features"])
check_cut_range(config["fom"]["cut_min"], config["fom"]["cut_max"], config["fom"]["steps"])

GRID = expand_grid(config["grid"])
SEEDS = config["seeds"]
CLASS_NAMES = [entry["name"] for entry in config["classes"]]
SOURCE = config["data"]["source"]
RESULTS = config["results"].rstrip("/")
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
#: The tutorial's pre-split file names, per split.
PRESPLIT_STEMS = {"train": "train", "validation": "val", "test": "test"}

# Every path of the workflow, built here once: the rules and helpers name these patterns
# (``PATTERN.format(...)`` for one file), never spell a path themselves.
TOY_CSV = f"{RESULTS}/toy_data/{{sample}}.csv"
INGESTED = f"{RESULTS}/ingested/{{sample}}.parquet"
PROCESS_TABLE = f"{RESULTS}/ingested/processes.csv"
SPLIT = f"{RESULTS}/split/{{split}}.parquet"
#: Each process's measured share of each split: the yields' split fractions.
SPLIT_SHARES = f"{RESULTS}/split/shares.csv"
PRESELECTED = f"{RESULTS}/preselected/{{split}}.parquet"
#: The prepared (scaled, balanced) splits of one preprocessing.
PREPARED = f"{RESULTS}/prepared/{{scaling}}-{{balancing}}"
#: A grid point's folder of one trained network, of its seed ensemble, and of either.
MODEL = f"{RESULTS}/models/{{point}}/seed-{{seed}}"
ENSEMBLE = f"{RESULTS}/models/{{point}}/ensemble"
MEMBER = f"{RESULTS}/models/{{point}}/{{member}}"
#: The tables across models, and the folder of the figures across models.
SUMMARY = f"{RESULTS}/fom_summary.csv"
SUMMARY_HEADLINE = f"{RESULTS}/fom_summary_headline.csv"
SUMMARY_BY_POINT = f"{RESULTS}/fom_summary_by_point.csv"
BY_SIGNAL = f"{RESULTS}/fom_by_signal.csv"
BY_SIGNAL_BY_POINT = f"{RESULTS}/fom_by_signal_by_point.csv"
CUTFLOW = f"{RESULTS}/cutflow.csv"
PLOTS = f"{RESULTS}/plots"


wildcard_constraints:
    point="[^/]+",
    seed=r"\d+",
    member=r"seed-\d+|ensemble",
    split="|".join(SPLITS),
    sample="[^/]+",
    scaling="|".join(SCALING_METHODS),
    balancing="|".join(BALANCING_SCHEMES),


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


def input_csv_files():
    """``{sample: CSV path}`` of every input file, for the configured data source."""
    if SOURCE == "root":
        return {}
    if SOURCE == "toy":
        return {sample: TOY_CSV.format(sample=sample) for sample in TOY_PROCESSES}
    if SOURCE == "presplit":
        folder = Path(config["data"]["presplit_directory"])
        files = {
            f"{stem}_{kind}": str(folder / f"{stem}_{kind}.csv")
            for stem in PRESPLIT_STEMS.values()
            for kind in ("sig", "bkg")
        }
        missing = [path for path in files.values() if not Path(path).is_file()]
        if missing:
            raise ValueError(f"data.presplit_directory: missing {missing}")
        return files
    files = {}
    for pattern in config["data"]["csv_files"]:
        matches = sorted(glob.glob(pattern))
        if not matches:
            raise ValueError(f"data.csv_files: {pattern!r} matches no file")
        for path in matches:
            sample = Path(path).stem
            if files.setdefault(sample, path) != path:
                raise ValueError(
                    f"data.csv_files: {files[sample]} and {path} share the name {sample!r}"
                )
    return files


INPUT_CSV = input_csv_files()
#: ``{process name: its config entry}`` of the ROOT ntuples (data.source: root).
ROOT_PROCESSES = {process["name"]: process for process in config["data"]["root"]["processes"]}
if SOURCE == "root":
    from cmsnn.ingestion.root_files import check_root_processes, resolve_files

    check_root_processes(config["data"]["root"]["processes"], config["data"]["features"])
#: Every ingested sample: a CSV file, or a process of ROOT files.
SAMPLES = list(ROOT_PROCESSES) if SOURCE == "root" else list(INPUT_CSV)


def ingested_files():
    return [INGESTED.format(sample=sample) for sample in SAMPLES]


def known_process_names():
    """The process names known before any job runs: those of the embedded data and the
    ROOT ntuples, and a CSV's once its up-to-date ingestion has tabulated them."""
    if SOURCE == "toy":
        return [name for name, _ in TOY_PROCESSES.values()]
    if SOURCE == "root":
        return list(ROOT_PROCESSES)
    return ingested_process_names(PROCESS_TABLE, ingested_files(), list(INPUT_CSV.values()))


def check_known_processes():
    """Where the process names are known now, check the FOM's, and that every class of
    a multi-class network gets a process."""
    names = known_process_names()
    if names is not None:
        check_headline_signal(config["fom"]["signal_processes"], names, config["classes"])
        if config["classification"] == "multiclass":
            check_every_class_has_a_process(names, config["classes"])


check_known_processes()


def presplit_ingested(split):
    stem = PRESPLIT_STEMS[split]
    return [INGESTED.format(sample=f"{stem}_{kind}") for kind in ("sig", "bkg")]


def selected_split(split):
    """The events of a split as the network sees them: after the optional preselection."""
    return (PRESELECTED if config["preselection"] else SPLIT).format(split=split)


#: The splits with a preselection file (none without a preselection).
PRESELECTED_SPLITS = list(SPLITS) if config["preselection"] else []


#: Each grid point's training and preprocessing settings, and the folder of its prepared
#: inputs: worked out once here, not in every job's params and input functions.
POINT_SETTINGS = {point: point_settings(config, values) for point, values in GRID.items()}
PREPARED_DIRS = {
    point: PREPARED.format(**{key: settings[key] for key in PREPROCESSING_KEYS})
    for point, settings in POINT_SETTINGS.items()
}


def prepared_file(name):
    """``name`` in the wildcards' grid point's prepared folder (an input function)."""
    return lambda wildcards: f"{PREPARED_DIRS[wildcards.point]}/{name}"


def prepared_split(split):
    return prepared_file(f"{split}.parquet")


def model_dir(point, seed):
    return MODEL.format(point=point, seed=seed)


def member_outputs(filename):
    """``filename`` of every seed of the wildcards' grid point, in seed order."""
    return lambda wildcards: [f"{model_dir(wildcards.point, seed)}/{filename}" for seed in SEEDS]


def member_predictions(split):
    """The predictions of every seed of the wildcards' grid point, for the ensemble."""
    return member_outputs(f"predictions_{split}.csv")


#: Grid points with a seed ensemble: all of them when there are seeds to average.
ENSEMBLE_POINTS = list(GRID) if len(SEEDS) > 1 else []


def ensemble_outputs(filename):
    """``filename`` of every grid point's seed ensemble, in grid order."""
    return [f"{ENSEMBLE.format(point=point)}/{filename}" for point in ENSEMBLE_POINTS]


def model_outputs(filename):
    """``filename`` of every model, in the order of :func:`model_ids`."""
    return [f"{model_dir(point, seed)}/{filename}" for point in GRID for seed in SEEDS]


def model_ids():
    return [f"{point}/seed-{seed}" for point in GRID for seed in SEEDS]


def model_points():
    return [point for point in GRID for seed in SEEDS]


def threads_of(kind):
    return config["resources"][kind]["threads"]


#: Memory a job needs per MB of its input files on top of its kind's ``mem_mb``, for
#: the rules that hold their data in memory: the peak measured at 10 million events
#: (``benchmarks/pipeline_scale.py``; benchmarks/README.md's table) less the program's own (its
#: peak at 100,000 events), per MB of input, and a quarter more. Ingestion streams, and
#: the other rules read small tables: they need their kind's memory whatever the data.
MEMORY_PER_INPUT_MB = {
    "split_events": 7,
    "collect_presplit": 7,
    "preselect": 7,
    "scale_and_balance": 6,
    "tabulate_cutflow": 3,
    "plot_inputs": 9,
    "train_model": 13,
    "predict": 7,
    "permutation_importance": 15,
    "average_seed_predictions": 1,
    "evaluate_model": 2,
    "export_onnx": 2,
    "plot_model": 2,
}


def job_resources(kind, rule_name):
    """The resources of a kind of job (training, prediction, light), under the names each
    executor reads: ``mem_mb``/``runtime``/``gpu``/``gpu_model`` (local runs, Slurm) and
    ``htcondor_request_mem_mb``/``htcondor_request_disk_mb``/``request_gpus``/
    ``require_gpus`` (HTCondor). One config value feeds both, so they never disagree.
    The jobs of the rules in :data:`MEMORY_PER_INPUT_MB` ask for more memory as their
    inputs grow, so that a batch system never kills an honest job on a large dataset."""
    wanted = config["resources"][kind]
    resources = {
        "mem_mb": wanted["mem_mb"],
        "runtime": wanted["runtime"],
        "disk_mb": wanted["disk_mb"],
        "htcondor_request_mem_mb": wanted["mem_mb"],
        "htcondor_request_disk_mb": wanted["disk_mb"],
    }
    if wanted["gpu"] > 0:
        resources |= {"gpu": wanted["gpu"], "request_gpus": wanted["gpu"]}
        if wanted["gpu_model"]:
            resources["gpu_model"] = wanted["gpu_model"]
            resources["require_gpus"] = f'DeviceName == "{wanted["gpu_model"]}"'
    if rule_name in MEMORY_PER_INPUT_MB:
        memory = memory_from_inputs(wanted["mem_mb"], MEMORY_PER_INPUT_MB[rule_name])
        resources |= {"mem_mb": memory, "htcondor_request_mem_mb": memory}
    return resources


def memory_from_inputs(base_mb, per_input_mb):
    """A resources callable: ``base_mb`` plus ``per_input_mb`` for each MB of input."""

    def memory(wildcards, input):
        return base_mb + math.ceil(per_input_mb * input.size_mb)

    return memory


#: The report's section of each model: a seed's figures and tables, or an ensemble's.
MODEL_CATEGORY = "2. Models"
MODEL_SUBCATEGORY = "{point}, seed-{seed}"


def member_subcategory(wildcards):
    """The report's subcategory of a seed or of a grid point's seed ensemble (a function
    of the wildcards, as report() allows): "{point}, seed-{seed}" as MODEL_SUBCATEGORY,
    and "{point}, seed ensemble" as the ensemble's figures name it, so that every model
    is one entry of "2. Models". Without a member wildcard it is the ensemble's."""
    member = getattr(wildcards, "member", "ensemble")
    return f"{wildcards.point}, {'seed ensemble' if member == 'ensemble' else member}"


def figure(name, stem, caption, category, subcategory):
    """The PNG (shown in the report with its caption) and PDF outputs of one figure.

    The PNG gets the label ``result``: the report lists a subcategory's results by their
    labels' text (else by file name), so the numbers give a model's page the order a
    physicist reads it in: training, ROC, outputs with the KS test, FOM scan, then the
    rest; the tables (the KS test's, evaluation.smk) come last."""
    labels = {
        # a model's page (a seed's, or a seed ensemble's: its FOM scan and KS table)
        "history": "1. training history (loss, accuracy)",
        "roc": "2. ROC curves",
        "outputs": "3. output distributions, KS test",
        "fom": "4. FOM scan",
        "confusion": "5. confusion matrix",
        "importance": "6. variable importance",
        "classification": "7. 2-D view of the test events",
        # "3. Across models"
        "spread": "1. seed spread of every grid point",
        "seeds": "2. seeds' FOM scans, {point}",
        "by_signal": "FOM per signal point",
        # "1. Inputs"
        "inputs": "input distributions",
        "correlations": "correlations",
        "samples": "2-D view of the samples",
    }
    return {
        f"{name}_png": report(
            f"{stem}.png",
            caption=f"../../report/{caption}",
            category=category,
            subcategory=subcategory,
            labels={"result": labels.get(name, name.replace("_", " "))},
        ),
        f"{name}_pdf": f"{stem}.pdf",
    }


def experiment_label():
    """What every figure says above its corners (the fields of cmsnn.drawing.ExperimentLabel):
    the experiment and the figure's status, the luminosity of the FOM and the energy."""
    plots = config["plots"]
    return {
        "experiment": plots["experiment"],
        "status": plots["status"],
        "luminosity_pb": config["fom"]["luminosity"] if plots["show_luminosity"] else None,
        "energy": plots["energy"],
    }


def two_dimensional():
    """The 2-D chapter's views are drawn when the network has exactly two inputs."""
    return len(config["data"]["features"]) == 2


MODEL_FIGURES = [
    "training_history",
    "roc",
    "output_distributions",
    "confusion_matrix",
    "fom_scan",
    "importance",
]


def get_final_outputs(wildcards):
    """Every result of the default run, as the input function of the default target;
    so the list (a thousand files for 60 models) is built only when that target is asked
    for, not at every start (``snakemake results/fom_summary.csv`` does not need it)."""
    figures = MODEL_FIGURES + (["two_dimensional_classification"] if two_dimensional() else [])
    dataset = ["input_distributions", "correlations", "seed_spread"]
    dataset += ["two_dimensional_samples"] if two_dimensional() else []
    dataset += ["fom_by_signal"]
    return [
        SUMMARY,
        SUMMARY_BY_POINT,
        BY_SIGNAL,
        BY_SIGNAL_BY_POINT,
        PROCESS_TABLE,
        CUTFLOW,
        *(path for ext in ("png", "pdf") for path in ensemble_outputs(f"plots/fom_scan.{ext}")),
        *(
            path
            for ext in ("png", "pdf")
            for path in ensemble_outputs(f"plots/fom_scan_seeds.{ext}")
        ),
        *model_outputs("overtraining_ks.csv"),
        *model_outputs("model.onnx"),
        *model_outputs("model_card.json"),
        *(f"{PLOTS}/{name}.{ext}" for name in dataset for ext in ("png", "pdf")),
        *(
            path
            for name in figures
            for ext in ("png", "pdf")
            for path in model_outputs(f"plots/{name}.{ext}")
        ),
    ]


def keep_resolved_config():
    """At the start of a run, the resolved config into the results folder; a warning
    first if the folder holds another configuration's results (they will be replaced)."""
    kept = Path(RESULTS) / "config.yaml"
    if kept.is_file():
        earlier = yaml.safe_load(kept.read_text()) or {}
        changed = sorted(
            key for key in set(earlier) | set(config) if earlier.get(key) != config.get(key)
        )
        if changed:
            print(
                f"WARNING: {RESULTS}/ holds the results of another configuration (it differs in "
                f"{', '.join(changed)}); the steps they change are redone here. To keep both, give "
                "this configuration its own folder: results: <folder>.",
                file=sys.stderr,
            )
    from cmsnn.files import write_with

    write_with(
        kept, lambda temporary: temporary.write_text(yaml.safe_dump(dict(config), sort_keys=True))
    )


def print_verdict():
    """After a successful run, the verdict on the console: each model's test AUC, cut and
    FOM, every warning (a result that may mean nothing must not pass in silence), and
    where the results are."""
    from cmsnn.summary.verdict import verdict_lines

    summary = Path(SUMMARY)
    if summary.is_file():
        print("\n".join(verdict_lines(summary, RESULTS, REPORT_COMMAND)), file=sys.stderr)


def print_failures(main_log):
    """On failure, each failed job's error line on the console, beside Snakemake's
    "check log file(s)", so that the reason is seen without opening the log."""
    failures = failure_summary(main_log)
    if failures:
        print("\nWhy the failed jobs failed (last error line of each log):", file=sys.stderr)
        for failure in failures:
            print(f"  - {failure}", file=sys.stderr)
