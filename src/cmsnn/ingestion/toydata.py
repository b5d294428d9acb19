"""The embedded default dataset: "ROOT-derived" CSVs like the ones the tutorial's users have.

Each process is generated from a few physics-motivated parameters (see
``resources/toy_processes.yaml``): MET above a 200 GeV skim cut, a leading jet that
recoils against the invisible particles for compressed stops and Z->nunu, soft leptons
for the stops, b-jets for top, non-prompt leptons for Z->nunu. The variables are
correlated (mt from the lepton and MET, HT from the jets) and Njet/NbLoose are
integers, so that the classes overlap and the task needs more than simple cuts.

The rows are: the 17 input variables of the tutorial's multi-class script, the event
weight (cross section / generated events), and the process name ending in ``.root``.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping

import numpy as np
import pandas as pd

from cmsnn.dataframes import write_csv

#: The 17 input variables of the tutorial's multi-class script, in its order.
TUTORIAL_FEATURES = (
    "LepChg", "LepPt", "LepEta", "Dxy", "Dz", "RelIso", "Met", "mt", "Njet",
    "Jet1Pt", "Jet2Pt", "HT", "NbLoose", "JetHBpt", "JetHBCSV", "JetB2pt", "DrJetHBLep",
)  # fmt: skip

MET_SKIM_CUT = 200.0  # GeV
JET_PT_THRESHOLD = 30.0  # GeV


def process_seed(base_seed: int, process: str) -> np.random.SeedSequence:
    """A seed per process that depends on its name, not on its position in the table,
    so adding a process never changes the events of the others."""
    return np.random.SeedSequence([base_seed, zlib.crc32(process.encode())])


def generate_process(process: str, parameters: Mapping, n_events: int, seed: int) -> pd.DataFrame:
    """Generate ``n_events`` events of one process; weight = cross section / events.

    ``parameters["generator"]`` picks the model: ``stop_search`` (the default, the 17
    variables below) or ``gaussian`` (``mean`` and ``covariance`` of a multivariate
    normal, as the 2-D chapter's toy; its columns are ``x1``, ``x2``, …).
    """
    rng = np.random.default_rng(process_seed(seed, process))
    generator = parameters.get("generator", "stop_search")
    if generator == "gaussian":
        return _gaussian_process(rng, process, parameters, n_events)
    if generator != "stop_search":
        raise ValueError(f"{process}: unknown generator {generator!r} (stop_search, gaussian)")
    p = parameters
    n = n_events

    met = MET_SKIM_CUT + rng.exponential(p["met_mean"], n)
    ht = _hadronic_activity(rng, p, met, n)
    njet = p["min_jets"] + rng.poisson(p["extra_jets"], n)
    jet1, jet2 = _leading_jets(rng, ht, njet)
    ht = np.maximum(ht, jet1 + jet2)

    lepton_pt = 3.5 + rng.gamma(2.0, p["lepton_pt_scale"] / 2.0, n)
    lepton_eta = np.clip(rng.normal(0.0, 1.0 if p["recoil"] else 1.2, n), -2.4, 2.4)
    charge = np.where(rng.random(n) < p["positive_charge"], 1.0, -1.0)
    # The lepton's neutrino is the MET for W/top (back-to-back tends to large mt);
    # for recoil events the lepton is unrelated to the MET direction.
    if p["recoil"]:
        delta_phi = rng.uniform(0.0, np.pi, n)
    else:
        delta_phi = np.pi * rng.beta(2.5, 1.5, n)
    mt = np.sqrt(2.0 * lepton_pt * met * (1.0 - np.cos(delta_phi)))

    displacement = 3.0 if p["nonprompt"] else 1.0
    dxy = rng.laplace(0.0, 0.002 * displacement, n)
    dz = rng.laplace(0.0, 0.005 * displacement, n)
    rel_iso = rng.exponential(0.25 if p["nonprompt"] else 0.04, n)

    nb = np.minimum(rng.poisson(p["b_jets"], n), njet)
    b_tag = np.where(nb > 0, 0.5 + 0.5 * rng.beta(3.0, 1.2, n), rng.beta(1.2, 5.0, n))
    b_jet_pt = np.where(
        njet >= 2, np.maximum(JET_PT_THRESHOLD, jet2 * rng.uniform(0.6, 1.0, n)), jet1
    )
    second_b_pt = np.where(nb >= 2, JET_PT_THRESHOLD + rng.exponential(40.0, n), 0.0)
    delta_r = 0.4 + (rng.gamma(2.0, 0.5, n) if p["recoil"] else rng.gamma(2.5, 0.8, n))

    columns = {
        "LepChg": charge,
        "LepPt": lepton_pt,
        "LepEta": lepton_eta,
        "Dxy": dxy,
        "Dz": dz,
        "RelIso": rel_iso,
        "Met": met,
        "mt": mt,
        "Njet": njet.astype(float),
        "Jet1Pt": jet1,
        "Jet2Pt": jet2,
        "HT": ht,
        "NbLoose": nb.astype(float),
        "JetHBpt": b_jet_pt,
        "JetHBCSV": b_tag,
        "JetB2pt": second_b_pt,
        "DrJetHBLep": np.minimum(delta_r, 5.0),
    }
    frame = pd.DataFrame({name: np.round(columns[name], 4) for name in TUTORIAL_FEATURES})
    frame["Weights"] = p["cross_section_pb"] / n
    frame["Process"] = process
    return frame


def generate_toy_sample_files(
    *, csv, process: str, parameters: Mapping, events_scale: float, seed: int
) -> None:
    """Entry point of rule ``generate_toy_sample``: generate one process of the embedded
    dataset and write it as a headerless CSV (``csv``), as the tutorial's files."""
    output = csv
    n_events = max(1, round(parameters["events"] * events_scale))
    frame = generate_process(process, parameters, n_events, seed)
    write_csv(frame, output, header=False)


def _gaussian_process(rng, process: str, p: Mapping, n: int) -> pd.DataFrame:
    values = rng.multivariate_normal(p["mean"], p["covariance"], size=n)
    frame = pd.DataFrame(values, columns=[f"x{i + 1}" for i in range(values.shape[1])])
    frame["Weights"] = p["cross_section_pb"] / n
    frame["Process"] = process
    return frame


def _hadronic_activity(rng, p: Mapping, met: np.ndarray, n: int) -> np.ndarray:
    """HT inside the sample's generator bin; for recoil events it follows the MET."""
    low = float(p["ht_low"])
    high = np.inf if p["ht_high"] is None else float(p["ht_high"])
    ht = low + _truncated_exponential(rng, p["ht_scale"], high - low, n)
    if p["recoil"]:
        recoil = met * rng.normal(1.0, 0.15, n)
        ht = np.clip(0.5 * ht + 0.5 * recoil, low, high - 1e-3)
    return ht


def _truncated_exponential(rng, scale: float, width: float, n: int) -> np.ndarray:
    """Exponential of ``scale`` restricted to [0, width), by inverting its CDF."""
    if np.isinf(width):
        return rng.exponential(scale, n)
    u = rng.random(n)
    return -scale * np.log1p(-u * (1.0 - np.exp(-width / scale)))


def _leading_jets(rng, ht: np.ndarray, njet: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Share HT among the jets: the leading jet takes most of it, the second a part of the rest."""
    n = len(ht)
    leading_fraction = np.where(njet == 1, 1.0, rng.beta(5.0, 2.5, n))
    jet1 = np.maximum(ht * leading_fraction, 100.0)
    rest = np.maximum(ht - jet1, 0.0)
    second_fraction = np.where(njet == 2, 1.0, rng.beta(3.0, 2.0, n))
    jet2 = np.where(njet >= 2, np.maximum(rest * second_fraction, JET_PT_THRESHOLD), 0.0)
    jet2 = np.minimum(jet2, jet1)
    return jet1, jet2
