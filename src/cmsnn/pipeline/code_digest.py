"""The digest of the code each rule runs: a package module and every package module it
imports, as syntax trees without docstrings, so that an edit that changes what a stage
does reruns its jobs and a comment or a docstring does not.

Standard library only: ``common.smk`` builds it at every start.
"""

from __future__ import annotations

import ast
import hashlib
import json
from pathlib import Path
from typing import NamedTuple

from cmsnn.files import write_json_if_changed

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
        """``module`` and every package module it imports, directly or not, sorted; the
        subpackages it lies in count as imported (importing ``a.b`` runs ``a/__init__``)."""
        parts = module.split(".")
        parents = [".".join(parts[:end]) for end in range(1, len(parts))]
        found, pending = set(), [module, *(p for p in parents if _is_module(self.package_dir, p))]
        while pending:
            name = pending.pop()
            if name not in found:
                found.add(name)
                pending.extend(self._parsed(name).imports)
        return sorted(found)

    def version(self, stage: str) -> str:
        """A digest of the code ``stage`` runs, for its rules' ``params``: the stage's
        module and every package module it imports (but :data:`RESULT_NEUTRAL_MODULES`),
        as syntax trees without docstrings. Modules are named by their dotted path in the
        package (``fom``, ``statistics.scan``), so a module in a subpackage is followed
        like any other; the package's version is not part of it (a release reruns
        nothing that did not change).

        Snakemake watches a rule's script but not what the script imports; as a param,
        the digest reruns a job when the code it runs changes what it does, and only
        then: a comment, a docstring or a reformatting leaves the tree as it was.
        """
        digest = hashlib.sha256()
        for name in self.dependencies(stage):
            if name not in RESULT_NEUTRAL_MODULES:
                digest.update(f"{name}\0{self._parsed(name).code}\0".encode())
        return digest.hexdigest()[:16]

    def save(self) -> None:
        """Remember the modules parsed in this start; nothing is written when nothing
        changed."""
        known = {**self.cached, **self.parsed}
        if self.cache_file is not None and known != self.cached:
            modules = {name: entry._asdict() for name, entry in known.items()}
            write_json_if_changed({"format": CACHE_FORMAT, "modules": modules}, self.cache_file)

    def _parsed(self, name: str) -> ParsedModule:
        if name not in self.parsed:
            path = module_file(self.package_dir, name)
            source = path.read_bytes()
            checksum = hashlib.sha256(source).hexdigest()
            cached = self.cached.get(name)
            if cached is not None and cached.source == checksum:
                self.parsed[name] = cached
            else:
                is_package = path.name == "__init__.py"
                self.parsed[name] = _parse_module(
                    source, checksum, self.package_dir, name, is_package
                )
        return self.parsed[name]


def module_dependencies(package_dir, module: str) -> list[str]:
    """``module`` and every module of the package it imports, directly or not, sorted."""
    return PackageCode(package_dir).dependencies(module)


#: The cache file's layout: a file of another layout (an earlier version's, whose
#: modules had flat names) is not read.
CACHE_FORMAT = 2


def module_file(package_dir, name: str) -> Path:
    """The source of the package module ``name`` (dotted, relative to the package):
    ``a/b.py``, or ``a/b/__init__.py`` for a subpackage.

    Raises:
        FileNotFoundError: the package has no such module.
    """
    base = Path(package_dir).joinpath(*name.split("."))
    for path in (base.parent / f"{base.name}.py", base / "__init__.py"):
        if path.is_file():
            return path
    raise FileNotFoundError(f"{package_dir}: no module {name!r}")


def _is_module(package_dir: Path, name: str) -> bool:
    try:
        return bool(name) and module_file(package_dir, name) is not None
    except FileNotFoundError:
        return False


def _read_cache(path) -> dict[str, ParsedModule]:
    """The modules a cache file holds; none when it is missing, unreadable or of another
    layout (it is only a shortcut: anything wrong with it means parsing again)."""
    if path is None:
        return {}
    try:
        entries = json.loads(path.read_text())
        if entries.get("format") != CACHE_FORMAT:
            return {}
        return {name: ParsedModule(**entry) for name, entry in entries["modules"].items()}
    except (AttributeError, OSError, ValueError, TypeError, KeyError):
        return {}


def _parse_module(
    source: bytes, checksum: str, package_dir: Path, name: str = "", is_package: bool = False
) -> ParsedModule:
    tree = ast.parse(source)
    imports = _imported_package_modules(tree, package_dir, name, is_package)
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


def _imported_package_modules(
    tree: ast.Module, package_dir: Path, module: str = "", is_package: bool = False
) -> list[str]:
    """The package modules ``module`` (dotted, relative to the package; ``is_package`` for
    a subpackage's ``__init__``) imports: ``import cmsnn.a.b``, ``from cmsnn.a import b``,
    ``from cmsnn import a`` and the relative ``from .x import y``, ``from .. import y``,
    with every subpackage on the way (importing ``a.b`` runs ``a/__init__.py``). Names
    are dotted; the package's own ``__init__`` (its version and docstring) is not one."""
    package = package_dir.name
    here = module.split(".") if module else []
    # the package a relative import starts from: the module's own, or itself for an __init__
    current = here if is_package else here[:-1]
    found = []

    def add_from(base: list[str], names) -> None:
        for alias in names:
            submodule = ".".join([*base, alias.name])
            found.append(submodule if _is_module(package_dir, submodule) else ".".join(base))

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [
                a.name.partition(".")[2] for a in node.names if a.name.startswith(f"{package}.")
            ]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                up = node.level - 1  # "from ." is the current package, ".." its parent
                if up > len(current):
                    continue  # beyond the package: not ours
                base = current[: len(current) - up]
                base = [*base, *(node.module.split(".") if node.module else [])]
            elif node.module == package:
                base = []
            elif (node.module or "").startswith(f"{package}."):
                base = node.module.split(".")[1:]
            else:
                continue
            add_from(base, node.names)
    modules = set()
    for name in found:
        parts = name.split(".") if name else []
        # the module and every subpackage on its way
        modules.update(".".join(parts[:end]) for end in range(1, len(parts) + 1))
    return sorted(name for name in modules if _is_module(package_dir, name))
