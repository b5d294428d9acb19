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
