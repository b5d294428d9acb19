"""Atomic writers and readers of the small files the stages produce (JSON, YAML, any
file written through a callback); standard library and PyYAML only.

Every output is written to a temporary file beside its destination and renamed into
place, so an interrupted or failed job never leaves a half-written file that a later
step could mistake for a result.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml

#: Length of the random part of :func:`tempfile.mkstemp`'s names.
_RANDOM_CHARACTERS = 8


@contextmanager
def atomic_path(path: str | os.PathLike, remove_stale: bool = True) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` on success.

    The temporary name keeps the destination's extension, which some writers (Keras)
    insist on. ``remove_stale`` first removes what an interrupted write of the same
    file left behind; a file that several processes may write at once (the workflow's
    caches, written by every Snakemake start of a cluster run) must not, or one writer
    would remove another's file before its rename.
    """
    destination = Path(path)
    destination.parent.mkdir(parents=True, exist_ok=True)
    if remove_stale:
        remove_stale_partials(destination)
    handle, temporary = tempfile.mkstemp(
        dir=destination.parent,
        prefix=f".{destination.stem}.",
        suffix=f".partial{destination.suffix}",
    )
    os.close(handle)
    try:
        yield Path(temporary)
        # mkstemp creates the file for its owner only; a result gets the usual mode
        # (the umask's), so that shared analysis areas can read it.
        os.chmod(temporary, _umask_mode())
        os.replace(temporary, destination)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def remove_stale_partials(destination: Path) -> list[Path]:
    """Remove what an interrupted write of ``destination`` left behind (a job killed
    between writing and renaming); returns the removed paths."""
    pattern = f".{destination.stem}.{'?' * _RANDOM_CHARACTERS}.partial{destination.suffix}"
    stale = sorted(destination.parent.glob(pattern))
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


def _umask_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def write_with(path: str | os.PathLike, writer: Callable[[Path], None]) -> None:
    """Call ``writer(temporary_path)`` and move the result onto ``path`` atomically."""
    with atomic_path(path) as temporary:
        writer(temporary)


def write_json(document: dict, path: str | os.PathLike) -> None:
    """Write a JSON document atomically, indented for people to read."""

    def dump(temporary: Path) -> None:
        temporary.write_text(json.dumps(document, indent=2, sort_keys=False) + "\n")

    write_with(path, dump)


def read_json(path: str | os.PathLike) -> dict:
    return json.loads(Path(path).read_text())


def write_json_if_changed(value, path) -> Path:
    """``value`` as JSON in ``path``, written (atomically: Snakemake may start in
    parallel on a cluster) only when the file does not hold it already."""
    path = Path(path)
    text = json.dumps(value)  # in the given order: the validator fills defaults in that order
    if not path.is_file() or path.read_text() != text:
        with atomic_path(path, remove_stale=False) as temporary:
            temporary.write_text(text)
    return path


def read_yaml(path: str | os.PathLike):
    """A YAML file, read safely with libyaml's loader where PyYAML has it (the
    pure-Python one takes a fifth of a second on the config's schema)."""
    return yaml.load(Path(path).read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
