import glob
from pathlib import Path

from snakemake.utils import validate

from cmsnn.configuration import scientific_numbers
from cmsnn.grid import PREPROCESSING_KEYS, canonical, expand_grid, point_settings
from cmsnn.splitting import SPLITS
from cmsnn.toydata import read_process_table


config.update(scientific_numbers(dict(config)))
validate(config, schema="../schemas/config.schema.yaml")

GRID = expand_grid(config["grid"])
SEEDS = config["seeds"]
CLASS_NAMES = [entry["name"] for entry in config["classes"]]
SOURCE = config["data"]["source"]
RESULTS = "results"
#: The tutorial's pre-split file names, per split.
PRESPLIT_STEMS = {"train": "train", "validation": "val", "test": "test"}


wildcard_constraints:
    point="[^/]+",
    seed=r"\d+",
    split="|".join(SPLITS),
    sample="[^/]+",
    scaling="minmax|standard|quantile",
    balancing="equal|sqrt|none",


def package_code(*modules):
    """The package modules a job runs, as inputs, so that editing one reruns the job
    (Snakemake itself only watches the script file)."""
    package = Path(workflow.basedir) / "src" / "cmsnn"
    return [str(package / f"{module}.py") for module in ("files", *modules)]


def toy_processes_file():
    """The process table of the embedded dataset; a relative path is taken from the
    workflow's folder, so the default works from any working directory."""
    return str(Path(workflow.basedir) / config["data"]["toy"]["processes"])


def toy_processes():
    """``{sample: (process name, generator parameters)}`` of the embedded dataset."""
    table = read_process_table(toy_processes_file())
    return {name.removesuffix(".root"): (name, parameters) for name, parameters in table.items()}


def input_csv_files():
    """``{sample: CSV path}`` of every input file, for the configured data source."""
    if SOURCE == "toy":
        return {sample: f"{RESULTS}/toy_data/{sample}.csv" for sample in toy_processes()}
    if SOURCE == "presplit":
        folder = Path(config["data"]["presplit_directory"])
        return {
            f"{stem}_{kind}": str(folder / f"{stem}_{kind}.csv")
            for stem in PRESPLIT_STEMS.values()
            for kind in ("sig", "bkg")
        }
    files = {}
    for pattern in config["data"]["csv_files"]:
        matches = sorted(glob.glob(pattern))
        if not matches:
            raise ValueError(f"data.csv_files: {pattern!r} matches no file")
        for path in matches:
            sample = Path(path).stem
            if files.setdefault(sample, path) != path:
                raise ValueError(f"data.csv_files: {files[sample]} and {path} share the name {sample!r}")
    return files


INPUT_CSV = input_csv_files()


def ingested_files():
    return [f"{RESULTS}/ingested/{sample}.parquet" for sample in INPUT_CSV]


def presplit_ingested(split):
    stem = PRESPLIT_STEMS[split]
    return [f"{RESULTS}/ingested/{stem}_{kind}.parquet" for kind in ("sig", "bkg")]


def selected_split(split):
    """The events of a split as the network sees them: after the optional preselection."""
    folder = "preselected" if config["preselection"] else "split"
    return f"{RESULTS}/{folder}/{split}.parquet"


def point_preprocessing(point):
    settings = point_settings(config, GRID[point])
    return {key: settings[key] for key in PREPROCESSING_KEYS}


def prepared_dir(point):
    p = point_preprocessing(point)
    return f"{RESULTS}/prepared/{p['scaling']}-{p['balancing']}"


def prepared_split(split):
    return lambda wildcards: f"{prepared_dir(wildcards.point)}/{split}.parquet"


def model_dir(point, seed):
    return f"{RESULTS}/models/{point}/seed-{seed}"


def model_outputs(filename):
    return [f"{model_dir(point, seed)}/{filename}" for point in GRID for seed in SEEDS]


def summary_models():
    """What the summary reads, per model."""
    return [
        {
            "model": f"{point}/seed-{seed}",
            "point": point,
            "facts": f"{model_dir(point, seed)}/training.json",
            "evaluation": f"{model_dir(point, seed)}/evaluation.json",
        }
        for point in GRID
        for seed in SEEDS
    ]


def training_resources(name):
    return config["resources"][name]


def get_final_outputs():
    return [f"{RESULTS}/fom_summary.csv", f"{RESULTS}/fom_summary_by_point.csv"]
