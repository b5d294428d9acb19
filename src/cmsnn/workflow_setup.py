"""The workflow's own machinery in ``common.smk``: reading the config as a physicist
writes it, handing its schema to Snakemake's validator, and the digest of the code each
rule runs.

No stage imports this module, so editing it reruns nothing; standard library and PyYAML
only, so that checking an up-to-date workflow imports no pandas, pyarrow or NumPy.
"""

from __future__ import annotations

import ast
import difflib
import hashlib
import json
import os
import re
import shlex
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

import yaml

from cmsnn import configuration as cmsnn_configuration
from cmsnn.configuration import default_balancing

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


#: The config's schema, from the workflow's folder: every key, its default and meaning.
SCHEMA_FILE = Path("workflow") / "schemas" / "config.schema.yaml"


def resolved_config(config: Mapping, workflow_dir, validator_schema=None, cache_file=None) -> dict:
    """The config a run uses: numbers in scientific notation read as numbers, an unknown
    key named with its neighbours, the schema's defaults filled in by Snakemake's own
    validator, and the one default that depends on another key (balancing: ``equal``
    in binary mode, as the tutorial's binary script; ``sqrt`` in multi-class mode).

    ``validator_schema``: a path where the schema is kept as JSON for the validator,
    which reads JSON at once and YAML in a fifth of a second (rewritten when it changes).
    ``cache_file``: where the last resolution is kept with the digest of what it came
    from (the config as given, the schema, this code, Snakemake's version); the same
    config again is read from there, without importing the validator and validating
    again (a tenth of a second, at every start of Snakemake, each job's on a cluster).
    """
    schema_file = Path(workflow_dir) / SCHEMA_FILE
    digest = None if cache_file is None else _resolution_digest(config, schema_file)
    if digest is not None:
        cached = _read_resolution(cache_file, digest)
        if cached is not None:
            return cached
    from snakemake.utils import validate

    schema = load_schema(schema_file)
    resolved = scientific_numbers(dict(config))  # new containers: the caller's are left alone
    check_config_keys(resolved, schema)
    if validator_schema is not None:
        schema_file = write_json_if_changed(schema, validator_schema).resolve()
    validate(resolved, schema=str(schema_file))
    resolved = plain_data(resolved)
    resolved["preprocessing"].setdefault("balancing", default_balancing(resolved["classification"]))
    if digest is not None and _survives_json(resolved):
        write_json_if_changed({"digest": digest, "config": resolved}, cache_file)
    return resolved


def _resolution_digest(config: Mapping, schema_file: Path) -> str | None:
    """What a resolved config depends on, as one digest; None for a config JSON cannot
    write (a key that is not text, a date): such a config is resolved every time."""
    import snakemake  # (loaded already in a Snakemake run)

    try:
        config_text = json.dumps(config, allow_nan=False)  # key order matters: it is kept
    except (TypeError, ValueError):
        return None
    digest = hashlib.sha256(config_text.encode())
    for path in (schema_file, Path(__file__), Path(cmsnn_configuration.__file__)):
        digest.update(path.read_bytes())
    digest.update(str(getattr(snakemake, "__version__", "")).encode())
    return digest.hexdigest()


def _read_resolution(path, digest: str) -> dict | None:
    """The resolved config kept in ``path`` if it was resolved from ``digest``; None when
    it was not, or the file is missing or unreadable (it is only a shortcut)."""
    try:
        kept = json.loads(Path(path).read_text())
        return kept["config"] if kept["digest"] == digest else None
    except (OSError, ValueError, TypeError, KeyError):
        return None


def _survives_json(value) -> bool:
    """Whether ``value`` reads back from JSON as it is (keys that are not text do not)."""
    try:
        return json.loads(json.dumps(value, allow_nan=False)) == value
    except (TypeError, ValueError):
        return False


def read_config_files(*paths, workflow_dir=None) -> dict:
    """The config of ``snakemake --configfile A B …``: each file's keys merged into
    the ones before, section by section as Snakemake merges them, then resolved
    (:func:`resolved_config`). For scripts and tests that need the values a run uses."""
    from snakemake.utils import update_config

    config = {}
    for path in paths:
        update_config(config, yaml.safe_load(Path(path).read_text()) or {})
    workflow_dir = workflow_dir or Path(paths[0]).resolve().parent
    return resolved_config(config, workflow_dir)


#: Schema objects the key table (docs/configuration.md) shows as one row (their keys together).
_ONE_ROW = ("split.fractions", "grid", "resources.training", "resources.prediction",
            "resources.light")  # fmt: skip


def report_command(
    results: str,
    configfiles: Sequence = (),
    config_overrides: Mapping | None = None,
    snakefile=None,
    stylesheet=None,
    started_in=None,
) -> str:
    """The command that builds the report of *this* run: ``snakemake --report
    <results>/report.html`` with the run's own ``--configfile`` files and ``--config``
    overrides (and its Snakefile where it is not ``./Snakefile``), so that, run as printed
    from the folder the run was started in, it reports the results it was printed after.

    Args:
        results: the run's results folder (config key ``results``), relative to the
            working folder (Snakemake's ``--directory``, where this is called).
        configfiles: the ``--configfile`` files of the run (a profile's included).
        config_overrides: the ``--config`` values of the run, as Snakemake parsed them.
        snakefile: the run's Snakefile.
        stylesheet: the report's stylesheet (``report/report.css``: figures scaled to the
            window, a tall one's top kept in reach), for ``--report-stylesheet``.
        started_in: the folder the run was started in (the shell's ``PWD``); where it is
            not the working folder (``--directory``), the command names the working folder
            and gives every other path in full.

    Returns:
        The command, quoted for a POSIX shell.
    """
    working = Path.cwd()
    elsewhere = started_in is not None and Path(started_in).resolve() != working.resolve()
    path = (lambda value: str(Path(value).absolute())) if elsewhere else _relative
    words = ["snakemake"]
    if elsewhere:
        words += ["--directory", str(working)]
    if snakefile is not None and path(snakefile) != "Snakefile":
        words += ["--snakefile", path(snakefile)]
    words += ["--report", f"{results}/report.html"]
    if stylesheet is not None:
        words += ["--report-stylesheet", path(stylesheet)]
    if configfiles:
        words += ["--configfile", *(path(file) for file in configfiles)]
    if config_overrides:
        words += ["--config"]
        words += [f"{key}={_config_value(value)}" for key, value in config_overrides.items()]
    return shlex.join(words)


def _relative(path) -> str:
    """``path`` relative to the working folder where it lies under it, else absolute."""
    path = Path(path).absolute()
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _config_value(value) -> str:
    """A ``--config`` value as Snakemake parses it back (numbers, text, YAML flow)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value)
    text = yaml.safe_dump(value, default_flow_style=True, width=10**6).strip()
    return text.removesuffix("\n...")  # the document end PyYAML puts after a scalar


def check_report_target(arguments: Sequence[str], results: str) -> None:
    """A ``--report`` into another configuration's results folder is refused: the report
    shows the results of the config Snakemake was started with, so filed in another
    run's folder it would present one run's results as another's. A results folder is
    known by the config a run keeps there (``config.yaml`` whose ``results`` names that
    very folder), wherever it lies.

    Raises:
        ValueError: the report's folder, or one above it, is another run's results
            folder and not ``results``.
    """
    target = _report_argument(arguments)
    if target is None:
        return
    ours = Path(results).absolute()
    folder = Path(target).absolute().parent
    for candidate in (folder, *folder.parents):
        if candidate == ours:
            return
        if _kept_results_folder(candidate / "config.yaml") == candidate:
            raise ValueError(
                f"--report {target}: {candidate}/ holds the results of another configuration "
                f"(its config.yaml), but this one (config key results) writes to {results}/; "
                "the report would show this configuration's results under that folder's name. "
                "Run the report command printed at the end of that run, with its "
                "--configfile and --config options"
            )


def _kept_results_folder(kept) -> Path | None:
    """The results folder a run's kept ``config.yaml`` names (None for any other file)."""
    try:
        named = yaml.safe_load(Path(kept).read_text()).get("results")
    except (OSError, AttributeError, yaml.YAMLError):
        return None
    return Path(named).absolute() if isinstance(named, str) else None


def _report_argument(arguments: Sequence[str]) -> str | None:
    """The path given to ``--report`` in a command line, if any."""
    for index, word in enumerate(arguments):
        if word == "--report" and index + 1 < len(arguments):
            following = arguments[index + 1]
            return None if following.startswith("-") else following
        if word.startswith("--report="):
            return word.removeprefix("--report=")
    return None


def config_table_markdown(schema: Mapping) -> str:
    """The table of every config key (docs/configuration.md), its default and its meaning, from the
    schema (the one home of both): a row per section, then per key in schema order."""
    rows = ["| key | default | meaning |", "| --- | --- | --- |"]
    rows += [
        f"| {key} | {default} | {meaning} |" for key, default, meaning in _table_rows(schema, "")
    ]
    return "\n".join(rows) + "\n"


def _table_rows(schema: Mapping, prefix: str):
    for key, entry in schema["properties"].items():
        name = f"{prefix}{key}"
        meaning = " ".join(entry.get("description", "").split()).replace("|", "\\|")
        is_section = "properties" in entry and name not in _ONE_ROW
        if is_section:
            yield f"**`{name}`**", "", meaning
            yield from _table_rows(entry, f"{name}.")
        else:
            yield f"`{name}`", _default_text(entry), meaning


def _default_text(entry: Mapping) -> str:
    if "default" not in entry:
        return "(see meaning)"
    default = entry["default"]
    if default == {} and "properties" in entry:  # each key's own default
        default = {key: item["default"] for key, item in entry["properties"].items()}
    text = json.dumps(default, ensure_ascii=False).replace("|", "\\|")
    return f"`{text}`"


def load_schema(path) -> dict:
    """The config schema (libyaml's loader: the pure-Python one takes a fifth of a
    second on it)."""
    return yaml.load(Path(path).read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def plain_data(value):
    """``value`` with every mapping a plain ``dict``: Snakemake's validator, given a
    JSON schema, fills the defaults in as ``OrderedDict`` (whose text would change the
    rules' params and which YAML cannot write)."""
    if isinstance(value, Mapping):
        return {key: plain_data(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain_data(item) for item in value]
    return value


def write_json_if_changed(value, path) -> Path:
    """``value`` as JSON in ``path``, written (atomically: Snakemake may start in
    parallel on a cluster) only when the file does not hold it already."""
    path = Path(path)
    text = json.dumps(value)  # in the given order: the validator fills defaults in that order
    if not path.is_file() or path.read_text() != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".partial")
        try:
            mask = os.umask(0)
            os.umask(mask)
            os.chmod(temporary, 0o666 & ~mask)  # not mkstemp's 0600: projects are shared
            with os.fdopen(handle, "w") as stream:
                stream.write(text)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    return path


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


if __name__ == "__main__":  # docs/configuration.md's table, from the schema
    print(config_table_markdown(load_schema(Path(__file__).parents[2] / SCHEMA_FILE)), end="")
