"""One contract for every rule's entry point: rule ``X`` runs script ``X.py``, which calls
exactly one package function, ``X_files``, with keywords only, each an explicit path,
value or list taken from the job (never Snakemake's own objects); the function takes
keywords only; and the rule's code digest follows the module that function lives in."""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE_OBJECTS = {"input", "output", "params", "log", "wildcards", "resources", "config"}


def rules() -> dict[str, dict]:
    """``{rule: {"script": stem, "code": digest module, "file": rule file's stem}}`` of
    every rule with a script."""
    found = {}
    for path in sorted((ROOT / "workflow" / "rules").glob("*.smk")):
        for block in re.split(r"(?m)^(?=[ \t]*rule )", path.read_text())[1:]:
            name = re.match(r"\s*rule (\w+):", block).group(1)
            script = re.search(r'"\.\./scripts/(\w+)\.py"', block)
            code = re.search(r'code_version\("([\w.]+)"\)', block)
            if script:
                found[name] = {
                    "script": script.group(1),
                    "code": code and code.group(1),
                    "file": path.stem,
                }
    return found


RULES = rules()


def entry_point_call(script: Path) -> tuple[str, str, ast.Call]:
    """The (module, function, call) of the one package function the script calls after
    redirecting its output to the log."""
    tree = ast.parse(script.read_text())
    imported = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module.startswith("cmsnn."):
            for alias in node.names:
                imported[alias.asname or alias.name] = node.module
    calls = [
        node.value
        for node in tree.body
        if isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Name)
        and imported.get(node.value.func.id) not in (None, "cmsnn.logs", "cmsnn.learning.backend")
    ]
    assert len(calls) == 1, f"{script.name}: {len(calls)} entry-point calls"
    call = calls[0]
    return imported[call.func.id], call.func.id, call


def bare_snakemake_objects(node: ast.AST) -> list[str]:
    """``snakemake.input`` and the like handed over whole (not an item or a field)."""
    parents = {child: parent for parent in ast.walk(node) for child in ast.iter_child_nodes(parent)}
    found = []
    for sub in ast.walk(node):
        if (
            isinstance(sub, ast.Attribute)
            and isinstance(sub.value, ast.Name)
            and sub.value.id == "snakemake"
            and sub.attr in SNAKEMAKE_OBJECTS
        ):
            parent = parents.get(sub)
            if not isinstance(parent, ast.Attribute | ast.Subscript):
                found.append(f"snakemake.{sub.attr}")
    return found


def test_every_rule_has_its_own_script_and_digest():
    assert len(RULES) == 28  # every rule but `all` (and those `use rule` derives)
    scripts = {path.stem for path in (ROOT / "workflow" / "scripts").glob("*.py")}
    assert {rule["script"] for rule in RULES.values()} == scripts
    for name, rule in RULES.items():
        assert rule["script"] == name, f"rule {name} runs {rule['script']}.py"
        assert rule["code"], f"rule {name} has no code_version param"


@pytest.mark.parametrize("rule", sorted(RULES))
def test_each_script_calls_its_rules_entry_point_with_keywords(rule):
    script = ROOT / "workflow" / "scripts" / f"{RULES[rule]['script']}.py"
    module, function, call = entry_point_call(script)
    assert function == f"{rule}_files"
    assert call.args == [], f"{script.name}: positional arguments"
    for keyword in call.keywords:
        assert keyword.arg is not None, f"{script.name}: **kwargs"
        whole = [
            name
            for name in bare_snakemake_objects(keyword.value)
            if not _is_dict_of_items(keyword.value)
        ]
        assert not whole, f"{script.name}: {keyword.arg}= hands over {whole}"
    # the digest follows the module the entry point lives in
    assert f"cmsnn.{RULES[rule]['code']}" == module, rule
    # and the function takes keywords only
    parameters = inspect.signature(getattr(importlib.import_module(module), function)).parameters
    kinds = {parameter.kind for parameter in parameters.values()}
    assert kinds == {inspect.Parameter.KEYWORD_ONLY}, f"{module}.{function}"


def _is_dict_of_items(node: ast.AST) -> bool:
    """``dict(snakemake.output.items())``: a plain dict of the outputs' names and paths."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "dict"
        and len(node.args) == 1
        and isinstance(node.args[0], ast.Call)
        and isinstance(node.args[0].func, ast.Attribute)
        and node.args[0].func.attr == "items"
    )


def test_the_check_finds_a_snakemake_object_handed_over_whole():
    call = ast.parse("f(inputs=snakemake.input, x=snakemake.input.x, y=snakemake.input['y'])")
    keywords = call.body[0].value.keywords
    assert bare_snakemake_objects(keywords[0].value) == ["snakemake.input"]
    assert bare_snakemake_objects(keywords[1].value) == []
    assert bare_snakemake_objects(keywords[2].value) == []


def test_the_rule_files_mirror_the_stage_subpackages():
    """Each stage is one hop from the Snakefile: ``workflow/rules/<subpackage>.smk`` holds
    the rules whose entry points live in ``cmsnn.<subpackage>``, and the Snakefile
    includes them all."""
    snakefile = (ROOT / "Snakefile").read_text()
    files = {path.stem for path in (ROOT / "workflow" / "rules").glob("*.smk")} - {"common"}
    assert files == {rule["code"].split(".")[0] for rule in RULES.values()}
    for name in files:
        assert f'include: "workflow/rules/{name}.smk"' in snakefile
    for name, rule in RULES.items():
        assert rule["code"].split(".")[0] == rule["file"], f"rule {name} in {rule['file']}.smk"
