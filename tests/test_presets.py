"""End to end, each in a run of its own: the shipped configs and presets (the default run
in binary mode, the 2-D toy, the tutorial's grid and pre-split layout) and the JAX
backend. Apart from test_workflow.py's shared runs, so that the two test workers share
the end-to-end time."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml
from sklearn.metrics import roc_auc_score

from snakemake_runs import ROOT, make_workdir, planned_jobs, snakemake

pytestmark = pytest.mark.slow

MODEL = "results/models/decay_rate-0.001/seed-1"


def read(workdir, path):
    return pq.read_table(workdir / path).to_pandas()


def write_presplit_files(folder, events_per_split) -> pd.DataFrame:
    """The tutorial's six headerless files from the embedded data's processes; returns
    every event written (with its split), for the checks."""
    from cmsnn.config.checks import read_process_table
    from cmsnn.ingestion.toydata import generate_process

    table = read_process_table(ROOT / "resources/toy_processes.yaml")
    folder.mkdir(parents=True)
    written = []
    for stem, offset in (("train", 0), ("val", 1), ("test", 2)):
        for kind in ("sig", "bkg"):
            frames = [
                generate_process(name, p, events_per_split(name, stem), seed=offset)
                for name, p in table.items()
                if name.startswith("T2DegStop") == (kind == "sig")
            ]
            frame = pd.concat(frames)
            frame.to_csv(folder / f"{stem}_{kind}.csv", header=False, index=False)
            written.append(frame.assign(split=stem, kind=kind))
    return pd.concat(written, ignore_index=True)


def test_presplit_thirds_give_every_split_the_true_yields(tmp_path):
    """The natural pre-split layout, a third of every process in each file: the yields of
    validation and test equal the sum of weights over all files × luminosity (the
    config's default fractions, 25/25/50 %, would make them 4/3 and 2/3 of it), the
    measured shares are in shares.csv and the cutflow, and nothing warns."""
    written = write_presplit_files(tmp_path / "17var" / "data", lambda name, stem: 60)
    config = yaml.safe_load((ROOT / "tests/configs/tiny_binary.yaml").read_text())
    config["data"] = {"source": "presplit", "presplit_directory": str(tmp_path / "17var/data")}
    del config["preselection"]
    # every event above the lowest cut (binary: all are counted as signal candidates)
    config["fom"] = {"cut_min": 0.0, "steps": 10, "min_background_events": 0}
    workdir = make_workdir(tmp_path / "run", config)
    snakemake(workdir, f"{MODEL}/fom_scan.csv", "results/cutflow.csv")
    for split, stem in (("train", "train"), ("validation", "val"), ("test", "test")):
        events = read(workdir, f"results/split/{split}.parquet")
        assert len(events) == (written["split"] == stem).sum()
    shares = pd.read_csv(workdir / "results/split/shares.csv")
    assert set(shares["split_by"]) == {"files"}
    for split in ("train", "validation", "test"):
        assert shares[f"{split}_share"].to_numpy() == pytest.approx(1 / 3)
    cutflow = pd.read_csv(workdir / "results/cutflow.csv").set_index("process")
    assert cutflow.loc["total", "test_share"] == pytest.approx(1 / 3)
    # The truth, from the files themselves: every event's weight x luminosity.
    luminosity = 35866
    truth = written.groupby("kind")["Weights"].sum() * luminosity
    scan = pd.read_csv(workdir / MODEL / "fom_scan.csv").iloc[0]  # cut 0: every event
    for split in ("validation", "test"):
        assert scan[f"signal_yield_{split}"] == pytest.approx(truth["sig"], rel=1e-9)
        assert scan[f"background_yield_{split}"] == pytest.approx(truth["bkg"], rel=1e-9)
    evaluation = json.loads((workdir / MODEL / "evaluation.json").read_text())
    assert not any("share" in warning for warning in evaluation["warnings"])


def test_presplit_input_refuses_split_fractions_at_start(tmp_path):
    write_presplit_files(tmp_path / "data", lambda name, stem: 5)
    config = {
        "data": {"source": "presplit", "presplit_directory": str(tmp_path / "data")},
        "split": {"fractions": {"train": 0.25, "validation": 0.25, "test": 0.5}},
    }
    result = snakemake(make_workdir(tmp_path / "run", config), "--dry-run", check=False)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "split.fractions" in output and "data.source: presplit" in output
    assert "remove split.fractions" in output


def test_binary_mode_on_the_default_run_gives_a_fom_with_no_option_set(tmp_path):
    """The default run (config.yaml: the whole embedded dataset, 10 effective background
    events required at the cut) switched to binary mode and nothing else but its size
    (one model): the tutorial's binary balancing and the automatic scan give
    a FOM for the headline signal and for every mass point alone."""
    config = yaml.safe_load((ROOT / "config.yaml").read_text())
    config |= {"classification": "binary", "grid": {"decay_rate": [0.001]}, "seeds": [1]}
    workdir = make_workdir(tmp_path, config)
    snakemake(workdir, "results/fom_summary.csv")
    summary = pd.read_csv(workdir / "results/fom_summary.csv", keep_default_na=False)
    assert summary["balancing"][0] == "equal" and summary["warnings"][0] == ""
    assert float(summary["fom_validation_at_best_cut"][0]) > 1
    assert float(summary["fom_test_at_best_cut"][0]) > 1
    best_cut = json.loads((workdir / MODEL / "evaluation.json").read_text())["best_cut"]
    scan = pd.read_csv(workdir / MODEL / "fom_scan.csv").set_index("cut")
    assert scan.loc[best_cut, "background_effective_events_validation"] >= 10
    by_signal = pd.read_csv(workdir / "results/fom_by_signal.csv")
    assert sorted(by_signal["signal_process"]) == [
        f"T2DegStop_{m1}_{m2}.root" for m1, m2 in ((500, 470), (550, 520), (600, 570))
    ]
    assert (by_signal["fom_test_at_best_cut"] > 0).all()


@pytest.mark.parametrize(
    ("overlay", "trainings", "a_model"),
    [
        (None, 6, "results/models/decay_rate-0.0001/seed-3"),
        ("config.tutorial.yaml", 20, "results/tutorial/models/decay_rate-0.0001/seed-9"),
    ],
)
def test_shipped_configs_plan_their_grid(tmp_path, overlay, trainings, a_model):
    workdir = make_workdir(tmp_path, yaml.safe_load((ROOT / "config.yaml").read_text()))
    arguments = ("--configfile", str(ROOT / overlay)) if overlay else ()
    jobs = planned_jobs(workdir, *arguments)
    assert jobs["train_model"] == trainings and jobs["generate_toy_sample"] == 13
    output = snakemake(workdir, "--dry-run", *arguments).stdout
    assert f"{a_model}/model.keras" in output


def test_the_two_dimensional_toy_comes_within_0_005_of_the_optimal_auc(tmp_path):
    from scipy.stats import multivariate_normal

    workdir = make_workdir(tmp_path, yaml.safe_load((ROOT / "config.yaml").read_text()))
    results = "results/toy2d"  # the preset's own folder
    model = f"{results}/models/decay_rate-0.0001/seed-1"
    figures = (f"{model}/plots/two_dimensional_classification.png",
               f"{results}/plots/two_dimensional_samples.pdf")  # fmt: skip
    # targets first: --configfile takes every word after it as a config file
    snakemake(workdir, f"{results}/fom_summary.csv", *figures, "--configfile",
              str(ROOT / "config.toy2d.yaml"))  # fmt: skip
    test = read(workdir, f"{results}/split/test.parquet")
    x = test[["x1", "x2"]].to_numpy()
    # The optimal classifier: the likelihood ratio of the two generating Gaussians.
    log_ratio = multivariate_normal([1.5, 2.0], [[0.5, 0.2], [0.2, 0.5]]).logpdf(x)
    log_ratio -= multivariate_normal([0.0, 0.0], 9.0 * np.eye(2)).logpdf(x)
    optimal = roc_auc_score(test["class"] == "Signal", log_ratio, sample_weight=test["weight"])
    summary = pd.read_csv(workdir / results / "fom_summary.csv")
    assert len(test) == 40_000 and optimal == pytest.approx(0.965, abs=0.005)
    assert abs(summary["auc_test"][0] - optimal) < 0.005
    for figure, size in zip(figures, (10_000, 1_000), strict=True):
        assert (workdir / figure).stat().st_size > size
    assert yaml.safe_load((workdir / results / "config.yaml").read_text())["results"] == results


def test_the_jax_backend_trains_and_predicts_too(tmp_path):
    config = yaml.safe_load((ROOT / "tests/configs/tiny_binary.yaml").read_text())
    config["training"]["backend"] = "jax"
    workdir = make_workdir(tmp_path, config)
    # the export traces a JAX-trained model with TensorFlow, and checks it
    snakemake(workdir, "results/fom_summary.csv", f"{MODEL}/model.onnx")
    facts = json.loads((workdir / MODEL / "training.json").read_text())
    assert set(facts["versions"]) == {"keras", "jax"}
    check = json.loads((workdir / MODEL / "onnx_check.json").read_text())
    assert check["check"]["largest_absolute_difference"] <= 1e-5
    assert facts["device"].startswith("CPU (jax)") and facts["batch_job"] == {}
    summary = pd.read_csv(workdir / "results/fom_summary.csv")
    assert summary["backend"][0] == "jax" and summary["auc_test"][0] > 0.8


def test_an_overlay_on_own_data_inherits_nothing_of_the_demo_and_its_report_command_works(
    tmp_path,
):
    """A physicist's first run: CSV files of their own (other process names, no units),
    a short overlay on config.yaml in a folder of its own. Nothing describing the
    embedded data reaches the run (its headline signal, its units), and the report
    command the run prints, run as printed, builds this run's report."""
    import shlex
    import subprocess
    import sys

    from cmsnn.config.checks import read_process_table
    from cmsnn.ingestion.toydata import generate_process

    workdir = make_workdir(tmp_path, yaml.safe_load((ROOT / "config.yaml").read_text()))
    table = read_process_table(ROOT / "tests/configs/tiny_processes.yaml")
    (workdir / "mydata").mkdir()
    for index, (name, parameters) in enumerate(table.items()):
        kind = "stop" if name.startswith("T2DegStop") else "bkg"
        events = generate_process(name, parameters, 300, seed=index)
        events["Process"] = f"{kind}{index}.root"
        events.to_csv(workdir / f"mydata/{kind}{index}.csv", header=False, index=False)
    # the README's overlay as written, with a smaller network and one model
    readme = (ROOT / "README.md").read_text()
    overlay = yaml.safe_load(readme.split("```yaml\n# my.yaml\n")[1].split("```")[0])
    assert overlay["results"] == "results/mydata" and len(overlay) == 4
    overlay |= {
        "training": {"layers": [16], "epochs": 3, "batch_size": 128},
        "grid": {"decay_rate": [0.001]},
        "seeds": [1],
    }
    (workdir / "my.yaml").write_text(yaml.safe_dump(overlay))
    run = snakemake(workdir, "--configfile", "my.yaml", cwd=workdir)  # the whole run
    kept = yaml.safe_load((workdir / "results/mydata/config.yaml").read_text())
    assert kept["fom"]["signal_processes"] == [] and kept["plots"]["units"] == {}
    summary = pd.read_csv(workdir / "results/mydata/fom_summary.csv", keep_default_na=False)
    assert "T2DegStop" not in summary.to_csv()
    printed = [line for line in run.stderr.splitlines() if line.startswith("Report:")]
    assert len(printed) == 1, run.stderr[-3000:]
    command = shlex.split(printed[0].removeprefix("Report:"))
    # (the Snakefile is named: this run's is not the working folder's; where the shell's
    # PWD differs from the working folder, the folder and every path are given in full)
    assert command[0] == "snakemake" and "--snakefile" in command
    assert command[command.index("--report") + 1] == "results/mydata/report.html"
    assert command[command.index("--report-stylesheet") + 1].endswith("report/report.css")
    assert command[command.index("--configfile") + 1].endswith("my.yaml")
    subprocess.run(
        [sys.executable, "-m", *command], cwd=workdir, check=True, capture_output=True, timeout=600
    )
    report = (workdir / "results/mydata/report.html").read_text()
    assert "results/mydata/fom_summary.csv" in report and "T2DegStop" not in report
