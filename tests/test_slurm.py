"""The pipeline on a real Slurm: the slurm-gpu profile, GPUs allocated, same results.

`.ci/run` starts a one-node Slurm on this machine (tests/slurm/start_slurm.sh: munge,
slurmctld, slurmd, a node declaring one GPU as a generic resource, no accounting
database) and passes its state folder in CMSNN_SLURM_STATE.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections import Counter

import pandas as pd
import pytest
import yaml

from snakemake_runs import ROOT, make_workdir, snakemake

STATE = os.environ.get("CMSNN_SLURM_STATE")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not STATE,
        reason="no test Slurm cluster: .ci/run starts one with tests/slurm/start_slurm.sh "
        "and sets CMSNN_SLURM_STATE",
    ),
]
MODEL = "results/models/decay_rate-0.001/seed-1"
#: Processes of the toy kept for the cluster run (fewer jobs, the same pipeline).
PROCESSES = (
    "T2DegStop_550_520.root", "WJetsToLNu_HT200To400.root", "TTJets_DiLept.root",
    "ZJetsToNuNu_HT200To400.root",
)  # fmt: skip
#: Jobs of that config that run on the cluster (the others, toy generation among them,
#: are local rules).
CLUSTER_JOBS = {
    "ingest_csv": 4, "split_events": 1, "preselect": 3,
    "scale_and_balance": 1, "train_model": 1, "predict": 1, "evaluate_model": 1,
    "fit_binned_likelihood": 1,
}  # fmt: skip
#: What both runs make: the design card's target (figures and exports are ordinary jobs
#: the end-to-end tests cover locally; leaving them out keeps the suite's time).
TARGET = "results/fom_summary.csv"
#: Without an accounting database the plugin must ask squeue, not sacct, for job states.
NO_ACCOUNTING = (
    "--slurm-status-command",
    "squeue",
    "--slurm-init-seconds-before-status-checks",
    "5",
    # a test cluster answers at once: poll every 2 s rather than 10 (the default)
    "--seconds-between-status-checks",
    "2",
    # and shares this machine's file system: no need to wait for outputs to appear
    "--latency-wait",
    "5",
)


def slurm_environment() -> dict[str, str]:
    return {
        **os.environ,
        "SLURM_CONF": f"{STATE}/slurm.conf",
        "PATH": f"{STATE}/bin:{os.environ['PATH']}",
    }


def gpu_config(folder) -> dict:
    """The tiny binary config on four processes, with GPUs requested for the networks."""
    table = yaml.safe_load((ROOT / "resources/toy_processes.yaml").read_text())
    folder.mkdir(parents=True, exist_ok=True)
    processes = folder / "processes.yaml"
    processes.write_text(yaml.safe_dump({name: table[name] for name in PROCESSES}))
    config = yaml.safe_load((ROOT / "tests/configs/tiny_binary.yaml").read_text())
    config["data"]["toy"] = {"processes": str(processes), "events_scale": 0.1}
    config["resources"] = {
        "training": {"threads": 2, "mem_mb": 2000, "runtime": 10, "gpu": 1},
        "prediction": {"threads": 1, "mem_mb": 2000, "runtime": 10, "gpu": 0},
        "light": {"threads": 1, "mem_mb": 1000, "runtime": 10},
    }
    return config


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("runs")
    local = make_workdir(folder / "local", gpu_config(folder))
    snakemake(local, TARGET)
    cluster = make_workdir(folder / "slurm", gpu_config(folder))
    # As a user types it, from the repository root.
    result = snakemake(
        cluster, TARGET, "--profile", "slurm-gpu", *NO_ACCOUNTING, env=slurm_environment(),
        cwd=ROOT,
    )  # fmt: skip
    return local, cluster, result.stdout + result.stderr


def test_every_job_but_the_local_rules_ran_as_a_slurm_job(runs):
    _, _, output = runs
    submitted = re.findall(
        r"has been submitted with SLURM jobid \d+ \(log: \S+/rule_(\w+)/", output
    )
    assert Counter(submitted) == CLUSTER_JOBS
    assert "Finished jobid" in output and "summarise_models" in output
    assert "rule_generate_toy_sample" not in output


def test_training_was_allocated_the_gpu(runs):
    _, cluster, _ = runs
    facts = json.loads((cluster / MODEL / "training.json").read_text())
    job = facts["batch_job"]
    assert job["SLURM_JOB_PARTITION"] == "gpu" and job["SLURM_GPUS_ON_NODE"] == "1"
    assert job["CUDA_VISIBLE_DEVICES"] == "0"
    shown = subprocess.run(
        ["scontrol", "show", "job", job["SLURM_JOB_ID"]],
        capture_output=True, text=True, env=slurm_environment(), check=True,
    ).stdout  # fmt: skip
    assert "TresPerJob=gres:gpu:1" in shown or "gres/gpu=1" in shown, shown
    log = (cluster / "results/logs/train_model/decay_rate-0.001/seed-1.log").read_text()
    assert f"'SLURM_JOB_ID': '{job['SLURM_JOB_ID']}'" in log


def test_results_equal_a_local_run_and_the_idle_gpu_is_named(runs):
    local, cluster, output = runs
    # the table holds results only (timings stay in training.json): equal but for the
    # warning that the stand-in GPU Slurm gave the training went unused
    summary = "results/fom_summary.csv"
    on_slurm = pd.read_csv(cluster / summary, keep_default_na=False)
    here = pd.read_csv(local / summary, keep_default_na=False)
    pd.testing.assert_frame_equal(on_slurm.drop(columns="warnings"), here.drop(columns="warnings"))
    idle = "this job was given a GPU (CUDA_VISIBLE_DEVICES=0"
    assert idle in on_slurm["warnings"][0] and idle not in here["warnings"][0]
    assert f"{on_slurm['model'][0]}: {idle}" in output  # the end-of-run verdict
    for split in ("validation", "test"):
        name = f"{MODEL}/predictions_{split}.csv"
        pd.testing.assert_frame_equal(pd.read_csv(cluster / name), pd.read_csv(local / name))


def test_a_failing_job_is_retried_and_names_its_log(tmp_path):
    broken = tmp_path / "data" / "ttbar.csv"
    broken.parent.mkdir()
    broken.write_text("1,2,x\n")
    config = gpu_config(tmp_path) | {"data": {"source": "csv", "csv_files": [str(broken)]}}
    workdir = make_workdir(tmp_path / "run", config)
    result = snakemake(
        workdir, "--profile", "slurm-gpu", "--retries", "1", *NO_ACCOUNTING,
        "results/ingested/ttbar.parquet", check=False, env=slurm_environment(), cwd=ROOT,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "results/logs/ingest_csv/ttbar.log" in output
    # A failed job's Slurm log is kept: one per attempt.
    attempts = list((workdir / ".snakemake/slurm_logs/rule_ingest_csv").rglob("*.log"))
    assert len(attempts) == 2
    assert (
        "ttbar.csv line 1: 3 fields, expected 19"
        in (workdir / "results/logs/ingest_csv/ttbar.log").read_text()
    )
