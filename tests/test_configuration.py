"""Helpers of the workflow's common.smk: numbers in scientific notation, and the package
modules each stage runs and the digest of their code (a rule param, so that editing what
the code does reruns the rule)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import cmsnn
from cmsnn.config.grid import expand_grid
from cmsnn.config.schema import check_config_keys, scientific_numbers
from cmsnn.pipeline.code_digest import PackageCode, module_dependencies
from snakemake_runs import modules_loaded_with, package_modules

PACKAGE = Path(cmsnn.__file__).resolve().parent
#: The stages whose jobs must not start TensorFlow, and the modules that import it.
LIGHT_STAGES = [
    "ingestion.csv_files", "preprocessing.splitting", "preprocessing.selection",
    "preprocessing.scaling", "preprocessing.weighting", "statistics.scan",
    "statistics.evaluation", "summary.tables", "ingestion.toydata", "figures.fom",
]  # fmt: skip
HEAVY = {"learning.model", "learning.training", "learning.prediction", "learning.callbacks"}

# --- scientific_numbers ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "number"),
    [("1e-3", 0.001), ("5e-5", 5e-05), ("2.5e-1", 0.25), ("1E-4", 0.0001), ("-3e-2", -0.03),
     ("+1.25e0", 1.25), (".5e-1", 0.05), (" 1e-3 ", 0.001), ("3.3e-07", 3.3e-07),
     ("25e-1", 2.5)],
)  # fmt: skip
def test_fractional_numbers_become_floats(text, number):
    value = scientific_numbers(text)
    assert type(value) is float
    assert value == number


@pytest.mark.parametrize(
    ("text", "number"),
    [("1e3", 1000), ("1E3", 1000), ("1.5e3", 1500), ("-2e2", -200), ("+1e2", 100),
     ("1.e2", 100), (".5e1", 5), ("1e0", 1), ("0e5", 0), ("3.5866e4", 35866),
     ("1e+2", 100), ("250e-1", 25)],
)  # fmt: skip
def test_whole_numbers_become_ints(text, number):
    value = scientific_numbers(text)
    assert type(value) is int
    assert value == number


@pytest.mark.parametrize(
    "text",
    ["relu", "T2DegStop_500_470.root", "1e-3x", "e3", "1e", "1.5", "100", "0x1e3",
     "1e-3 GeV", "Met > 1e3", "1e3-1e4", "", "1,5e3", "1e3.5", "inf", "nan"],
)  # fmt: skip
def test_other_strings_are_left_alone(text):
    value = scientific_numbers(text)
    assert value == text and type(value) is str


@pytest.mark.parametrize("value", [0.001, 1000.0, 5, True, False, None, -2])
def test_non_strings_are_left_alone(value):
    result = scientific_numbers(value)
    assert result == value and type(result) is type(value)


def test_nested_dicts_and_lists():
    config = {
        "training": {"learning_rate": "5e-5", "epochs": "1e3", "layers": [64, 64]},
        "grid": {"decay_rate": ["1e-3", "1E-4"], "batch_size": ["1.28e2", 256]},
        "preselection": "Met > 2e2",
        "fom": {"luminosity": "3.5866e4", "signal_processes": ["T2DegStop_550_520.root"]},
        "deep": [[{"x": "1e-2"}], "2e1"],
    }
    original = json.loads(json.dumps(config))
    result = scientific_numbers(config)
    assert result == {
        "training": {"learning_rate": 5e-05, "epochs": 1000, "layers": [64, 64]},
        "grid": {"decay_rate": [0.001, 0.0001], "batch_size": [128, 256]},
        "preselection": "Met > 2e2",
        "fom": {"luminosity": 35866, "signal_processes": ["T2DegStop_550_520.root"]},
        "deep": [[{"x": 0.01}], 20],
    }
    assert type(result["training"]["epochs"]) is int
    assert type(result["grid"]["batch_size"][0]) is int
    assert type(result["deep"][0][0]["x"]) is float
    assert list(result) == list(config)  # key order kept
    assert config == original  # the input is not modified


def test_what_pyyaml_reads_as_text_becomes_the_number_yaml_1_2_means():
    text = "lr: 1e-3\nepochs: 1e3\nalready: 1.0e+3\nname: 1e3x\n"
    loaded = yaml.safe_load(text)
    assert loaded == {"lr": "1e-3", "epochs": "1e3", "already": 1000.0, "name": "1e3x"}
    result = scientific_numbers(loaded)
    assert result == {"lr": 0.001, "epochs": 1000, "already": 1000.0, "name": "1e3x"}
    assert type(result["epochs"]) is int
    assert type(result["already"]) is float  # a float PyYAML read stays a float


def test_grid_point_names_from_scientific_notation():
    """An epoch count written 1e2 names its folder ``100``, not ``100.0``."""
    grid = scientific_numbers({"epochs": ["1e2"], "learning_rate": ["1e-3", "5e-4"]})
    assert list(expand_grid(grid)) == [
        "epochs-100_learning_rate-0.001",
        "epochs-100_learning_rate-0.0005",
    ]


# --- module_dependencies ---------------------------------------------------------------


def test_dependencies_of_training():
    modules = module_dependencies(PACKAGE, "learning.training")
    assert modules == sorted(modules)
    expected = {"learning", "learning.training", "learning.model", "preprocessing.weighting"}
    assert expected | {"preprocessing", "files"} <= set(modules)
    assert not {"statistics.scan", "statistics.evaluation"} & set(modules)
    assert module_dependencies(str(PACKAGE), "learning.training") == modules  # a str path


def test_dependencies_of_evaluation():
    modules = module_dependencies(PACKAGE, "statistics.evaluation")
    assert modules == sorted(modules)
    assert {"statistics.evaluation", "statistics.scan", "vocabulary", "files"} <= set(modules)
    assert not HEAVY & set(modules) and "preprocessing.weighting" not in modules


def test_every_module_depends_on_itself_and_on_existing_modules():
    names = package_modules()
    for name in names:
        modules = module_dependencies(PACKAGE, name)
        assert name in modules
        assert len(modules) == len(set(modules))
        assert set(modules) <= set(names), name
        assert modules == sorted(modules)


@pytest.mark.parametrize("stage", LIGHT_STAGES)
def test_light_stages_do_not_depend_on_the_network_modules(stage):
    modules = set(module_dependencies(PACKAGE, stage))
    assert not modules & HEAVY, (stage, sorted(modules & HEAVY))


def modules_python_loads(modules, search_path=None) -> dict[str, list[str]]:
    """Independently of the digest: for each of ``modules``, the package modules a fresh
    import of it loads (dotted, without the package's own ``__init__``), from the
    installed package or the one in ``search_path``; and, for a module that imports
    more inside its functions (an entry point's deferred ``import keras``), what those
    imports load too: what the stage runs when its rule calls it."""
    code = (
        "import ast, importlib, json, sys\n"
        + (f"sys.path.insert(0, {str(search_path)!r})\n" if search_path else "")
        + "loaded = {}\n"
        f"for module in {list(modules)!r}:\n"
        "    for name in [m for m in sys.modules if m == 'cmsnn' or m.startswith('cmsnn.')]:\n"
        "        del sys.modules[name]\n"
        "    imported = importlib.import_module(f'cmsnn.{module}')\n"
        "    tree = ast.parse(open(imported.__file__).read())\n"
        "    for function in ast.walk(tree):\n"
        "        if isinstance(function, ast.FunctionDef):\n"
        "            for node in ast.walk(function):\n"
        "                if isinstance(node, ast.ImportFrom) and node.module.startswith('cmsnn'):\n"
        "                    importlib.import_module(node.module)\n"
        "    loaded[module] = sorted(m[6:] for m in sys.modules if m.startswith('cmsnn.'))\n"
        "print(json.dumps(loaded))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    )
    return json.loads(result.stdout)


def test_dependencies_are_the_modules_python_imports():
    """Independently: the cmsnn modules that importing each module of the package
    actually loads, for every module."""
    for stage, modules in modules_python_loads(package_modules()).items():
        assert module_dependencies(PACKAGE, stage) == modules, stage


def write_package(folder: Path, modules: dict[str, str]) -> Path:
    """A package of ``{dotted name: source}`` (``sub.__init__`` for a subpackage)."""
    folder.mkdir()
    for name, source in modules.items():
        path = folder.joinpath(*name.split(".")).with_suffix(".py")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
    return folder


#: A package with subpackages, as the stages will be laid out: absolute and relative
#: imports, an __init__ that imports its own modules, a parent-relative import.
SUBPACKAGES = {
    "__init__": '__version__ = "1.0"\n',
    "vocabulary": "SPLITS = ('train', 'test')\n",
    "files": "def write(x):\n    return x\n",
    "statistics.__init__": "from .scan import scan\n",
    "statistics.effective": "def count(x):\n    return x\n",
    "statistics.significance": "import cmsnn.vocabulary\n\ndef z(x):\n    return 2 * x\n",
    "statistics.scan": (
        "from ..files import write\nfrom .significance import z\n"
        "from cmsnn.statistics import effective\n\ndef scan(x):\n    return write(z(x))\n"
    ),
    "figures.__init__": "",
    "figures.style": "LABEL = 'CMS'\n",
    "figures.fom": (
        "from cmsnn.statistics.effective import count\nfrom cmsnn.figures import style\n"
        "from . import style as again\n"
    ),
}


def test_modules_in_subpackages_are_followed_as_python_imports_them(tmp_path):
    """Dotted names, relative imports, __init__ files: the dependencies are exactly the
    modules a real import loads (the package's own __init__ aside)."""
    package = write_package(tmp_path / "cmsnn", SUBPACKAGES)
    assert module_dependencies(package, "statistics.scan") == [
        "files", "statistics", "statistics.effective", "statistics.scan",
        "statistics.significance", "vocabulary",
    ]  # fmt: skip
    modules = [name.removesuffix(".__init__") for name in SUBPACKAGES if name != "__init__"]
    for module, loaded in modules_python_loads(modules, tmp_path).items():
        assert module_dependencies(package, module) == loaded, module


def test_a_moved_modules_edits_rerun_what_imports_it_and_a_version_bump_nothing(tmp_path):
    package = write_package(tmp_path / "cmsnn", SUBPACKAGES)
    stages = ("statistics.scan", "figures.fom", "files", "vocabulary")
    before = code_versions(package, stages)
    (package / "__init__.py").write_text('__version__ = "2.0"\n')
    assert code_versions(package, stages) == before
    significance = package / "statistics" / "significance.py"
    significance.write_text(significance.read_text().replace("2 * x", "3 * x"))
    after = code_versions(package, stages)
    # figures.fom imports statistics.effective, which runs statistics/__init__ and so scan
    assert after["statistics.scan"] != before["statistics.scan"]
    assert after["figures.fom"] != before["figures.fom"]
    assert after["vocabulary"] == before["vocabulary"]


def test_transitive_cyclic_and_indented_imports(tmp_path):
    package = write_package(
        tmp_path / "cmsnn",
        {
            "a": "from cmsnn.b import x\nimport numpy as np\n",
            "b": "import cmsnn.c as c\n\ndef f():\n    from cmsnn.d import y\n",
            "c": "from cmsnn.a import z  # a cycle\n",
            "d": '"""No imports of the package."""\nimport os\n',
            "e": "from cmsnn.d import (\n    y,\n)\n",
            "unused": "x = 1\n",
        },
    )
    assert module_dependencies(package, "a") == ["a", "b", "c", "d"]
    assert module_dependencies(package, "c") == ["a", "b", "c", "d"]
    assert module_dependencies(package, "d") == ["d"]
    assert module_dependencies(package, "e") == ["d", "e"]


def test_other_packages_with_a_similar_name_are_not_followed(tmp_path):
    package = write_package(
        tmp_path / "cmsnn",
        {"a": "from cmsnnx.b import x\nimport cmsnn_tools.c\nfrom mycmsnn.d import y\n"},
    )
    assert module_dependencies(package, "a") == ["a"]


def test_names_that_are_not_package_modules_are_not_followed(tmp_path):
    # ``__version__`` is an attribute, ``gone`` does not exist (its import fails at run
    # time), and an import written inside a docstring is not an import at all.
    source = (
        '"""from cmsnn.inside import y"""\n'
        "from cmsnn import __version__, b\n"
        "from cmsnn.gone import x\n"
    )
    package = write_package(tmp_path / "cmsnn", {"a": source, "b": "", "inside": ""})
    assert module_dependencies(package, "a") == ["a", "b"]


def test_relative_imports_are_followed(tmp_path):
    source = "from . import b\nfrom .c import z\nfrom .d.e import w\n"
    package = write_package(tmp_path / "cmsnn", {"a": source, "b": "", "c": "", "d": ""})
    assert module_dependencies(package, "a") == ["a", "b", "c", "d"]


# --- code versions ----------------------------------------------------------------------

STAGE_SOURCES = {
    "fom": '"""The FOM."""\nfrom cmsnn.files import write\nfrom cmsnn.metrics import area\n\n'
    'LIMIT = 3\n\n\ndef scan(x):\n    """Scan."""\n    return area(x) * LIMIT\n',
    "metrics": "def area(x):\n    return 2 * x\n",
    "files": "def write(x):\n    return x\n",
    "logs": "",
    "other": "X = 1\n",
}


def code_versions(package, stages=("fom", "metrics", "other")):
    code = PackageCode(package)
    return {stage: code.version(stage) for stage in stages}


def test_code_versions_ignore_comments_docstrings_layout_and_io_helpers(tmp_path):
    package = write_package(tmp_path / "cmsnn", STAGE_SOURCES)
    before = code_versions(package)
    fom = package / "fom.py"
    fom.write_text(
        '"""Another module docstring."""\n# a comment\nfrom cmsnn.files import write\n'
        "from cmsnn.metrics import area\nLIMIT = (3)  # the limit\n\ndef scan(x):\n"
        '    """Another docstring."""\n\n    return (area(x)\n            * LIMIT)\n'
    )
    (package / "files.py").write_text("def write(x):\n    return [x]\n")
    (package / "logs.py").write_text("LEVEL = 1\n")
    assert code_versions(package) == before


def test_code_versions_follow_what_the_code_does(tmp_path):
    package = write_package(tmp_path / "cmsnn", STAGE_SOURCES)
    before = code_versions(package)
    (package / "metrics.py").write_text("def area(x):\n    return 3 * x\n")
    after = code_versions(package)
    # the imported module's stage and the stage importing it, not the other one
    assert after["metrics"] != before["metrics"] and after["fom"] != before["fom"]
    assert after["other"] == before["other"]
    fom = package / "fom.py"
    fom.write_text(fom.read_text().replace("LIMIT = 3", "LIMIT = 4"))
    assert code_versions(package)["fom"] != after["fom"]


def test_parsed_modules_are_remembered_by_the_checksum_of_their_source(tmp_path):
    package = write_package(tmp_path / "cmsnn", STAGE_SOURCES)
    cache = tmp_path / ".snakemake" / "code.json"
    first = PackageCode(package, cache)
    version = first.version("fom")
    first.save()
    saved = json.loads(cache.read_text())
    assert saved["format"] == 2 and set(saved["modules"]) == {"fom", "files", "metrics"}
    # A later start takes a module from the file while its source is unchanged (the
    # tampered digest shows it was not parsed again) ...
    saved["modules"]["metrics"]["code"] = "tampered"
    cache.write_text(json.dumps(saved))
    assert PackageCode(package, cache).version("fom") != version
    # ... and parses it again once the source changed.
    metrics = package / "metrics.py"
    metrics.write_text(metrics.read_text() + "# a comment\n")
    again = PackageCode(package, cache)
    assert again.version("fom") == version
    again.save()
    assert json.loads(cache.read_text())["modules"]["metrics"]["code"] != "tampered"
    # A file of the earlier layout (flat names, no format) is not read.
    cache.write_text(
        json.dumps(saved["modules"] | {"fom": {**saved["modules"]["fom"], "code": "x"}})
    )
    assert PackageCode(package, cache).version("fom") == version
    # An unreadable file is only a missed shortcut.
    cache.write_text("{not json")
    assert PackageCode(package, cache).version("fom") == version


def test_common_smk_imports_only_light_package_modules_at_start():
    """Checking an up-to-date workflow must not import pandas, pyarrow or NumPy: what
    common.smk imports at its top level (not inside a branch for an optional feature or
    inside a function that runs only when jobs run) imports none of them."""
    source = (PACKAGE.parents[1] / "workflow" / "rules" / "common.smk").read_text()
    top_level = re.findall(r"^(?:from (cmsnn(?:\.\w+)*) import|import (cmsnn\S*))", source, re.M)
    modules = sorted({name for pair in top_level for name in pair if name})
    # the workflow's own subpackages (config and pipeline) and the shared vocabulary only
    own = ("cmsnn.config.", "cmsnn.pipeline.", "cmsnn.vocabulary")
    assert modules and all(module.startswith(own) for module in modules), modules
    assert modules_loaded_with(modules, {"numpy", "pandas", "pyarrow", "scipy"}) == []


def test_the_schemas_activations_and_initializers_are_kerass_names():
    """The schema checks these at start-up; Keras decides what exists."""
    import keras
    from keras.src.activations import ALL_OBJECTS_DICT as ACTIVATIONS
    from keras.src.initializers import ALL_OBJECTS_DICT as INITIALIZERS

    root = Path(__file__).resolve().parents[1]
    schema = yaml.safe_load((root / "workflow/schemas/config.schema.yaml").read_text())
    training = schema["properties"]["training"]["properties"]
    assert set(training["activation"]["enum"]) == set(ACTIVATIONS)
    for name in training["activation"]["enum"]:
        assert callable(keras.activations.get(name))
    # the snake-case names that work alone (the base class, STFT and constant, which
    # needs a value, left out)
    usable = {name for name in INITIALIZERS if name.islower()} - {"initializer", "stft"}
    usable = {name for name in usable if _works_alone(keras.initializers.get, name)}
    assert set(training["initializer"]["enum"]) == usable


def _works_alone(get, name) -> bool:
    try:
        return get(name) is not None
    except (KeyError, TypeError, ValueError):
        return False


ROOT = Path(__file__).resolve().parents[1]
SCHEMA = yaml.safe_load((ROOT / "workflow/schemas/config.schema.yaml").read_text())


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"trainig": {}}, "unknown key trainig; did you mean 'training' or 'overtraining'?"),
        ({"training": {"epoch": 3}}, "unknown key training.epoch; did you mean 'epochs'?"),
        ({"fom": {"lumi": 1}}, "The keys allowed at fom are bootstrap_replicas"),
        ({"classes": [{"name": "S", "patterns": ["*"], "pattern": "x"}]}, "classes[0].pattern"),
        (
            {"data": {"root": {"processes": [{"name": "a", "weigth": "w"}]}}},
            "data.root.processes[0].weigth; did you mean 'weight'?",
        ),
    ],
)
def test_an_unknown_key_is_named_with_its_neighbours(config, message):
    with pytest.raises(ValueError) as error:
        check_config_keys(config, SCHEMA)
    assert message in str(error.value)
    assert "config.schema.yaml" in str(error.value)


def test_every_shipped_config_has_only_known_keys():
    for name in (
        "config.yaml",
        "config.tutorial.yaml",
        "config.toy2d.yaml",
        "config.opendata.yaml",
    ):  # noqa: E501
        check_config_keys(yaml.safe_load((ROOT / name).read_text()), SCHEMA)


def test_overriding_one_resource_keeps_the_kinds_other_defaults():
    """Setting only the training jobs' memory keeps their GPU and runtime (each kind has
    its own defaults), and leaves the other kinds alone."""
    from snakemake.utils import validate

    config = {"resources": {"training": {"mem_mb": 8000}}}
    validate(config, str(PACKAGE.parents[1] / "workflow/schemas/config.schema.yaml"))
    resources = config["resources"]
    assert resources["training"] == {
        "threads": 1, "mem_mb": 8000, "runtime": 120, "disk_mb": 2000, "gpu": 1, "gpu_model": None
    }  # fmt: skip
    assert resources["prediction"]["gpu"] == 0 and resources["prediction"]["runtime"] == 30
    assert resources["light"] == {
        "threads": 1, "mem_mb": 2000, "runtime": 20, "disk_mb": 2000, "gpu": 0, "gpu_model": None
    }  # fmt: skip


def test_scaling_and_balancing_are_preprocessing_keys_not_training_keys():
    """They are set under preprocessing (and in the grid); under training the start
    fails naming the key instead of quietly overriding preprocessing."""
    schema = yaml.safe_load((ROOT / "workflow/schemas/config.schema.yaml").read_text())
    for key in ("scaling", "balancing"):
        with pytest.raises(ValueError, match=f"unknown key training.{key}"):
            check_config_keys({"training": {key: "equal"}}, schema)
        check_config_keys({"preprocessing": {key: "equal"}, "grid": {key: ["equal"]}}, schema)


def test_the_documented_config_table_is_the_one_the_schema_generates():
    """The schema is the one home of every default and meaning; docs/configuration.md
    shows it."""
    from cmsnn.config.schema import config_table_markdown

    readme = (ROOT / "docs" / "configuration.md").read_text()
    start = readme.index("\n", readme.index("<!-- config keys: generated from")) + 1
    end = readme.index("<!-- end of the generated config table -->")
    assert readme[start:end] == config_table_markdown(SCHEMA), (
        "regenerate docs/configuration.md's table with `python -m cmsnn.config.schema`"
    )
    for key in ("training.checkpoint_seconds", "fom.min_background_events", "resources.light"):
        assert f"| `{key}` |" in readme


def test_config_yaml_holds_nothing_an_overlay_for_other_data_would_inherit():
    """Every value in config.yaml is the schema's default, written out to show where to
    change it: a ``--configfile`` overlay for other data inherits nothing of the embedded
    data's; what describes that (its headline signal, its units) comes with its process
    table, and the default run is what the schema and that description make it."""
    from cmsnn.config.checks import describe_data, read_dataset_description
    from cmsnn.config.schema import read_config_files, resolved_config

    chosen = yaml.safe_load((ROOT / "config.yaml").read_text())
    defaults = resolved_config({}, ROOT)

    def leaves(value, where=()):
        if isinstance(value, dict) and value:
            for key, item in value.items():
                yield from leaves(item, (*where, key))
        else:
            yield where, value

    for where, value in leaves(chosen):
        default = defaults
        for key in where:
            default = default.get(key) if isinstance(default, dict) else None
        assert value == default, f"config.yaml changes the default of {'.'.join(where)}"
    config = read_config_files(ROOT / "config.yaml")
    describe_data(config, read_dataset_description(ROOT / config["data"]["toy"]["processes"]))
    assert config["fom"]["min_background_events"] == 10 and config["training"]["epochs"] == 200
    assert config["fom"]["signal_processes"] == ["T2DegStop_550_520.root"]
    assert config["plots"]["units"]["Met"] == "GeV"
    assert config["preprocessing"]["balancing"] == "sqrt" and config["seeds"] == [1, 2, 3]
    binary = resolved_config(chosen | {"classification": "binary"}, ROOT)
    assert binary["preprocessing"]["balancing"] == "equal"


def test_a_resolved_config_is_kept_and_the_same_config_read_back(tmp_path):
    """Each Snakemake start (every job's, on a cluster) resolves the config; the same
    config again is read from the kept resolution instead of being validated again."""
    from cmsnn.config.schema import resolved_config

    kept = tmp_path / "resolved.json"
    config = {"training": {"epochs": "1e1"}, "seeds": [4]}
    first = resolved_config(config, ROOT, cache_file=kept)
    assert first == resolved_config(config, ROOT)  # what resolving without a cache gives
    assert first["training"]["epochs"] == 10 and first["preprocessing"]["balancing"] == "sqrt"
    assert config == {"training": {"epochs": "1e1"}, "seeds": [4]}  # the caller's, untouched
    # Read back, not resolved again: a value planted in the kept file comes back.
    planted = json.loads(kept.read_text())
    planted["config"]["seeds"] = [99]
    kept.write_text(json.dumps(planted))
    assert resolved_config(config, ROOT, cache_file=kept)["seeds"] == [99]


def test_another_config_is_resolved_again_and_its_errors_still_found(tmp_path):
    from cmsnn.config.schema import resolved_config

    kept = tmp_path / "resolved.json"
    resolved_config({"seeds": [4]}, ROOT, cache_file=kept)
    assert resolved_config({"seeds": [5]}, ROOT, cache_file=kept)["seeds"] == [5]
    assert json.loads(kept.read_text())["config"]["seeds"] == [5]
    # Key order is part of what is kept (the params' text follows it).
    swapped = resolved_config({"seeds": [5], "training": {"epochs": 3}}, ROOT, cache_file=kept)
    again = resolved_config({"training": {"epochs": 3}, "seeds": [5]}, ROOT, cache_file=kept)
    assert swapped == again
    with pytest.raises(ValueError, match="unknown key trainig"):
        resolved_config({"trainig": {}}, ROOT, cache_file=kept)
    with pytest.raises(Exception, match="'many' is not of type 'integer'"):
        resolved_config({"training": {"epochs": "many"}}, ROOT, cache_file=kept)
    assert json.loads(kept.read_text())["config"]["training"]["epochs"] == 3


def test_a_changed_schema_resolves_the_same_config_again(tmp_path):
    """The kept resolution follows the schema it came from (a new default in an update
    of the workflow is used at once)."""
    from cmsnn.config.schema import SCHEMA_FILE, load_schema, resolved_config

    kept = tmp_path / "resolved.json"
    assert resolved_config({}, ROOT, cache_file=kept)["training"]["epochs"] == 200
    schema = load_schema(ROOT / SCHEMA_FILE)
    schema["properties"]["training"]["properties"]["epochs"]["default"] = 7
    (tmp_path / SCHEMA_FILE).parent.mkdir(parents=True)
    (tmp_path / SCHEMA_FILE).write_text(yaml.safe_dump(schema, sort_keys=False))
    assert resolved_config({}, tmp_path, cache_file=kept)["training"]["epochs"] == 7


def test_an_unreadable_kept_resolution_is_only_a_missed_shortcut(tmp_path):
    import datetime

    from cmsnn.config.schema import resolved_config

    kept = tmp_path / "resolved.json"
    for text in ("{not json", '{"digest": 1}', "[]"):
        kept.write_text(text)
        assert resolved_config({"seeds": [6]}, ROOT, cache_file=kept)["seeds"] == [6]
    assert json.loads(kept.read_text())["config"]["seeds"] == [6]
    # A config JSON cannot hold (YAML reads 2026-11-27 as a date) gets the same error.
    with pytest.raises(Exception, match="is not of type 'string'"):
        resolved_config({"results": datetime.date(2026, 11, 27)}, ROOT, cache_file=kept)


# --- what describes the data, pre-split shares, the report of the run ----------------


def described(source, fom=None, units=None, description=None):
    config = {
        "data": {"source": source, "features": ["Met", "HT", "x"]},
        "fom": {"signal_processes": [], **(fom or {})},
        "plots": {"units": dict(units or {})},
    }
    from cmsnn.config.checks import describe_data

    describe_data(config, description or {})
    return config


def test_own_data_inherits_nothing_of_the_embedded_datas_description():
    config = described("csv")
    assert config["fom"]["signal_processes"] == [] and config["plots"]["units"] == {}


def test_the_embedded_datas_description_fills_in_what_the_config_leaves_open():
    from cmsnn.config.checks import read_dataset_description, read_process_table

    table = cmsnn_root() / "resources/toy_processes.yaml"
    description = read_dataset_description(table)
    assert "dataset" not in read_process_table(table)
    config = described("toy", units={"HT": "TeV"}, description=description)
    assert config["fom"]["signal_processes"] == ["T2DegStop_550_520.root"]
    # the config's own unit wins; units of variables not used are left out
    assert config["plots"]["units"] == {"Met": "GeV", "HT": "TeV"}
    chosen = described("toy", fom={"signal_processes": ["a.root"]}, description=description)
    assert chosen["fom"]["signal_processes"] == ["a.root"]


def test_units_of_variables_that_are_not_inputs_are_refused():
    with pytest.raises(ValueError, match=r"plots.units gives units for \['LepPt'\].*data.features"):
        described("csv", units={"LepPt": "GeV"})


def test_split_fractions_with_presplit_input_are_refused_naming_both():
    from cmsnn.config.checks import check_presplit_fractions

    fractions = {"train": 0.5, "validation": 0.25, "test": 0.25}
    with pytest.raises(ValueError, match=r"split.fractions .* data.source: presplit .* remove"):
        check_presplit_fractions(
            {"data": {"source": "presplit"}, "split": {"fractions": fractions}}
        )
    check_presplit_fractions({"data": {"source": "presplit"}, "split": {"seed": 3}})
    check_presplit_fractions({"data": {"source": "csv"}, "split": {"fractions": fractions}})


def test_the_report_command_carries_the_runs_config_files_and_overrides(tmp_path, monkeypatch):
    from cmsnn.pipeline.report import report_command

    monkeypatch.chdir(tmp_path)
    assert report_command("results", [], {}, tmp_path / "Snakefile") == (
        "snakemake --report results/report.html"
    )
    stylesheet = tmp_path / "report" / "report.css"
    assert report_command("results", [], {}, tmp_path / "Snakefile", stylesheet) == (
        "snakemake --report results/report.html --report-stylesheet report/report.css"
    )
    command = report_command(
        "results/my data",
        [tmp_path / "my.yaml", "/elsewhere/b.yaml"],
        {"classification": "binary", "seeds": [1, 2], "fom": {"steps": 10}},
        "/repo/Snakefile",
    )
    assert command == (
        "snakemake --snakefile /repo/Snakefile --report 'results/my data/report.html' "
        "--configfile my.yaml /elsewhere/b.yaml "
        "--config classification=binary 'seeds=[1, 2]' 'fom={steps: 10}'"
    )


def test_a_run_started_elsewhere_gets_a_report_command_for_where_it_was_started(
    tmp_path, monkeypatch
):
    from cmsnn.pipeline.report import report_command

    monkeypatch.chdir(tmp_path)  # the working folder, Snakemake's --directory
    command = report_command(
        "results", [tmp_path / "my.yaml"], {"seeds": 5}, tmp_path / "Snakefile",
        started_in=tmp_path.parent,
    )  # fmt: skip
    assert command == (
        f"snakemake --directory {tmp_path} --snakefile {tmp_path}/Snakefile "
        f"--report results/report.html --configfile {tmp_path}/my.yaml --config seeds=5"
    )


def test_a_report_into_another_runs_results_folder_is_refused(tmp_path, monkeypatch):
    from cmsnn.pipeline.report import check_report_target

    monkeypatch.chdir(tmp_path)
    (tmp_path / "config.yaml").write_text("{}")  # the user's own, in the working folder
    (tmp_path / "results/mydata").mkdir(parents=True)
    (tmp_path / "results/mydata/config.yaml").write_text("results: results/mydata")
    with pytest.raises(ValueError, match=r"--report results/mydata/report.html: .*mydata/ holds"):
        check_report_target(["--report", "results/mydata/report.html"], "results")
    check_report_target(["--report=results/mydata/report.html"], "results/mydata")
    # a folder elsewhere, named by its kept config, is another run's too
    other = tmp_path.parent / f"{tmp_path.name}-scratch"
    other.mkdir()
    (other / "config.yaml").write_text(f"results: {other}")
    with pytest.raises(ValueError, match="holds the results of another configuration"):
        check_report_target(["--report", f"{other}/report.html"], "results")
    # a config.yaml that names another folder does not make its folder a results folder
    (tmp_path / "results/config.yaml").write_text("results: elsewhere")
    check_report_target(["--report", "results/mine.html"], "results/mydata")
    check_report_target(["--report", "results/report.html"], "results")
    check_report_target(["--report", "report.html"], "results")
    check_report_target(["--cores", "2"], "results")


def cmsnn_root() -> Path:
    return Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("command", "document", "start_marker", "end_marker"),
    [
        (
            "cmsnn.config.schema",
            "docs/configuration.md",
            "<!-- config keys: generated from",
            "<!-- end of the generated config table -->",
        ),
        (
            "cmsnn.summary.columns",
            "docs/figure-of-merit.md",
            "<!-- columns of fom_summary.csv:",
            "<!-- end of the generated table -->",
        ),
    ],
)
def test_the_documented_commands_regenerate_the_documented_tables(
    command, document, start_marker, end_marker
):
    """The docs say which command prints each generated table: it does, from anywhere."""
    text = (ROOT / document).read_text()
    assert f"`python -m {command}`" in text
    start = text.index("\n", text.index(start_marker)) + 1
    printed = subprocess.run(
        [sys.executable, "-m", command], capture_output=True, text=True, check=True, cwd="/"
    ).stdout
    assert text[start : text.index(end_marker)] == printed


# --- --config on the command line ------------------------------------------------------


def test_command_line_values_get_the_schemas_types(tmp_path):
    """``--config seeds=[1,2]`` and a mapping written in YAML or JSON plan the same jobs
    as the same values in a config file."""
    from snakemake_runs import make_workdir, planned_jobs

    workdir = make_workdir(tmp_path / "run", "tiny_binary.yaml")
    jobs = planned_jobs(
        workdir, "--config", "seeds=[1,2]", 'grid={"decay_rate": [0.001, 0.01]}',
        "fom={steps: 50, include_mc_statistics: false}",
    )  # fmt: skip
    assert jobs["train_model"] == 4 and jobs["fit_binned_likelihood"] == 6
    assert not (workdir / "results").exists()


def test_a_command_line_value_that_is_not_yaml_names_the_key(tmp_path):
    from snakemake_runs import make_workdir, snakemake

    workdir = make_workdir(tmp_path / "run", "tiny_binary.yaml")
    result = snakemake(workdir, "--dry-run", "--config", "seeds=[1,2", check=False)
    assert result.returncode != 0
    assert "--config seeds='[1,2' is not valid YAML" in result.stderr + result.stdout
    result = snakemake(workdir, "--dry-run", "--config", "seeds=[one]", check=False)
    assert result.returncode != 0
    assert "seeds" in result.stderr + result.stdout and "integer" in result.stderr + result.stdout
    assert not (workdir / "results").exists()
