"""What a user sees when the config or the data is wrong: an error naming the culprit."""

from __future__ import annotations

import re
import subprocess

import numpy as np
import pytest

from cmsnn.ingestion.toydata import TUTORIAL_FEATURES
from snakemake_runs import ROOT, make_workdir, snakemake


def test_unknown_config_key_fails_at_start_naming_it(tmp_path):
    workdir = make_workdir(tmp_path, {"trainig": {"epochs": 3}})
    result = snakemake(workdir, "--dry-run", check=False)
    output = result.stderr + result.stdout
    assert result.returncode != 0
    assert "config: unknown key trainig; did you mean 'training' or 'overtraining'?" in output
    # the key and its neighbours, not the whole schema (969 lines before)
    assert len(output.splitlines()) < 60 and "$schema" not in output


def test_wrong_type_fails_at_start_naming_the_key(tmp_path):
    # After a start with a good config (whose resolution is kept in .snakemake/cmsnn/
    # for the next start): the edited config is checked all the same.
    snakemake(make_workdir(tmp_path, {"training": {"epochs": 3}}), "--dry-run")
    workdir = make_workdir(tmp_path, {"training": {"epochs": "many"}})
    result = snakemake(workdir, "--dry-run", check=False)
    output = result.stderr + result.stdout
    assert result.returncode != 0
    assert "epochs" in output and "'many' is not of type 'integer'" in output


@pytest.mark.slow
def test_malformed_csv_names_file_line_and_column_and_leaves_no_output(tmp_path):
    good = ",".join(["1.0"] * len(TUTORIAL_FEATURES)) + ",0.5,TTJets_DiLept.root\n"
    bad_value = good.replace("1.0", "abc", 7).replace("abc", "1.0", 6)  # column 7 is "Met"
    (tmp_path / "ttbar.csv").write_text(good + good + bad_value + good)
    config = {"data": {"source": "csv", "csv_files": [str(tmp_path / "*.csv")]}}
    workdir = make_workdir(tmp_path / "run", config)
    result = snakemake(workdir, "results/ingested/ttbar.parquet", check=False)
    assert result.returncode != 0
    log = (workdir / "results/logs/ingest_csv/ttbar.log").read_text()
    assert "ttbar.csv line 3, column 'Met': 'abc' is not a number" in log
    # the reason reaches the console too, not only "check log file(s)"
    assert (
        "results/logs/ingest_csv/ttbar.log: ValueError: "
        f"{tmp_path / 'ttbar.csv'} line 3, column 'Met': 'abc' is not a number"
    ) in result.stderr
    assert not (workdir / "results/ingested/ttbar.parquet").exists()
    assert not list((workdir / "results").rglob("*.partial*"))


def test_numbers_in_scientific_notation_are_numbers(tmp_path):
    config = {
        "training": {"learning_rate": "5e-5", "epochs": "1e3"},
        "grid": {"decay_rate": ["1e-3", "1E-4"]},
    }
    workdir = make_workdir(tmp_path, config)
    result = snakemake(workdir, "--dry-run", check=False)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "decay_rate-0.001/seed-1" in output and "decay_rate-0.0001/seed-1" in output


def test_missing_presplit_files_fail_at_start_naming_them(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "train_sig.csv").write_text("")
    config = {"data": {"source": "presplit", "presplit_directory": str(tmp_path / "data")}}
    result = snakemake(make_workdir(tmp_path / "run", config), "--dry-run", check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "val_bkg.csv" in output and "missing" in output
    assert "train_sig.csv'" not in output.split("missing", 1)[1].split("]", 1)[0]


def test_unknown_fom_signal_process_fails_at_start(tmp_path):
    config = {"fom": {"signal_processes": ["T2DegStop_550_520"]}}  # no ".root"
    result = snakemake(make_workdir(tmp_path, config), "--dry-run", check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "T2DegStop_550_520" in output and "T2DegStop_550_520.root" in output


def test_an_empty_fom_scan_range_fails_at_start(tmp_path):
    config = {"fom": {"cut_min": 0.9, "cut_max": 0.8}}
    result = snakemake(make_workdir(tmp_path, config), "--dry-run", check=False)
    assert result.returncode != 0
    assert "cut_min < cut_max" in result.stdout + result.stderr


def test_grid_values_are_checked_like_the_keys_they_override(tmp_path):
    config = {"grid": {"layers": [64, 32]}}  # a list of layer lists was meant
    result = snakemake(make_workdir(tmp_path, config), "--dry-run", check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "['grid']['layers']" in output and "64 is not of type 'array'" in output


def test_a_scan_range_outside_the_outputs_range_fails_at_start(tmp_path):
    result = snakemake(make_workdir(tmp_path, {"fom": {"cut_min": 1.5}}), "--dry-run", check=False)
    assert result.returncode != 0
    assert (
        "fom.cut_min = 1.5 lies outside the network output's range" in result.stdout + result.stderr
    )


def test_a_preselection_that_would_run_code_fails_at_start_and_runs_nothing(tmp_path):
    workdir = make_workdir(
        tmp_path, {"preselection": "@pd.io.common.os.system('touch hacked') == 0 or Met > -1"}
    )
    result = snakemake(workdir, "--dry-run", check=False, cwd=workdir)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "preselection" in output and "syntax error" in output
    assert not (workdir / "hacked").exists() and not (tmp_path / "hacked").exists()


@pytest.mark.parametrize(
    ("preselection", "message"),
    [
        ("Met > 250 and Foo < 3", "unknown name 'Foo'"),
        ("Met.__class__ == 1", "the attribute access 'Met.__class__'"),
        ("Met >", "syntax error"),
        ("Met + 1", "is not a condition (true or false per event): 'Met + 1' is a value"),
    ],
)
def test_a_bad_preselection_fails_at_start_naming_the_token(tmp_path, preselection, message):
    result = snakemake(
        make_workdir(tmp_path, {"preselection": preselection}), "--dry-run", check=False
    )
    assert result.returncode != 0
    assert message in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("classes", "message"),
    [
        (
            [{"name": "Signal", "patterns": ["T2*"]}, {"name": "Signal", "patterns": ["*"]}],
            "the names ['Signal'] are used twice",
        ),
        (
            [
                {"name": "Signal", "patterns": ["T2*"]},
                {"name": "Higgs", "patterns": ["GluGluH*"]},
                {"name": "Rest", "patterns": ["*"]},
            ],
            "classes: ['Higgs'] match none of the processes",
        ),
    ],
)
def test_classes_that_cannot_work_fail_at_start(tmp_path, classes, message):
    result = snakemake(make_workdir(tmp_path, {"classes": classes}), "--dry-run", check=False)
    assert result.returncode != 0
    assert message in result.stdout + result.stderr


def test_a_csv_signal_process_is_checked_at_start_once_its_ingestion_is_tabulated(tmp_path):
    """A CSV holds its process names in a column: once the ingestion has tabulated them
    (results/ingested/processes.csv, up to date by file times), a headline signal that
    is not a signal process fails at start; with a CSV newer than its ingestion the
    check waits for the split (before any training), never for the evaluation."""
    values = ",".join(["1.0"] * len(TUTORIAL_FEATURES))
    (tmp_path / "signal.csv").write_text(f"{values},0.1,T2DegStop_300_290.root\n" * 40)
    (tmp_path / "ttbar.csv").write_text(f"{values},0.5,TTJets_DiLept.root\n" * 40)
    config = {
        "classification": "binary",
        "data": {"source": "csv", "csv_files": [str(tmp_path / "*.csv")]},
    }
    workdir = make_workdir(tmp_path / "run", config)
    snakemake(workdir, "results/ingested/processes.csv")
    for name, message in (
        ("T2DegStop_999_1.root", "['T2DegStop_999_1.root'], which are not processes of the"),
        ("TTJets_DiLept.root", "which are not processes of the Signal class; choose among "
         "['T2DegStop_300_290.root']"),
    ):  # fmt: skip
        make_workdir(workdir, config | {"fom": {"signal_processes": [name]}})
        result = snakemake(workdir, "--dry-run", check=False)
        assert result.returncode != 0 and message in result.stdout + result.stderr
    (tmp_path / "signal.csv").touch()  # newer than its ingestion: the names may change
    assert snakemake(workdir, "--dry-run", check=False).returncode == 0


def test_jobs_that_hold_their_data_declare_memory_from_its_size(tmp_path):
    """Ingestion streams: its memory does not grow with the CSV. The split holds the
    events: it asks for more memory as its input grows, so that a batch system does not
    kill it on a large dataset."""
    line = ",".join(["1.0"] * len(TUTORIAL_FEATURES)) + ",0.5,TTJets_DiLept.root\n"
    (tmp_path / "ttbar.csv").write_text(line * 60_000)  # 5.2 MB
    config = {"data": {"source": "csv", "csv_files": [str(tmp_path / "*.csv")]}}
    workdir = make_workdir(tmp_path / "run", config)
    ingested = "results/ingested/ttbar.parquet"
    result = snakemake(workdir, "--dry-run", ingested)
    assert "mem_mb=2000," in result.stdout and "htcondor_request_mem_mb=2000," in result.stdout

    snakemake(workdir, ingested)
    parquet_mb = (workdir / ingested).stat().st_size / 1024**2
    result = snakemake(workdir, "--dry-run", "results/split/train.parquet")
    declared = int(re.search(r"rule split_events:.*?\bmem_mb=(\d+)", result.stdout, re.S)[1])
    # 7 MB per MB of input (the Parquet file and the package's code), on top of 2000
    assert 2000 + 7 * parquet_mb <= declared <= 2000 + 7 * (parquet_mb + 1)
    assert f"htcondor_request_mem_mb={declared}" in result.stdout


def test_an_unknown_keras_activation_fails_at_start(tmp_path):
    config = {"training": {"activation": "rectifier"}}
    result = snakemake(make_workdir(tmp_path, config), "--dry-run", check=False)
    assert result.returncode != 0
    assert "'rectifier' is not one of" in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"grid": {"initializer": ["he_normal", "glorot"]}}, "'glorot' is not one of"),
        ({"training": {"initializer": "he_gaussian"}}, "'he_gaussian' is not one of"),
        ({"seeds": [1, 4294967296]}, "4294967296 is greater than the maximum"),
        ({"split": {"seed": 2**40}}, "is greater than the maximum"),
        ({"fom": {"cut_max": "high"}}, "'high' is not valid"),
    ],
)
def test_settings_keras_or_numpy_would_refuse_fail_the_schema(config, message):
    """What the start-up validation (Snakemake's, with the workflow's schema) refuses."""
    from snakemake.exceptions import WorkflowError
    from snakemake.utils import validate

    with pytest.raises(WorkflowError, match=re.escape(message)):
        validate(config, str(ROOT / "workflow/schemas/config.schema.yaml"))


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MiB filesystem (tmpfs) at ``tmp_path/small``, unmounted afterwards."""
    folder = tmp_path / "small"
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(folder)],
                             capture_output=True, text=True)  # fmt: skip
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small filesystem here: {mounted.stderr.strip()}")
    yield folder
    subprocess.run(["umount", str(folder)], check=True)


def test_a_full_disk_is_named_on_the_console(tmp_path, small_disk):
    """The results folder's disk fills while a job writes: the console says so ("No
    space left on device", the job's log) though the log itself could not take the
    traceback, and the end of the run names the full disk, never "(the log is empty)"."""
    rng = np.random.default_rng(1)
    rows = [",".join(f"{value:.9f}" for value in rng.random(len(TUTORIAL_FEATURES)))
            + ",0.5,TTJets_DiLept.root" for _ in range(40_000)]  # fmt: skip
    (tmp_path / "ttbar.csv").write_text("\n".join(rows) + "\n")
    config = {"results": str(small_disk / "results"),
              "data": {"source": "csv", "csv_files": [str(tmp_path / "*.csv")]}}  # fmt: skip
    workdir = make_workdir(tmp_path / "run", config)
    result = snakemake(workdir, str(small_disk / "results/ingested/ttbar.parquet"), check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "ingest_csv/ttbar.log: OSError" in output and "No space left on device" in output
    summary = output[output.index("Why the failed jobs failed") :]
    assert "No space left on device" in summary and "the log is empty: free space" in summary
    assert not (small_disk / "results/ingested/ttbar.parquet").exists()
