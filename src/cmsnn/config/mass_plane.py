"""A plane of compressed-stop mass points for the embedded toy data, from a grid of
stop masses and mass splittings.

A process table may hold, beside its processes, a ``mass_plane:`` block::

    mass_plane:
      model: T2DegStop               # processes T2DegStop_<m_stop>_<m_lsp>.root
      stop_masses: [450, 500, 550]   # GeV
      mass_splittings: [20, 30, 40]  # m_stop - m_lsp, GeV
      events: 2000                   # generated events per point

which stands for one process per stop mass and splitting. Each point's generator
parameters follow its masses smoothly, anchored at the tutorial's three points (the
splitting of 30 GeV, stop masses 500, 550 and 600 GeV, whose parameters they reproduce
within a few per cent): the cross section falls exponentially with the stop mass
(0.0300, 0.0176 and 0.0102 pb at 500, 550 and 600 GeV) and with a smaller splitting
(softer leptons pass the one-lepton skim less often), the MET and the hadronic activity
grow with the stop mass (the ISR recoil against a heavier pair), and the lepton's
momentum scale grows with the splitting (the lepton carries a share of it). So a
network asked at a point between the trained ones has a smooth question to interpolate.

Standard library only: the start-up reads process tables.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

#: The tutorial's point at the centre of the anchoring.
REFERENCE_STOP_MASS, REFERENCE_SPLITTING = 550.0, 30.0
#: Cross section (pb, after the skim) at the reference point, and its fall per GeV of stop
#: mass: ln(0.0300 / 0.0102) / 100 GeV, through the tutorial's points at 500 and 600 GeV.
REFERENCE_CROSS_SECTION_PB = 0.0176
CROSS_SECTION_SLOPE = math.log(0.0300 / 0.0102) / 100.0
#: The skim efficiency's power of the splitting: (Δm / 30 GeV) ** 0.7.
SPLITTING_EFFICIENCY_POWER = 0.7
#: What every point shares with the tutorial's points (resources/toy_processes.yaml).
COMMON_PARAMETERS = {
    "extra_jets": 0.8, "min_jets": 1, "b_jets": 0.35, "ht_low": 100, "ht_high": None,
    "recoil": 1, "nonprompt": 0, "positive_charge": 0.5,
}  # fmt: skip
#: The keys of a ``mass_plane:`` block.
MASS_PLANE_KEYS = {"model", "stop_masses", "mass_splittings", "events"}


def stop_point_parameters(stop_mass: float, lsp_mass: float, events: int) -> dict:
    """The ``stop_search`` generator's parameters of one mass point.

    >>> point = stop_point_parameters(550, 520, 6000)
    >>> point["cross_section_pb"], point["met_mean"], point["ht_scale"], point["lepton_pt_scale"]
    (0.0176, 175.0, 200.0, 5.0)
    >>> round(stop_point_parameters(500, 470, 6000)["cross_section_pb"], 4)
    0.0302
    """
    splitting = stop_mass - lsp_mass
    if not 0 < splitting < stop_mass:
        raise ValueError(
            f"a mass point needs 0 < m_stop - m_lsp < m_stop, got {stop_mass:g}, {lsp_mass:g}"
        )
    efficiency = (splitting / REFERENCE_SPLITTING) ** SPLITTING_EFFICIENCY_POWER
    falling = math.exp(-CROSS_SECTION_SLOPE * (stop_mass - REFERENCE_STOP_MASS))
    return {
        "cross_section_pb": round(REFERENCE_CROSS_SECTION_PB * falling * efficiency, 6),
        "events": events,
        "met_mean": round(175.0 + 0.3 * (stop_mass - REFERENCE_STOP_MASS), 3),
        "lepton_pt_scale": round(5.0 * splitting / REFERENCE_SPLITTING, 3),
        "ht_scale": round(200.0 + 0.4 * (stop_mass - REFERENCE_STOP_MASS), 3),
        **COMMON_PARAMETERS,
    }


def mass_plane_processes(block: Mapping, where: str = "mass_plane") -> dict[str, dict]:
    """``{process name: parameters}`` of every point of a ``mass_plane:`` block.

    Raises:
        ValueError: naming ``where`` and the key, for an unknown or missing key, masses
            that are not positive numbers, or a splitting not below a stop mass.

    >>> sorted(mass_plane_processes({"model": "T2DegStop", "stop_masses": [500, 550],
    ...                              "mass_splittings": [30], "events": 100}))
    ['T2DegStop_500_470.root', 'T2DegStop_550_520.root']
    """
    if not isinstance(block, Mapping) or set(block) != MASS_PLANE_KEYS:
        keys = sorted(block) if isinstance(block, Mapping) else type(block).__name__
        raise ValueError(f"{where}: needs exactly the keys {sorted(MASS_PLANE_KEYS)}, got {keys}")
    model, events = block["model"], block["events"]
    if not isinstance(model, str) or not model.isidentifier():
        raise ValueError(f"{where}.model: a name of letters, digits and _, got {model!r}")
    if not isinstance(events, int) or isinstance(events, bool) or events < 1:
        raise ValueError(f"{where}.events: a positive integer, got {events!r}")
    grid = {}
    for key in ("stop_masses", "mass_splittings"):
        values = block[key]
        if (
            not isinstance(values, list)
            or not values
            or not all(
                isinstance(value, int | float) and not isinstance(value, bool) and value > 0
                for value in values
            )
        ):
            raise ValueError(f"{where}.{key}: a list of positive masses in GeV, got {values!r}")
        grid[key] = values
    processes = {}
    for stop_mass in grid["stop_masses"]:
        for splitting in grid["mass_splittings"]:
            if splitting >= stop_mass:
                raise ValueError(
                    f"{where}.mass_splittings: {splitting:g} GeV is not below the stop "
                    f"mass {stop_mass:g} GeV"
                )
            name = f"{model}_{stop_mass:g}_{stop_mass - splitting:g}.root"
            processes[name] = stop_point_parameters(stop_mass, stop_mass - splitting, events)
    return processes
