"""The cluster side without a cluster: profiles, resources per executor, environments."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
import types

import pytest
import yaml

from snakemake_runs import ROOT, make_workdir, snakemake

GPU_RULES = ("train_model", "predict", "permutation_importance")


def planned_resources(output: str) -> dict[str, list[dict[str, str]]]:
    """``{rule: [resources of each planned job]}`` from a dry run's output."""
    planned: dict[str, list[dict[str, str]]] = {}
    for block in output.split("rule ")[1:]:
        rule = block.split(":", 1)[0].strip()
        match = re.search(r"^\s+resources: (.*)$", block, re.MULTILINE)
        if match:
            pairs = (item.split("=", 1) for item in match.group(1).split(", "))
            planned.setdefault(rule, []).append({key: value for key, value in pairs})
    return planned


@pytest.fixture(scope="module")
def htcondor_plan(tmp_path_factory):
    config = yaml.safe_load((ROOT / "config.yaml").read_text())
    # the training jobs keep the rest of their kind's defaults (GPU, memory, runtime)
    config["resources"] = {"training": {"gpu_model": "NVIDIA A100-SXM4-40GB"}}
    workdir = make_workdir(tmp_path_factory.mktemp("htcondor"), config)
    result = snakemake(workdir, "--dry-run", "--profile", str(ROOT / "htcondor-gpu"))
    return planned_resources(result.stdout + result.stderr)


def test_htcondor_profile_hands_every_gpu_job_its_request(htcondor_plan):
    for rule in GPU_RULES:
        assert len(htcondor_plan[rule]) == 6, rule
        for resources in htcondor_plan[rule]:
            assert resources["request_gpus"] == "1"
            # memory follows the size of the job's inputs, unknown before they are made
            assert resources["htcondor_request_mem_mb"] == resources["mem_mb"] == "<TBD>"
            assert resources["universe"] == "vanilla" and "max_retries" not in resources
    for resources in htcondor_plan["train_model"]:
        assert resources["require_gpus"] == 'DeviceName == "NVIDIA A100-SXM4-40GB"'
    for rule in ("ingest_csv", "split_events", "evaluate_model", "plot_model"):
        for resources in htcondor_plan[rule]:
            assert "request_gpus" not in resources and "gpu" not in resources
            # ingestion streams: the light jobs' 2000 whatever the CSV; the others hold
            # their events: memory from their inputs' size, unknown before they are made
            expected = "2000" if rule == "ingest_csv" else "<TBD>"
            assert resources["htcondor_request_mem_mb"] == resources["mem_mb"] == expected


def test_the_htcondor_plugin_would_submit_that_gpu_request(htcondor_plan):
    """The plugin's own code turns a training job's resources into its submit
    description (HTCondor's daemons cannot run here, so nothing is submitted)."""
    from snakemake_executor_plugin_htcondor import Executor

    resources = htcondor_plan["train_model"][0]
    job = types.SimpleNamespace(resources={key: _number(value) for key, value in resources.items()})
    submit: dict = {}
    for key in ("request_gpus", "require_gpus", "request_memory"):
        Executor._set_resources(None, submit, job, key)
    assert submit == {"request_gpus": 1, "require_gpus": 'DeviceName == "NVIDIA A100-SXM4-40GB"'}


def test_slurm_profile_is_found_from_the_repository_root(tmp_path):
    workdir = make_workdir(tmp_path, yaml.safe_load((ROOT / "config.yaml").read_text()))
    # Typed as a user would, from the repository root: the name alone finds the profile.
    result = snakemake(workdir, "--dry-run", "--profile", "slurm-gpu", cwd=ROOT)
    plan = planned_resources(result.stdout + result.stderr)
    for rule in ("train_model", "predict"):
        assert len(plan[rule]) == 6, rule
        for resources in plan[rule]:
            assert resources["gpu"] == "1" and resources["slurm_partition"] == "gpu"
    for resources in plan["ingest_csv"]:
        assert "gpu" not in resources


def test_conda_environments_pin_what_pyproject_pins():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    pins = _pins(project["dependencies"]) | _pins(extras["training"]) | _pins(extras["export"])
    training = {"tensorflow-cpu", "keras"}
    for name, expected_extra in (
        ("data", set()),
        ("training", training),
        ("export", training | {"tf2onnx", "onnx", "onnxruntime"}),
    ):
        environment = yaml.safe_load((ROOT / "envs" / f"{name}.yaml").read_text())
        conda = [d for d in environment["dependencies"] if isinstance(d, str)]
        pip = next(d["pip"] for d in environment["dependencies"] if isinstance(d, dict))
        listed = _pins([d for d in conda if not d.startswith(("python=", "pip"))])
        listed |= _pins([d for d in pip if not d.startswith("-e")])
        for package, spec in listed.items():
            assert pins.get(package) == spec, f"envs/{name}.yaml: {package}{spec}"
        light = set(_pins(project["dependencies"]))
        assert set(listed) == light | expected_extra, name


def test_only_an_htcondor_install_gets_the_htcondor_plugin():
    """HTCondor's bindings warn at every Snakemake start off an HTCondor submit node:
    the main install and the Slurm extra must not bring them in."""
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = extras["optional-dependencies"]

    def resolved(name: str) -> set[str]:
        names = set()
        for requirement in extras[name]:
            nested = re.fullmatch(r"cmsnn\[(.+)\]", requirement)
            for extra in nested.group(1).split(",") if nested else []:
                names |= resolved(extra)
            names |= set() if nested else set(_pins([requirement]))
        return names

    for name in ("all", "slurm"):
        assert "snakemake-executor-plugin-htcondor" not in resolved(name), name
    assert "snakemake-executor-plugin-htcondor" in resolved("htcondor")
    assert {"snakemake-executor-plugin-slurm", "snakemake-executor-plugin-htcondor"} <= resolved(
        "cluster"
    )


def _pins(requirements) -> dict[str, str]:
    pins = {}
    for requirement in requirements:
        requirement = requirement.split(";")[0].strip()
        match = re.fullmatch(r"([A-Za-z0-9_.\-]+)(?:\[[^]]*\])?\s*(.*)", requirement)
        pins[match.group(1).lower().replace("_", "-")] = match.group(2).replace(" ", "")
    return pins


def _number(text: str):
    return int(text) if text.isdigit() else text


@pytest.mark.parametrize("name", ["data", "training", "export"])
def test_a_conda_environment_installs_the_package_from_the_workflow_folder(tmp_path, name):
    """Snakemake builds the environment from a copy of the file elsewhere: the package's
    path comes from CMSNN_WORKFLOW_DIR (set by the workflow), which pip expands."""
    environment = yaml.safe_load((ROOT / "envs" / f"{name}.yaml").read_text())
    pip = next(d["pip"] for d in environment["dependencies"] if isinstance(d, dict))
    editable = [line for line in pip if line.startswith("-e")]
    assert editable == ["-e ${CMSNN_WORKFLOW_DIR}"]
    copied = tmp_path / ".snakemake" / "conda" / "requirements.txt"  # as conda writes it
    copied.parent.mkdir(parents=True)
    copied.write_text("\n".join(editable) + "\n")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--no-deps", "--no-index",
         "--no-build-isolation", "--report", "-", "--quiet", "-r", str(copied)],
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
        env={**os.environ, "CMSNN_WORKFLOW_DIR": str(ROOT)},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert [item["metadata"]["name"] for item in report["install"]] == ["cmsnn"]
    assert report["install"][0]["download_info"]["url"] == ROOT.as_uri()


def test_the_workflow_tells_the_environments_where_it_is():
    common = (ROOT / "workflow/rules/common.smk").read_text()
    assert 'os.environ["CMSNN_WORKFLOW_DIR"] = str(Path(workflow.basedir).resolve())' in common
