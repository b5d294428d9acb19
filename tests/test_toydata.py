"""The embedded toy dataset: deterministic, physical, and readable by the ingestion step."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cmsnn.config.checks import read_process_table
from cmsnn.ingestion.csv_files import label_classes, read_events
from cmsnn.ingestion.toydata import (
    MET_SKIM_CUT,
    TUTORIAL_FEATURES,
    generate_process,
    generate_toy_sample_files,
)

PROCESS_TABLE = Path(__file__).resolve().parents[1] / "resources" / "toy_processes.yaml"
CLASSES = [
    {"name": "Signal", "patterns": ["T2DegStop_*"]},
    {"name": "Wjets", "patterns": ["WJets*", "Wj*"]},
    {"name": "TTbar", "patterns": ["TT*"]},
    {"name": "Z2nu", "patterns": ["ZJets*", "ZJ*"]},
    {"name": "Other", "patterns": ["*"]},
]


@pytest.fixture(scope="module")
def table():
    return read_process_table(PROCESS_TABLE)


@pytest.fixture(scope="module")
def samples(table):
    return {name: generate_process(name, p, 1500, seed=20160101) for name, p in table.items()}


def test_tutorial_feature_order():
    assert TUTORIAL_FEATURES == (
        "LepChg", "LepPt", "LepEta", "Dxy", "Dz", "RelIso", "Met", "mt", "Njet",
        "Jet1Pt", "Jet2Pt", "HT", "NbLoose", "JetHBpt", "JetHBCSV", "JetB2pt", "DrJetHBLep",
    )  # fmt: skip
    assert len(TUTORIAL_FEATURES) == 17


def test_columns(samples):
    for name, frame in samples.items():
        assert list(frame.columns) == [*TUTORIAL_FEATURES, "Weights", "Process"]
        assert (frame["Process"] == name).all()
        assert len(frame) == 1500


def test_deterministic_for_a_seed_and_different_for_another(table):
    name = "TTJets_DiLept.root"
    first = generate_process(name, table[name], 200, seed=5)
    again = generate_process(name, table[name], 200, seed=5)
    other = generate_process(name, table[name], 200, seed=6)
    pd.testing.assert_frame_equal(first, again)
    assert not np.allclose(first["Met"], other["Met"])


def test_processes_with_identical_parameters_differ(table):
    """The seed depends on the process name, so two processes never share events."""
    parameters = table["TTJets_DiLept.root"]
    a = generate_process("A.root", parameters, 200, seed=5)
    b = generate_process("B.root", parameters, 200, seed=5)
    assert not np.allclose(a["Met"], b["Met"])


def test_weights_are_cross_section_over_events(table, samples):
    for name, frame in samples.items():
        expected = table[name]["cross_section_pb"] / 1500
        np.testing.assert_allclose(frame["Weights"], expected, rtol=1e-15)
        assert frame["Weights"].sum() == pytest.approx(table[name]["cross_section_pb"])


def test_physical_ranges(samples):
    for name, frame in samples.items():
        for column in TUTORIAL_FEATURES:
            assert np.isfinite(frame[column]).all(), (name, column)
        njet, nb = frame["Njet"].to_numpy(), frame["NbLoose"].to_numpy()
        assert (njet == np.round(njet)).all() and (njet >= 1).all(), name
        assert (nb == np.round(nb)).all() and (nb >= 0).all(), name
        assert (nb <= njet).all(), name
        assert (frame["Met"] >= MET_SKIM_CUT).all(), name
        assert set(frame["LepChg"]) <= {-1.0, 1.0}, name
        assert (frame["LepEta"].abs() <= 2.4).all(), name
        assert (frame["LepPt"] > 0).all() and (frame["mt"] >= 0).all(), name
        assert (frame["Jet2Pt"] <= frame["Jet1Pt"]).all(), name
        assert (frame.loc[frame["Njet"] == 1, "Jet2Pt"] == 0).all(), name
        assert (frame.loc[frame["NbLoose"] < 2, "JetB2pt"] == 0).all(), name
        assert frame["JetHBCSV"].between(0, 1).all(), name
        assert (frame["HT"] >= frame["Jet1Pt"] + frame["Jet2Pt"] - 1e-3).all(), name


def test_classes_differ(samples):
    """The signal has soft leptons and higher MET than W+jets (the task is not trivial,
    but the classes are not identical either)."""
    signal = samples["T2DegStop_550_520.root"]
    wjets = samples["WJetsToLNu_HT200To400.root"]
    assert signal["LepPt"].median() < 0.5 * wjets["LepPt"].median()
    assert signal["Met"].mean() > wjets["Met"].mean()


def test_generate_toy_sample_files_is_readable_by_ingestion(tmp_path, table):
    name = "T2DegStop_500_470.root"
    output = tmp_path / "toy" / "T2DegStop_500_470.csv"
    generate_toy_sample_files(
        csv=output, process=name, parameters=table[name], events_scale=0.05, seed=3
    )
    first_line = output.read_text().splitlines()[0]
    assert not first_line.startswith("LepChg")  # headerless, as the tutorial's files
    assert len(first_line.split(",")) == 19
    events = read_events(output, list(TUTORIAL_FEATURES), "Weights", "Process", header=False)
    n = round(table[name]["events"] * 0.05)
    assert len(events) == n
    assert events["process"].unique().tolist() == [name]
    assert events["weight"].sum() == pytest.approx(table[name]["cross_section_pb"])
    generated = generate_process(name, table[name], n, seed=3)
    np.testing.assert_allclose(events["Met"], generated["Met"].astype(np.float32))
    labelled = label_classes(events, CLASSES)
    assert (labelled["class"] == "Signal").all()


def test_every_toy_process_gets_a_class(table):
    classes = [entry for entry in CLASSES if entry["name"] != "Other"]
    frame = pd.DataFrame({"process": list(table)})
    labelled = label_classes(frame, CLASSES).set_index("process")["class"]
    assert labelled["WJetsToLNu_HT600ToInf.root"] == "Wjets"
    assert labelled["ZJetsToNuNu_HT400To600.root"] == "Z2nu"
    assert labelled["WWTo2L2Nu.root"] == "Other"
    assert {labelled[name] for name in table if name.startswith("T2DegStop")} == {"Signal"}
    # without the catch-all, the other backgrounds are reported
    with pytest.raises(ValueError, match="matches no class"):
        label_classes(frame, classes)


def test_events_scale_sets_the_number_of_events(tmp_path, table):
    name = "WWTo2L2Nu.root"
    output = tmp_path / "ww.csv"
    generate_toy_sample_files(
        csv=output, process=name, parameters=table[name], events_scale=1e-9, seed=1
    )
    assert len(output.read_text().splitlines()) == 1  # at least one event


# --- the 2-D chapter's Gaussian toy --------------------------------------------------------

TOY2D_TABLE = PROCESS_TABLE.parent / "toy2d_processes.yaml"


@pytest.fixture(scope="module")
def toy2d_table():
    return read_process_table(TOY2D_TABLE)


@pytest.fixture(scope="module")
def toy2d_samples(toy2d_table):
    return {
        name: generate_process(name, p, p["events"], seed=12) for name, p in toy2d_table.items()
    }


def test_toy2d_table_is_gaussian(toy2d_table):
    assert set(toy2d_table) == {"Signal2D.root", "Background2D.root"}
    for parameters in toy2d_table.values():
        assert parameters["generator"] == "gaussian"
        assert parameters["events"] == 40000


def test_gaussian_columns_and_weights(toy2d_table, toy2d_samples):
    for name, frame in toy2d_samples.items():
        assert list(frame.columns) == ["x1", "x2", "Weights", "Process"]
        assert len(frame) == 40000
        assert (frame["Process"] == name).all()
        assert np.isfinite(frame[["x1", "x2"]].to_numpy()).all()
        expected = toy2d_table[name]["cross_section_pb"] / 40000
        np.testing.assert_allclose(frame["Weights"], expected, rtol=1e-15)
        assert frame["Weights"].sum() == pytest.approx(toy2d_table[name]["cross_section_pb"])


def test_gaussian_mean_and_covariance(toy2d_table, toy2d_samples):
    for name, frame in toy2d_samples.items():
        values = frame[["x1", "x2"]].to_numpy()
        mean = np.asarray(toy2d_table[name]["mean"], dtype=float)
        covariance = np.asarray(toy2d_table[name]["covariance"], dtype=float)
        np.testing.assert_allclose(values.mean(axis=0), mean, atol=0.05, err_msg=name)
        sample_covariance = np.cov(values, rowvar=False)
        scale = np.sqrt(np.outer(np.diag(covariance), np.diag(covariance)))
        # within 10 % of sqrt(C_ii C_jj) (relative, also for a zero off-diagonal)
        assert (np.abs(sample_covariance - covariance) <= 0.1 * scale).all(), name
        np.testing.assert_allclose(np.diag(sample_covariance), np.diag(covariance), rtol=0.1)
    # the signal's x1–x2 correlation (0.2 / 0.5 = 0.4) is there, the background's is not
    signal = toy2d_samples["Signal2D.root"][["x1", "x2"]].to_numpy()
    background = toy2d_samples["Background2D.root"][["x1", "x2"]].to_numpy()
    assert np.corrcoef(signal, rowvar=False)[0, 1] == pytest.approx(0.4, abs=0.03)
    assert np.corrcoef(background, rowvar=False)[0, 1] == pytest.approx(0.0, abs=0.03)


def test_gaussian_in_more_dimensions():
    parameters = {
        "generator": "gaussian",
        "mean": [1.0, -2.0, 0.5],
        "covariance": [[1.0, 0.3, 0.0], [0.3, 2.0, -0.5], [0.0, -0.5, 1.5]],
        "cross_section_pb": 4.0,
    }
    frame = generate_process("Three.root", parameters, 20000, seed=1)
    assert list(frame.columns) == ["x1", "x2", "x3", "Weights", "Process"]
    values = frame[["x1", "x2", "x3"]].to_numpy()
    np.testing.assert_allclose(values.mean(axis=0), parameters["mean"], atol=0.05)
    np.testing.assert_allclose(np.cov(values, rowvar=False), parameters["covariance"], atol=0.08)
    np.testing.assert_allclose(frame["Weights"], 4.0 / 20000, rtol=1e-15)


def test_gaussian_deterministic_per_seed(toy2d_table):
    name = "Signal2D.root"
    first = generate_process(name, toy2d_table[name], 500, seed=7)
    again = generate_process(name, toy2d_table[name], 500, seed=7)
    other = generate_process(name, toy2d_table[name], 500, seed=8)
    pd.testing.assert_frame_equal(first, again)
    assert not np.allclose(first["x1"], other["x1"])
    # the seed depends on the process name: identical parameters, other events
    renamed = generate_process("Other2D.root", toy2d_table[name], 500, seed=7)
    assert not np.allclose(first["x1"], renamed["x1"])


def test_unknown_generator_is_rejected(toy2d_table):
    parameters = dict(toy2d_table["Signal2D.root"], generator="lorentzian")
    with pytest.raises(ValueError, match="lorentzian"):
        generate_process("Signal2D.root", parameters, 10, seed=1)


def test_gaussian_sample_is_readable_by_ingestion(tmp_path, toy2d_table):
    name = "Background2D.root"
    output = tmp_path / "toy2d" / "Background2D.csv"
    generate_toy_sample_files(
        csv=output, process=name, parameters=toy2d_table[name], events_scale=0.01, seed=3
    )
    first_line = output.read_text().splitlines()[0]
    assert len(first_line.split(",")) == 4  # x1, x2, Weights, Process; no header
    events = read_events(output, ["x1", "x2"], "Weights", "Process", header=False)
    assert len(events) == 400
    assert events["process"].unique().tolist() == [name]
    assert events["weight"].sum() == pytest.approx(toy2d_table[name]["cross_section_pb"])
    generated = generate_process(name, toy2d_table[name], 400, seed=3)
    np.testing.assert_allclose(events["x1"], generated["x1"].astype(np.float32))
