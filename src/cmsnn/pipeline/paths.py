"""Where every file of a run lies: the path patterns of the rules (``{wildcards}`` left
for Snakemake) and the lists of the files a run's targets need.

Standard library only: ``common.smk`` builds them at every start.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

#: The tutorial's pre-split file names, per split (``<stem>_sig.csv``, ``<stem>_bkg.csv``).
PRESPLIT_STEMS = {"train": "train", "validation": "val", "test": "test"}

#: The figures drawn for every model (PNG and PDF each), as their file stems.
MODEL_FIGURES = (
    "training_history",
    "roc",
    "output_distributions",
    "confusion_matrix",
    "fom_scan",
    "importance",
    "binned_output",
)


@dataclass(frozen=True)
class ResultPaths:
    """The path patterns of a run whose results go to ``results``: the rules and the
    helpers name these (``paths.model.format(point=..., seed=...)`` for one file), never
    spell a path themselves.

    >>> paths = ResultPaths("out/")
    >>> paths.model
    'out/models/{point}/seed-{seed}'
    >>> paths.model_dir("epochs-5", 2)
    'out/models/epochs-5/seed-2'
    """

    results: str

    def __post_init__(self):
        object.__setattr__(self, "results", self.results.rstrip("/") or "/")

    @property
    def toy_csv(self) -> str:
        return f"{self.results}/toy_data/{{sample}}.csv"

    @property
    def ingested(self) -> str:
        return f"{self.results}/ingested/{{sample}}.parquet"

    @property
    def process_table(self) -> str:
        return f"{self.results}/ingested/processes.csv"

    @property
    def split(self) -> str:
        return f"{self.results}/split/{{split}}.parquet"

    @property
    def split_shares(self) -> str:
        """Each process's measured share of each split: the yields' split fractions."""
        return f"{self.results}/split/shares.csv"

    @property
    def preselected(self) -> str:
        return f"{self.results}/preselected/{{split}}.parquet"

    @property
    def prepared(self) -> str:
        """The prepared (scaled, balanced) splits of one preprocessing."""
        return f"{self.results}/prepared/{{scaling}}-{{balancing}}"

    @property
    def model(self) -> str:
        """A grid point's folder of one trained network."""
        return f"{self.results}/models/{{point}}/seed-{{seed}}"

    @property
    def ensemble(self) -> str:
        """A grid point's folder of its seed ensemble."""
        return f"{self.results}/models/{{point}}/ensemble"

    @property
    def member(self) -> str:
        """A grid point's folder of a network or of its seed ensemble."""
        return f"{self.results}/models/{{point}}/{{member}}"

    @property
    def summary(self) -> str:
        return f"{self.results}/fom_summary.csv"

    @property
    def summary_headline(self) -> str:
        return f"{self.results}/fom_summary_headline.csv"

    @property
    def summary_by_point(self) -> str:
        return f"{self.results}/fom_summary_by_point.csv"

    @property
    def by_signal(self) -> str:
        return f"{self.results}/fom_by_signal.csv"

    @property
    def by_signal_by_point(self) -> str:
        return f"{self.results}/fom_by_signal_by_point.csv"

    @property
    def cutflow(self) -> str:
        return f"{self.results}/cutflow.csv"

    @property
    def plots(self) -> str:
        """The folder of the figures across models."""
        return f"{self.results}/plots"

    def model_dir(self, point: str, seed) -> str:
        return self.model.format(point=point, seed=seed)

    def presplit_ingested(self, split: str) -> list[str]:
        """The ingested signal and background files of one of the tutorial's splits."""
        stem = PRESPLIT_STEMS[split]
        return [self.ingested.format(sample=f"{stem}_{kind}") for kind in ("sig", "bkg")]

    def selected_split(self, split: str, preselection: bool) -> str:
        """The events of a split as the network sees them: after the optional
        preselection."""
        return (self.preselected if preselection else self.split).format(split=split)


@dataclass(frozen=True)
class Models:
    """The networks a run trains, one per grid point and seed, and each grid point's
    seed ensemble when there are seeds to average.

    >>> models = Models(ResultPaths("results"), ("a", "b"), (1, 2))
    >>> models.ids()
    ['a/seed-1', 'a/seed-2', 'b/seed-1', 'b/seed-2']
    >>> models.ensemble_outputs("fom.csv")
    ['results/models/a/ensemble/fom.csv', 'results/models/b/ensemble/fom.csv']
    """

    paths: ResultPaths
    points: Sequence[str]
    seeds: Sequence[int]

    @property
    def ensemble_points(self) -> list[str]:
        return list(self.points) if len(self.seeds) > 1 else []

    def plan(self) -> str:
        """What the config trains, for the console at start-up.

        >>> Models(ResultPaths("r"), ["a", "b"], [1, 2, 3]).plan()
        '6 models: 2 grid points × 3 seeds, and 2 seed ensembles'
        """
        models = len(self.points) * len(self.seeds)
        text = f"{models} model{'s' * (models != 1)}: {len(self.points)} grid point"
        text += f"{'s' * (len(self.points) != 1)} × {len(self.seeds)} seed"
        text += "s" * (len(self.seeds) != 1)
        ensembles = len(self.ensemble_points)
        return text + (
            f", and {ensembles} seed ensemble{'s' * (ensembles != 1)}" if ensembles else ""
        )

    def jobs(
        self,
        samples: int,
        generated: bool,
        preselection: bool,
        preparations: int,
        two_dimensional: bool,
    ) -> int:
        """How many jobs the default target makes from scratch, without building the
        DAG (a grid of 1000 points has 30,000 jobs; Snakemake's own count comes only
        after its DAG). ``tests/test_pipeline.py`` holds it to Snakemake's dry run.

        Args:
            samples: ingested samples (CSV files or ROOT processes).
            generated: the samples are generated first (the embedded toy data).
            preselection: the splits are preselected (one job per split).
            preparations: distinct scaling and balancing settings of the grid.
            two_dimensional: the 2-D views are drawn (two input variables).

        >>> Models(ResultPaths("r"), ["a", "b"], [1, 2, 3]).jobs(13, True, False, 1, False)
        94
        """
        models, ensembles = len(self.points) * len(self.seeds), len(self.ensemble_points)
        data = samples * (1 + generated) + 1 + 3 * preselection + preparations
        data += 3 + two_dimensional  # process table, cutflow, input figures (2-D samples)
        # per model: train (and export), predict, rank inputs, card, figures (2-D view)
        per_model = 5 + two_dimensional
        # per model and ensemble: evaluate, binned fit, its figure; per ensemble: the
        # average and its FOM-scan figure
        per_member = 3
        across = 5  # summary, FOM by signal, limits, seed spread, the default target
        return (
            data + models * per_model + (models + ensembles) * per_member + 2 * ensembles + across
        )

    def ids(self) -> list[str]:
        return [f"{point}/seed-{seed}" for point in self.points for seed in self.seeds]

    def points_of_models(self) -> list[str]:
        """Each model's grid point, in the order of :meth:`ids`."""
        return [point for point in self.points for _ in self.seeds]

    def outputs(self, filename: str) -> list[str]:
        """``filename`` of every model, in the order of :meth:`ids`."""
        return [f"{self.paths.model_dir(p, s)}/{filename}" for p in self.points for s in self.seeds]

    def member_outputs(self, point: str, filename: str) -> list[str]:
        """``filename`` of every seed of grid point ``point``, in seed order."""
        return [f"{self.paths.model_dir(point, seed)}/{filename}" for seed in self.seeds]

    def ensemble_outputs(self, filename: str) -> list[str]:
        """``filename`` of every grid point's seed ensemble, in grid order."""
        return [f"{self.paths.ensemble.format(point=p)}/{filename}" for p in self.ensemble_points]

    def final_outputs(self, two_dimensional: bool) -> list[str]:
        """Every result of the default run: the tables, each model's figures, ONNX model
        and card, the ensembles' FOM scans, and the figures across models (the 2-D views
        where the network has exactly two inputs)."""
        paths = self.paths
        figures = [*MODEL_FIGURES, *(["two_dimensional_classification"] * two_dimensional)]
        dataset = ["input_distributions", "correlations", "seed_spread"]
        dataset += ["two_dimensional_samples"] * two_dimensional + ["fom_by_signal"]
        dataset += ["limits", "binned_z"]
        both = ("png", "pdf")
        return [
            paths.summary,
            paths.summary_by_point,
            paths.by_signal,
            paths.by_signal_by_point,
            paths.process_table,
            paths.cutflow,
            *(f for ext in both for f in self.ensemble_outputs(f"plots/fom_scan.{ext}")),
            *(f for ext in both for f in self.ensemble_outputs(f"plots/fom_scan_seeds.{ext}")),
            *(f for ext in both for f in self.ensemble_outputs(f"plots/binned_output.{ext}")),
            *self.outputs("overtraining_ks.csv"),
            *self.outputs("model.onnx"),
            *self.outputs("model_card.json"),
            *(f"{paths.plots}/{name}.{ext}" for name in dataset for ext in both),
            *(f for name in figures for ext in both for f in self.outputs(f"plots/{name}.{ext}")),
        ]


@dataclass(frozen=True)
class MassPointComparison:
    """The networks a parametrised run with held-out points (or dedicated networks)
    trains besides its own, to compare them point by point: for the grid's first
    point and every seed, the parametrised network trained on every point (when points
    are held out of the run's own) and a dedicated network per compared point.

    >>> comparison = MassPointComparison(ResultPaths("r"), "p", (1,), ("A",), ("B",))
    >>> comparison.dedicated_points
    ['A', 'B']
    >>> comparison.dedicated_model
    'r/mass_points/{point}/dedicated/{process}/seed-{seed}'
    >>> comparison.model_files("dedicated", "model.onnx", "A")
    ['r/mass_points/p/dedicated/A/seed-1/model.onnx']
    >>> sorted(comparison.inputs())[:3]
    ['all_points_at_test', 'all_points_at_validation', 'all_points_facts']
    >>> comparison.jobs(), len(comparison.outputs())
    (11, 4)
    """

    paths: ResultPaths
    point: str
    seeds: Sequence[int]
    held_out: Sequence[str]
    dedicated: Sequence[str]

    @property
    def enabled(self) -> bool:
        return bool(self.held_out or self.dedicated)

    @property
    def dedicated_points(self) -> list[str]:
        """Every point with a dedicated network: the held-out ones, then the others."""
        return [*self.held_out, *self.dedicated]

    @property
    def networks(self) -> int:
        """The networks trained for the comparison: the network of every point (when
        points are held out) and the dedicated ones."""
        return bool(self.held_out) + len(self.dedicated_points)

    @property
    def all_points_prepared(self) -> str:
        return (
            f"{self.paths.results}/mass_points/{{point}}/all_points/prepared/"
            "{scaling}-{balancing}"
        )

    @property
    def all_points_model(self) -> str:
        return f"{self.paths.results}/mass_points/{{point}}/all_points/seed-{{seed}}"

    @property
    def dedicated_prepared(self) -> str:
        return (
            f"{self.paths.results}/mass_points/{{point}}/dedicated/{{process}}/prepared/"
            "{scaling}-{balancing}"
        )

    @property
    def dedicated_model(self) -> str:
        return f"{self.paths.results}/mass_points/{{point}}/dedicated/{{process}}/seed-{{seed}}"

    @property
    def table(self) -> str:
        return f"{self.paths.results}/mass_point_comparison.csv"

    @property
    def training_time(self) -> str:
        return f"{self.paths.results}/mass_point_training_time.csv"

    def model_files(self, network: str, filename: str, process: str = "") -> list[str]:
        """``filename`` of every seed of ``network``: ``"parametrised"`` (the run's own
        network), ``"all_points"`` or ``"dedicated"`` (the network of ``process``)."""
        pattern = {"parametrised": self.paths.model, "all_points": self.all_points_model,
                   "dedicated": self.dedicated_model}[network]  # fmt: skip
        return [
            f"{pattern.format(point=self.point, process=process, seed=seed)}/{filename}"
            for seed in self.seeds
        ]

    def inputs(self) -> dict[str, list[str]]:
        """The comparison's input files, each a list over the seeds: the validation and
        test predictions (``<network>_<split>``), a parametrised network's tables at the
        mass points (``<network>_at_<split>``) and the training's facts
        (``<network>_facts``); ``<network>`` is ``parametrised``, ``all_points`` (with
        held-out points) and ``dedicated_<i>`` for the i-th of :attr:`dedicated_points`."""
        networks = [("parametrised", "parametrised", "")]
        networks += [("all_points", "all_points", "")] if self.held_out else []
        networks += [(f"dedicated_{index}", "dedicated", process)
                     for index, process in enumerate(self.dedicated_points)]  # fmt: skip
        files = {}
        for key, network, process in networks:
            for split in ("validation", "test"):
                name = f"predictions_{split}.parquet"
                files[f"{key}_{split}"] = self.model_files(network, name, process)
                if network != "dedicated":
                    name = f"at_mass_points_{split}.parquet"
                    files[f"{key}_at_{split}"] = self.model_files(network, name, process)
            files[f"{key}_facts"] = self.model_files(network, "training.json", process)
        return files

    def plan(self) -> str:
        """What the comparison trains, for the console at start-up (empty without one).

        >>> MassPointComparison(ResultPaths("r"), "p", (1, 2), ("A",), ()).plan()
        ', and 2 networks × 2 seeds to compare at the mass points'
        """
        if not self.enabled:
            return ""
        seeds = f"{len(self.seeds)} seed{'s' * (len(self.seeds) != 1)}"
        return f", and {self.networks} networks × {seeds} to compare at the mass points"

    def jobs(self) -> int:
        """The comparison's jobs from scratch: each extra network's preparation, and its
        training and prediction per seed; the comparison and its figure."""
        return self.networks * (1 + 2 * len(self.seeds)) + 2 if self.enabled else 0

    def outputs(self) -> list[str]:
        """The comparison's tables and figure (none when there is nothing to compare)."""
        if not self.enabled:
            return []
        figure = f"{self.paths.plots}/mass_point_comparison"
        return [self.table, self.training_time, f"{figure}.png", f"{figure}.pdf"]


#: The file every run keeps in its results folder (the resolved config, written at the
#: run's start): a folder without it was never a results folder of this workflow.
KEPT_CONFIG = "config.yaml"


def check_results_own(results: str, other_files_allowed: bool, shown: int = 5) -> None:
    """A results folder that already holds files must be one a run of this workflow
    started (it keeps :data:`KEPT_CONFIG` there), unless the config allows otherwise: the
    workflow reads what lies there into its tables and report, and replaces it. Folders
    inside it that are other runs' results folders (a preset's ``results/<name>/``, run
    before the default run) are not counted.

    Raises:
        ValueError: naming the folder, some of its files and the two ways on.
    """
    folder = Path(results)
    if other_files_allowed or not folder.is_dir() or (folder / KEPT_CONFIG).exists():
        return
    # other runs' results folders inside it are theirs (the presets' results/<name>/)
    entries = (entry.name for entry in os.scandir(folder)
               if not (entry.is_dir() and (Path(entry.path) / KEPT_CONFIG).exists()))  # fmt: skip
    held = sorted(itertools.islice(entries, shown + 1))
    if held:
        raise ValueError(
            f"results: {folder} holds files no run of this workflow wrote (no {KEPT_CONFIG}; "
            f"{', '.join(held[:shown])}{', …' if len(held) > shown else ''}): a run reads "
            "and replaces what lies in its results folder. Give this configuration a new "
            "folder (results: …), or set results_may_hold_other_files: true"
        )


def check_no_links(results: str, shown: int = 5) -> None:
    """No symbolic link inside the results folder: the workflow reads what lies there
    into its tables and its report, and writes over it (a link would make it read or
    overwrite the file it points to, anywhere). The folder itself may be a link.

    Raises:
        ValueError: naming the links (the first ``shown``) and what to do.
    """
    links = []
    for folder, folders, files in os.walk(results):
        links += [os.path.join(folder, name) for name in (*folders, *files)
                  if os.path.islink(os.path.join(folder, name))]  # fmt: skip
        if len(links) >= shown:
            break
    if links:
        raise ValueError(
            f"results: {Path(results)} holds symbolic links ({', '.join(links[:shown])}); the "
            "workflow would read their targets into its tables and report, or write over "
            "them: remove them (only the workflow should write into its results folder)"
        )
