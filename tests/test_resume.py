"""A training killed mid-way (SIGKILL without warning, or SIGTERM as a batch system
warns before its kill) and rerun ends with the model an uninterrupted training gives,
bit for bit on the CPU."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from cmsnn.dataframes import write_parquet
from snakemake_runs import CONFIGS, ROOT, make_workdir, snakemake

FEATURES = ["x1", "x2", "x3"]
SETTINGS = {
    "layers": [16, 16],
    "activation": "relu",
    "initializer": "he_normal",
    "dropout": 0.1,
    "l2": 0.0,
    "learning_rate": 0.01,
    "decay_rate": 0.001,
    "epochs": 12,
    "batch_size": 32,
    "shuffle": True,
    "early_stopping_patience": 0,
}

#: Trains with a checkpoint folder and saves the test predictions; exit code 3 when
#: stopped by a signal (the state saved), 0 when done.
TRAIN = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    from cmsnn.dataframes import read_parquet
    from cmsnn.learning.prediction import predict_events
    from cmsnn.learning.callbacks import TrainingInterrupted
    from cmsnn.learning.training import configure_backend, train_model
    folder, checkpoint, output = sys.argv[1:4]
    configure_backend(1)
    settings = json.loads(open(f"{folder}/settings.json").read())
    train = read_parquet(f"{folder}/train.parquet")
    validation = read_parquet(f"{folder}/validation.parquet")
    try:
        model, history, facts = train_model(
            train, validation, ["x1", "x2", "x3"], settings, "multiclass", 3, seed=5,
            checkpoint_dir=checkpoint, checkpoint_seconds=0,
        )
    except TrainingInterrupted as error:
        print(error)
        sys.exit(3)
    scores = predict_events(model, validation, ["x1", "x2", "x3"], "multiclass", ["S", "B1", "B2"])
    scores.to_csv(output, index=False)
    history.to_csv(output + ".history.csv", index=False)
    print(json.dumps(facts))
    """
)


def events(n, seed):
    rng = np.random.default_rng(seed)
    class_index = rng.integers(0, 3, n)
    x = rng.normal(size=(n, 3)) + class_index[:, None] * np.array([1.0, -0.5, 0.3])
    frame = pd.DataFrame(x.astype(np.float32), columns=FEATURES)
    frame["class_index"] = class_index.astype(np.int32)
    frame["class"] = np.array(["S", "B1", "B2"])[class_index]
    frame["process"] = frame["class"]
    frame["weight"] = rng.uniform(0.5, 1.5, n)
    frame["training_weight"] = frame["weight"]
    return frame


def run(folder, checkpoint, output):
    command = [sys.executable, "-c", TRAIN, str(folder), str(checkpoint), str(output)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def wait_for_saved_epochs(process, checkpoint, epochs, deadline):
    """Wait until the checkpoint holds at least ``epochs`` epochs (each epoch is saved:
    ``checkpoint_seconds=0``)."""
    state = checkpoint / "state.json"
    while not state.exists() or json.loads(state.read_text())["epochs_done"] < epochs:
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)


@pytest.mark.slow
def test_a_training_killed_by_sigkill_then_sigterm_resumes_to_the_same_model(tmp_path):
    """Killed without warning (SIGKILL: a lost node) after its second epoch, rerun, then
    stopped with SIGTERM (a batch system's warning), rerun to the end: the model, its
    predictions and its history equal those of an uninterrupted training."""
    write_parquet(events(1000, 1), tmp_path / "train.parquet")
    write_parquet(events(300, 2), tmp_path / "validation.parquet")
    (tmp_path / "settings.json").write_text(json.dumps(SETTINGS))

    reference = run(tmp_path, tmp_path / "reference_checkpoint", tmp_path / "reference.csv")
    output, _ = reference.communicate(timeout=600)
    assert reference.returncode == 0, output
    assert not (tmp_path / "reference_checkpoint").exists()  # removed once complete

    checkpoint, deadline = tmp_path / "checkpoint", time.monotonic() + 600
    killed = run(tmp_path, checkpoint, tmp_path / "resumed.csv")
    wait_for_saved_epochs(killed, checkpoint, 2, deadline)
    killed.send_signal(signal.SIGKILL)
    killed.communicate(timeout=600)
    assert killed.returncode == -signal.SIGKILL
    after_kill = json.loads((checkpoint / "state.json").read_text())["epochs_done"]
    assert 2 <= after_kill < SETTINGS["epochs"]

    interrupted = run(tmp_path, checkpoint, tmp_path / "resumed.csv")
    wait_for_saved_epochs(interrupted, checkpoint, after_kill + 2, deadline)
    interrupted.send_signal(signal.SIGTERM)
    output, _ = interrupted.communicate(timeout=600)
    assert interrupted.returncode == 3, output
    assert "stopped by SIGTERM after epoch" in output
    saved = json.loads((checkpoint / "state.json").read_text())["epochs_done"]
    assert after_kill + 2 <= saved < SETTINGS["epochs"]

    resumed = run(tmp_path, checkpoint, tmp_path / "resumed.csv")
    output, _ = resumed.communicate(timeout=600)
    assert resumed.returncode == 0, output
    facts = json.loads(output.strip().splitlines()[-1])
    assert facts["resumed_from_epoch"] == saved and facts["epochs_run"] == SETTINGS["epochs"]
    assert not checkpoint.exists()
    pd.testing.assert_frame_equal(
        pd.read_csv(tmp_path / "resumed.csv"), pd.read_csv(tmp_path / "reference.csv")
    )
    pd.testing.assert_frame_equal(
        pd.read_csv(tmp_path / "resumed.csv.history.csv"),
        pd.read_csv(tmp_path / "reference.csv.history.csv"),
    )


def run_processes(workdir) -> list[str]:
    """The processes of ``workdir``'s run still alive (any whose working folder it is:
    Snakemake, its jobs, their children), each as its command line."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            working = os.readlink(entry / "cwd")
        except OSError:
            continue
        if working == str(workdir) and command:
            found.append(command)
    return found


@pytest.fixture(scope="module")
def uninterrupted_run(tmp_path_factory):
    """A tiny binary run of 150 epochs (a checkpoint after each), run to its end."""
    config = yaml.safe_load((CONFIGS / "tiny_binary.yaml").read_text())
    config["training"] = {**config["training"], "epochs": 150, "checkpoint_seconds": 0}
    reference = make_workdir(tmp_path_factory.mktemp("uninterrupted"), config)
    snakemake(reference, "results/fom_summary.csv")
    return reference, config


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux's /proc")
@pytest.mark.parametrize(
    "stop", [signal.SIGKILL, signal.SIGINT, signal.SIGTERM], ids=["SIGKILL", "SIGINT", "SIGTERM"]
)
def test_a_run_whose_snakemake_is_stopped_resumes_with_the_same_command(
    tmp_path, uninterrupted_run, stop
):
    """SIGKILL to `snakemake` during training (a closed terminal, a killed session), or
    SIGINT to its process group (Ctrl-C): its training stops at its next epoch and
    leaves its checkpoint. SIGTERM to `snakemake` (a polite stop): Snakemake lets the
    running training finish and starts nothing new. Either way no process of the run
    lives on, and the same command finishes the run (stale locks removed, an unfinished
    job redone from its checkpoint) with the models and tables of an uninterrupted run,
    byte for byte."""
    reference, config = uninterrupted_run
    workdir = make_workdir(tmp_path / "stopped", config)
    command = [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"),
               "--directory", str(workdir), "--cores", "2", "results/fom_summary.csv"]  # fmt: skip
    main = subprocess.Popen(command, cwd=workdir, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    state = workdir / "results/models/decay_rate-0.001/seed-1/checkpoint/state.json"
    deadline = time.monotonic() + 600
    while not state.exists() or json.loads(state.read_text())["epochs_done"] < 3:
        assert main.poll() is None and time.monotonic() < deadline, "training never started"
        time.sleep(0.1)
    if stop == signal.SIGINT:  # Ctrl-C: the terminal signals the whole foreground group
        os.killpg(main.pid, signal.SIGINT)
    else:  # Snakemake alone is killed; its jobs are left to notice
        main.send_signal(stop)
    main.wait(timeout=120)
    deadline = time.monotonic() + 120
    while alive := run_processes(workdir):
        assert time.monotonic() < deadline, f"outlived their Snakemake: {alive}"
        time.sleep(0.5)
    if stop != signal.SIGTERM:
        assert state.exists()  # stopped at an epoch's end, saved

    again = snakemake(workdir, "results/fom_summary.csv")  # the same command
    if stop == signal.SIGKILL:
        assert "removed the locks of an earlier run" in again.stderr
    for name in ("results/fom_summary.csv",
                 "results/models/decay_rate-0.001/seed-1/predictions_test.csv",
                 "results/models/decay_rate-0.001/seed-1/history.csv"):  # fmt: skip
        assert (workdir / name).read_bytes() == (reference / name).read_bytes(), name
    assert not state.parent.exists()
