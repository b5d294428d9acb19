"""What a job asks its executor for: memory, run time, disk and GPUs of its kind of job
(training, prediction, light) from the config, under the names each executor reads,
and more memory for the jobs that hold their inputs in memory as those inputs grow.

Standard library only: ``common.smk`` calls it for every rule at every start.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping

#: Memory a job needs per MB of its input files on top of its kind's ``mem_mb``, for
#: the rules that hold their data in memory: the peak measured at 10 million events
#: (``benchmarks/pipeline_scale.py``; benchmarks/README.md's table) less the program's
#: own (its peak at 100,000 events), per MB of input, and a quarter more. Ingestion
#: streams, and the other rules read small tables: they need their kind's memory
#: whatever the data.
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
    "plot_model": 2,
}


def job_resources(wanted: Mapping, rule_name: str) -> dict:
    """The resources of a rule's jobs, under the names each executor reads:
    ``mem_mb``/``runtime``/``disk_mb``/``gpu``/``gpu_model`` (local runs, Slurm) and
    ``htcondor_request_mem_mb``/``htcondor_request_disk_mb``/``request_gpus``/
    ``require_gpus`` (HTCondor). One config value feeds both, so they never disagree.

    Args:
        wanted: the config's ``resources.<kind>`` entry (``mem_mb``, ``runtime``,
            ``disk_mb``, ``gpu``, ``gpu_model``).
        rule_name: the rule; those in :data:`MEMORY_PER_INPUT_MB` get a callable
            ``mem_mb`` that grows with their inputs' size, so that a batch system never
            kills an honest job on a large dataset.

    Returns:
        ``{resource name: value or callable of (wildcards, input)}``.

    >>> wanted = {"mem_mb": 2000, "runtime": 60, "disk_mb": 1000, "gpu": 0, "gpu_model": ""}
    >>> job_resources(wanted, "summarise_models")["htcondor_request_mem_mb"]
    2000
    """
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


def memory_from_inputs(base_mb: int, per_input_mb: float) -> Callable:
    """A resources callable: ``base_mb`` plus ``per_input_mb`` for each MiB of the job's
    input files (local files: the workflow reads no remote storage)."""

    def memory(wildcards, input):
        # the files' sizes from the filesystem: Snakemake's ``input.size_mb`` runs an
        # event loop per call, a fifth of a 1000-point grid's planning. A file not there
        # yet (a dry run) raises FileNotFoundError, which Snakemake shows as <TBD> and
        # asks again once it is.
        return base_mb + math.ceil(per_input_mb * sum(os.stat(f).st_size for f in input) / 2**20)

    return memory
