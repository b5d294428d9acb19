"""Ingestion of ROOT ntuples: a process's TTrees to a typed Parquet table, chunk by chunk.

Each process names its ROOT files (globs), the tree, an optional event ``selection``,
the event ``weight`` and, per input variable, an expression over the tree's branches
(:mod:`cmsnn.ingestion.expressions` with ``objects=True``: ``MET_pt``, ``Muon_pt[:, 0]``,
``ak.num(Jet_pt[Jet_pt > 30])``, ``ak.sum(Jet_pt, axis=1)``); a variable without an
expression is the branch of its own name. The weight is the ``weight`` expression times
``cross_section / generated_events`` when a cross section is given (yields in pb, like
the CSV inputs), where ``generated_events`` is a number or the sum of a branch of a tree
of the same files (NanoAOD's ``Runs`` tree ``genEventSumw``).

Files are read with ``uproot`` in steps of ``step_size`` and every step is written as
a Parquet row group at once, so memory stays bounded whatever the size of the files.
The table has the columns of a CSV ingestion: the features (float32), ``weight``
(float64), ``process``, ``class`` and ``class_index``.
"""

from __future__ import annotations

import ast
import glob
import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from cmsnn.config.checks import assign_classes, check_feature_names, check_unique_names
from cmsnn.files import atomic_path
from cmsnn.ingestion.expressions import (
    ExpressionError,
    check_condition,
    evaluate_object_expression,
    expression_names,
    parse_expression,
)
from cmsnn.vocabulary import PROCESS_TABLE_COLUMNS

log = logging.getLogger(__name__)


def process_expressions(process: Mapping, features: Sequence[str]) -> dict[str, str]:
    """``{what: expression}`` of a process: one per feature (its own name when not
    given), the ``weight`` and, when set, the ``selection``."""
    variables = process.get("variables") or {}
    unknown = sorted(set(variables) - set(features))
    if unknown:
        raise ValueError(
            f"data.root process {process['name']!r}: variables {unknown} are not among "
            f"data.features {list(features)}; add them there or remove them"
        )
    expressions = {feature: str(variables.get(feature, feature)) for feature in features}
    expressions["weight"] = str(process.get("weight", "1"))
    if process.get("selection"):
        expressions["selection"] = str(process["selection"])
    return expressions


def resolve_files(process: Mapping) -> list[str]:
    """The process's files: every glob expanded, sorted, each file once."""
    files = []
    for pattern in process["files"]:
        matches = sorted(glob.glob(pattern))
        if not matches:
            raise ValueError(
                f"data.root process {process['name']!r}: {pattern!r} matches no file; check "
                "the path (relative paths start at the folder Snakemake runs in)"
            )
        files += [match for match in matches if match not in files]
    return files


def parsed_expressions(process: Mapping, features: Sequence[str]) -> dict:
    """The checked syntax trees of a process's expressions (start-up check)."""
    trees = {}
    for what, text in process_expressions(process, features).items():
        label = f"data.root process {process['name']!r}, {what}"
        trees[what] = parse_expression(text, None, what=label, objects=True)
        if what == "selection":
            check_condition(trees[what], text, what=label)
    return trees


def check_root_processes(processes: Sequence[Mapping], features: Sequence[str]) -> None:
    """Start-up check of ``data.root.processes``: unique names, the features not named
    like the pipeline's own columns, every expression in the grammar, every glob
    matching, and the first file of each process opened (its header only: fast) to
    find the tree and every branch used. The ingestion rule checks every file."""
    check_unique_names([process["name"] for process in processes], "data.root.processes")
    check_feature_names(features)
    for process in processes:
        trees = parsed_expressions(process, features)
        first = resolve_files(process)[0]
        with _open_tree(first, process["tree"]) as tree:
            _check_branches(first, process["tree"], tree, process, features, trees)
        _check_normalisation(process)


def generated_events(process: Mapping, files: Sequence[str]) -> float:
    """The process's number of generated events: the configured number, or the sum of a
    branch (``genEventSumw``) of a tree (``Runs``) over all its files."""
    generated = process["generated_events"]
    if not isinstance(generated, Mapping):
        return float(generated)
    total = 0.0
    for path in files:
        with _open_tree(path, generated["tree"]) as tree:
            if generated["branch"] not in tree.keys():
                raise ValueError(
                    f"{path}: tree {generated['tree']!r} has no branch {generated['branch']!r} "
                    f"(data.root process {process['name']!r}, generated_events)"
                )
            for chunk in tree.iterate([generated["branch"]], library="np"):
                total += float(np.sum(chunk[generated["branch"]], dtype=np.float64))
    if not total > 0:
        raise ValueError(
            f"data.root process {process['name']!r}: the sum of {generated['branch']!r} in "
            f"tree {generated['tree']!r} is {total}; the number of generated events must be "
            "positive"
        )
    return total


def read_root_process(
    process: Mapping, features: Sequence[str], fill_value: float, step_size
) -> Iterator[pa.Table]:
    """The events of one process, a table per step of every file: the features
    (float32), ``weight`` (float64) and ``process``."""
    files = resolve_files(process)
    trees = parsed_expressions(process, features)
    scale = 1.0
    if process.get("cross_section") is not None:
        scale = float(process["cross_section"]) / generated_events(process, files)
    branches = sorted({name for tree in trees.values() for name in expression_names(tree)})
    for path in files:
        with _open_tree(path, process["tree"]) as tree:
            _check_branches(path, process["tree"], tree, process, features, trees)
            first_entry = 0
            chunks = tree.iterate(branches, step_size=step_size, library="ak")
            while True:
                try:
                    chunk = next(chunks)
                except StopIteration:
                    break
                except (OSError, ValueError, KeyError) as error:  # a damaged basket
                    raise ValueError(
                        f"{path}: tree {process['tree']!r} cannot be read after entry "
                        f"{first_entry} ({_one_line(error)}); check that the file is complete"
                    ) from None
                columns = {name: chunk[name] for name in branches}
                yield _events_of_chunk(
                    columns, trees, features, fill_value, scale, process, path, first_entry
                )
                first_entry += len(chunk)


def ingest_root_files(
    *,
    parquet,
    process: Mapping,
    features: Sequence[str],
    classes: Sequence[Mapping],
    fill_value: float = 0.0,
    step_size="20 MB",
) -> None:
    """Entry point of rule ``ingest_root``: one process's ROOT files (its config entry
    ``process``) in, one labelled Parquet table (``parquet``) out, written one row group
    per step of ``step_size``; ``fill_value`` for objects an event does not have."""
    output = parquet
    index = assign_classes([process["name"]], classes)[process["name"]]
    class_name = classes[index]["name"]
    schema = _schema(features)
    events = 0
    sums = 0.0
    with atomic_path(output) as temporary, pq.ParquetWriter(temporary, schema) as writer:
        for table in read_root_process(process, features, fill_value, step_size):
            labels = {
                "class": pa.array([class_name] * table.num_rows, pa.string()),
                "class_index": pa.array(np.full(table.num_rows, index, np.int32)),
            }
            for name, column in labels.items():
                table = table.append_column(name, column)
            writer.write_table(table.cast(schema))
            events += table.num_rows
            sums += float(np.sum(table.column("weight").to_numpy()))
        if events == 0:
            raise ValueError(
                f"data.root process {process['name']!r}: no event passes the selection "
                f"{process.get('selection')!r} in {resolve_files(process)}; loosen it"
            )
    # counted while writing: reading the table back would hold every event's names
    table = pd.DataFrame([[process["name"], class_name, events, sums]],
                         columns=list(PROCESS_TABLE_COLUMNS))  # fmt: skip
    log.info("%s: process, class, events and sum of weights:\n%s", process["name"],
             table.to_string(index=False))  # fmt: skip


def _events_of_chunk(columns, trees, features, fill_value, scale, process, path, first_entry):
    context = f"{path}, tree {process['tree']!r}"
    if "selection" in trees:
        mask = _evaluate(trees["selection"], columns, fill_value, context, "selection")
        if mask.dtype != bool:
            raise ValueError(
                f"{context}: the selection {process['selection']!r} must be a condition "
                "(true/false per event)"
            )
        entries = np.flatnonzero(mask) + first_entry
        columns = {name: array[mask] for name, array in columns.items()}
    else:
        entries = np.arange(len(next(iter(columns.values())))) + first_entry
    values = {}
    for name in [*features, "weight"]:
        value = _evaluate(trees[name], columns, fill_value, context, name)
        finite = np.isfinite(value)
        if not finite.all():
            entry = int(entries[np.argmin(finite)])
            raise ValueError(
                f"{context}, entry {entry}: {name} = {ast.unparse(trees[name])!r} is "
                f"{value[~finite][0]} (not a finite number); guard the expression, for "
                "example sqrt(abs(...)), or select such events away"
            )
        values[name] = value
    weight = values.pop("weight").astype(np.float64) * scale
    arrays = {name: value.astype(np.float32) for name, value in values.items()}
    arrays |= {"weight": weight, "process": np.full(len(weight), process["name"], dtype=object)}
    # where each event came from, so that its prediction joins back to the ntuple
    arrays |= {"source_file": np.full(len(weight), str(path), dtype=object),
               "source_entry": entries.astype(np.int64)}  # fmt: skip
    return pa.table(arrays)


def _evaluate(tree, columns, fill_value, context, what):
    try:
        # A NaN or infinity is reported below with its entry, not as a NumPy warning.
        with np.errstate(all="ignore"):
            value = evaluate_object_expression(tree, columns, fill_value)
    except (ExpressionError, ValueError, TypeError) as error:
        raise ValueError(f"{context}: {what} = {ast.unparse(tree)!r} fails: {error}") from None
    return np.asarray(value)


def _schema(features: Sequence[str]) -> pa.Schema:
    fields = [pa.field(name, pa.float32()) for name in features]
    fields += [
        pa.field("weight", pa.float64()),
        pa.field("process", pa.string()),
        pa.field("source_file", pa.string()),
        pa.field("source_entry", pa.int64()),
        pa.field("class", pa.string()),
        pa.field("class_index", pa.int32()),
    ]
    return pa.schema(fields)


@contextmanager
def _open_tree(path: str, name: str):
    """``with _open_tree(path, name) as tree``: the TTree, or an error that names the
    file (missing, not ROOT) or the tree (missing, with the trees the file has)."""
    import uproot  # only the ROOT ingestion needs it

    if not Path(path).is_file():
        raise ValueError(f"{path}: no such file")
    try:
        # Read with plain file reads, not a memory map: mapped pages of a large file stay
        # resident and count against the job's memory; nothing is cached beyond a step.
        file = uproot.open(
            path, handler=uproot.source.file.MultithreadedFileSource, array_cache=None
        )
    except Exception as error:  # uproot raises several types for a file that is not ROOT
        raise ValueError(
            f"{path}: cannot be opened as a ROOT file ({_one_line(error)}); check that it is "
            "a complete ROOT file (a copy cut short, a file still being written)"
        ) from None
    with file:
        kinds = {key.split(";")[0]: kind for key, kind in file.classnames().items()}
        trees = {key for key, kind in kinds.items() if kind.startswith(("TTree", "TNtuple"))}
        if kinds.get(name) == "ROOT::RNTuple":
            raise ValueError(
                f"{path}: {name!r} is an RNTuple, not a TTree; this workflow reads TTrees "
                "(write the file with uproot's mktree, or convert it with ROOT)"
            )
        if name not in trees:
            raise ValueError(
                f"{path}: has no tree {name!r}; its trees are {sorted(trees)} (set the "
                "process's `tree`)"
            )
        yield file[name]


def _check_branches(path, tree_name, tree, process, features, trees) -> None:
    available = set(tree.keys())
    texts = process_expressions(process, features)
    for what, parsed in trees.items():
        missing = [name for name in expression_names(parsed) if name not in available]
        if missing:
            raise ValueError(
                f"{path}, tree {tree_name!r}: no branch {missing[0]!r}, used by {what} = "
                f"{texts[what]!r} (data.root process {process['name']!r}); the tree has "
                f"{len(available)} branches, for example {sorted(available)[:8]}"
            )


def _check_normalisation(process: Mapping) -> None:
    if process.get("cross_section") is not None and process.get("generated_events") is None:
        raise ValueError(
            f"data.root process {process['name']!r}: a cross_section needs generated_events "
            "(a number, or {tree: Runs, branch: genEventSumw})"
        )
    if process.get("generated_events") is not None and process.get("cross_section") is None:
        raise ValueError(
            f"data.root process {process['name']!r}: generated_events is only used with a "
            "cross_section; add the cross section in pb, or remove generated_events"
        )


def _one_line(error: BaseException, limit: int = 300) -> str:
    """A library's message on one line and at most ``limit`` characters: the console
    shows a failed job's last line."""
    text = " ".join(str(error).split())
    return text if len(text) <= limit else f"{text[:limit]}…"
