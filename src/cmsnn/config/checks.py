"""The config's vocabulary and its start-up checks.

The stage modules take their names (splits, scalings, balancings, classes, the output's
range) from here, and ``common.smk`` checks the config with these functions before any
job runs; standard library and PyYAML only, so that a Snakemake start stays light.
"""

from __future__ import annotations

import csv
import fnmatch
import math
import re
import unicodedata
from collections.abc import Mapping, MutableMapping, Sequence
from pathlib import Path

from cmsnn.config.mass_plane import mass_plane_processes
from cmsnn.files import read_yaml
from cmsnn.vocabulary import (
    AUTO,
    CLASSIFICATIONS,
    OUTPUT_RANGE,
    RESERVED_COLUMNS,
    SPLITS,
    parse_signal_point,
)


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


def check_unique_names(names: Sequence[str], key: str, advice: str = "") -> None:
    """Names that must be unique (classes, ROOT processes, the columns of a CSV file).

    Raises:
        ValueError: naming the key, the names used twice and what to do.

    >>> check_unique_names(["Met", "HT", "Met"], "data.features", "list each column once")
    Traceback (most recent call last):
    ...
    ValueError: data.features: the names ['Met'] are used twice; list each column once
    """
    duplicated = sorted({name for name in names if list(names).count(name) > 1})
    if duplicated:
        raise ValueError(
            f"{key}: the names {duplicated} are used twice" + (f"; {advice}" if advice else "")
        )


def check_feature_names(features: Sequence[str]) -> None:
    """The input variables may not take the names of the columns the pipeline adds
    (:data:`cmsnn.vocabulary.RESERVED_COLUMNS`).

    >>> check_feature_names(["Met", "weight"])
    Traceback (most recent call last):
    ...
    ValueError: data.features may not be named ['weight']: the pipeline uses these names; rename the columns in data.features
    """  # noqa: E501
    reserved = sorted(set(features) & set(RESERVED_COLUMNS))
    if reserved:
        raise ValueError(
            f"data.features may not be named {reserved}: the pipeline uses these names; "
            "rename the columns in data.features"
        )


def check_classes(classes: Sequence[Mapping]) -> None:
    """Start-up check of the class list: names are unique (training uses the class
    index, predictions and the FOM the name), and no class comes after one whose
    pattern matches every process (``*``): it could never receive an event."""
    check_unique_names([entry["name"] for entry in classes], "classes", "give every class its own")
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


def check_presplit_fractions(given_config: Mapping) -> None:
    """Pre-split input brings its own shares, measured from its events; a config that
    sets ``split.fractions`` for it (before the schema's defaults are filled in) would be
    ignored, so it is refused, naming both."""
    data = given_config.get("data") or {}
    split = given_config.get("split") or {}
    if data.get("source") == "presplit" and "fractions" in split:
        raise ValueError(
            f"split.fractions {dict(split['fractions'])} is set, but data.source: presplit "
            "brings its own split: each process's share of train, validation and test is "
            "measured from its events (results/split/shares.csv) and the yields use it; "
            "remove split.fractions from the config"
        )


def describe_data(config: MutableMapping, description: Mapping) -> None:
    """Fill in what describes the data where the config leaves it open, from the data's
    own ``description`` (the embedded data's process table, under ``dataset:``; nothing
    for your own data): its headline signal where ``fom.signal_processes`` is empty, and
    its units of the input variables under ``plots.units``. Then every unit the config
    gives must name an input variable.

    Raises:
        ValueError: ``plots.units`` names a variable that is not in ``data.features``.
    """
    features = config["data"]["features"]
    unknown = sorted(set(config["plots"]["units"]) - set(features))
    if unknown:
        raise ValueError(
            f"plots.units gives units for {unknown}, which are not input variables "
            f"(data.features: {list(features)}); remove them or fix their names"
        )
    if not config["fom"]["signal_processes"]:
        config["fom"]["signal_processes"] = list(description.get("signal_processes", []))
    units = {name: unit for name, unit in description.get("units", {}).items() if name in features}
    config["plots"]["units"] = {**units, **config["plots"]["units"]}


def default_balancing(classification: str) -> str:
    """The balancing used when the config sets none: ``equal`` in binary mode (the
    tutorial's binary script; with ``sqrt`` the many background classes together
    outweigh the signal and its output never reaches the cuts that matter), ``sqrt``
    in multi-class mode (the tutorial's multi-class script)."""
    if classification not in CLASSIFICATIONS:
        raise ValueError(f"classification must be one of {CLASSIFICATIONS}, got {classification!r}")
    return "equal" if classification == "binary" else "sqrt"


#: The key of a process table that describes the data instead of naming a process.
DATASET_KEY = "dataset"


#: The key of a process table that stands for a plane of signal mass points.
MASS_PLANE_KEY = "mass_plane"


def read_process_catalogue(path) -> tuple[dict[str, dict], dict]:
    """A process table read once: ``({process name: parameters}, description)``, the
    description being what the table says of its data under ``dataset:``:
    ``signal_processes`` (the headline signal) and ``units`` (of the input variables),
    empty where it says nothing. A ``mass_plane:`` block stands for its mass points
    (:mod:`cmsnn.config.mass_plane`), after the processes listed by name."""
    table = read_yaml(path)
    reserved = (DATASET_KEY, MASS_PLANE_KEY)
    processes = {name: parameters for name, parameters in table.items() if name not in reserved}
    if MASS_PLANE_KEY in table:
        plane = mass_plane_processes(table[MASS_PLANE_KEY], f"{path}: {MASS_PLANE_KEY}")
        if twice := sorted(set(plane) & set(processes)):
            raise ValueError(
                f"{path}: {', '.join(twice)} listed by name and in {MASS_PLANE_KEY}: keep one"
            )
        processes |= plane
    return processes, table.get(DATASET_KEY) or {}


def read_process_table(path) -> dict[str, dict]:
    """The process catalogue: ``{process name: parameters}``."""
    return read_process_catalogue(path)[0]


def read_dataset_description(path) -> dict:
    """What a process table says of its data (:func:`read_process_catalogue`)."""
    return read_process_catalogue(path)[1]


def ingested_process_names(table, ingested: Sequence, inputs: Sequence) -> list[str] | None:
    """The process names of ``processes.csv`` (the ingestion's table of every process)
    when the ingestion is up to date by its files' times: every ingested Parquet newer
    than its input and the table newer than them all. ``None`` when it is not (the
    names are then checked when the events are split, before any training)."""
    paths = [Path(path) for path in (table, *ingested, *inputs)]
    if not all(path.is_file() for path in paths):
        return None
    times = [path.stat().st_mtime for path in paths]
    table_time, parquet_times = times[0], times[1 : 1 + len(ingested)]
    if any(p < i for p, i in zip(parquet_times, times[1 + len(ingested) :], strict=True)):
        return None
    if any(table_time < p for p in parquet_times):
        return None
    with open(paths[0], newline="") as file:
        return sorted({row["process"] for row in csv.DictReader(file)})


def check_signal_processes(
    signal_processes: Sequence[str], available: Sequence[str], signal_class: str
) -> None:
    """``fom.signal_processes`` must name processes of the signal class: checked at
    start-up where the process names are known, when the split brings the events
    together, and when the FOM is scanned.

    Args:
        signal_processes: the config's ``fom.signal_processes`` (empty: all of them).
        available: the signal class's processes.
        signal_class: the signal class's name, for the message.

    Raises:
        ValueError: naming the unknown processes and the ones to choose among.

    >>> check_signal_processes(["T2_550_520"], ["T2_500_470"], "Signal")
    Traceback (most recent call last):
    ...
    ValueError: fom.signal_processes names ['T2_550_520'], which are not processes of the Signal class; choose among ['T2_500_470']
    """  # noqa: E501
    unknown = sorted(set(signal_processes) - set(available))
    if unknown:
        raise ValueError(
            f"fom.signal_processes names {unknown}, which are not processes of the "
            f"{signal_class} class; choose among {sorted(set(available))}"
        )


def check_headline_signal(
    signal_processes: Sequence[str], processes: Sequence[str], classes: Sequence[Mapping]
) -> None:
    """``fom.signal_processes`` must be processes of the signal class (the first)."""
    signal = [name for name, index in assign_classes(processes, classes).items() if not index]
    check_signal_processes(signal_processes, signal, classes[0]["name"])


def check_known_processes(config: Mapping, names: Sequence[str] | None) -> None:
    """Where the process names are known at start-up (``names``; None where a CSV file
    has not been ingested yet), check the FOM's signal processes, and that every class
    of a multi-class network gets a process."""
    check_parametrised(config, names)
    if names is not None:
        check_headline_signal(config["fom"]["signal_processes"], names, config["classes"])
        if config["classification"] == "multiclass":
            check_every_class_has_a_process(names, config["classes"])


def check_parametrised(config: Mapping, names: Sequence[str] | None) -> None:
    """A parametrised network (``training.parametrised``) needs one headline point (the
    point the background is asked at in the prediction tables) and, where the process
    names are known, masses for every signal process.

    Raises:
        ValueError: naming the key and what to set.
    """
    held_out = list(config["training"]["held_out_mass_points"])
    dedicated = list(config["training"]["dedicated_networks"])
    if not config["training"]["parametrised"]:
        for key, values in (("held_out_mass_points", held_out), ("dedicated_networks", dedicated)):
            if values:
                raise ValueError(
                    f"training.{key} compares points of a parametrised network: set "
                    "training.parametrised: true, or remove it"
                )
        return
    if both := sorted(set(held_out) & set(dedicated)):
        raise ValueError(
            f"training.dedicated_networks names {both}, which training.held_out_mass_points "
            "holds: a held-out point always gets a dedicated network; list trained points"
        )
    headline = list(config["fom"]["signal_processes"])
    if len(headline) != 1:
        raise ValueError(
            "training.parametrised: fom.signal_processes must name one signal point, the "
            f"point the background is asked at in the prediction tables; it names {headline}"
        )
    if names is None:
        return
    given = config["training"]["signal_masses"]
    signal = [name for name, index in assign_classes(names, config["classes"]).items() if not index]
    if unknown := sorted(set(given) - set(signal)):
        raise ValueError(
            f"training.signal_masses names {unknown}, which are not processes of the signal "
            f"class; choose among {sorted(signal)}"
        )
    if unknown := sorted(set(held_out) - set(signal)):
        raise ValueError(
            f"training.held_out_mass_points names {unknown}, which are not processes of the "
            f"signal class; choose among {sorted(signal)}"
        )
    if unknown := sorted(set(dedicated) - set(signal)):
        raise ValueError(
            f"training.dedicated_networks names {unknown}, which are not processes of the "
            f"signal class; choose among {sorted(signal)}"
        )
    if not set(signal) - set(held_out):
        raise ValueError(
            "training.held_out_mass_points holds every signal point: keep at least one to train on"
        )
    if missing := [p for p in signal if p not in given and parse_signal_point(p)["mass_1"] is None]:
        raise ValueError(
            f"training.parametrised: the signal processes {missing} have no masses: name "
            "them <model>_<m1>_<m2> (e.g. T2DegStop_550_520.root) or give them in "
            "training.signal_masses as {process: [m1, m2]} (GeV)"
        )


#: What a name that becomes a file name, a wildcard and a job's argument may hold: it
#: reaches shells (a batch system's ``sbatch --wrap``), so nothing a shell reads.
SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,199}")
#: Characters a name shown in the report or on the console may not hold: HTML's markup
#: (the report writes every job's params into an inline script) and the shell's quotes.
UNSAFE_IN_NAMES = set("<>&\"'`$\\")
#: The longest process or class name: a name, not a text.
MAX_NAME_LENGTH = 200
#: The first characters a spreadsheet reads as a formula.
FORMULA_STARTS = ("=", "+", "-", "@")


def safe_name(name: str) -> str:
    """``name`` with every character outside :data:`SAFE_NAME`'s set replaced by ``_``:
    what a file should be renamed to.

    >>> safe_name("WW$(touch X)")
    'WW__touch_X_'
    """
    fixed = re.sub(r"[^A-Za-z0-9._+-]", "_", name)
    return fixed if fixed[:1].isalnum() else f"x{fixed}"


def check_sample_names(files: Mapping[str, str], key: str) -> None:
    """Sample names (a file's name without its suffixes) become wildcards, paths and job
    arguments: they must match :data:`SAFE_NAME`.

    Raises:
        ValueError: naming the file and what to rename it to.
    """
    for sample, path in files.items():
        if not SAFE_NAME.fullmatch(sample):
            raise ValueError(
                f"{key}: the file {path!r} gives the sample name {sample!r}, which holds "
                "characters a shell or a batch system would read (only letters, digits and "
                f"._+- are allowed, starting with a letter or digit); rename it, e.g. to "
                f"{safe_name(sample)!r}"
            )


def name_problem(name: str) -> str | None:
    """What is wrong with a process or class name that tables, the report and the
    console show, or None: control characters (a terminal runs them) and HTML or shell
    markup (:data:`UNSAFE_IN_NAMES`).

    >>> name_problem("ttbar.root") is None, name_problem("a\x1b[2Jb")
    (True, 'a control character (U+001B)')
    """
    if len(name) > MAX_NAME_LENGTH:
        return f"{len(name):,} characters, more than {MAX_NAME_LENGTH} (a missing line break?)"
    for character in name:
        if unicodedata.category(character).startswith("C"):
            return f"a control character (U+{ord(character):04X})"
        if character in UNSAFE_IN_NAMES:
            return f"the character {character!r}"
    return None


#: What starts HTML markup: a tag (``<a``, ``</``), a comment or declaration (``<!``), a
#: processing instruction (``<?``).
MARKUP_START = re.compile(r"<[A-Za-z/!?]")


def check_config_text(config: Mapping, where: str = "") -> None:
    """No text of the config may hold a control character or start HTML markup (``<``
    right before a letter, ``/``, ``!`` or ``?``): Snakemake's report writes every job's
    params, config texts among them, into an inline script of its HTML without escaping
    ``</script>``, and a text that cannot form a tag stays text wherever it lands. An
    expression's ``a<b`` is written ``a < b``.

    Raises:
        ValueError: naming the key and what to change.
    """
    items = config.items() if isinstance(config, Mapping) else enumerate(config)
    for key, value in items:
        name = f"{where}{key}" if isinstance(config, Mapping) else f"{where[:-1]}[{key}]"
        if isinstance(value, Mapping | list):
            check_config_text(value, f"{name}.")
        elif isinstance(value, str):
            control = [c for c in value if unicodedata.category(c) == "Cc" and c not in "\t\n"]
            if control:
                raise ValueError(
                    f"{name}: holds the control character U+{ord(control[0]):04X}; remove it"
                )
            markup = MARKUP_START.search(value)
            if markup:
                raise ValueError(
                    f"{name}: holds {markup.group()!r}, which the HTML report would read as "
                    f"markup ({value[:80]!r}); remove it, or put a space after '<'"
                )


def check_results_folder(results: str, working_folder) -> None:
    """``results`` may not be the filesystem root, the working folder or one above it:
    a run writes and replaces files there.

    Raises:
        ValueError: naming the key and the folder it resolves to.
    """
    folder = (Path(working_folder) / results).resolve()
    here = Path(working_folder).resolve()
    if folder == Path(folder.anchor) or folder == here or folder in here.parents:
        raise ValueError(
            f"results: {results!r} is {folder}, "
            + (
                "the filesystem root"
                if folder == Path(folder.anchor)
                else "the working folder"
                if folder == here
                else "a folder above the working folder"
            )
            + "; a run writes and replaces files in its results folder: give it a folder of "
            "its own, e.g. results: results"
        )
