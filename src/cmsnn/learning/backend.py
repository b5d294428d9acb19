"""Where the network runs: Keras' backend, chosen before Keras is imported, and the
batch job and devices a training job was given.

Keras 3 runs on TensorFlow (the default) or JAX; sites whose GPU images carry JAX but
not TensorFlow can train with ``training.backend: jax``.
"""

from __future__ import annotations

import os
import sys

KERAS_BACKENDS = ("tensorflow", "jax")

#: Environment variables that say which batch job and which GPUs a job was given.
BATCH_ENVIRONMENT = (
    "SLURM_JOB_ID",
    "SLURM_JOB_PARTITION",
    "SLURM_JOB_GPUS",
    "SLURM_GPUS_ON_NODE",
    "SLURM_CPUS_PER_TASK",
    "CUDA_VISIBLE_DEVICES",
    "_CONDOR_AssignedGPUs",
    "_CONDOR_JOB_AD",
)


def use_keras_backend(backend: str, threads: int) -> None:
    """Make Keras run on ``backend``; call before importing Keras (or any ``cmsnn``
    module that does). TensorFlow's threads are set later (:func:`cmsnn.model.limit_threads`);
    JAX is made single-threaded when ``threads`` is 1."""
    if backend not in KERAS_BACKENDS:
        raise ValueError(f"training.backend must be one of {KERAS_BACKENDS}, got {backend!r}")
    if "keras" in sys.modules and os.environ.get("KERAS_BACKEND", "tensorflow") != backend:
        raise RuntimeError("Keras is already imported with another backend; choose it first")
    os.environ["KERAS_BACKEND"] = backend
    if backend == "jax" and threads == 1:
        # XLA reads this when JAX starts. It has no setting for N threads: with more
        # than one, JAX uses its own pool (on a batch node, the cores Slurm gives it).
        flags = os.environ.get("XLA_FLAGS", "")
        os.environ["XLA_FLAGS"] = f"{flags} --xla_cpu_multi_thread_eigen=false".strip()


def batch_job_environment() -> dict[str, str]:
    """The batch system's description of this job (empty when run locally)."""
    return {name: os.environ[name] for name in BATCH_ENVIRONMENT if name in os.environ}


def allocated_gpus(environment=None) -> str | None:
    """The GPUs the batch system (or the user) gave this job, as its environment names
    them: Slurm's ``SLURM_JOB_GPUS``/``SLURM_GPUS_ON_NODE``, HTCondor's
    ``_CONDOR_AssignedGPUs``, or ``CUDA_VISIBLE_DEVICES``; None when it was given none
    (a local run on a CPU, or devices hidden with an empty or ``-1`` list)."""
    environment = os.environ if environment is None else environment
    named = []
    for name in ("SLURM_JOB_GPUS", "_CONDOR_AssignedGPUs", "CUDA_VISIBLE_DEVICES"):
        value = environment.get(name, "").strip()
        if value and value not in ("-1", "NoDevFiles"):
            named.append(f"{name}={value}")
    on_node = environment.get("SLURM_GPUS_ON_NODE", "").strip()
    if on_node.isdigit() and int(on_node) > 0:
        named.append(f"SLURM_GPUS_ON_NODE={on_node}")
    return ", ".join(named) or None


def unused_gpu_warning(device: str, environment=None) -> str | None:
    """A warning when the job was given a GPU (:func:`allocated_gpus`) but ``device``,
    where the network trains, is the CPU: the GPU is paid for and idle."""
    given = allocated_gpus(environment)
    if given is None or not device.startswith("CPU"):
        return None
    return (
        f"this job was given a GPU ({given}) but trained on the CPU: the installed "
        "TensorFlow finds no GPU; install its GPU build (pip install -e '.[all-gpu]') or "
        "check the node's CUDA driver"
    )
