"""The embedded data's plane of compressed-stop mass points: its points, parameters that
follow the masses smoothly, the events they give, and a run that plans every point."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from cmsnn.config.checks import read_process_catalogue
from cmsnn.config.mass_plane import mass_plane_processes, stop_point_parameters
from cmsnn.ingestion.toydata import generate_process
from cmsnn.vocabulary import parse_signal_point
from snakemake_runs import ROOT, make_workdir, planned_jobs

PLANE = ROOT / "resources/toy_massplane.yaml"
TUTORIAL_POINTS = ("T2DegStop_500_470.root", "T2DegStop_550_520.root", "T2DegStop_600_570.root")


def test_the_plane_holds_18_points_with_the_tutorials_three_and_the_same_backgrounds():
    processes, description = read_process_catalogue(PLANE)
    default, _ = read_process_catalogue(ROOT / "resources/toy_processes.yaml")
    signals = sorted(name for name in processes if name.startswith("T2DegStop_"))
    masses = [parse_signal_point(name) for name in signals]
    assert len(signals) == 18 and set(TUTORIAL_POINTS) <= set(signals)
    assert {point["mass_1"] for point in masses} == {450, 500, 550, 600, 650, 700}
    assert {point["mass_1"] - point["mass_2"] for point in masses} == {20, 30, 40}
    backgrounds = {name: p for name, p in processes.items() if name not in signals}
    assert backgrounds == {name: p for name, p in default.items() if name not in TUTORIAL_POINTS}
    assert description["signal_processes"] == ["T2DegStop_550_520.root"]
    # the signal's total events stay the default's
    assert sum(processes[name]["events"] for name in signals) == sum(
        default[name]["events"] for name in TUTORIAL_POINTS
    )


@pytest.mark.parametrize("name", TUTORIAL_POINTS)
def test_the_tutorial_points_keep_their_parameters_within_two_percent(name):
    tutorial = read_process_catalogue(ROOT / "resources/toy_processes.yaml")[0][name]
    point = parse_signal_point(name)
    smooth = stop_point_parameters(point["mass_1"], point["mass_2"], tutorial["events"])
    for key, value in tutorial.items():
        assert smooth[key] == pytest.approx(value, rel=0.02), key


def test_cross_sections_fall_with_the_stop_mass_and_grow_with_the_splitting():
    plane = read_process_catalogue(PLANE)[0]
    table = {
        (p["mass_1"], p["mass_1"] - p["mass_2"]): plane[name]
        for name, p in ((name, parse_signal_point(name)) for name in plane)
        if p["mass_1"] is not None
    }
    for (stop, splitting), parameters in table.items():
        heavier = table.get((stop + 50, splitting))
        if heavier:
            assert heavier["cross_section_pb"] < parameters["cross_section_pb"]
            assert heavier["met_mean"] > parameters["met_mean"]
        wider = table.get((stop, splitting + 10))
        if wider:
            assert wider["cross_section_pb"] > parameters["cross_section_pb"]
            assert wider["lepton_pt_scale"] > parameters["lepton_pt_scale"]


def test_the_generated_events_move_smoothly_with_the_masses():
    """Mean MET grows with the stop mass in equal steps (within the events' own
    spread) and the mean lepton momentum with the splitting: a point between two trained
    ones lies between them."""
    events = {
        (stop, splitting): generate_process(
            f"T2DegStop_{stop}_{stop - splitting}.root",
            stop_point_parameters(stop, stop - splitting, 20_000),
            20_000,
            seed=1,
        )  # fmt: skip
        for stop in (500, 550, 600)
        for splitting in (20, 30, 40)
    }
    for splitting in (20, 30, 40):
        met = [events[(stop, splitting)]["Met"].mean() for stop in (500, 550, 600)]
        assert met[0] < met[1] < met[2]
        assert met[1] == pytest.approx((met[0] + met[2]) / 2, abs=3.0)  # GeV: ±2σ of a mean
    for stop in (500, 550, 600):
        lepton = [events[(stop, splitting)]["LepPt"].mean() for splitting in (20, 30, 40)]
        assert lepton[0] < lepton[1] < lepton[2]
        assert lepton[1] == pytest.approx((lepton[0] + lepton[2]) / 2, rel=0.05)
    assert np.isclose(events[(550, 30)]["Weights"].sum(), 0.0176)


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ({"model": "T2DegStop", "stop_masses": [500], "mass_splittings": [30]}, "exactly the keys"),
        ({"model": "T2 Stop", "stop_masses": [500], "mass_splittings": [30], "events": 10},
         "mass_plane.model"),
        ({"model": "T2DegStop", "stop_masses": [], "mass_splittings": [30], "events": 10},
         "mass_plane.stop_masses"),
        ({"model": "T2DegStop", "stop_masses": [500], "mass_splittings": [True], "events": 10},
         "mass_plane.mass_splittings"),
        ({"model": "T2DegStop", "stop_masses": [30], "mass_splittings": [30], "events": 10},
         "30 GeV is not below the stop mass 30 GeV"),
        ({"model": "T2DegStop", "stop_masses": [500], "mass_splittings": [30], "events": 0},
         "mass_plane.events"),
    ],
)  # fmt: skip
def test_a_malformed_plane_is_refused_naming_its_key(block, message):
    with pytest.raises(ValueError, match=message):
        mass_plane_processes(block)


def test_a_point_listed_by_name_and_in_the_plane_is_refused(tmp_path):
    table = yaml.safe_load(PLANE.read_text())
    table["T2DegStop_550_520.root"] = stop_point_parameters(550, 520, 10)
    path = tmp_path / "table.yaml"
    path.write_text(yaml.safe_dump(table))
    with pytest.raises(ValueError, match=r"T2DegStop_550_520\.root listed by name and in"):
        read_process_catalogue(path)


def test_a_run_on_the_plane_plans_every_point(tmp_path):
    """The command of the table's header plans one toy sample per process (28: the
    plane's 18 points and the 10 backgrounds) and the default grid's six networks."""
    workdir = make_workdir(tmp_path, yaml.safe_load((ROOT / "config.yaml").read_text()))
    jobs = planned_jobs(
        workdir, "--config", "data={toy: {processes: resources/toy_massplane.yaml}}"
    )
    assert jobs["generate_toy_sample"] == 28 and jobs["train_model"] == 6
