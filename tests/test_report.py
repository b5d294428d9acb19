"""The HTML report's layout: one entry per model, a model's results in reading order,
the first page's style, and the headline table's flags.

Snakemake's report (snakemake/report/html_reporter) lists a subcategory's results by
their labels' text when every result there has labels, else by their paths; a label
beyond the first that takes two values on half the results each becomes a toggle, and
results with equal labels collapse into one entry. The fast tests read the ``report()``
declarations as Snakemake parses them (category, subcategory and labels worked out by
Snakemake's own report code for given wildcards); the slow one builds a real report."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import defaultdict
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
import snakemake.report as snakemake_report
import yaml

from cmsnn.summary.verdict import headline_table
from snakemake_runs import CONFIGS, ROOT, make_workdir, snakemake

#: What the report shows of each rule's reported files, for given wildcards: printed as
#: JSON by a fresh Python process (parsing a Snakefile changes the working directory
#: and Snakemake's logging).
DECLARED = r"""
import asyncio, json, sys
from pathlib import Path
from types import SimpleNamespace

from snakemake.api import SnakemakeApi
from snakemake.io import get_flag_value, is_flagged
from snakemake.iocontainers import Wildcards
from snakemake.report import expand_labels, expand_report_argument
from snakemake.settings.types import ConfigSettings, OutputSettings, ResourceSettings

snakefile, workdir, wildcard_sets = Path(sys.argv[1]), Path(sys.argv[2]), json.loads(sys.argv[3])


async def shown(rule, report, values):
    wildcards = Wildcards(fromdict=values)
    job = SimpleNamespace(rule=rule, params={}, input=[], output=[])
    return {
        "category": await expand_report_argument(report.category, wildcards, job),
        "subcategory": await expand_report_argument(report.subcategory, wildcards, job),
        "labels": await expand_labels(report.labels, wildcards, job),
    }


rows, seen = [], set()
with SnakemakeApi(OutputSettings(quiet={"all"})) as api:
    workflow = api.workflow(
        resource_settings=ResourceSettings(),
        config_settings=ConfigSettings(),
        snakefile=snakefile,
        workdir=workdir,
    )._workflow
    for rule in workflow.rules:
        for name, item in [*rule.output._allitems(), *rule.input._allitems()]:
            if not is_flagged(item, "report"):
                continue
            for values in wildcard_sets:
                if not set(rule.wildcard_names) <= set(values):
                    continue
                values = {key: values[key] for key in sorted(rule.wildcard_names)}
                key = (rule.name, name, json.dumps(values))
                if key in seen:
                    continue
                seen.add(key)
                report = get_flag_value(item, "report")
                rows.append(
                    {"rule": rule.name, "output": name, "wildcards": values,
                     **asyncio.run(shown(rule, report, values))}
                )
print(json.dumps(rows))
"""

#: Two grid points (P, Q), each with seed 1 and its seed ensemble.
WILDCARD_SETS = [
    *({"point": point, "seed": "1", "member": "seed-1"} for point in ("P", "Q")),
    *({"point": point, "member": "ensemble"} for point in ("P", "Q")),
]

#: A seed's page and a seed ensemble's, in the order a physicist reads them: training,
#: ROC, outputs with the KS test, FOM scan, then the rest; the tables last.
SEED_PAGE = [
    ("plot_model", "history_png"),
    ("plot_model", "roc_png"),
    ("plot_model", "outputs_png"),
    ("plot_model", "fom_png"),
    ("plot_model", "confusion_png"),
    ("plot_model", "importance_png"),
    ("plot_two_dimensional_classification", "classification_png"),
    ("plot_binned_output", "binned_output_png"),
    ("evaluate_model", "ks_table"),
]
ENSEMBLE_PAGE = [
    ("plot_ensemble_fom_scan", "fom_png"),
    ("plot_binned_output", "binned_output_png"),
    ("evaluate_model", "ks_table"),
]
MODELS = "2. Models"


@pytest.fixture(scope="module")
def declared(tmp_path_factory):
    """Every reported file's category, subcategory and labels for the tiny multi-class
    configuration, per set of wildcards."""
    workdir = make_workdir(tmp_path_factory.mktemp("report"), "tiny_multiclass.yaml")
    result = subprocess.run(
        [sys.executable, "-c", DECLARED, str(ROOT / "Snakefile"), str(workdir),
         json.dumps(WILDCARD_SETS)],
        check=True, capture_output=True, text=True, cwd=workdir,
    )  # fmt: skip
    return json.loads(result.stdout.splitlines()[-1])


def pages(rows) -> dict:
    """``{(category, subcategory): [row, ...]}`` as the report groups them."""
    grouped = defaultdict(list)
    for row in rows:
        grouped[row["category"], row["subcategory"]].append(row)
    return grouped


def listed(rows) -> list:
    """A subcategory's entries as the report lists them: by their labels' text."""
    return sorted(rows, key=lambda row: list(row["labels"].values()))


def test_every_model_is_one_entry_of_the_models_section(declared):
    models = sorted({sub for cat, sub in pages(declared) if cat == MODELS})
    assert models == ["P, seed ensemble", "P, seed-1", "Q, seed ensemble", "Q, seed-1"]
    for row in declared:
        if row["category"] != MODELS:
            continue
        # a seed's results (wildcard seed, or member seed-N) and its ensemble's (member
        # ensemble, or the point alone) each on the model's one page
        wildcards = row["wildcards"]
        member = f"seed-{wildcards['seed']}" if "seed" in wildcards else wildcards.get("member")
        model = member if member and member != "ensemble" else "seed ensemble"
        assert row["subcategory"] == f"{wildcards['point']}, {model}", row


def test_a_models_page_lists_its_figures_in_reading_order_and_tables_last(declared):
    grouped = pages(declared)
    for page, expected in (("P, seed-1", SEED_PAGE), ("Q, seed ensemble", ENSEMBLE_PAGE)):
        rows = listed(grouped[MODELS, page])
        assert [(row["rule"], row["output"]) for row in rows] == expected
        labels = [row["labels"]["result"] for row in rows]
        # one digit before the dot: the report's text order is the numbers' order
        assert all(re.fullmatch(r"\d\. \S.*", label) for label in labels), labels
    seed_labels = [row["labels"]["result"] for row in listed(grouped[MODELS, "P, seed-1"])]
    assert seed_labels[0].startswith("1. training history")
    assert seed_labels[-1] == "9. KS test table"


def test_every_reported_file_has_one_label_of_its_own_in_its_subcategory(declared):
    for (category, subcategory), rows in pages(declared).items():
        where = f"{category} / {subcategory}"
        # without labels on every entry the report falls back to the paths' order; a
        # second label could become a toggle; equal labels would hide all entries but one
        assert all(row["labels"] and list(row["labels"]) == ["result"] for row in rows), where
        labels = [row["labels"]["result"] for row in rows]
        assert len(set(labels)) == len(labels), (where, labels)
    across = pages(declared)
    seeds = [row["labels"]["result"] for row in listed(across["3. Across models", "Seeds"])]
    assert seeds == ["1. seed spread of every grid point", "2. seeds' FOM scans, P",
                     "2. seeds' FOM scans, Q"]  # fmt: skip
    tables = listed(across["3. Across models", "Tables"])
    assert [row["output"] for row in tables] == [
        "summary", "by_point", "by_signal", "by_signal_by_point", "table"
    ]  # fmt: skip


def test_the_headline_table_says_yes_or_no_for_the_ks_flag():
    summary = pd.DataFrame(
        {
            "model": ["p/seed-1", "p/seed-2", "p/ensemble", "q/seed-1"],
            "auc_test": [0.97, 0.96, 0.97, 0.95],
            # as computed, and as read back from the CSV without NA parsing
            "overtraining_flag": [False, True, "False", ""],
            "best_model": [True, False, "False", "True"],
            "warnings": ["", "", "", ""],
        }
    )
    table = headline_table(summary)
    assert table["KS flag"].tolist() == ["no", "yes", "no", ""]
    assert table["best"].tolist() == ["yes", "", "", "yes"]


def style_classes(css: str) -> set[str]:
    """The class names the rules' selectors of a stylesheet name."""
    selectors = re.findall(r"([^{}]+)\{", re.sub(r"/\*.*?\*/", "", css, flags=re.S))
    return {name for selector in selectors for name in re.findall(r"\.([\w-]+)", selector)}


def test_the_reports_styles_name_classes_of_snakemakes_template():
    """The first page's style (report/workflow.rst) and the stylesheet for
    --report-stylesheet (report/report.css) address the elements of Snakemake's report
    template by their classes: each class they name must be one the template uses (an
    upgrade of Snakemake that renames them would leave the styles without effect)."""
    template = Path(snakemake_report.__file__).parent / "html_reporter/template/components"
    used = set()
    for script in template.glob("*.js"):
        for classes in re.findall(r'className:\s*[`"]([^`"]*)[`"]', script.read_text()):
            used.update(classes.split())
    first_page = (ROOT / "report/workflow.rst").read_text()
    style = re.search(r"<style>(.*?)</style>", first_page, flags=re.S)
    assert style, "report/workflow.rst: no <style> for the first page"
    for css in (style.group(1), (ROOT / "report/report.css").read_text()):
        named = style_classes(css)
        assert named and named <= used, named - used
    # the narrow column of the text, and the box the figures are centred in
    first_page_classes = style_classes(style.group(1))
    assert {"max-w-lg", "prose", "justify-center", "overflow-auto"} <= first_page_classes


def embedded(html: str, variable: str, script: str | None = None):
    """The JSON of the report page's ``<script id="<script>"> var <variable> = <JSON>;``
    (the script's id is the variable's name unless given)."""
    pattern = rf'<script id="{script or variable}">\s*var {variable} = (.*?);\n'
    return json.loads(re.search(pattern, html, flags=re.S).group(1))


class MarkupOf(HTMLParser):
    """Every element of a page (tag and attributes) and every script's text."""

    def __init__(self, html: str):
        super().__init__()
        self.elements, self.scripts, self._in_script = [], [], False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts.append(data)


#: Config texts the start-up lets through, as hostile as they may be: quotes,
#: ampersands, a ``<`` that starts no tag, words of event handlers and URL schemes.
ALLOWED_BUT_HOSTILE = "Private & 'work' \"x\" a < b onerror=alert(1) javascript:alert(1) ${x}"


@pytest.mark.slow
def test_the_built_report_has_one_entry_per_model_in_reading_order(tmp_path):
    config = yaml.safe_load((CONFIGS / "tiny_multiclass.yaml").read_text())
    config["plots"] = config.get("plots", {}) | {"status": ALLOWED_BUT_HOSTILE}
    workdir = make_workdir(tmp_path, config)
    snakemake(workdir)
    snakemake(workdir, "--report", "results/report.html")
    html = (workdir / "results/report.html").read_text()
    categories, results = embedded(html, "categories"), embedded(html, "results")
    points = ("decay_rate-0.001", "decay_rate-0.0001")
    assert sorted(categories[MODELS]) == sorted(
        f"{point}, {member}" for point in points for member in ("seed-1", "seed-2", "seed ensemble")
    )
    for subcategory, paths in categories[MODELS].items():
        labels = sorted(results[path]["labels"]["result"] for path in paths)
        files = [next(Path(p).name for p in paths if results[p]["labels"]["result"] == label)
                 for label in labels]  # fmt: skip
        if subcategory.endswith("seed ensemble"):
            assert files == ["fom_scan.png", "binned_output.png", "overtraining_ks.csv"]
        else:
            assert files == [
                "training_history.png", "roc.png", "output_distributions.png", "fom_scan.png",
                "confusion_matrix.png", "importance.png", "binned_output.png",
                "overtraining_ks.csv",
            ]  # fmt: skip
    # the first page: its style, the headline table with a word in every KS flag cell
    first_page = embedded(html, "workflow_desc", "workflow-desc")
    assert "<style>" in first_page and ".prose.max-w-lg" in first_page
    headline = pd.read_csv(workdir / "results/fom_summary_headline.csv", keep_default_na=False)
    assert set(headline["KS flag"]) <= {"yes", "no"}
    # the first page's figures are images (no results file's markup in the page), and no
    # config text made an element, an event handler or a script of its own
    first = MarkupOf(first_page)
    images = [attrs["src"].replace("\n", "") for tag, attrs in first.elements if tag == "img"]
    assert len(images) == 2 and all(src.startswith("data:image/svg+xml") for src in images)
    assert not any(tag == "svg" for tag, _ in first.elements)
    page = MarkupOf(html)
    assert not [(tag, name) for tag, attrs in page.elements for name in attrs
                if name.startswith("on")]  # fmt: skip
    urls = [str(value).lower() for _, attrs in page.elements for value in attrs.values()]
    assert not [url for url in urls if url.startswith("javascript:")]
    assert ALLOWED_BUT_HOSTILE not in html  # only ever escaped
    # ... though it reached the page: in the jobs' params, as data inside a script
    assert "a < b onerror=alert(1) javascript:alert(1)" in "".join(page.scripts)
