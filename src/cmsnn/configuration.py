"""Helpers of the workflow's ``common.smk``: reading the config as a physicist writes
it, and declaring the code each rule runs."""

from __future__ import annotations

import ast
import difflib
import re
from collections.abc import Mapping
from pathlib import Path

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


def module_dependencies(
    package_dir, module: str, imports: dict[str, list[str]] | None = None
) -> list[str]:
    """``module`` and every module of the package it imports, directly or not, sorted.

    Snakemake watches a rule's script but not what the script imports; declaring these
    files as inputs makes an edit to any of them rerun the rule. ``imports`` (module →
    the package modules it imports) is filled as modules are parsed; pass the same dict
    to every call of one workflow so that each module is parsed once.
    """
    package_dir = Path(package_dir)
    imports = {} if imports is None else imports
    found, pending = set(), [module]
    while pending:
        name = pending.pop()
        if name not in found:
            found.add(name)
            if name not in imports:
                tree = ast.parse((package_dir / f"{name}.py").read_text())
                imports[name] = _imported_package_modules(tree, package_dir)
            pending.extend(imports[name])
    return sorted(found)


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
