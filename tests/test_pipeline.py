"""The workflow's own machinery as package code (cmsnn.pipeline): the run's paths and
models, the resources each rule asks for, the input files, and the start and end hooks;
what common.smk only calls."""

from __future__ import annotations

import io
import math
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from cmsnn.pipeline.hooks import keep_resolved_config, print_failures, print_verdict
from cmsnn.pipeline.inputs import input_csv_files
from cmsnn.pipeline.paths import MODEL_FIGURES, Models, ResultPaths
from cmsnn.pipeline.report import experiment_label, figure_label, member_subcategory
from cmsnn.pipeline.resources import MEMORY_PER_INPUT_MB, job_resources

ROOT = Path(__file__).resolve().parents[1]

# --- paths and models -------------------------------------------------------------------


def test_every_pattern_lies_in_the_results_folder_with_its_wildcards():
    paths = ResultPaths("runs/a/")
    assert paths.results == "runs/a"
    patterns = {
        name: getattr(paths, name)
        for name in dir(ResultPaths)
        if isinstance(getattr(ResultPaths, name), property)
    }
    assert len(patterns) == 17
    assert all(pattern.startswith("runs/a/") for pattern in patterns.values())
    assert paths.model.format(point="p", seed=3) == "runs/a/models/p/seed-3"
    assert paths.prepared.format(scaling="minmax", balancing="sqrt") == (
        "runs/a/prepared/minmax-sqrt"
    )


def test_a_split_is_read_after_the_preselection_when_there_is_one():
    paths = ResultPaths("r")
    assert paths.selected_split("test", preselection=False) == "r/split/test.parquet"
    assert paths.selected_split("test", preselection=True) == "r/preselected/test.parquet"
    assert paths.presplit_ingested("validation") == [
        "r/ingested/val_sig.parquet",
        "r/ingested/val_bkg.parquet",
    ]


def test_models_are_listed_in_grid_then_seed_order_and_ensembles_need_two_seeds():
    models = Models(ResultPaths("r"), ["p1", "p2"], [3, 1])
    assert models.ids() == ["p1/seed-3", "p1/seed-1", "p2/seed-3", "p2/seed-1"]
    assert models.points_of_models() == ["p1", "p1", "p2", "p2"]
    assert models.outputs("x.csv")[1] == "r/models/p1/seed-1/x.csv"
    assert models.member_outputs("p2", "x.csv") == [
        "r/models/p2/seed-3/x.csv",
        "r/models/p2/seed-1/x.csv",
    ]
    assert models.ensemble_points == ["p1", "p2"]
    assert Models(ResultPaths("r"), ["p1"], [7]).ensemble_outputs("x.csv") == []


@pytest.mark.parametrize("two_dimensional", [False, True])
def test_the_default_target_asks_for_every_result_once(two_dimensional):
    grid, seeds = ["p1", "p2", "p3"], [1, 2]
    outputs = Models(ResultPaths("r"), grid, seeds).final_outputs(two_dimensional)
    assert len(outputs) == len(set(outputs))
    figures = len(MODEL_FIGURES) + two_dimensional
    per_model = 3 + 2 * figures  # KS table, ONNX, card; PNG + PDF of each figure
    per_ensemble = 3 * 2  # the FOM scan, the seeds' scans and the binned output, PNG + PDF
    across = 6 + 2 * (6 + two_dimensional)  # the tables; the figures across models
    assert len(outputs) == 6 * per_model + 3 * per_ensemble + across
    assert "r/models/p3/seed-2/model.onnx" in outputs
    assert ("r/plots/two_dimensional_samples.png" in outputs) == two_dimensional


# --- resources --------------------------------------------------------------------------

WANTED = {"mem_mb": 2000, "runtime": 30, "disk_mb": 500, "gpu": 0, "gpu_model": ""}


def test_each_executor_reads_the_same_config_values():
    resources = job_resources(WANTED, "summarise_models")
    assert resources == {
        "mem_mb": 2000,
        "runtime": 30,
        "disk_mb": 500,
        "htcondor_request_mem_mb": 2000,
        "htcondor_request_disk_mb": 500,
    }


def test_a_gpu_is_asked_for_under_both_names_with_its_model():
    resources = job_resources({**WANTED, "gpu": 1, "gpu_model": "a100"}, "summarise_models")
    assert resources["gpu"] == resources["request_gpus"] == 1
    assert resources["gpu_model"] == "a100"
    assert resources["require_gpus"] == 'DeviceName == "a100"'


def test_memory_grows_with_the_inputs_of_the_rules_that_hold_them(tmp_path):
    resources = job_resources(WANTED, "train_model")
    memory = resources["mem_mb"]
    assert resources["htcondor_request_mem_mb"] is memory
    wildcards = SimpleNamespace()
    empty, big = tmp_path / "empty.parquet", tmp_path / "big.parquet"
    empty.write_bytes(b"")
    with big.open("wb") as file:
        file.truncate(int(10.5 * 2**20))
    assert memory(wildcards, [str(empty)]) == 2000
    per_mb = MEMORY_PER_INPUT_MB["train_model"]
    expected = 2000 + math.ceil(per_mb * 10.5)
    assert memory(wildcards, [str(empty), str(big)]) == expected
    # a file not there yet (a dry run): Snakemake shows <TBD> for a FileNotFoundError
    with pytest.raises(FileNotFoundError):
        memory(wildcards, [str(tmp_path / "later.parquet")])


def test_predictions_count_by_the_csv_beside_their_parquet_file(tmp_path):
    """The factors of the rules that read predictions are per MiB of CSV: a Parquet
    file of predictions counts as the CSV the same job wrote beside it."""
    memory = job_resources(WANTED, "evaluate_model")["mem_mb"]
    parquet, csv = tmp_path / "predictions_test.parquet", tmp_path / "predictions_test.csv"
    parquet.write_bytes(b"x" * 2**20)
    with csv.open("wb") as file:
        file.truncate(8 * 2**20)
    per_mb = MEMORY_PER_INPUT_MB["evaluate_model"]
    assert memory(SimpleNamespace(), [str(parquet)]) == 2000 + math.ceil(per_mb * 8)
    csv.unlink()  # without it, the file itself
    assert memory(SimpleNamespace(), [str(parquet)]) == 2000 + math.ceil(per_mb * 1)


def test_every_rule_has_its_measured_memory_factor():
    """The factors and the rules are the same set: a new rule gets its factor measured
    (benchmarks/declared_memory.py) before it runs on a cluster."""
    rules = "".join(path.read_text() for path in (ROOT / "workflow" / "rules").glob("*.smk"))
    named = set(re.findall(r"^\s*rule (\w+):", rules, re.M)) - {"all"}
    assert set(MEMORY_PER_INPUT_MB) == named
    for rule in MEMORY_PER_INPUT_MB:
        assert f'"{rule}")' in rules, f"rule {rule} does not ask job_resources for itself"


# --- input files ------------------------------------------------------------------------


def test_csv_files_are_found_by_pattern_and_named_by_stem(tmp_path):
    for name in ("b.csv", "a.csv"):
        (tmp_path / name).write_text("x\n1\n")
    data = {"source": "csv", "csv_files": [str(tmp_path / "*.csv")]}
    files = input_csv_files(data, [], ResultPaths("r"))
    assert files == {"a": str(tmp_path / "a.csv"), "b": str(tmp_path / "b.csv")}


def test_a_pattern_without_files_and_two_files_of_one_name_are_refused(tmp_path):
    with pytest.raises(ValueError, match=r"data.csv_files: '.*nothing\*.csv' matches no file"):
        input_csv_files(
            {"source": "csv", "csv_files": [str(tmp_path / "nothing*.csv")]}, [], ResultPaths("r")
        )
    for folder in ("one", "two"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "ttbar.csv").write_text("x\n1\n")
    data = {"source": "csv", "csv_files": [str(tmp_path / "one/*.csv"), str(tmp_path / "two/*")]}
    with pytest.raises(ValueError, match="share the name 'ttbar'"):
        input_csv_files(data, [], ResultPaths("r"))


def test_presplit_files_must_all_be_there(tmp_path):
    for stem in ("train", "val", "test"):
        for kind in ("sig", "bkg"):
            (tmp_path / f"{stem}_{kind}.csv").write_text("x\n1\n")
    data = {"source": "presplit", "presplit_directory": str(tmp_path)}
    assert len(input_csv_files(data, [], ResultPaths("r"))) == 6
    (tmp_path / "val_bkg.csv").unlink()
    with pytest.raises(ValueError, match="val_bkg.csv"):
        input_csv_files(data, [], ResultPaths("r"))


def test_the_toy_samples_are_results_and_root_has_no_csv():
    toy = input_csv_files({"source": "toy"}, ["ttbar"], ResultPaths("r"))
    assert toy == {"ttbar": "r/toy_data/ttbar.csv"}
    assert input_csv_files({"source": "root"}, ["ttbar"], ResultPaths("r")) == {}


# --- report and hooks -------------------------------------------------------------------


def test_report_labels_order_a_models_page_and_name_ensembles():
    assert figure_label("history") < figure_label("roc") < figure_label("fom")
    assert member_subcategory(SimpleNamespace(point="p", member="seed-2")) == "p, seed-2"
    assert member_subcategory(SimpleNamespace(point="p")) == "p, seed ensemble"
    config = {
        "plots": {"experiment": "CMS", "status": "Simulation", "show_luminosity": False},
        "fom": {"luminosity": 1000.0},
    }
    config["plots"]["energy"] = "13 TeV"
    assert experiment_label(config)["luminosity_pb"] is None
    config["plots"]["show_luminosity"] = True
    assert experiment_label(config)["luminosity_pb"] == 1000.0


def test_the_resolved_config_is_kept_and_another_ones_results_are_named(tmp_path):
    stream = io.StringIO()
    assert keep_resolved_config({"seeds": [1], "results": "r"}, tmp_path, stream) == []
    kept = tmp_path / "config.yaml"
    assert yaml.safe_load(kept.read_text()) == {"seeds": [1], "results": "r"}
    assert stream.getvalue() == ""
    changed = keep_resolved_config({"seeds": [2], "results": "r"}, tmp_path, stream)
    assert changed == ["seeds"]
    assert "differs in seeds" in stream.getvalue()
    assert yaml.safe_load(kept.read_text())["seeds"] == [2]
    assert not [p for p in tmp_path.iterdir() if p.name != "config.yaml"]  # no partial


def test_no_verdict_without_a_summary_and_failures_name_their_error(tmp_path):
    stream = io.StringIO()
    print_verdict(tmp_path / "fom_summary.csv", str(tmp_path), "snakemake --report", stream)
    assert stream.getvalue() == ""
    job_log = tmp_path / "job.log"
    job_log.write_text("Traceback (most recent call last):\nValueError: data.csv: line 3\n")
    main_log = tmp_path / "main.log"
    main_log.write_text(
        "Error in rule ingest_csv:\n    jobid: 1\n"
        f"    log: {job_log} (check log file(s) for error details)\n"
    )
    print_failures([str(main_log)], stream)
    assert "ValueError: data.csv: line 3" in stream.getvalue()


@pytest.mark.parametrize(
    ("config", "changes"),
    [
        ("tiny_multiclass.yaml", ["seeds=[1,2,3]"]),
        ("tiny_binary.yaml", ["grid={decay_rate: [0.001], scaling: [minmax, standard]}"]),
        ("../../config.yaml", []),
        ("../../config.tutorial.yaml", []),
        ("../../config.toy2d.yaml", []),
        ("../../config.massplane.yaml", []),
    ],
)
def test_a_dry_run_says_how_many_models_and_jobs_the_config_makes(tmp_path, config, changes):
    """The start-up names the size of what a config plans, before Snakemake's DAG: its
    job count is the one Snakemake's dry run finds from scratch (the embedded data,
    ensembles or none, a preselection, two scalings, the 2-D views)."""
    from snakemake_runs import make_workdir, snakemake

    workdir = make_workdir(tmp_path / "run", config)
    arguments = ["--config", *changes] if changes else []
    result = snakemake(workdir, "--dry-run", *arguments)
    planned = re.search(r"^cmsnn: (.*), ([\d,]+) jobs from scratch", result.stderr, re.M)
    total = re.search(r"^total +(\d+)$", result.stdout + result.stderr, re.M)
    assert planned and total, result.stderr[-3000:]
    assert int(planned.group(2).replace(",", "")) == int(total.group(1))
    if config == "tiny_multiclass.yaml":
        assert planned.group(1) == "6 models: 2 grid points × 3 seeds, and 2 seed ensembles"
    if config == "../../config.massplane.yaml":  # the network of every point, 5 dedicated
        assert planned.group(1).endswith(", and 6 networks × 3 seeds to compare at the mass points")
    assert Models(ResultPaths("r"), ["a"], [1]).plan() == "1 model: 1 grid point × 1 seed"
