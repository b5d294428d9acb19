"""The binned likelihood of :mod:`cmsnn.statistics.likelihood` as a CMS Combine datacard:
a text card and a shapes ROOT file, written from the pyhf workspace, read back, and
checked against it.

The card encodes one channel (the workspace's) with one process per sample, the signal
first (process index 0), every rate taken from its histogram (``rate -1``) and the
Asimov observation (the background-only expectation) as ``data_obs``. Each histogram
carries the sample's MC-statistical uncertainty ``√Σw²`` as its ``fSumw2``, which a
final ``autoMCStats 0`` line turns into Barlow–Beeston-lite nuisances (one Gaussian
parameter per bin on the bin's total, as pyhf's ``staterror``). A ``normsys`` becomes an
asymmetric ``lnN`` ``lo/hi`` on its sample.

What the format cannot say as pyhf does:

- pyhf's ``shapesys`` is one Poisson-constrained factor γᵢ per bin (auxiliary count
  τᵢ = (Bᵢ/σᵢ)²). A datacard has no per-bin Poisson-constrained factor on a shape, so the
  card writes the closest encoding, one ``shape`` nuisance per bin whose ±1σ templates
  move that bin by ±σᵢ: Gaussian-constrained vertical template morphing. It agrees with
  pyhf for small relative uncertainties (large τᵢ) and not for large ones, where the
  Poisson γᵢ is skewed and stays positive.
- The POI's range is not part of a card: Combine takes it on the command line
  (``--rMin 0 --rMax …``); the card's comments give the workspace's bounds.

Combine itself is not run here: the card's numbers are checked (:func:`check_datacard`),
not the fits Combine would make of them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import uproot
import uproot.writing.identify

from cmsnn.files import write_with

#: The observation's histogram name, Combine's convention.
DATA_OBS = "data_obs"
#: The relative tolerance of :func:`check_datacard`.
RTOL = 1e-9
_RULE = "-" * 72
_SHAPESYS_NOTE = (
    "shapesys '{name}' (pyhf: one Poisson-constrained gamma per bin) is written as one "
    "Gaussian-constrained 'shape' nuisance per bin ({name}_bin<i>, vertical template "
    "morphing of that bin by +-sigma_i, the shapesys data f*B_i): not the same constraint; "
    "close only for small relative uncertainties"
)


def write_datacard(spec: Mapping, edges: Sequence[float], datacard_path, shapes_path) -> list[str]:
    """Write a workspace of :func:`~cmsnn.statistics.likelihood.workspace_spec` as a
    Combine datacard and its shapes ROOT file, each atomically.

    The shapes file holds one TH1D per process (the sample's name; its errors are the
    ``staterror`` data, stored as ``fSumw2``), ``data_obs``, and for a ``shapesys`` the
    templates ``<process>_<name>_bin<i>Up/Down`` (bin ``i`` counted from 0, as pyhf's
    ``<name>[i]``): the nominal with bin ``i`` at ``B_i ± σ_i`` (the Down one at least 0).
    These ``shape`` nuisances are Gaussian-constrained vertical morphing, NOT pyhf's
    Poisson-constrained γᵢ; the card and the returned notes say so.

    Args:
        spec: the workspace (one channel; its first sample the signal).
        edges: the bin edges, one more than the channel's bins.
        datacard_path: the text card to write.
        shapes_path: the ROOT file to write; the card names it relative to its folder.

    Returns:
        The notes on what the card cannot encode as pyhf does (also comments in the card).

    Raises:
        ValueError: edges that do not fit the bins, or a process named ``data_obs``.
    """
    channel, samples, observation = _channel(spec)
    edges = np.asarray(edges, dtype=np.float64)
    n_bins = len(observation)
    if edges.shape != (n_bins + 1,) or np.any(np.diff(edges) <= 0):
        raise ValueError(f"{len(edges)} increasing edges needed for {n_bins} bins, got {edges}")
    if DATA_OBS in samples:
        raise ValueError(f"a sample may not be named {DATA_OBS!r}, Combine's observation")
    processes = list(samples)
    histograms = {DATA_OBS: (observation, observation)}  # Poisson errors √n on the data
    lines: list[tuple[str, str, list[str]]] = []
    notes = [
        "Combine is not run here: these numbers are checked, not Combine's fits of them",
        "POI range (Combine: --rMin/--rMax): [{:g}, {:g}]".format(*_poi_bounds(spec)),
    ]
    for process, sample in samples.items():
        histograms[process] = (sample["yields"], sample["errors"] ** 2)
        column = [process == p for p in processes]
        for name, (kind, value) in _systematics(sample).items():
            lines.append((name, kind, [value if own else "-" for own in column]))
        for name, templates in _templates(sample).items():
            for direction, template in zip(("Up", "Down"), templates, strict=True):
                histograms[f"{process}_{name}{direction}"] = (template, sample["errors"] ** 2)
        notes += [_SHAPESYS_NOTE.format(name=m["name"]) for m in _of_type(sample, "shapesys")]
    has_mc_stat = any(m["type"] == "staterror" for s in samples.values() for m in s["modifiers"])

    def write_shapes(temporary: Path) -> None:
        with uproot.recreate(temporary) as file:
            for key, (values, variances) in histograms.items():
                file[key] = _th1d(key, values, variances, edges)

    write_with(shapes_path, write_shapes)
    shapes_name = Path(os.path.relpath(Path(shapes_path), Path(datacard_path).parent)).as_posix()
    rows = [
        ["bin", *[channel] * len(processes)],
        ["process", *processes],
        ["process", *[str(index) for index in range(len(processes))]],
        ["rate", *["-1"] * len(processes)],
        *[[f"{name} {kind}", *values] for name, kind, values in lines],
    ]
    head = max(len(row[0]) for row in rows) + 2
    width = max(len(word) for row in rows for word in row[1:]) + 2
    table = [
        (row[0].ljust(head) + "".join(w.ljust(width) for w in row[1:])).rstrip() for row in rows
    ]
    text = [
        "# CMS Combine datacard of a pyhf workspace, written by cmsnn.statistics.datacard",
        *[f"# NOTE: {note}" for note in notes],
        "imax 1 number of channels",
        f"jmax {len(processes) - 1} number of backgrounds",
        f"kmax {len(lines)} number of nuisance parameters",
        _RULE,
        f"shapes * * {shapes_name} $PROCESS $PROCESS_$SYSTEMATIC",
        _RULE,
        f"{'bin':<{head}}{channel}",
        f"{'observation':<{head}}-1",
        _RULE,
        *table[:4],
        _RULE,
        *table[4:],
        *([f"{channel} autoMCStats 0"] if has_mc_stat else []),
    ]
    write_with(datacard_path, lambda temporary: temporary.write_text("\n".join(text) + "\n"))
    return notes


def read_datacard(datacard_path) -> dict:
    """Parse a one-channel card of :func:`write_datacard` and read its shapes file.

    Args:
        datacard_path: the card; its ``shapes`` line names the ROOT file relative to the
            card's folder (``$PROCESS``, ``$CHANNEL`` and ``$SYSTEMATIC`` substituted).

    Returns:
        ``{"processes": [...], "yields": {process: values}, "errors": {process: errors},
        "observation": values, "edges": edges, "systematics": {name: (type, {process:
        value string})}, "variations": {process: {systematic: (up, down)}}}``, a process's
        yields scaled to its rate where that is not ``-1``; the ``autoMCStats`` line is
        the systematic ``"autoMCStats"`` with ``{channel: threshold}``.
    """
    card = Path(datacard_path)
    lines = [line.split() for line in card.read_text().splitlines()]
    lines = [w for w in lines if w and not w[0].startswith("#") and not w[0].startswith("--")]
    keyed: dict[str, list[list[str]]] = {}
    systematics: dict[str, tuple[str, dict[str, str]]] = {}
    for words in lines:
        keyed.setdefault(words[0], []).append(words[1:])
    names = next(row for row in keyed["process"] if not all(w.lstrip("-").isdigit() for w in row))
    channel = keyed["bin"][-1][0]
    rates = keyed["rate"][0]
    for words in lines:
        if words[0] in ("imax", "jmax", "kmax", "shapes", "bin", "observation", "process", "rate"):
            continue
        if words[1] == "autoMCStats":
            systematics["autoMCStats"] = ("autoMCStats", {words[0]: words[2]})
        else:
            systematics[words[0]] = (words[1], dict(zip(names, words[2:], strict=True)))
    (shapes,) = keyed["shapes"]  # one line for all: `* * file nominal variation`
    file_name, nominal_pattern, *variation = shapes[2:]
    result = {"processes": names, "yields": {}, "errors": {}, "variations": {}}
    with uproot.open(card.parent / file_name) as file:

        def histogram(pattern: str, process: str, systematic: str = ""):
            key = pattern.replace("$PROCESS", process).replace("$CHANNEL", channel)
            return file[key.replace("$SYSTEMATIC", systematic)]

        observed = histogram(nominal_pattern, DATA_OBS)
        result["observation"] = observed.values()
        result["edges"] = observed.axis().edges()
        for process, rate in zip(names, rates, strict=True):
            nominal = histogram(nominal_pattern, process)
            values, errors = nominal.values(), nominal.errors()
            scale = 1.0 if float(rate) == -1 else float(rate) / values.sum()
            result["yields"][process], result["errors"][process] = values * scale, errors * scale
            result["variations"][process] = {
                name: tuple(
                    histogram(variation[0], process, name + d).values() for d in ("Up", "Down")
                )
                for name, (kind, values_) in systematics.items()
                if kind.startswith("shape") and values_.get(process, "-") != "-"
            }
    result["systematics"] = systematics
    return result


def check_datacard(spec: Mapping, datacard_path) -> None:
    """Check a card of :func:`write_datacard` against its workspace, to :data:`RTOL`.

    Args:
        spec: the workspace.
        datacard_path: the card.

    Raises:
        ValueError: naming the process and bin of the first yield, MC-statistical error,
            observation, lnN value or shapesys template that differs, or a process or
            systematic that one has and the other has not.
    """
    channel, samples, observation = _channel(spec)
    card = read_datacard(datacard_path)
    if card["processes"] != list(samples):
        raise ValueError(
            f"processes {card['processes']} in the card, {list(samples)} in the workspace"
        )
    _compare(card["observation"], observation, f"observation ({DATA_OBS})", channel)
    systematics = {}
    for process, sample in samples.items():
        what = f"process {process!r}"
        _compare(card["yields"][process], sample["yields"], f"{what} yield", channel)
        _compare(card["errors"][process], sample["errors"], f"{what} MC-stat error", channel)
        templates = _templates(sample)
        if set(templates) != set(card["variations"][process]):
            raise ValueError(
                f"{what}: shape nuisances {sorted(card['variations'][process])} "
                f"in the card, {sorted(templates)} in the workspace"
            )
        for name, (up, down) in templates.items():
            _compare(card["variations"][process][name][0], up, f"{what} {name}Up", channel)
            _compare(card["variations"][process][name][1], down, f"{what} {name}Down", channel)
        systematics |= {n: (process, v) for n, (k, v) in _systematics(sample).items() if k == "lnN"}
    card_lnn = {n: v for n, (kind, v) in card["systematics"].items() if kind == "lnN"}
    if set(card_lnn) != set(systematics):
        raise ValueError(
            f"lnN nuisances {sorted(card_lnn)} in the card, {sorted(systematics)} in the workspace"
        )
    for name, (process, expected) in systematics.items():
        for other, value in card_lnn[name].items():
            if (other == process) == (value == "-"):
                raise ValueError(
                    f"process {other!r}, all bins of {channel}: lnN {name} is "
                    f"{value!r} in the card, {expected if other == process else '-'!r} "
                    "in the workspace"
                )
        found, wanted = (
            [float(x) for x in v.split("/")] for v in (card_lnn[name][process], expected)
        )
        found = [1 / found[0], found[0]] if len(found) == 1 else found
        _compare(
            found, wanted, f"process {process!r} lnN {name} (lo, hi)", f"all bins of {channel}"
        )


def _systematics(sample: Mapping) -> dict[str, tuple[str, str]]:
    """``{name: (type, value)}`` of a sample's rate nuisances and per-bin shape nuisances."""
    lines = {}
    for modifier in sample["modifiers"]:
        if modifier["type"] == "normsys":
            data = modifier["data"]
            lines[modifier["name"]] = ("lnN", f"{float(data['lo'])!r}/{float(data['hi'])!r}")
        elif modifier["type"] not in ("normfactor", "staterror", "shapesys"):
            raise ValueError(f"modifier {modifier['name']!r} ({modifier['type']}) has no card form")
    return lines | dict.fromkeys(_templates(sample), ("shape", "1"))


def _templates(sample: Mapping) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``{<name>_bin<i>: (up, down)}`` of a sample's shapesys: the nominal with bin ``i`` at
    ``B_i ± σ_i`` (down at least 0); bins pyhf masks (σ or B not positive) have none."""
    nominal, templates = sample["yields"], {}
    for modifier in _of_type(sample, "shapesys"):
        for i, sigma in enumerate(np.asarray(modifier["data"], dtype=np.float64)):
            if sigma > 0 and nominal[i] > 0:
                up, down = nominal.copy(), nominal.copy()
                up[i], down[i] = nominal[i] + sigma, max(nominal[i] - sigma, 0.0)
                templates[f"{modifier['name']}_bin{i}"] = (up, down)
    return templates


def _of_type(sample: Mapping, kind: str) -> list[dict]:
    return [modifier for modifier in sample["modifiers"] if modifier["type"] == kind]


def _channel(spec: Mapping) -> tuple[str, dict[str, dict], np.ndarray]:
    """The channel's name, ``{sample: {"yields", "errors", "modifiers"}}`` and observation."""
    (channel,) = spec["channels"]
    name = channel["name"]
    samples = {}
    for sample in channel["samples"]:
        yields = np.asarray(sample["data"], dtype=np.float64)
        stat = [m["data"] for m in sample["modifiers"] if m["type"] == "staterror"]
        errors = np.asarray(stat[0], dtype=np.float64) if stat else np.zeros_like(yields)
        samples[sample["name"]] = dict(yields=yields, errors=errors, modifiers=sample["modifiers"])
    observation = next(o["data"] for o in spec["observations"] if o["name"] == name)
    return name, samples, np.asarray(observation, dtype=np.float64)


def _poi_bounds(spec: Mapping) -> tuple[float, float]:
    config = spec["measurements"][0]["config"]
    bounds = [p["bounds"][0] for p in config.get("parameters", []) if p["name"] == config["poi"]]
    return tuple(bounds[0]) if bounds else (0.0, 20.0)  # Combine's default range otherwise


def _compare(found: np.ndarray, expected: np.ndarray, what: str, where: str) -> None:
    """Raise a ValueError naming the first bin where ``found`` differs from ``expected``."""
    found, expected = np.asarray(found, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    if found.shape != expected.shape:
        raise ValueError(f"{what}: {found.size} bins in the card, {expected.size} in the workspace")
    bad = np.abs(found - expected) > RTOL * np.maximum(np.abs(found), np.abs(expected))
    if np.any(bad):
        i = int(np.argmax(bad))
        location = where if where.startswith("all bins") else f"bin {i} of {where}"
        raise ValueError(
            f"{what}, {location}: {float(found[i])!r} in the card, "
            f"{float(expected[i])!r} in the workspace"
        )


def _th1d(name: str, values: np.ndarray, variances: np.ndarray, edges: np.ndarray):
    """A TH1D with empty under- and overflow bins and its sum of squared weights."""
    data, sumw2 = (
        np.concatenate([[0.0], np.asarray(a, dtype=np.float64), [0.0]]) for a in (values, variances)
    )
    centres = 0.5 * (edges[1:] + edges[:-1])
    axis = uproot.writing.identify.to_TAxis(
        "xaxis", "", len(values), edges[0], edges[-1], fXbins=np.asarray(edges, dtype=np.float64)
    )
    return uproot.writing.identify.to_TH1x(
        name,
        name,
        data,
        fEntries=float(data.sum()),
        fTsumw=float(np.sum(values)),
        fTsumw2=float(np.sum(variances)),
        fTsumwx=float(np.sum(values * centres)),
        fTsumwx2=float(np.sum(values * centres**2)),
        fSumw2=sumw2,
        fXaxis=axis,
    )
