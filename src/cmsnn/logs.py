"""Send a rule's output, including TensorFlow's and Keras' own printing, to its log."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path


def redirect_output_to_log(log_path: str | os.PathLike) -> None:
    """Point file descriptors 1 and 2 (and ``sys.stdout``/``sys.stderr``) at ``log_path``.

    Redirecting the descriptors rather than only the Python objects also captures what
    compiled libraries (TensorFlow's C++ runtime) print, so the rule's log holds
    everything a user needs to see why a job failed.
    """
    Path(log_path).parent.mkdir(parents=True, exist_ok=True)
    log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    os.close(log_fd)
    sys.stdout = os.fdopen(1, "w", buffering=1, closefd=False)
    sys.stderr = os.fdopen(2, "w", buffering=1, closefd=False)
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
        force=True,
    )
