"""Hostile inputs stopped at start-up with a message that names them (issue 30's rows):
file names that would reach a shell, config texts that would reach the report's HTML,
sizes without bounds, a batch-system expression, results folders that are not a run's
own, names with control characters; each with a real Snakemake dry run (or the real
reader), asserting the exit status, the message and that nothing was written."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest
import yaml

from cmsnn.ingestion.csv_files import ingest_csv_files
from cmsnn.pipeline.hooks import keep_resolved_config
from cmsnn.pipeline.inputs import sample_name
from snakemake_runs import CONFIGS, make_workdir, snakemake


def tiny(**changes) -> dict:
    config = yaml.safe_load((CONFIGS / "tiny_binary.yaml").read_text())
    return config | changes


def refused(workdir, *arguments, memory_limit_mb: int | None = None) -> str:
    """Snakemake's dry run fails; its output, for the message."""
    result = snakemake(workdir, "--dry-run", *arguments, check=False,
                       memory_limit_mb=memory_limit_mb)  # fmt: skip
    assert result.returncode != 0, result.stdout[-2000:]
    assert not (workdir / "results").exists()
    return result.stdout + result.stderr


def ingest_met(source, parquet, weight_column="Weights", process_column="Process") -> None:
    """The real CSV ingestion of a file with a header and the one variable ``Met``."""
    ingest_csv_files(
        csv=source, parquet=parquet, features=["Met"], weight_column=weight_column,
        process_column=process_column, header=True, classes=[{"name": "All", "patterns": ["*"]}],
    )  # fmt: skip


def csv_config(folder, names) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_text("Met,Weights,Process\n250,0.1,a.root\n")
    return tiny(
        data={"source": "csv", "csv_files": [str(folder / "*")], "features": ["Met"],
              "header": True},
    )  # fmt: skip


def test_a_file_name_a_shell_would_run_is_refused_with_a_new_name(tmp_path):
    config = csv_config(tmp_path / "data", ["WW$(touch X).csv"])
    output = refused(make_workdir(tmp_path / "run", config))
    assert "WW$(touch X).csv" in output and "rename it, e.g. to 'WW__touch_X_'" in output
    assert not (tmp_path / "run" / "X").exists()


def test_compressed_files_are_named_without_both_suffixes(tmp_path):
    assert sample_name("d/sig.csv.gz") == "sig" and sample_name("d/bkg.csv.zst") == "bkg"
    config = csv_config(tmp_path / "data", ["sig.csv.gz"])
    workdir = make_workdir(tmp_path / "run", config)
    result = snakemake(workdir, "--dry-run", "results/ingested/sig.parquet", check=False)
    assert result.returncode == 0, result.stderr[-2000:]


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("plots", {"status": "</script><svg/onload=alert(1)>"}, "plots.status: holds '</'"),
        ("plots", {"experiment": "<img src=x onerror=alert(1)>"}, "plots.experiment: holds '<i'"),
        ("preselection", "Met<HT", "preselection: holds '<H'"),
        ("plots", {"units": {"Met": "<!--x"}}, "plots.units.Met: holds '<!'"),
        ("results", "out\x1b[2J", "results: holds the control character U+001B"),
    ],
)
def test_config_texts_that_would_be_markup_in_the_report_are_refused(tmp_path, key, value,
                                                                     message):  # fmt: skip
    output = refused(make_workdir(tmp_path / "run", tiny(**{key: value})))
    assert message in output


def test_a_variable_listed_twice_is_refused(tmp_path):
    data = {"source": "toy", "toy": {"events_scale": 0.05,
            "processes": "tests/configs/tiny_processes.yaml"}}  # fmt: skip
    config = tiny(data=data | {"features": ["Met", "HT", "Met"]})
    output = refused(make_workdir(tmp_path / "run", config))
    assert "data.features: the names ['Met'] are used twice" in output


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"fom": {"steps": 1_000_000_000}}, "steps"),
        ({"fom": {"bootstrap_replicas": 10_000_000}}, "bootstrap_replicas"),
        ({"plots": {"bins": 1_000_000_000}}, "bins"),
        ({"training": {"layers": [100000, 100000]}}, "layers"),
        ({"seeds": list(range(10_000))}, "seeds"),
        ({"data": {"toy": {"events_scale": 1e6}}}, "events_scale"),
        ({"resources": {"training": {"gpu_model": 'A100" || TARGET.Owner == "x'}}}, "gpu_model"),
    ],
)
def test_sizes_and_batch_expressions_beyond_their_bounds_are_refused(tmp_path, change, key):
    """Under a memory limit (1.5 GiB of address space): refused by the schema, naming the
    key, before anything is allocated for them."""
    output = refused(make_workdir(tmp_path / "run", tiny(**change)), memory_limit_mb=1536)
    assert "Error validating config file" in output and key in output


def test_a_device_among_the_csv_files_is_refused_and_a_file_without_lines_is_named(tmp_path):
    """``/dev/zero`` among the CSV files: refused at start-up. A file of 200 MB without a
    line break, read under a memory limit: named, with its first line, in a short
    message (memory does not grow with a line's length)."""
    config = tiny(data={"source": "csv", "csv_files": ["/dev/zero"], "features": ["Met"]})
    output = refused(make_workdir(tmp_path / "run", config))
    assert "data.csv_files: '/dev/zero' matches '/dev/zero', which is not a file" in output
    source = tmp_path / "zeros.csv"
    with source.open("wb") as file:
        file.truncate(200 << 20)  # (sparse: reads as 200 MB of zero bytes)
    code = (
        "from cmsnn.ingestion.csv_files import ingest_csv_files\n"
        f"ingest_csv_files(csv={str(source)!r}, parquet={str(tmp_path / 'z.parquet')!r}, "
        "features=['Met'], weight_column='Weights', process_column='Process', "
        "header=False, classes=[{'name': 'All', 'patterns': ['*']}])"
    )
    result = subprocess.run(["prlimit", f"--as={1536 << 20}", sys.executable, "-c", code],
                            capture_output=True, text=True, timeout=600)  # fmt: skip
    message = result.stderr.strip().splitlines()[-1]
    assert result.returncode != 0 and message.startswith(f"ValueError: {source} line 1: ")
    assert "without a line break; is it a CSV file?" in message and len(message) < 400
    assert not (tmp_path / "z.parquet").exists()


@pytest.mark.parametrize(("results", "what"), [("..", "a folder above"), ("/", "root"),
                                                (".", "the working folder")])  # fmt: skip
def test_results_may_not_be_the_working_folder_or_above(tmp_path, results, what):
    workdir = make_workdir(tmp_path / "run", tiny(results=results))
    result = snakemake(workdir, "--dry-run", check=False)
    assert result.returncode != 0 and what in result.stdout + result.stderr


def test_a_process_name_with_control_characters_or_markup_names_the_line(tmp_path):
    source = tmp_path / "x.csv"
    for name, problem in (("ok\x1b[2Jfake", "U+001B"), ("<svg onload=x>", "'<'")):
        pd.DataFrame({"Met": [1.0, 2.0], "w": [1.0, 1.0], "p": ["a", name]}).to_csv(
            source, index=False
        )
        with pytest.raises(ValueError) as error:
            ingest_met(source, tmp_path / "x.parquet", weight_column="w", process_column="p")
        assert f"{source} line 3, column 'p'" in str(error.value) and problem in str(error.value)
        assert not (tmp_path / "x.parquet").exists()


def test_a_kept_config_that_is_not_a_mapping_is_replaced_with_a_warning(tmp_path, capsys):
    (tmp_path / "config.yaml").write_text("- just\n- a list\n")
    keep_resolved_config({"results": str(tmp_path)}, str(tmp_path))
    assert "is not a config this workflow kept" in capsys.readouterr().err
    assert yaml.safe_load((tmp_path / "config.yaml").read_text()) == {"results": str(tmp_path)}


@pytest.mark.parametrize("column", ["Process", "Met"])
def test_a_field_of_megabytes_is_named_by_line_in_a_short_message(tmp_path, column):
    """A 5 MB value (a missing line break or quote) ends in a message of a few hundred
    characters naming the file, the line and the column, whichever column holds it."""
    source = tmp_path / "big.csv"
    rows = ["250,0.1,a.root"] * 1000
    huge = "x" * 5_000_000
    rows.append(f"{huge},0.1,a.root" if column == "Met" else f"250,0.1,{huge}")
    source.write_text("Met,Weights,Process\n" + "\n".join(rows + rows[:10]) + "\n")
    with pytest.raises(ValueError) as error:
        ingest_met(source, tmp_path / "big.parquet")
    message = str(error.value)
    assert message.startswith(f"{source} line 1002, column {column!r}") and len(message) < 600
    assert "5,000,000 characters" in message
    assert not (tmp_path / "big.parquet").exists()


def test_a_link_planted_in_the_results_folder_is_refused(tmp_path):
    """Someone who can write into results/ plants a link to a secret where the report
    reads a table, or where Snakemake writes a benchmark: the run refuses to start."""
    workdir = make_workdir(tmp_path / "run", tiny())
    secret = tmp_path / "secret.txt"
    secret.write_text("a secret")
    (workdir / "results" / "benchmarks").mkdir(parents=True)
    (workdir / "results" / "benchmarks" / "summarise_models.tsv").symlink_to(secret)
    result = snakemake(workdir, "--dry-run", check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0 and "holds symbolic links" in output
    assert "summarise_models.tsv" in output and secret.read_text() == "a secret"


@pytest.mark.parametrize(
    "unit", ["$\\input{/etc/passwd}$", "$" + "\\sqrt{" * 30 + "x" + "}" * 30 + "$"]
)
def test_a_unit_that_cannot_be_drawn_as_tex_is_refused_at_start_up(tmp_path, unit):
    config = tiny(plots={"units": {"Met": unit}})
    output = refused(make_workdir(tmp_path / "run", config))
    assert "plots.units.Met:" in output and "cannot be drawn as TeX" in output


def alias_bomb(kind: str) -> str:
    """Nine levels of nine aliases (the "billion laughs"): 387 million values expanded,
    of lists or of mappings, under ``plots.status``."""
    if kind == "lists":
        lines = ["a0: &a0 [" + ", ".join(["lol"] * 9) + "]"]
        lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    else:
        lines = ["a0: &a0 {" + ", ".join(f"k{j}: lol" for j in range(9)) + "}"]
        lines += [
            f"a{i}: &a{i} {{" + ", ".join(f"k{j}: *a{i - 1}" for j in range(9)) + "}"
            for i in range(1, 10)
        ]
    return "\n".join(lines) + "\nplots: {status: *a9}\n"


@pytest.mark.parametrize("kind", ["lists", "mappings"])
def test_a_config_of_nested_aliases_is_refused_at_once(tmp_path, kind):
    workdir = make_workdir(tmp_path / "run", {})
    (workdir / "config.yaml").write_text(alias_bomb(kind))
    output = refused(workdir)
    assert "config.yaml: its aliases expand to more than 100,000 values" in output


def test_a_configfile_of_nested_aliases_is_refused_at_once(tmp_path):
    """Lists of aliases pass Snakemake's own merge of ``--configfile``; the workflow's
    first check refuses them, naming the file."""
    workdir = make_workdir(tmp_path / "run", tiny())
    (tmp_path / "shared.yaml").write_text(alias_bomb("lists"))
    output = refused(workdir, "--configfile", str(tmp_path / "shared.yaml"))
    assert f"{tmp_path / 'shared.yaml'}: its aliases expand to more than 100,000" in output


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (alias_bomb("mappings"), "its aliases expand to more than 100,000 values (at a5)"),
        ("grid: &g {decay_rate: [0.001], more: *g}\n", "a value holds itself (at grid.more)"),
        ("plots: " + "[" * 5000 + "]" * 5000 + "\n", "it nests deeper than 20 levels"),
    ],
)
def test_a_config_snakemake_would_choke_on_is_named_by_the_checker(tmp_path, text, message):
    """Mappings of aliases keep Snakemake's own ``--configfile`` merge busy before the
    workflow can look: the README says to check a config you did not write with
    ``python -m cmsnn.config FILE`` first."""
    (tmp_path / "shared.yaml").write_text(text)
    (tmp_path / "fine.yaml").write_text(yaml.safe_dump(tiny()))
    check = [sys.executable, "-m", "cmsnn.config"]
    result = subprocess.run([*check, tmp_path / "shared.yaml"], capture_output=True,
                            text=True, timeout=120)  # fmt: skip
    assert result.returncode == 1 and message in result.stderr
    result = subprocess.run([*check, tmp_path / "fine.yaml"], capture_output=True, text=True,
                            timeout=120)  # fmt: skip
    assert result.returncode == 0 and "safe to give to Snakemake" in result.stdout


def test_a_results_folder_no_run_wrote_is_refused_unless_allowed(tmp_path):
    """``results`` pointed at a folder of someone's own files: refused, naming the folder
    and its files, with both ways on; the config key lets it through; a folder a run of
    the workflow started (its kept config.yaml) is the run's own."""
    workdir = make_workdir(tmp_path / "run", tiny(results="thesis"))
    (workdir / "thesis").mkdir()
    (workdir / "thesis" / "chapter1.tex").write_text("my thesis")
    result = snakemake(workdir, "--dry-run", check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0 and "results: thesis holds files no run" in output
    assert "chapter1.tex" in output and "results_may_hold_other_files: true" in output
    assert sorted(p.name for p in (workdir / "thesis").iterdir()) == ["chapter1.tex"]
    allowed = snakemake(workdir, "--dry-run", "--config", "results_may_hold_other_files=true")
    assert allowed.returncode == 0
    (workdir / "thesis" / "config.yaml").write_text(yaml.safe_dump(tiny(results="thesis")))
    assert snakemake(workdir, "--dry-run").returncode == 0


def test_a_presets_results_folder_inside_the_default_one_is_not_someone_elses(tmp_path):
    """A preset run first (``results/massplane/``, with its kept config) leaves the default
    run's ``results/`` holding only that folder: the default run may start there; a
    folder without a kept config is still refused."""
    from cmsnn.pipeline.paths import check_results_own

    (tmp_path / "results" / "massplane").mkdir(parents=True)
    with pytest.raises(ValueError, match=r"no run of this workflow wrote .*massplane"):
        check_results_own(str(tmp_path / "results"), False)
    (tmp_path / "results" / "massplane" / "config.yaml").write_text("results: x\n")
    check_results_own(str(tmp_path / "results"), False)
    (tmp_path / "results" / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match=r"notes\.txt"):
        check_results_own(str(tmp_path / "results"), False)
