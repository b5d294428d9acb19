"""The cluster side without a cluster: profiles, resources per executor, environments."""

from __future__ import annotations

import fcntl
import importlib.util
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

from snakemake_runs import ROOT, make_workdir, snakemake

GPU_RULES = ("train_model",)  # predictions and importance: ONNX Runtime on the CPU
#: HTCondor's executor plugin lives here, not in the test install: its bindings warn
#: "CONDOR_CONFIG is unset" at every Snakemake start off an HTCondor submit node.
HTCONDOR_VENV = ROOT / ".cache" / "htcondor-venv"
#: What pip prints when it cannot reach the package index (then the tests are skipped).
UNREACHABLE_INDEX = re.compile(
    r"NewConnectionError|Failed to establish a new connection|Temporary failure in name "
    r"resolution|Name or service not known|Network is unreachable|ConnectTimeoutError|"
    r"ReadTimeoutError|ProxyError|SSLError|Could not fetch URL"
)


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


def htcondor_plugin_requirement() -> str:
    """The HTCondor plugin as pyproject's ``htcondor`` extra asks for it."""
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    (requirement,) = [
        text
        for text in extras["optional-dependencies"]["htcondor"]
        if Requirement(text).name == "snakemake-executor-plugin-htcondor"
    ]
    return requirement


@pytest.fixture(scope="session")
def htcondor_python() -> Path:
    """A Python with HTCondor's executor plugin: this one where the plugin is installed
    (`.[test,htcondor]`), else that of .cache/htcondor-venv, a virtual environment that
    sees this one's packages (``--system-site-packages``: the project, Snakemake) plus
    the plugin and HTCondor's bindings, installed with pip once and reused while it
    works and pyproject asks for the same plugin. Where pip cannot reach the package
    index, the HTCondor tests are skipped, saying so."""
    if importlib.util.find_spec("snakemake_executor_plugin_htcondor") is not None:
        return Path(sys.executable)
    requirement = htcondor_plugin_requirement()
    python = HTCONDOR_VENV / "bin" / "python"
    stamp = HTCONDOR_VENV / "cmsnn-installed.txt"  # written last: the venv is complete
    made_for = f"{requirement}\n{sys.base_prefix} {platform.python_version()}\n"
    HTCONDOR_VENV.parent.mkdir(parents=True, exist_ok=True)
    with open(HTCONDOR_VENV.with_name(HTCONDOR_VENV.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one pytest run builds it, another waits
        if stamp.is_file() and stamp.read_text() == made_for and _imports_the_plugin(python):
            return python
        shutil.rmtree(HTCONDOR_VENV, ignore_errors=True)
        subprocess.run(
            [sys.executable, "-m", "venv", "--system-site-packages", str(HTCONDOR_VENV)],
            check=True, capture_output=True, timeout=600,
        )  # fmt: skip
        result = subprocess.run(
            [str(python), "-m", "pip", "install", "--retries", "2", "--timeout", "60",
             requirement],
            capture_output=True, text=True, timeout=1800,
        )  # fmt: skip
        if result.returncode != 0:
            shutil.rmtree(HTCONDOR_VENV, ignore_errors=True)
            output = result.stdout + result.stderr
            if UNREACHABLE_INDEX.search(output):
                reason = next(
                    line for line in output.splitlines() if UNREACHABLE_INDEX.search(line)
                )
                pytest.skip(
                    f"HTCondor tests need {requirement!r} in {HTCONDOR_VENV}, and pip could "
                    f"not reach the package index to install it: {reason.strip()[:300]}"
                )
            pytest.fail(
                f"pip install {requirement!r} into {HTCONDOR_VENV} failed:\n{output[-4000:]}"
            )
        assert _imports_the_plugin(python), f"{HTCONDOR_VENV}: the plugin does not import"
        stamp.write_text(made_for)
    return python


def _imports_the_plugin(python: Path) -> bool:
    if not python.exists():
        return False
    command = [str(python), "-c", "import snakemake_executor_plugin_htcondor"]
    return subprocess.run(command, capture_output=True, timeout=300).returncode == 0


@pytest.fixture(scope="module")
def htcondor_plan(tmp_path_factory, htcondor_python):
    config = yaml.safe_load((ROOT / "config.yaml").read_text())
    # the training jobs keep the rest of their kind's defaults (GPU, memory, runtime)
    config["resources"] = {"training": {"gpu_model": "NVIDIA A100-SXM4-40GB"}}
    workdir = make_workdir(tmp_path_factory.mktemp("htcondor"), config)
    result = snakemake(
        workdir, "--dry-run", "--profile", str(ROOT / "htcondor-gpu"), python=htcondor_python
    )
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


def test_the_htcondor_plugin_would_submit_that_gpu_request(htcondor_plan, htcondor_python):
    """The plugin's own code turns a training job's resources into its submit
    description (HTCondor's daemons cannot run here, so nothing is submitted)."""
    resources = htcondor_plan["train_model"][0]
    job_resources = {key: _number(value) for key, value in resources.items()}
    code = (
        "import json, sys, types\n"
        "from snakemake_executor_plugin_htcondor import Executor\n"
        "job = types.SimpleNamespace(resources=json.loads(sys.argv[1]))\n"
        "submit = {}\n"
        "for key in ('request_gpus', 'require_gpus', 'request_memory'):\n"
        "    Executor._set_resources(None, submit, job, key)\n"
        "print(json.dumps(submit))\n"
    )
    result = subprocess.run(
        [str(htcondor_python), "-c", code, json.dumps(job_resources)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    submit = json.loads(result.stdout)
    assert submit == {"request_gpus": 1, "require_gpus": 'DeviceName == "NVIDIA A100-SXM4-40GB"'}


def test_slurm_profile_is_found_from_the_repository_root(tmp_path):
    workdir = make_workdir(tmp_path, yaml.safe_load((ROOT / "config.yaml").read_text()))
    # Typed as a user would, from the repository root: the name alone finds the profile.
    result = snakemake(workdir, "--dry-run", "--profile", "slurm-gpu", cwd=ROOT)
    plan = planned_resources(result.stdout + result.stderr)
    assert len(plan["train_model"]) == 6
    for resources in plan["train_model"]:
        assert resources["gpu"] == "1" and resources["slurm_partition"] == "gpu"
    for resources in plan["ingest_csv"] + plan["predict"] + plan["permutation_importance"]:
        assert "gpu" not in resources


def stand_in_slurm(folder: Path) -> tuple[Path, Path]:
    """Slurm's commands as stand-ins on a PATH of their own: ``sbatch`` writes each
    argument it is given on a line of the record (and gives job id 1), the others say
    nothing. Returns the PATH folder and the record."""
    folder.mkdir()
    record = folder / "sbatch_arguments.txt"
    for command in ("sbatch", "squeue", "sacct", "sinfo", "scontrol", "scancel"):
        script = "#!/bin/sh\n"
        if command == "sbatch":
            script += f'for a in "$@"; do printf "%s\\n" "$a" >> "{record}"; done\necho 1\n'
        (folder / command).write_text(script)
        (folder / command).chmod(0o755)
    return folder, record


def test_a_data_file_name_never_reaches_sbatch_as_a_command(tmp_path):
    """A CSV file named ``WW$(touch X).csv``, run with the shipped slurm-gpu profile: the
    Slurm plugin puts a job's wildcards inside ``sbatch --wrap="…"``, which a shell
    reads. The name is refused at start-up: sbatch is never called, nothing is run."""
    bin_folder, record = stand_in_slurm(tmp_path / "bin")
    data = tmp_path / "data"
    data.mkdir()
    (data / "WW$(touch X).csv").write_text("250,0.1,WW.root\n")
    config = {"data": {"source": "csv", "csv_files": [str(data / "*.csv")],
                       "features": ["Met"]}}  # fmt: skip
    workdir = make_workdir(tmp_path / "run", config)
    env = os.environ | {"PATH": f"{bin_folder}:{os.environ['PATH']}"}
    result = snakemake(workdir, "--profile", "slurm-gpu", "--jobs", "1", cwd=ROOT, env=env,
                       check=False)  # fmt: skip
    assert result.returncode != 0 and "rename it, e.g. to 'WW__touch_X_'" in result.stderr
    assert not record.exists()  # sbatch never called
    assert not (ROOT / "X").exists() and not (workdir / "X").exists()
    assert not (workdir / "results").exists()

    # The same run with a safe name: the stand-in sbatch is called, and the name
    # reaches it as it is, inside the job's command
    (data / "WW$(touch X).csv").rename(data / "W+W-jets.csv")
    command = [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"),
               "--directory", str(workdir), "--profile", "slurm-gpu", "--jobs", "1"]  # fmt: skip
    run = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 300
        while not record.exists() and run.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1)  # (sbatch writes its arguments one by one)
    finally:
        os.killpg(run.pid, signal.SIGKILL)
        run.wait()
    arguments = record.read_text().splitlines()
    wrapped = next(a for a in arguments if a.startswith("--wrap"))
    assert "W+W-jets" in wrapped and "ingest_csv" in wrapped


def test_conda_environments_pin_what_pyproject_pins():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    pins = _pins(project["dependencies"]) | _pins(extras["training"]) | _pins(extras["export"])
    training = {"tensorflow-cpu", "keras"}
    for name, expected_extra in (
        ("data", set()),
        ("training", training | {"tf2onnx", "onnx", "onnxruntime"}),
        ("inference", {"onnxruntime"}),
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


def _pins(requirements) -> dict[str, str]:
    pins = {}
    for requirement in requirements:
        requirement = requirement.split(";")[0].strip()
        match = re.fullmatch(r"([A-Za-z0-9_.\-]+)(?:\[[^]]*\])?\s*(.*)", requirement)
        pins[match.group(1).lower().replace("_", "-")] = match.group(2).replace(" ", "")
    return pins


def _number(text: str):
    return int(text) if text.isdigit() else text


@pytest.mark.parametrize("name", ["data", "training", "inference"])
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
