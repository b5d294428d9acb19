"""What the install extras, the lock file and CITATION.cff say, read as pip reads them
(``packaging``: requirements, specifiers, environment markers) and checked against
pyproject.toml; and that the test install leaves Snakemake's console clean."""

from __future__ import annotations

import re
import tomllib

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from snakemake_runs import ROOT, make_workdir, snakemake

PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
EXTRAS = PROJECT["optional-dependencies"]
LOCK = ROOT / "requirements" / "lock-py311-linux-x86_64.txt"

#: The environment markers of the platforms the extras are meant for (packaging fills
#: in the rest from the running interpreter).
PLATFORMS = {
    "linux-x86_64": {"sys_platform": "linux", "platform_system": "Linux",
                     "platform_machine": "x86_64", "os_name": "posix"},
    "linux-aarch64": {"sys_platform": "linux", "platform_system": "Linux",
                      "platform_machine": "aarch64", "os_name": "posix"},
    "macos-arm64": {"sys_platform": "darwin", "platform_system": "Darwin",
                    "platform_machine": "arm64", "os_name": "posix"},
    "windows-amd64": {"sys_platform": "win32", "platform_system": "Windows",
                      "platform_machine": "AMD64", "os_name": "nt"},
}  # fmt: skip
TENSORFLOW_BUILDS = {"tensorflow", "tensorflow-cpu"}
SLURM_PLUGIN = "snakemake-executor-plugin-slurm"
HTCONDOR_PLUGIN = "snakemake-executor-plugin-htcondor"


def resolved(
    extras: list[str], environment: dict[str, str], base: bool = False
) -> dict[str, list[Requirement]]:
    """The requirements that installing ``cmsnn[extras]`` asks for on ``environment``
    (with the project's own dependencies where ``base``), by normalised name: markers
    evaluated, the extras that ask for ``cmsnn[...]`` followed, each extra once."""
    texts = list(PROJECT["dependencies"]) if base else []
    found: dict[str, list[Requirement]] = {}
    seen: set[str] = set()
    pending = list(extras)
    while pending or texts:
        if not texts:
            extra = pending.pop()
            texts = [] if extra in seen else list(EXTRAS[extra])
            seen.add(extra)
            continue
        requirement = Requirement(texts.pop(0))
        if requirement.marker is not None and not requirement.marker.evaluate(environment):
            continue
        name = canonicalize_name(requirement.name)
        if name == "cmsnn":
            pending.extend(requirement.extras)
        else:
            found.setdefault(name, []).append(requirement)
    return found


def test_every_requirement_parses_and_every_nested_extra_exists():
    for text in PROJECT["dependencies"]:
        assert Requirement(text).marker is None, text  # the light core: everywhere
    for extra, texts in EXTRAS.items():
        for text in texts:
            requirement = Requirement(text)  # raises on what pip would reject
            if canonicalize_name(requirement.name) == "cmsnn":
                assert requirement.extras <= set(EXTRAS), (extra, text)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_each_install_gets_exactly_one_tensorflow_build(platform):
    """TensorFlow's CPU and GPU builds install the same `tensorflow` package: an
    environment must get one of them, never both (pip cannot take one back)."""
    environment = PLATFORMS[platform]
    for extra in ("training", "gpu", "all", "all-gpu", "test"):
        builds = set(resolved([extra], environment)) & TENSORFLOW_BUILDS
        assert len(builds) == 1, (platform, extra, builds)
    cpu = resolved(["all"], environment)
    gpu = resolved(["all-gpu"], environment)
    if platform == "linux-x86_64":  # the CPU build, or the GPU build with CUDA's wheels
        assert "tensorflow-cpu" in cpu and "tensorflow" not in cpu
        (tensorflow,) = gpu["tensorflow"]
        assert tensorflow.extras == {"and-cuda"} and "tensorflow-cpu" not in gpu
    elif platform == "windows-amd64":  # no GPU build for Windows
        assert "tensorflow-cpu" in cpu
        assert not any(r.extras for r in gpu["tensorflow"])
    else:  # TensorFlow's one build there
        assert "tensorflow" in cpu and "tensorflow" in gpu
        assert not any(r.extras for r in gpu["tensorflow"])
    # the test install trains on the CPU build, as `all`
    assert set(resolved(["test"], environment)) & TENSORFLOW_BUILDS == set(cpu) & TENSORFLOW_BUILDS


@pytest.mark.parametrize("platform", PLATFORMS)
def test_all_gpu_is_all_with_the_other_tensorflow_build(platform):
    environment = PLATFORMS[platform]
    cpu = resolved(["all"], environment, base=True)
    gpu = resolved(["all-gpu"], environment, base=True)
    assert set(cpu) - TENSORFLOW_BUILDS == set(gpu) - TENSORFLOW_BUILDS
    for name in set(cpu) - TENSORFLOW_BUILDS:
        assert [r.specifier for r in cpu[name]] == [r.specifier for r in gpu[name]], name
    # the same TensorFlow versions either way
    cpu_tf = {r.specifier for name in TENSORFLOW_BUILDS for r in cpu.get(name, [])}
    gpu_tf = {r.specifier for name in TENSORFLOW_BUILDS for r in gpu.get(name, [])}
    assert cpu_tf == gpu_tf and len(cpu_tf) == 1


@pytest.mark.parametrize("platform", PLATFORMS)
def test_the_slurm_plugin_comes_with_all_and_htcondor_only_on_request(platform):
    """`snakemake --profile slurm-gpu` works after `pip install -e '.[all]'`; HTCondor's
    bindings, which warn at every Snakemake start off a submit node, come only with the
    `htcondor` and `cluster` extras (the HTCondor tests install them apart)."""
    environment = PLATFORMS[platform]
    for extra in ("all", "all-gpu", "test"):
        requirements = resolved([extra], environment)
        assert SLURM_PLUGIN in requirements and "snakemake" in requirements, extra
    for extra in set(EXTRAS) - {"htcondor", "cluster"}:
        assert HTCONDOR_PLUGIN not in resolved([extra], environment), extra
    for extra in ("htcondor", "cluster"):
        assert HTCONDOR_PLUGIN in resolved([extra], environment), extra
    assert SLURM_PLUGIN in resolved(["cluster"], environment)


def test_a_snakemake_start_in_the_test_install_prints_no_warning(tmp_path):
    """The README's commands, after `pip install -e '.[test]'`: a dry run through the
    Slurm profile finds its plugin and prints no warning (HTCondor's bindings did, at
    every start, when the test extra brought them)."""
    workdir = make_workdir(tmp_path, yaml.safe_load((ROOT / "config.yaml").read_text()))
    result = snakemake(workdir, "-n", "--profile", "slurm-gpu", cwd=ROOT)
    start = (result.stderr + result.stdout).split("Job stats:", 1)[0]
    assert "Building DAG of jobs" in start
    warnings = [line for line in start.splitlines() if re.search(r"warn|CONDOR", line, re.I)]
    assert not warnings, (
        "Snakemake's start-up prints warnings (an HTCondor plugin in this environment? "
        "`pip uninstall snakemake-executor-plugin-htcondor htcondor`; the test extra no "
        "longer installs them):\n" + "\n".join(warnings)
    )


def lock_pins() -> dict[str, Version]:
    pins = {}
    for line in LOCK.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        requirement = Requirement(line)
        (specifier,) = requirement.specifier  # exactly one, ==
        assert specifier.operator == "==" and requirement.marker is None, line
        pins[canonicalize_name(requirement.name)] = Version(specifier.version)
    return pins


def lock_command() -> str:
    """The command in the lock's header that made it (a tool's, not a hand's)."""
    header = LOCK.read_text().split("\n", 2)
    assert header[0] == "# This file was autogenerated by uv via the following command:"
    return header[1].removeprefix("#").strip()


def test_the_lock_was_made_by_its_command_from_pyproject():
    command = lock_command()
    assert "uv pip compile pyproject.toml" in command
    assert f"-o {LOCK.relative_to(ROOT)}" in command
    assert "--python-version 3.11" in command and "x86_64-unknown-linux-gnu" in command
    assert re.findall(r"--extra (\S+)", command) == ["all", "test"]


def test_the_lock_pins_every_direct_dependency_within_pyproject_ranges():
    """Each requirement of the project and of the locked extras, on the lock's platform
    (Python 3.11, Linux x86-64; markers honoured), is pinned there, at a version that
    pyproject's range admits."""
    extras = re.findall(r"--extra (\S+)", lock_command())
    environment = {**PLATFORMS["linux-x86_64"], "python_version": "3.11",
                   "python_full_version": "3.11.7"}  # fmt: skip
    pins = lock_pins()
    direct = resolved(extras, environment, base=True)
    assert {"tensorflow-cpu", "keras", "numpy", "snakemake", SLURM_PLUGIN} <= set(direct)
    for name, requirements in direct.items():
        assert name in pins, f"{name} is not pinned in {LOCK.name}"
        for requirement in requirements:
            assert requirement.specifier.contains(pins[name], prereleases=True), (
                f"{LOCK.name} pins {name}=={pins[name]}, outside pyproject's {requirement}"
            )
    assert not {"tensorflow", HTCONDOR_PLUGIN, "htcondor"} & set(pins)


CFF_KEYS = {
    "abstract", "authors", "cff-version", "commit", "contact", "date-released", "doi",
    "identifiers", "keywords", "license", "license-url", "message", "preferred-citation",
    "references", "repository", "repository-artifact", "repository-code", "title", "type",
    "url", "version",
}  # fmt: skip


def test_the_citation_file_is_cff_and_follows_pyproject():
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert {"cff-version", "message", "title", "authors"} <= set(citation) <= CFF_KEYS
    assert citation["cff-version"] == "1.2.0"
    assert str(citation["version"]) == PROJECT["version"]
    assert citation["license"] == PROJECT["license"]["text"]
    assert {"name": "The cmsnn developers"} in citation["authors"]
    titles = {reference["title"] for reference in citation["references"]}
    assert titles == {"NN in CMS", "Looking for the Signal with a NN"}
    for reference in citation["references"]:
        assert (
            reference["authors"] and reference["type"] and reference["url"].startswith("https://")
        )
