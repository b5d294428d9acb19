"""Which input files a run reads: the CSV file of every sample, for each data source.

Standard library only: ``common.smk`` finds them at every start.
"""

from __future__ import annotations

import glob
from collections.abc import Iterable, Mapping
from pathlib import Path

from cmsnn.pipeline.paths import PRESPLIT_STEMS, ResultPaths


def input_csv_files(data: Mapping, toy_samples: Iterable[str], paths: ResultPaths) -> dict:
    """``{sample: CSV path}`` of every input CSV file of the config's data source.

    Args:
        data: the config's ``data`` section (``source``, ``csv_files``,
            ``presplit_directory``).
        toy_samples: the embedded dataset's samples (``data.source: toy``).
        paths: the run's result paths (the toy CSV files are results).

    Returns:
        One entry per sample, named by its file's stem; none for ROOT ntuples.

    Raises:
        ValueError: a pattern matches no file or something that is not a file, two
            files share a stem, or a pre-split file is missing; the message names the
            key and the files.
    """
    source = data["source"]
    if source == "root":
        return {}
    if source == "toy":
        return {sample: paths.toy_csv.format(sample=sample) for sample in toy_samples}
    if source == "presplit":
        folder = Path(data["presplit_directory"])
        files = {
            f"{stem}_{kind}": str(folder / f"{stem}_{kind}.csv")
            for stem in PRESPLIT_STEMS.values()
            for kind in ("sig", "bkg")
        }
        missing = [path for path in files.values() if not Path(path).is_file()]
        if missing:
            raise ValueError(f"data.presplit_directory: missing {missing}")
        return files
    files = {}
    for pattern in data["csv_files"]:
        matches = sorted(glob.glob(pattern))
        if not matches:
            raise ValueError(f"data.csv_files: {pattern!r} matches no file")
        for path in matches:
            if not Path(path).is_file():  # a folder, a device (/dev/zero), a pipe
                raise ValueError(
                    f"data.csv_files: {pattern!r} matches {path!r}, which is not a file; "
                    "give patterns that match CSV files only"
                )
            sample = sample_name(path)
            if files.setdefault(sample, path) != path:
                raise ValueError(
                    f"data.csv_files: {files[sample]} and {path} share the name {sample!r}"
                )
    return files


#: The compressions the CSV reader reads (pyarrow's), as file suffixes.
COMPRESSED_SUFFIXES = (".gz", ".bz2", ".xz", ".zst", ".lz4")


def sample_name(path) -> str:
    """A CSV file's sample name: its name without ``.csv`` and a compression suffix.

    >>> sample_name("data/ttbar.csv.gz"), sample_name("data/W.jets.csv")
    ('ttbar', 'W.jets')
    """
    name = Path(path).name
    for suffix in COMPRESSED_SUFFIXES:
        name = name.removesuffix(suffix)
    return name.removesuffix(".csv") if name.endswith(".csv") else Path(name).stem
