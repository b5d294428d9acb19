"""Reading the config as a physicist writes it: YAML 1.2 numbers, unknown keys named
with their neighbours, the schema's defaults filled in (and cached), and the schema's
key table for ``docs/configuration.md``.

Standard library and PyYAML only, so that checking an up-to-date workflow imports no
pandas, pyarrow or NumPy.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from collections.abc import Mapping
from pathlib import Path

import yaml

from cmsnn.config import checks as config_checks
from cmsnn.config.checks import default_balancing
from cmsnn.files import read_yaml, write_json_if_changed

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


#: The config's schema, from the workflow's folder: every key, its default and meaning.
SCHEMA_FILE = Path("workflow") / "schemas" / "config.schema.yaml"


#: The most characters of a ``--config`` value read as YAML (a list, a mapping): a
#: command line holds no more, and a longer one is not parsed.
COMMAND_LINE_VALUE_LIMIT = 10_000


def command_line_values(overrides: Mapping, schema: Mapping) -> dict:
    """The ``--config key=value`` values with the types the schema wants. Snakemake
    reads ``seeds=[1,2]`` as the list ``['1', '2']``, ``grid={decay_rate: [0.001]}`` as a
    mapping of texts, and anything it cannot read as text: here each text becomes the
    number, boolean, list or mapping it spells (YAML, or JSON) where the schema wants
    one. A section given this way replaces the config file's section (Snakemake's own rule
    for ``--config``); what it leaves out gets the schema's defaults.

    Args:
        overrides: Snakemake's ``--config`` values (``workflow.config_settings.config``).
        schema: the config schema.

    Returns:
        The overrides with their values typed; a value that cannot be typed is left as
        it is, for the schema's check to name.

    Raises:
        ValueError: a value longer than :data:`COMMAND_LINE_VALUE_LIMIT`, or invalid YAML
            where the schema wants a list or a mapping, naming the key and how to write it.

    >>> schema = {"properties": {"seeds": {"type": "array", "items": {"type": "integer"}},
    ...                          "results": {"type": "string"}}}
    >>> command_line_values({"seeds": ["1", "2"], "results": "out"}, schema)
    {'seeds': [1, 2], 'results': 'out'}
    """
    return {
        key: _typed(value, schema.get("properties", {}).get(key, {}), schema, key)
        for key, value in overrides.items()
    }


def _typed(value, entry: Mapping, schema: Mapping, key: str):
    entry = _resolve(entry, schema)
    wanted = _schema_types(entry, schema)
    if isinstance(value, str) and wanted and not wanted <= {"string"}:
        if len(value) > COMMAND_LINE_VALUE_LIMIT:
            raise ValueError(
                f"--config {key}=…: {len(value)} characters; give it in a --configfile"
            )
        try:
            parsed = yaml.load(value, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        except yaml.YAMLError as error:
            if wanted & {"array", "object"}:
                raise ValueError(
                    f"--config {key}={value[:200]!r} is not valid YAML "
                    f"({str(error).splitlines()[0]}); write lists and mappings as YAML or "
                    f"JSON, quoted for the shell: --config '{key}=[1, 2]' or "
                    f"--config '{key}={{name: value}}'"
                ) from None
            return value
        kinds = {"array": list, "object": dict, "number": (int, float), "integer": int,
                 "boolean": bool, "null": type(None)}  # fmt: skip
        if any(isinstance(parsed, kinds[kind]) for kind in wanted if kind in kinds):
            value = parsed
    if isinstance(value, list):
        return [_typed(item, entry.get("items", {}), schema, key) for item in value]
    if isinstance(value, dict):
        properties = entry.get("properties", {})
        other = entry.get("additionalProperties")
        other = other if isinstance(other, dict) else {}
        return {
            name: _typed(item, properties.get(name, other), schema, f"{key}.{name}")
            for name, item in value.items()
        }
    return value


def _resolve(entry: Mapping, schema: Mapping) -> Mapping:
    """``entry`` with its ``$ref`` (``#/properties/…``) followed."""
    while isinstance(entry, Mapping) and "$ref" in entry:
        target = schema
        for part in entry["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        entry = target
    return entry


def _schema_types(entry: Mapping, schema: Mapping) -> set[str]:
    entry = _resolve(entry, schema)
    types = entry.get("type")
    found = set(types if isinstance(types, list) else [types] if types else [])
    for option in entry.get("oneOf", []) + entry.get("anyOf", []):
        found |= _schema_types(option, schema)
    if "const" in entry:
        found.add("string" if isinstance(entry["const"], str) else "number")
    return found


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
    for path in (schema_file, Path(__file__), Path(config_checks.__file__)):
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
        is_section = "properties" in entry and name not in ONE_ROW
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
    return read_yaml(path)


def plain_data(value):
    """``value`` with every mapping a plain ``dict``: Snakemake's validator, given a
    JSON schema, fills the defaults in as ``OrderedDict`` (whose text would change the
    rules' params and which YAML cannot write)."""
    if isinstance(value, Mapping):
        return {key: plain_data(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain_data(item) for item in value]
    return value


#: Schema objects the key table (docs/configuration.md) shows as one row (their keys together).
ONE_ROW = ("split.fractions", "grid", "resources.training", "resources.prediction",
            "resources.light")  # fmt: skip


if __name__ == "__main__":  # docs/configuration.md's table, from the schema
    print(config_table_markdown(load_schema(Path(__file__).parents[3] / SCHEMA_FILE)), end="")
