"""The config's vocabulary and its start-up checks, and the code each rule runs.

What ``common.smk`` needs to read and check the config lives here, in the standard
library and PyYAML alone: checking a workflow whose results are up to date must not
import pandas, pyarrow or NumPy (a second of CPU at every start). The stage modules take
their names (splits, scalings, balancings, classes) from here.
"""

from __future__ import annotations

import ast
import difflib
import fnmatch
import hashlib
import json
import math
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

import yaml

#: The three splits, in the order the tables list them.
SPLITS = ("train", "validation", "test")
#: ``preprocessing.scaling`` values.
SCALING_METHODS = ("minmax", "standard", "quantile")
#: ``preprocessing.balancing`` values.
BALANCING_SCHEMES = ("equal", "sqrt", "none")
#: ``classification`` values: one sigmoid output, or a softmax over the classes.
MODES = ("binary", "multiclass")

# YAML 1.2 (and every physicist) reads 1e-3 as a number; PyYAML follows YAML 1.1,
# where a float needs a dot (1.0e-3), and returns the text "1e-3" instead.
_SCIENTIFIC = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+")


def scientific_numbers(value):
    """``value`` with every string in scientific notation turned into a number: ``"1e-3"``
    into a float, and a whole ``"1e3"`` into an int, since it may count epochs or units."""
    if isinstance(value, dict):
        return {key: scientific_numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [scientific_numbers(item) for item in value]
    if isinstance(value, str) and _SCIENTIFIC.fullmatch(value.strip()):
        number = float(value)
        return int(number) if number.is_integer() else number
    return value


def check_config_keys(config: Mapping, schema: Mapping, where: str = "") -> None:
    """Name an unknown config key before the schema validation does: the key, the keys
    that look like it, the keys allowed there and what the section is for (Snakemake's
    own message prints the whole schema). Recurses into sections and lists of entries."""
    properties = schema.get("properties")
    if not isinstance(config, Mapping) or properties is None:
        return
    for key, value in config.items():
        if key not in properties:
            if schema.get("additionalProperties", True) is False:
                raise ValueError(_unknown_key_message(where, key, schema))
            continue
        section = properties[key]
        check_config_keys(value, section, f"{where}{key}.")
        if isinstance(value, list) and isinstance(section.get("items"), Mapping):
            for index, entry in enumerate(value):
                check_config_keys(entry, section["items"], f"{where}{key}[{index}].")


def _unknown_key_message(where: str, key, schema: Mapping) -> str:
    allowed = sorted(schema["properties"])
    close = difflib.get_close_matches(str(key), allowed, n=3, cutoff=0.6)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    section = where.rstrip(".") or "the top level"
    about = " ".join(str(schema.get("description", "")).split())
    return (
        f"config: unknown key {where}{key}{hint} The keys allowed at {section} are "
        f"{', '.join(allowed)}"
        + (f" ({section}: {about})" if about and where else "")
        + ". Every key is documented in workflow/schemas/config.schema.yaml."
    )


#: Package modules that only read, write or log: an edit to them cannot change a result,
#: so it reruns nothing.
RESULT_NEUTRAL_MODULES = frozenset({"files", "logs"})


class ParsedModule(NamedTuple):
    """A package module as the workflow sees it: the checksum of its source, the package
    modules it imports, and the checksum of its syntax tree without docstrings (comments
    are not in the tree)."""

    source: str
    imports: list[str]
    code: str


class PackageCode:
    """The code each stage runs: a package's modules, each parsed once per Snakemake
    start, or not at all when ``cache_file`` holds it parsed from the same source."""

    def __init__(self, package_dir, cache_file=None):
        self.package_dir = Path(package_dir)
        self.cache_file = None if cache_file is None else Path(cache_file)
        self.cached = _read_cache(self.cache_file)
        self.parsed: dict[str, ParsedModule] = {}

    def dependencies(self, module: str) -> list[str]:
        """``module`` and every package module it imports, directly or not, sorted."""
        found, pending = set(), [module]
        while pending:
            name = pending.pop()
            if name not in found:
                found.add(name)
                pending.extend(self._parsed(name).imports)
        return sorted(found)

    def version(self, stage: str, version: str) -> str:
        """A digest of the code ``stage`` runs, for its rules' ``params``: the stage's
        module and every package module it imports (but :data:`RESULT_NEUTRAL_MODULES`),
        as syntax trees without docstrings, and the package's ``version``.

        Snakemake watches a rule's script but not what the script imports; as a param,
        the digest reruns a job when the code it runs changes what it does, and only
        then: a comment, a docstring or a reformatting leaves the tree as it was.
        """
        digest = hashlib.sha256(version.encode())
        for name in self.dependencies(stage):
            if name not in RESULT_NEUTRAL_MODULES:
                digest.update(f"{name}\0{self._parsed(name).code}\0".encode())
        return digest.hexdigest()[:16]

    def save(self) -> None:
        """Remember the modules parsed in this start (atomically: Snakemake runs in
        parallel on a cluster); nothing is written when nothing changed."""
        known = {**self.cached, **self.parsed}
        if self.cache_file is None or known == self.cached:
            return
        self.cache_file.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.cache_file.parent, suffix=".partial")
        os.chmod(temporary, 0o644)  # mkstemp's 0600 would hide it from a shared project's users
        with os.fdopen(handle, "w") as stream:
            json.dump({name: entry._asdict() for name, entry in known.items()}, stream)
        os.replace(temporary, self.cache_file)

    def _parsed(self, name: str) -> ParsedModule:
        if name not in self.parsed:
            source = (self.package_dir / f"{name}.py").read_bytes()
            checksum = hashlib.sha256(source).hexdigest()
            cached = self.cached.get(name)
            if cached is not None and cached.source == checksum:
                self.parsed[name] = cached
            else:
                self.parsed[name] = _parse_module(source, checksum, self.package_dir)
        return self.parsed[name]


def module_dependencies(package_dir, module: str) -> list[str]:
    """``module`` and every module of the package it imports, directly or not, sorted."""
    return PackageCode(package_dir).dependencies(module)


def _read_cache(path) -> dict[str, ParsedModule]:
    """The modules a cache file holds; none when it is missing or unreadable (it is
    only a shortcut: anything wrong with it means parsing again)."""
    if path is None:
        return {}
    try:
        entries = json.loads(path.read_text())
        return {name: ParsedModule(**entry) for name, entry in entries.items()}
    except (AttributeError, OSError, ValueError, TypeError):
        return {}


def _parse_module(source: bytes, checksum: str, package_dir: Path) -> ParsedModule:
    tree = ast.parse(source)
    imports = _imported_package_modules(tree, package_dir)
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            if node.body and _is_docstring(node.body[0]):
                node.body = node.body[1:] or [ast.Pass()]
    code = hashlib.sha256(ast.dump(tree).encode()).hexdigest()
    return ParsedModule(checksum, imports, code)


def _is_docstring(statement: ast.stmt) -> bool:
    return (
        isinstance(statement, ast.Expr)
        and isinstance(statement.value, ast.Constant)
        and isinstance(statement.value.value, str)
    )


def _imported_package_modules(tree: ast.Module, package_dir: Path) -> list[str]:
    """Package modules named by ``import cmsnn.x``, ``from cmsnn.x import …``,
    ``from cmsnn import x`` and the relative ``from .x import …``/``from . import x``."""
    package = package_dir.name
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name.split(".")[1] for a in node.names if a.name.startswith(f"{package}.")]
        elif isinstance(node, ast.ImportFrom):
            base = "" if node.level else (node.module or "")
            relative = node.module if node.level else None
            if base.startswith(f"{package}.") or relative:
                names.append((relative or base.split(".")[1]).split(".")[0])
            elif base == package or (node.level and node.module is None):
                names += [a.name for a in node.names]
    return [name for name in names if (package_dir / f"{name}.py").is_file()]


#: A sigmoid or softmax output lies in [0, 1]: explicit scan ranges must lie there too.
OUTPUT_RANGE = (0.0, 1.0)
#: ``fom.cut_min``/``cut_max`` value asking for the range from the validation signal.
AUTO = "auto"


def check_cut_range(cut_min, cut_max, steps: int) -> None:
    """Start-up check of ``fom.cut_min``/``cut_max``: numbers or ``auto``; explicit ones
    inside the network output's range [0, 1], and ``cut_min < cut_max``."""
    low, high = OUTPUT_RANGE
    for key, value in (("cut_min", cut_min), ("cut_max", cut_max)):
        if value == AUTO:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"fom.{key} must be a number or 'auto', got {value!r}")
        if not low <= value <= high:
            raise ValueError(
                f"fom.{key} = {value} lies outside the network output's range [{low}, {high}] "
                "(sigmoid or softmax): no cut there selects anything; use a value inside it "
                "or 'auto'"
            )
    if AUTO not in (cut_min, cut_max):
        check_scan_order(cut_min, cut_max, steps)


def check_scan_order(cut_min: float, cut_max: float, steps: int) -> None:
    """A scan needs ``cut_min < cut_max`` and at least one step."""
    if not cut_max > cut_min or steps < 1:
        raise ValueError(
            f"the FOM scan needs cut_min < cut_max and steps ≥ 1, got {cut_min}, {cut_max}, {steps}"
        )


def assign_classes(processes: Sequence[str], classes: Sequence[Mapping]) -> dict[str, int]:
    """Map each process name to the index of the first class whose glob pattern matches it.

    ``classes`` is the ordered config list ``[{name, patterns}, …]``; the first class is
    the signal. A process no pattern matches is an error: add a pattern, or a catch-all
    ``"*"`` class last.
    """
    assignment = {}
    for process in sorted(set(processes)):
        for index, entry in enumerate(classes):
            if any(fnmatch.fnmatchcase(process, pattern) for pattern in entry["patterns"]):
                assignment[process] = index
                break
        else:
            names = ", ".join(f"{c['name']} {c['patterns']}" for c in classes)
            raise ValueError(
                f"process {process!r} matches no class pattern ({names}); add a pattern for "
                "it under `classes:` in the config, or a last class with pattern '*'"
            )
    return assignment


def check_classes(classes: Sequence[Mapping]) -> None:
    """Start-up check of the class list: names are unique (training uses the class
    index, predictions and the FOM the name), and no class comes after one whose
    pattern matches every process (``*``): it could never receive an event."""
    names = [entry["name"] for entry in classes]
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise ValueError(
            f"classes: the names {duplicated} are used twice; give every class its own"
        )
    for index, entry in enumerate(classes[:-1]):
        catch_all = [pattern for pattern in entry["patterns"] if set(pattern) == {"*"}]
        if catch_all:
            later = [later_entry["name"] for later_entry in classes[index + 1 :]]
            raise ValueError(
                f"classes: {entry['name']} has the pattern {catch_all[0]!r}, which catches every "
                f"process, so the later classes {later} can never receive an event; move "
                f"{entry['name']} to the end of the list"
            )


def check_every_class_has_a_process(processes: Sequence[str], classes: Sequence[Mapping]) -> None:
    """Every class receives at least one of ``processes`` (a multi-class network cannot
    learn a class without events)."""
    assignment = assign_classes(processes, classes)
    empty = [
        entry["name"] for index, entry in enumerate(classes) if index not in assignment.values()
    ]
    if empty:
        raise ValueError(
            f"classes: {empty} match none of the processes {sorted(set(processes))}; fix their "
            "patterns or remove them"
        )


def check_fractions(fractions: Mapping[str, float]) -> None:
    """The fractions must be positive and sum to one."""
    if set(fractions) != set(SPLITS):
        raise ValueError(f"split fractions must be given for {SPLITS}, got {sorted(fractions)}")
    if any(value <= 0 for value in fractions.values()):
        raise ValueError(f"split fractions must be positive, got {dict(fractions)}")
    if not math.isclose(sum(fractions.values()), 1.0, rel_tol=1e-5, abs_tol=1e-9):
        raise ValueError(f"split fractions must sum to 1, got {dict(fractions)}")


def default_balancing(mode: str) -> str:
    """The balancing used when the config sets none: ``equal`` in binary mode (the
    tutorial's binary script; with ``sqrt`` the many background classes together
    outweigh the signal and its output never reaches the cuts that matter), ``sqrt``
    in multi-class mode (the tutorial's multi-class script)."""
    if mode not in MODES:
        raise ValueError(f"classification must be one of {MODES}, got {mode!r}")
    return "equal" if mode == "binary" else "sqrt"


def read_process_table(path) -> dict[str, dict]:
    """The process catalogue: ``{process name: parameters}``."""
    with open(path) as stream:
        return yaml.safe_load(stream)
