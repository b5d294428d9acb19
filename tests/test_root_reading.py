"""ROOT ntuples in: files written with uproot here (flat and jagged branches) and the real
CMS files of ../shared/data, read chunk by chunk into the same table as a CSV."""

from __future__ import annotations

from pathlib import Path

import awkward as ak
import numpy as np
import pyarrow.parquet as pq
import pytest
import uproot

from cmsnn.ingestion.expressions import ExpressionError
from cmsnn.ingestion.root_files import check_root_processes, ingest_root_files, read_root_process

SHARED_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
needs_shared_data = pytest.mark.skipif(
    not SHARED_DATA.is_dir(), reason=f"the real ROOT files are not here ({SHARED_DATA})"
)
CLASSES = [{"name": "Signal", "patterns": ["sig*"]}, {"name": "Background", "patterns": ["*"]}]
FEATURES = ["met", "lead_jet_pt", "n_central_jets", "ht"]
VARIABLES = {
    "met": "MET_pt",
    "lead_jet_pt": "Jet_pt[:, 0]",
    "n_central_jets": "ak.num(Jet_pt[(Jet_pt > 30) & (abs(Jet_eta) < 2.4)])",
    "ht": "ak.sum(Jet_pt, axis=1)",
}
FILL = -1.0


def write_ntuple(path, events: int, seed: int, runs_sumw=None):
    """A NanoAOD-like file: flat MET_pt and genWeight, jagged Jet_pt/Jet_eta, and
    optionally a Runs tree with genEventSumw."""
    rng = np.random.default_rng(seed)
    counts = rng.integers(0, 5, events)
    jets = {
        "pt": ak.unflatten(rng.exponential(40.0, counts.sum()) + 10.0, counts),
        "eta": ak.unflatten(rng.uniform(-4.0, 4.0, counts.sum()), counts),
    }
    branches = {
        "MET_pt": rng.exponential(50.0, events),
        "genWeight": np.where(rng.random(events) < 0.2, -2.0, 2.0),
        "Jet": ak.zip(jets),
    }
    with uproot.recreate(path) as file:
        write_ttree(file, "Events", branches)
        if runs_sumw is not None:
            write_ttree(file, "Runs", {"genEventSumw": np.asarray(runs_sumw, dtype=np.float64)})
    return branches


def write_ttree(file, name, branches):
    """A TTree (uproot writes an RNTuple for a plain assignment); a zipped jagged field
    ``Jet`` becomes the NanoAOD-style branches nJet, Jet_pt, Jet_eta."""
    types = {key: v.dtype if isinstance(v, np.ndarray) else v.type for key, v in branches.items()}
    file.mktree(name, types)
    file[name].extend(branches)


def expected_variables(branches, selected):
    """The variables computed event by event in plain Python: an independent oracle."""
    rows = []
    for met, pts, etas in zip(
        branches["MET_pt"],
        branches["Jet"]["pt"].tolist(),
        branches["Jet"]["eta"].tolist(),
        strict=True,
    ):
        central = sum(1 for pt, eta in zip(pts, etas, strict=True) if pt > 30 and abs(eta) < 2.4)
        rows.append([met, pts[0] if pts else FILL, central, sum(pts)])
    return np.asarray(rows)[selected]


def process(tmp_path, **settings):
    return {
        "name": "sig_stop",
        "files": [str(tmp_path / "ntuple_*.root")],
        "tree": "Events",
        "variables": VARIABLES,
        **settings,
    }


def test_variables_selection_and_normalisation_equal_an_event_by_event_computation(tmp_path):
    first = write_ntuple(tmp_path / "ntuple_1.root", 300, seed=1, runs_sumw=[100.0, 50.0])
    second = write_ntuple(tmp_path / "ntuple_2.root", 200, seed=2, runs_sumw=[250.0])
    entry = process(
        tmp_path,
        selection="MET_pt > 20 and ak.num(Jet_pt) >= 0",
        weight="genWeight",
        cross_section=8.0,
        generated_events={"tree": "Runs", "branch": "genEventSumw"},
    )
    output = tmp_path / "sig.parquet"
    ingest_root_files(
        parquet=output,
        process=entry,
        features=FEATURES,
        classes=CLASSES,
        fill_value=FILL,
        step_size=37,
    )

    table = pq.read_table(output).to_pandas()
    expected = np.concatenate([expected_variables(b, b["MET_pt"] > 20) for b in (first, second)])
    np.testing.assert_allclose(table[FEATURES].to_numpy(), expected, rtol=1e-6)
    weights = np.concatenate([b["genWeight"][b["MET_pt"] > 20] for b in (first, second)])
    np.testing.assert_allclose(table["weight"], weights * 8.0 / 400.0)
    assert set(table["process"]) == {"sig_stop"}
    assert set(table["class"]) == {"Signal"} and set(table["class_index"]) == {0}
    assert [str(table[name].dtype) for name in FEATURES] == ["float32"] * 4
    assert table["weight"].dtype == np.float64
    # each event names its file and its entry there (the selection skips entries)
    kept = [np.flatnonzero(b["MET_pt"] > 20) for b in (first, second)]
    assert table["source_file"].tolist() == [str(tmp_path / "ntuple_1.root")] * len(kept[0]) + [
        str(tmp_path / "ntuple_2.root")
    ] * len(kept[1])
    np.testing.assert_array_equal(table["source_entry"], np.concatenate(kept))


def test_files_are_read_in_steps_each_written_as_a_row_group(tmp_path):
    write_ntuple(tmp_path / "ntuple_1.root", 500, seed=3)
    whole, chunked = tmp_path / "whole.parquet", tmp_path / "chunked.parquet"
    arguments = {"features": FEATURES, "classes": CLASSES}
    ingest_root_files(parquet=whole, process=process(tmp_path), **arguments, step_size=10_000)
    ingest_root_files(parquet=chunked, process=process(tmp_path), **arguments, step_size=50)
    assert pq.ParquetFile(chunked).num_row_groups == 10
    assert pq.read_table(chunked).equals(pq.read_table(whole))


def test_a_number_of_generated_events_and_a_plain_weight(tmp_path):
    branches = write_ntuple(tmp_path / "ntuple_1.root", 100, seed=4)
    entry = process(tmp_path, weight="2 * genWeight", cross_section=3.0, generated_events=60)
    tables = list(read_root_process(entry, FEATURES, fill_value=0.0, step_size=1000))
    np.testing.assert_allclose(tables[0].column("weight"), 2 * branches["genWeight"] * 3.0 / 60)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"tree": "Evnts"}, "has no tree 'Evnts'; its trees are ['Events', 'Runs']"),
        ({"selection": "nMuon >= 1"}, "no branch 'nMuon', used by selection = 'nMuon >= 1'"),
        ({"variables": {"met": "MET_pt.sum()"}}, "the call 'MET_pt.sum' is not allowed"),
        ({"variables": {"met": "MET_pt.real"}}, "the attribute access 'MET_pt.real'"),
        ({"weight": "genWeight[0]"}, "the subscript 'genWeight[0]' is not allowed"),
        ({"variables": {"met": "Jet_pt[:, -1]"}}, "pick one object with [:, 0]"),
        ({"variables": {"jet_mass": "Jet_mass"}}, "'jet_mass'] are not among data.features"),
        ({"files": ["nowhere/*.root"]}, "'nowhere/*.root' matches no file"),
        ({"cross_section": 1.0}, "a cross_section needs generated_events"),
        ({"generated_events": {"tree": "Runs", "branch": "genEventSumw"}}, "only used with a"),
        ({"selection": "ak.num(Jet_pt)"}, "is not a condition (true or false per event)"),
    ],
)
def test_a_bad_process_fails_at_start_up_naming_what_to_fix(tmp_path, change, message):
    write_ntuple(tmp_path / "ntuple_1.root", 10, seed=5, runs_sumw=[1.0])
    with pytest.raises((ValueError, ExpressionError)) as error:
        check_root_processes([process(tmp_path, **change)], FEATURES)
    assert message in str(error.value)


def test_an_rntuple_is_named_as_such(tmp_path):
    with uproot.recreate(tmp_path / "ntuple_1.root") as file:
        file["Events"] = {"MET_pt": np.ones(3)}  # uproot writes an RNTuple for this
    with pytest.raises(ValueError, match="'Events' is an RNTuple, not a TTree"):
        check_root_processes([process(tmp_path)], FEATURES)


def test_a_file_that_is_not_root_is_named(tmp_path):
    (tmp_path / "ntuple_1.root").write_text("MET_pt,Jet_pt\n1,2\n")
    with pytest.raises(ValueError, match=r"ntuple_1.root: cannot be opened as a ROOT file"):
        check_root_processes([process(tmp_path)], FEATURES)


def test_a_list_per_event_or_a_nan_names_file_tree_entry_and_expression(tmp_path):
    write_ntuple(tmp_path / "ntuple_1.root", 50, seed=6)
    listed = process(tmp_path, variables={**VARIABLES, "ht": "Jet_pt * 2"})
    with pytest.raises(ValueError, match=r"tree 'Events': ht = 'Jet_pt \* 2' fails: gives a list"):
        ingest_root_files(
            parquet=tmp_path / "out.parquet", process=listed, features=FEATURES, classes=CLASSES
        )
    nan = process(tmp_path, variables={**VARIABLES, "met": "log(MET_pt - 1000)"})
    with pytest.raises(ValueError, match=r"ntuple_1.root, tree 'Events', entry 0: met = "):
        ingest_root_files(
            parquet=tmp_path / "out.parquet", process=nan, features=FEATURES, classes=CLASSES
        )
    assert not (tmp_path / "out.parquet").exists()
    assert not list(tmp_path.glob(".out.*"))  # nothing half-written


def test_a_selection_keeping_nothing_fails_and_writes_nothing(tmp_path):
    write_ntuple(tmp_path / "ntuple_1.root", 50, seed=7)
    with pytest.raises(ValueError, match="no event passes the selection 'MET_pt < 0'"):
        ingest_root_files(
            parquet=tmp_path / "out.parquet",
            process=process(tmp_path, selection="MET_pt < 0"),
            features=FEATURES,
            classes=CLASSES,
        )
    assert not (tmp_path / "out.parquet").exists()


@needs_shared_data
def test_the_real_files_give_uproots_own_counts_and_values(tmp_path):
    hzz = {
        "name": "HZZ",
        "files": [str(SHARED_DATA / "uproot-HZZ.root")],
        "tree": "events",
        "selection": "NMuon >= 2",
        "weight": "EventWeight",
        "variables": {"lead": "sqrt(Muon_Px**2 + Muon_Py**2)[:, 0]", "n": "NMuon"},
    }
    ingest_root_files(
        parquet=tmp_path / "hzz.parquet",
        process=hzz,
        features=["lead", "n"],
        classes=CLASSES,
        step_size=500,
    )
    events = uproot.open(SHARED_DATA / "uproot-HZZ.root")["events"].arrays(
        ["NMuon", "Muon_Px", "Muon_Py", "EventWeight"]
    )
    kept = events[events.NMuon >= 2]
    table = pq.read_table(tmp_path / "hzz.parquet").to_pandas()
    assert len(table) == len(kept) == 1413
    lead = np.hypot(ak.to_numpy(kept.Muon_Px[:, 0]), ak.to_numpy(kept.Muon_Py[:, 0]))
    np.testing.assert_allclose(table["lead"], lead, rtol=1e-6)
    np.testing.assert_allclose(table["weight"], ak.to_numpy(kept.EventWeight), rtol=1e-6)

    ttbar = {
        "name": "TTbar",
        "files": [str(SHARED_DATA / "nanoAOD_2015_CMS_Open_Data_ttbar.root")],
        "tree": "Events",
        "weight": "genWeight",
        "cross_section": 831.76,
        "generated_events": {"tree": "Events", "branch": "genWeight"},
        "variables": {"lead": "Muon_pt[:, 0]", "n": "ak.num(Jet_pt[Jet_pt > 30])"},
    }
    ingest_root_files(
        parquet=tmp_path / "tt.parquet", process=ttbar, features=["lead", "n"], classes=CLASSES
    )
    table = pq.read_table(tmp_path / "tt.parquet").to_pandas()
    jets = uproot.open(ttbar["files"][0])["Events"]["Jet_pt"].array()
    assert len(table) == 200
    assert table["weight"].sum() == pytest.approx(831.76)
    np.testing.assert_array_equal(table["n"], ak.to_numpy(ak.sum(jets > 30, axis=1)))


@needs_shared_data
@pytest.mark.parametrize("kept", [0.1, 0.6, 0.95])
def test_a_file_cut_short_is_named_on_one_line(tmp_path, kept):
    """A copy cut short (the ROOT directory lies at the end of the file): the message
    names the file and says what to check, on one line (the console shows a failed job's
    last line), and no table is left behind."""
    whole = (SHARED_DATA / "uproot-HZZ.root").read_bytes()
    cut = tmp_path / "cut.root"
    cut.write_bytes(whole[: int(len(whole) * kept)])
    process = {"name": "hzz", "files": [str(cut)], "tree": "events", "variables": {},
               "selection": "", "weight": "EventWeight"}  # fmt: skip
    with pytest.raises(ValueError) as error:
        ingest_root_files(
            parquet=tmp_path / "hzz.parquet", process=process, features=["NJet"],
            classes=[{"name": "All", "patterns": ["*"]}],
        )  # fmt: skip
    message = str(error.value)
    assert message.startswith(f"{cut}: ") and "\n" not in message
    assert "check that" in message and "complete" in message
    assert not (tmp_path / "hzz.parquet").exists()
