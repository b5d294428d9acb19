"""End to end on real CMS open data: config.opendata.yaml reads the three ROOT files of
resources/opendata (jagged NanoAOD and tutorial branches, real 2010 dimuon data), trains,
evaluates and exports the network as ONNX."""

from __future__ import annotations

import json

import awkward as ak
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import uproot
import yaml

from snakemake_runs import ROOT, make_workdir, snakemake

OPENDATA = ROOT / "resources" / "opendata"
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason=f"no {SHARED_DATA} to compare with")
def test_the_shipped_files_are_the_shared_real_files_unchanged():
    for path in sorted(OPENDATA.glob("*.root")):
        assert path.read_bytes() == (SHARED_DATA / path.name).read_bytes(), path.name
    assert len(list(OPENDATA.glob("*.root"))) == 3


pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def opendata_run(tmp_path_factory):
    config = yaml.safe_load((ROOT / "config.opendata.yaml").read_text())
    for process in config["data"]["root"]["processes"]:
        # the shipped paths are relative to the repository, where the README runs it
        process["files"] = [str((ROOT / path).resolve()) for path in process["files"]]
    workdir = make_workdir(tmp_path_factory.mktemp("opendata"), config)
    # what these tests read; the figures are the default run's (tests/test_workflow.py)
    results = config["results"]
    model = f"{results}/models/decay_rate-0.001/seed-1"
    snakemake(workdir, f"{results}/fom_summary.csv", f"{results}/ingested/processes.csv",
              f"{model}/model.onnx", f"{model}/model_card.json")  # fmt: skip
    return workdir, config


def test_every_process_holds_uproots_own_count_after_its_cuts(opendata_run):
    workdir, config = opendata_run
    table = pd.read_csv(workdir / "results/opendata/ingested/processes.csv").set_index("process")
    for process in config["data"]["root"]["processes"]:
        tree = uproot.open(process["files"][0])[process["tree"]]
        if process["name"] == "HZZ":
            branches = tree.arrays(["NMuon", "EventWeight"])
            kept = branches[branches.NMuon >= 2]
            expected_events, expected_sum = len(kept), float(ak.sum(kept.EventWeight))
        elif process["name"] == "TTbar":
            expected_events, expected_sum = tree.num_entries, 831.76
        else:
            expected_events, expected_sum = tree.num_entries, float(tree.num_entries)
        assert table.loc[process["name"], "events"] == expected_events
        assert table.loc[process["name"], "sum_of_weights"] == pytest.approx(expected_sum)
        assert table.loc[process["name"], "class"] == process["name"]
    assert dict(table["events"]) == {"HZZ": 1413, "TTbar": 200, "Zmumu": 2304}


def test_the_variables_are_those_of_the_branches(opendata_run):
    workdir, config = opendata_run
    zmumu = pq.read_table(workdir / "results/opendata/ingested/Zmumu.parquet").to_pandas()
    tree = uproot.open(OPENDATA / "uproot-Zmumu.root")["events"]
    np.testing.assert_allclose(zmumu["dimuon_mass"], tree["M"].array(library="np"), rtol=1e-6)
    np.testing.assert_allclose(zmumu["mu2_eta"], tree["eta2"].array(library="np"), rtol=1e-6)
    hzz = pq.read_table(workdir / "results/opendata/ingested/HZZ.parquet").to_pandas()
    muons = uproot.open(OPENDATA / "uproot-HZZ.root")["events"].arrays(
        ["NMuon", "Muon_E", "Muon_Px", "Muon_Py", "Muon_Pz"]
    )
    muons = muons[muons.NMuon >= 2]
    pair = {
        name: ak.to_numpy(muons[f"Muon_{name}"][:, 0] + muons[f"Muon_{name}"][:, 1])
        for name in ("E", "Px", "Py", "Pz")
    }
    mass = np.sqrt(np.abs(pair["E"] ** 2 - pair["Px"] ** 2 - pair["Py"] ** 2 - pair["Pz"] ** 2))
    np.testing.assert_allclose(hzz["dimuon_mass"], mass, rtol=1e-4)


def test_the_network_separates_and_leaves_as_onnx(opendata_run):
    from cmsnn.learning.export import onnx_scores

    workdir, config = opendata_run
    summary = pd.read_csv(workdir / "results/opendata/fom_summary.csv")
    assert len(summary) == 1 and summary["auc_test"][0] > 0.75
    folder = workdir / "results/opendata/models/decay_rate-0.001/seed-1"
    test = pq.read_table(workdir / "results/opendata/split/test.parquet").to_pandas()
    features = config["data"]["features"]
    scores = onnx_scores(folder / "model.onnx", test[features].to_numpy("float32"))
    predictions = pd.read_csv(folder / "predictions_test.csv")
    columns = ["score_HZZ", "score_Zmumu", "score_TTbar"]
    np.testing.assert_allclose(scores, predictions[columns], atol=1e-5, rtol=0)
    card = json.loads((folder / "model_card.json").read_text())
    assert [v["name"] for v in card["input"]["variables"]] == features
    assert card["input"]["variables"][0]["unit"] == "GeV"
