"""What a job asks its executor for: memory, run time, disk and GPUs of its kind of job
(training, prediction, light) from the config, under the names each executor reads,
and more memory for the jobs that hold their inputs in memory as those inputs grow.

Standard library only: ``common.smk`` calls it for every rule at every start.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping

#: Memory a job needs per MiB of its input files on top of its kind's ``mem_mb``, for
#: every rule: measured by ``benchmarks/declared_memory.py`` (each job's peak resident
#: memory on one CSV file of 0.1, 1 and 2 GB), as a quarter more than the slope of the
#: peak against the input's size, rounded up to a half (the intercepts, 70-1,060 MiB,
#: lie below every kind's ``mem_mb``). 0 where the peak does not grow with the input
#: (ingestion streams; the tables and figures across models read small files; toy
#: generation has no input). ``collect_presplit`` and ``preselect`` hold a split as
#: ``split_events`` does, and the 2-D view of the classification reads the test
#: events and predictions as ``plot_model`` does: they take those rules' factors (the
#: default config runs neither). The rules that read predictions read them as Parquet
#: since issue 31; their memory still counts the CSV written beside each (the factors
#: are per MiB of it, whatever the Parquet file's compression).
MEMORY_PER_INPUT_MB = {
    "generate_toy_sample": 0,
    "ingest_csv": 0,
    "ingest_root": 0,  # (benchmarks/root_ingestion_memory.py: chunked, flat)
    "tabulate_processes": 2,
    "split_events": 7.5,
    "collect_presplit": 7.5,
    "preselect": 7.5,
    "scale_and_balance": 6,
    "tabulate_cutflow": 3,
    "plot_inputs": 9,
    "plot_two_dimensional_samples": 9,
    "train_model": 13,
    "predict": 9.5,
    "permutation_importance": 16.5,
    "write_model_card": 0,
    "average_seed_predictions": 1,
    "evaluate_model": 2,
    "fit_binned_likelihood": 2.5,
    "plot_model": 2,
    "plot_two_dimensional_classification": 2,
    "plot_binned_output": 0,
    "plot_ensemble_fom_scan": 0,
    "summarise_models": 0,
    "plot_seed_spread": 0,
    "plot_fom_by_signal": 0,
    "plot_limits": 0,
    # every compared network's tables at once (the mass-plane preset with 19 networks ×
    # 3 seeds: 1,012 MiB at 628 MiB of inputs)
    "compare_mass_points": 2,
    "plot_mass_point_comparison": 0,
}


def job_resources(wanted: Mapping, rule_name: str) -> dict:
    """The resources of a rule's jobs, under the names each executor reads:
    ``mem_mb``/``runtime``/``disk_mb``/``gpu``/``gpu_model`` (local runs, Slurm) and
    ``htcondor_request_mem_mb``/``htcondor_request_disk_mb``/``request_gpus``/
    ``require_gpus`` (HTCondor). One config value feeds both, so they never disagree.

    Args:
        wanted: the config's ``resources.<kind>`` entry (``mem_mb``, ``runtime``,
            ``disk_mb``, ``gpu``, ``gpu_model``).
        rule_name: the rule; those with a factor in :data:`MEMORY_PER_INPUT_MB` get a
            callable ``mem_mb`` that grows with their inputs' size, so that a batch
            system never kills an honest job on a large dataset.

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
    if MEMORY_PER_INPUT_MB.get(rule_name):
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
        return base_mb + math.ceil(per_input_mb * sum(map(_measured_size, input)) / 2**20)

    return memory


def _measured_size(path: str) -> int:
    """The bytes of an input as the memory factors count them: a Parquet file of
    predictions by the CSV written beside it (the factors were measured per MiB of CSV;
    the compressed Parquet file's share of the table in memory depends on how much its
    text columns repeat), any other file by itself."""
    if path.endswith(".parquet") and os.path.basename(path).startswith("predictions_"):
        beside = path.removesuffix(".parquet") + ".csv"
        if os.path.exists(beside):
            return os.stat(beside).st_size
    return os.stat(path).st_size
