"""The parametrised network's masses (cmsnn.preprocessing.mass_points): where each
event's masses come from, the per-epoch draws of the background's, and the scaling."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cmsnn.preprocessing.mass_points import (
    TRAINING_DRAWS,
    VALIDATION_DRAWS,
    MassPoints,
    attach_masses,
    equalise_points,
    fit_mass_scaling,
    process_masses,
    scale_masses,
)
from cmsnn.vocabulary import MASS_INPUTS

POINTS = ["T2DegStop_500_470.root", "T2DegStop_550_520.root", "T2DegStop_600_580.root"]


def events_of(n_per_point=(30, 50, 20), n_background=400) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    processes = [p for p, n in zip(POINTS, n_per_point, strict=True) for _ in range(n)]
    processes += ["WJets.root"] * n_background
    return pd.DataFrame(
        {
            "process": processes,
            "class_index": [0] * sum(n_per_point) + [1] * n_background,
            "training_weight": rng.uniform(0.5, 1.5, len(processes)),
        }
    )


def test_masses_come_from_the_name_or_the_process_table():
    masses = process_masses([*POINTS, "Signal_other.root"], {"Signal_other.root": [700, 650]})
    assert masses["T2DegStop_550_520.root"] == (550.0, 520.0)
    assert masses["Signal_other.root"] == (700.0, 650.0)


def test_a_signal_without_masses_is_refused_by_name():
    with pytest.raises(ValueError, match=r"'Signal\.root' has no masses.*training\.signal_masses"):
        process_masses(["Signal.root"], {})


def test_signal_events_carry_their_points_masses_and_background_none():
    events = attach_masses(events_of(), process_masses(POINTS, {}))
    signal = events["class_index"] == 0
    of_point = events.loc[events["process"] == POINTS[2], list(MASS_INPUTS)]
    assert of_point.drop_duplicates().to_numpy().tolist() == [[600.0, 580.0]]
    assert events.loc[~signal, list(MASS_INPUTS)].isna().all().all()
    scaling = fit_mass_scaling(events)
    scaled = scale_masses(scaling, events.loc[signal, list(MASS_INPUTS)].to_numpy())
    assert scaled.mean(axis=0) == pytest.approx([0, 0], abs=1e-12)
    assert scaled.std(axis=0) == pytest.approx([1, 1])


def test_each_signal_point_weighs_alike_and_the_background_keeps_its_weights():
    events = events_of()
    signal = (events["class_index"] == 0).to_numpy()
    weights = equalise_points(events["training_weight"], events["process"], signal)
    sums = pd.Series(weights[signal]).groupby(events["process"][signal].to_numpy()).sum()
    assert sums.to_numpy() == pytest.approx([sums.mean()] * 3)
    assert sums.sum() == pytest.approx(events["training_weight"][signal].sum())
    assert weights[~signal] == pytest.approx(events["training_weight"][~signal].to_numpy())


def prepared(events: pd.DataFrame) -> tuple[pd.DataFrame, MassPoints, np.ndarray]:
    events = attach_masses(events, process_masses(POINTS, {}))
    scaling = fit_mass_scaling(events)
    signal = (events["class_index"] == 0).to_numpy()
    events.loc[signal, list(MASS_INPUTS)] = scale_masses(
        scaling, events.loc[signal, list(MASS_INPUTS)].to_numpy()
    )
    return events, MassPoints.of_training(events, signal), signal


def test_background_masses_are_always_a_signal_points_redrawn_every_epoch():
    events, points, signal = prepared(events_of())
    allowed = {tuple(row) for row in points.masses.tolist()}
    assert len(allowed) == 3
    draws = [points.draw(int((~signal).sum()), seed=7, stream=TRAINING_DRAWS, epoch=e)
             for e in range(20)]  # fmt: skip
    for drawn in draws:
        assert {tuple(row) for row in drawn.tolist()} <= allowed
    assert not np.array_equal(draws[0], draws[1])
    again = points.draw(int((~signal).sum()), seed=7, stream=TRAINING_DRAWS, epoch=5)
    assert np.array_equal(again, draws[5])  # a resumed training draws the same
    other_seed = points.draw(int((~signal).sum()), seed=8, stream=TRAINING_DRAWS, epoch=5)
    assert not np.array_equal(other_seed, draws[5])
    validation = points.draw(int((~signal).sum()), seed=7, stream=VALIDATION_DRAWS)
    assert not np.array_equal(validation, draws[0])


def test_points_are_drawn_in_proportion_to_their_training_weight():
    events, points, signal = prepared(events_of(n_per_point=(100, 300, 600)))
    assert points.shares == pytest.approx(
        [events.loc[signal & (events["process"] == p).to_numpy(), "training_weight"].sum()
         / events.loc[signal, "training_weight"].sum() for p in POINTS]
    )  # fmt: skip
    drawn = points.draw(200_000, seed=1, stream=TRAINING_DRAWS)
    frequencies = [np.all(drawn == mass, axis=1).mean() for mass in points.masses]
    assert frequencies == pytest.approx(points.shares, abs=0.005)


# --- the training: real TensorFlow, a network of three variables and two masses ---------

FEATURES = ["x1", "x2", "x3"]
SETTINGS = {
    "layers": [8, 8], "activation": "tanh", "initializer": "he_normal", "dropout": 0.1,
    "l2": 1e-4, "learning_rate": 0.01, "decay_rate": 0.01, "epochs": 4, "batch_size": 64,
    "shuffle": True, "early_stopping_patience": 0,
}  # fmt: skip


def mass_plane_events(n: int, seed: int) -> pd.DataFrame:
    """Signal of three points (the separation grows with the stop mass) against two
    background classes; the masses prepared as the pipeline prepares them."""
    rng = np.random.default_rng(seed)
    class_index = rng.integers(0, 3, n)
    point = rng.integers(0, 3, n)
    x = rng.normal(size=(n, 3)) + class_index[:, None] * np.array([1.0, -0.5, 0.0])
    x[:, 0] += np.where(class_index == 0, point * 0.5, 0.0)
    frame = pd.DataFrame(x.astype(np.float32), columns=FEATURES)
    frame["class_index"] = class_index
    frame["class"] = np.array(["Signal", "B1", "B2"])[class_index]
    signal_process = np.array(POINTS)[point]
    frame["process"] = np.where(class_index == 0, signal_process, frame["class"] + ".root")
    frame["weight"] = rng.uniform(0.5, 1.5, n)
    frame["training_weight"] = frame["weight"]
    frame = attach_masses(frame, process_masses(POINTS, {}))
    return frame


def scaled(frames):
    scaling = fit_mass_scaling(frames[0])
    out = []
    for frame in frames:
        frame = frame.copy()
        signal = frame["class_index"] == 0
        frame.loc[signal, list(MASS_INPUTS)] = scale_masses(
            scaling, frame.loc[signal, list(MASS_INPUTS)].to_numpy()
        )
        out.append(frame)
    return out


@pytest.mark.parametrize("classification", ["binary", "multiclass"])
def test_the_network_sees_background_only_at_signal_points_redrawn_each_epoch(
    classification, monkeypatch
):
    """Every input the compiled epochs receive: the background's masses are always one
    of the training's signal points, different from one epoch to the next, the
    signal's its own; and the same seed gives the same model, bit for bit."""
    from cmsnn.learning import training
    from cmsnn.learning.epochs import CompiledEpochs

    seen = {"train": [], "validation": []}

    class Recording(CompiledEpochs):
        def __init__(self, model, classification, batch_size, train, validation, **options):
            seen["validation"].append(np.array(validation[0]))
            super().__init__(model, classification, batch_size, train, validation, **options)

        def train(self, order, inputs=None):
            seen["train"].append(np.array(inputs))
            return super().train(order, inputs)

    monkeypatch.setattr(training, "CompiledEpochs", Recording)
    train, validation = scaled([mass_plane_events(600, 1), mass_plane_events(300, 2)])
    inputs = [*FEATURES, *MASS_INPUTS]
    first, _, _ = training.train_model(
        train, validation, inputs, SETTINGS, classification, 3, seed=3, parametrised=True
    )
    points = {tuple(row) for row in train.loc[train["class_index"] == 0, list(MASS_INPUTS)]
              .astype(np.float32).drop_duplicates().to_numpy().tolist()}  # fmt: skip
    assert len(points) == 3 and len(seen["train"]) == SETTINGS["epochs"]
    background = (train["class_index"] != 0).to_numpy()
    for epoch_inputs in seen["train"]:
        assert {tuple(row) for row in epoch_inputs[background, 3:].tolist()} == points
        np.testing.assert_array_equal(
            epoch_inputs[~background, 3:],
            train.loc[~background, list(MASS_INPUTS)].to_numpy(dtype=np.float32),
        )
        np.testing.assert_array_equal(epoch_inputs[:, :3], train[FEATURES].to_numpy())
    assert not np.array_equal(seen["train"][0], seen["train"][1])
    validation_background = (validation["class_index"] != 0).to_numpy()
    assert {tuple(r) for r in seen["validation"][0][validation_background, 3:].tolist()} <= points
    assert not np.isnan(seen["validation"][0]).any()
    again, _, _ = training.train_model(
        train, validation, inputs, SETTINGS, classification, 3, seed=3, parametrised=True
    )
    for mine, theirs in zip(first.get_weights(), again.get_weights(), strict=True):
        np.testing.assert_array_equal(mine, theirs)
    assert first.input_shape == (None, 5)


# --- a whole run: the tiny multi-class config, parametrised, two seeds ------------------


@pytest.fixture(scope="module")
def parametrised_run(tmp_path_factory):
    import yaml

    from snakemake_runs import CONFIGS, make_workdir, snakemake

    config = yaml.safe_load((CONFIGS / "tiny_multiclass.yaml").read_text())
    config["grid"] = {"decay_rate": [0.001]}
    config["training"]["parametrised"] = True
    config["training"]["held_out_mass_points"] = ["T2DegStop_600_570.root"]
    workdir = make_workdir(tmp_path_factory.mktemp("parametrised"), config)
    snakemake(workdir)
    return workdir


TUTORIAL_POINTS = ["T2DegStop_500_470.root", "T2DegStop_550_520.root", "T2DegStop_600_570.root"]


@pytest.mark.slow
def test_a_parametrised_run_asks_its_one_network_at_every_point(parametrised_run):
    """The exported model takes the masses after the variables; the background's scores
    at each point are the exported model's at that point's masses; every point's FOM
    row comes from the network asked there, the held-out point's too, which the network
    never saw; the masses are ranked; the model card lists them with their unit, the
    trained and the held-out points; the ONNX check covered the trained points."""
    import json

    from cmsnn.learning.export import onnx_scores

    model = parametrised_run / "results/models/decay_rate-0.001/seed-1"
    card = json.loads((model / "model_card.json").read_text())
    names = [variable["name"] for variable in card["input"]["variables"]]
    assert names[-2:] == list(MASS_INPUTS) and card["input"]["shape"][1] == len(names)
    assert [v["unit"] for v in card["input"]["variables"][-2:]] == ["GeV", "GeV"]
    assert card["mass_points"]["trained"] == {
        "T2DegStop_500_470.root": [500.0, 470.0],
        "T2DegStop_550_520.root": [550.0, 520.0],
    }
    assert card["mass_points"]["held_out"] == ["T2DegStop_600_570.root"]
    check = json.loads((model / "onnx_check.json").read_text())
    validation = pd.read_parquet(parametrised_run / "results/split/validation.parquet")
    assert check["check"]["events"] == 2 * len(validation)  # at both trained points
    # the held-out point's signal never reaches the training
    for split in ("train", "validation"):
        (prepared,) = (parametrised_run / "results/prepared").glob(f"*/{split}.parquet")
        processes = set(pd.read_parquet(prepared, columns=["process"])["process"])
        assert "T2DegStop_600_570.root" not in processes and POINTS[1] in processes
    masses = {**card["mass_points"]["trained"], "T2DegStop_600_570.root": [600.0, 570.0]}

    headline = pd.read_parquet(model / "predictions_test.parquet")
    at_points = pd.read_parquet(model / "at_mass_points_test.parquet")
    background = headline[headline["class"] != "Signal"]
    assert sorted(at_points["mass_point"].unique()) == TUTORIAL_POINTS
    assert len(at_points) == 3 * len(background)
    # the exported model, asked here at each point's masses, gives the tables' scores
    test = pd.read_parquet(parametrised_run / "results/split/test.parquet")
    features = names[:-2]
    others = test[test["class"] != "Signal"]
    scores = {}
    for point in TUTORIAL_POINTS:
        raw = np.hstack([others[features].to_numpy(np.float32),
                         np.tile(np.float32(masses[point]), (len(others), 1))])  # fmt: skip
        scores[point] = onnx_scores(model / "model.onnx", raw)[:, 0]
        table = at_points[at_points["mass_point"] == point]
        np.testing.assert_allclose(table["score_Signal"], scores[point], atol=1e-6)
    np.testing.assert_allclose(
        background["score_Signal"], scores["T2DegStop_550_520.root"], atol=1e-6
    )
    # the masses matter: the same events score differently at another point
    assert np.abs(scores[TUTORIAL_POINTS[0]] - scores[TUTORIAL_POINTS[2]]).max() > 1e-3

    by_signal = pd.read_csv(model / "fom_by_signal.csv")
    assert sorted(by_signal["signal_process"]) == TUTORIAL_POINTS
    binned = pd.read_csv(model / "binned/by_signal.csv")
    assert sorted(binned["signal_process"]) == TUTORIAL_POINTS
    importance = pd.read_csv(model / "importance.csv")
    assert set(MASS_INPUTS) <= set(importance["feature"])
    # the seed ensemble averages the tables at the points too
    ensemble = parametrised_run / "results/models/decay_rate-0.001/ensemble"
    averaged = pd.read_parquet(ensemble / "at_mass_points_test.parquet")
    second = pd.read_parquet(model.parent / "seed-2/at_mass_points_test.parquet")
    np.testing.assert_allclose(
        averaged["score_Signal"], (at_points["score_Signal"] + second["score_Signal"]) / 2,
        rtol=1e-6,
    )  # fmt: skip
    assert (ensemble / "fom_by_signal.csv").exists()


@pytest.mark.slow
def test_a_parametrised_run_compares_its_networks_with_dedicated_ones(parametrised_run):
    """With a held-out point, the run trains the network of every point and a dedicated
    network per held-out point (signal of that point alone, no mass inputs); the
    comparison's Z of the run's own network at each point is the one its seed ensemble's
    binned numbers give; each Z has a bootstrap
    error; the goals are judged where a dedicated network is; the training times are
    tabulated."""
    import json

    results = parametrised_run / "results"
    folder = results / "mass_points/decay_rate-0.001"
    # (the trained points' dedicated networks: tests/test_mass_point_comparison.py)
    for point in ("T2DegStop_600_570.root",):
        network = f"dedicated/{point}"
        for split in ("train", "validation"):
            (prepared,) = (folder / network / "prepared").glob(f"*/{split}.parquet")
            events = pd.read_parquet(prepared, columns=["process", "class"])
            assert set(events.loc[events["class"] == "Signal", "process"]) == {point}
        card = json.loads((folder / network / "seed-2/training.json").read_text())
        assert card["training_seconds"] > 0
        check = json.loads((folder / network / "seed-1/onnx_check.json").read_text())
        validation = pd.read_parquet(results / "split/validation.parquet")
        assert check["check"]["events"] == len(validation)  # no mass points: asked once
    (prepared,) = (folder / "all_points/prepared").glob("*/train.parquet")
    events = pd.read_parquet(prepared, columns=["process", "class"])
    assert set(events.loc[events["class"] == "Signal", "process"]) == set(TUTORIAL_POINTS)

    table = pd.read_csv(results / "mass_point_comparison.csv")
    assert list(table["signal_process"]) == TUTORIAL_POINTS
    assert table["held_out"].tolist() == [False, False, True]
    assert table["z_dedicated"].isna().tolist() == [True, True, False]
    for network in ("parametrised", "held_out"):
        assert (table[f"z_{network}"] > 0).all() and (table[f"z_{network}_error"] > 0).all()
    assert table["goal"].fillna("").tolist()[:2] == ["", ""]
    assert table.loc[2, "goal"] in {"met", "not met"}
    assert np.isfinite(table.loc[2, "held_out_share_error"])
    # the run's own network (the held-out point left out) is its seed ensemble, as the
    # ensemble's binned numbers ask it at each point
    binned = pd.read_csv(results / "models/decay_rate-0.001/ensemble/binned/by_signal.csv")
    binned = binned.set_index("signal_process")["binned_z_test"]
    np.testing.assert_allclose(table["z_held_out"], binned[TUTORIAL_POINTS], rtol=1e-9)

    times = pd.read_csv(results / "mass_point_training_time.csv").set_index("network")
    every = times.loc["dedicated, one per signal point"]
    assert every["networks"] == 3 and every["estimated"]
    parametrised = times.loc["parametrised, trained on every point", "seconds"]
    dedicated = times.loc["dedicated to T2DegStop_600_570.root"]
    assert dedicated["times_parametrised"] == pytest.approx(
        dedicated["seconds"] / parametrised, abs=0.006
    )
    assert every["seconds"] == pytest.approx(
        times.loc[times.index.str.startswith("dedicated to"), "seconds"].mean() * 3, abs=0.02
    )
    assert (results / "plots/mass_point_comparison.png").stat().st_size > 10_000


def test_a_parametrised_training_stopped_and_resumed_ends_with_the_same_model(
    tmp_path, monkeypatch
):
    """SIGTERM after the second epoch saves the state; the rerun resumes from it, draws
    the later epochs' masses as an uninterrupted training does (they depend on the seed
    and the epoch alone) and ends with its weights, bit for bit."""
    import os
    import signal

    from cmsnn.learning import training
    from cmsnn.learning.callbacks import TrainingInterrupted
    from cmsnn.learning.epochs import CompiledEpochs

    train, validation = scaled([mass_plane_events(500, 4), mass_plane_events(200, 5)])
    inputs = [*FEATURES, *MASS_INPUTS]
    settings = SETTINGS | {"epochs": 5}
    reference, _, _ = training.train_model(
        train, validation, inputs, settings, "multiclass", 3, seed=9, parametrised=True
    )
    epochs_seen = []

    class StoppedAfterTwo(CompiledEpochs):
        def train(self, order, inputs=None):
            result = super().train(order, inputs)
            epochs_seen.append(inputs)
            if len(epochs_seen) == 2:
                os.kill(os.getpid(), signal.SIGTERM)  # the batch system's warning
            return result

    monkeypatch.setattr(training, "CompiledEpochs", StoppedAfterTwo)
    checkpoint = tmp_path / "checkpoint"
    with pytest.raises(TrainingInterrupted, match="after epoch 2"):
        training.train_model(
            train, validation, inputs, settings, "multiclass", 3, seed=9, parametrised=True,
            checkpoint_dir=checkpoint, checkpoint_seconds=0,
        )  # fmt: skip
    monkeypatch.setattr(training, "CompiledEpochs", CompiledEpochs)
    resumed, history, facts = training.train_model(
        train, validation, inputs, settings, "multiclass", 3, seed=9, parametrised=True,
        checkpoint_dir=checkpoint, checkpoint_seconds=0,
    )  # fmt: skip
    assert facts["resumed_from_epoch"] == 2 and len(history) == 5
    for mine, theirs in zip(resumed.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_array_equal(mine, theirs)


def test_every_split_is_asked_at_the_signal_points_of_every_split(tmp_path):
    """A point with test events but none in another split (pre-split files, a small
    sample) is still a point the other splits' background is asked at, so that its
    FOM can be scanned on every split."""
    from cmsnn.dataframes import write_parquet
    from cmsnn.learning.prediction import _signal_processes

    paths = []
    for split, processes in (("train", POINTS[:2]), ("validation", POINTS[:1]),
                             ("test", POINTS)):  # fmt: skip
        table = pd.DataFrame({"process": [*processes, "WJets.root"],
                              "class_index": [0] * len(processes) + [1]})  # fmt: skip
        write_parquet(table, tmp_path / f"{split}.parquet")
        paths.append(tmp_path / f"{split}.parquet")
    assert _signal_processes(paths[:2], ["T2DegStop_550_520.root"]) == POINTS[:2]
    assert _signal_processes(paths, []) == POINTS


@pytest.mark.parametrize(
    ("training", "message"),
    [
        ({"parametrised": False, "held_out_mass_points": ["T2DegStop_550_520.root"]},
         r"held_out_mass_points compares points .* set training\.parametrised: true"),
        ({"parametrised": False, "dedicated_networks": ["T2DegStop_550_520.root"]},
         r"dedicated_networks compares points .* set training\.parametrised: true"),
        ({"parametrised": True, "held_out_mass_points": POINTS[:1],
          "dedicated_networks": POINTS[:2]},
         r"dedicated_networks names \[.T2DegStop_500_470\.root.\], which training\.held_out"),
        ({"parametrised": True, "dedicated_networks": ["WJets.root"]},
         r"dedicated_networks names \['WJets\.root'\], which are not processes of the signal"),
        ({"parametrised": True, "held_out_mass_points": ["WJets.root"]},
         r"held_out_mass_points names \['WJets\.root'\], which are not processes of the signal"),
        ({"parametrised": True, "held_out_mass_points": POINTS},
         r"holds every signal point: keep at least one"),
        ({"parametrised": True, "held_out_mass_points": [], "signal_masses": {"X.root": [1, 2]}},
         r"signal_masses names \['X\.root'\]"),
    ],
)  # fmt: skip
def test_the_config_of_a_parametrised_network_is_checked_at_start_up(training, message):
    from cmsnn.config.checks import check_parametrised

    config = {
        "training": {"signal_masses": {}, "held_out_mass_points": [], "dedicated_networks": [],
                     **training},
        "fom": {"signal_processes": ["T2DegStop_550_520.root"]},
        "classes": [{"name": "Signal", "patterns": ["T2DegStop_*"]},
                    {"name": "Background", "patterns": ["*"]}],
    }  # fmt: skip
    with pytest.raises(ValueError, match=message):
        check_parametrised(config, [*POINTS, "WJets.root"])


def test_a_parametrised_network_needs_one_headline_point():
    from cmsnn.config.checks import check_parametrised

    config = {
        "training": {
            "parametrised": True,
            "held_out_mass_points": [],
            "signal_masses": {},
            "dedicated_networks": [],
        },
        "fom": {"signal_processes": POINTS[:2]},
        "classes": [],
    }
    with pytest.raises(ValueError, match=r"fom\.signal_processes must name one signal point"):
        check_parametrised(config, None)
