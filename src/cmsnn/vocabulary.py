"""The words every stage shares: the splits, the reserved event columns, the method
names of the config, and how a signal process names its mass point.

Standard library only, and nothing but names: any stage may import it, and an edit here
reruns exactly the stages whose results the changed name can alter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: The three splits, in the order the tables list them.
SPLITS = ("train", "validation", "test")
#: ``preprocessing.scaling`` values.
SCALING_METHODS = ("minmax", "standard", "quantile")
#: ``preprocessing.balancing`` values.
BALANCING_SCHEMES = ("equal", "sqrt", "none")
#: ``classification`` values: one sigmoid output, or a softmax over the classes.
CLASSIFICATIONS = ("binary", "multiclass")

#: A sigmoid or softmax output lies in [0, 1]: explicit scan ranges must lie there too.
OUTPUT_RANGE = (0.0, 1.0)
#: ``fom.cut_min``/``cut_max`` value asking for the range from the validation signal.
AUTO = "auto"

#: Where each event came from: the input file as configured, and the event's 0-based
#: entry in it (the data row of a CSV, header not counted; the entry of a ROOT tree).
#: They travel with the event to the prediction files, so that those join back to the
#: inputs (``pd.read_csv(source_file).iloc[source_entry]``), as TMVA's friend trees do.
EVENT_ID_COLUMNS = ("source_file", "source_entry")
#: The extra inputs of a parametrised network (``training.parametrised``): the masses of
#: the signal point it is asked about, in GeV (``<model>_<m1>_<m2>``'s m1 and m2).
MASS_INPUTS = ("signal_mass_1", "signal_mass_2")
#: The column of a parametrised network's table of the non-signal events at every signal
#: point (``at_mass_points_<split>.parquet``): the point (its process) they were asked at.
MASS_POINT = "mass_point"
#: Column names the pipeline adds; input features may not use them.
RESERVED_COLUMNS = (
    "weight", "process", "class", "class_index", *EVENT_ID_COLUMNS, *MASS_INPUTS, MASS_POINT,
)  # fmt: skip

#: Columns of the process table.
PROCESS_TABLE_COLUMNS = ("process", "class", "events", "sum_of_weights")

#: Columns carried from the events into the prediction files: what the FOM needs, and
#: where the event came from (:data:`EVENT_ID_COLUMNS`) where the events say so (the
#: pipeline's always do).
EVENT_COLUMNS = ("weight", "process", "class", *EVENT_ID_COLUMNS)

#: The prediction files' score columns: ``score_<class>``.
SCORE_PREFIX = "score_"

#: ``kind`` of a summary row: one trained network, or the mean of a grid point's seeds.
SEED, ENSEMBLE = "seed", "ensemble"
#: ``<model>_<m1>_<m2>``, the usual naming of simplified-model signal samples.
_SIGNAL_POINT = re.compile(r"(?P<model>.+?)_(?P<mass_1>\d+(?:\.\d+)?)_(?P<mass_2>\d+(?:\.\d+)?)")


def parse_signal_point(process: str) -> dict:
    """``{signal_model, mass_1, mass_2}`` from a name such as ``T2DegStop_550_520.root``;
    empty values where the name does not follow ``<model>_<m1>_<m2>``."""
    match = _SIGNAL_POINT.fullmatch(process.removesuffix(".root"))
    if not match:
        return {"signal_model": None, "mass_1": None, "mass_2": None}
    return {
        "signal_model": match["model"],
        "mass_1": float(match["mass_1"]),
        "mass_2": float(match["mass_2"]),
    }


#: Separates the warnings of one model in a table cell (and on the console).
WARNING_SEPARATOR = " | "


@dataclass(frozen=True, repr=False)
class NetworkTask:
    """What the network is asked: one sigmoid output (``binary``: the first class is
    the signal, all others background) or a softmax over the classes (``multiclass``),
    from which input variables. One value for every stage that needs to know, instead
    of the same three arguments side by side; its ``repr`` is stable, so as a rule's
    param it reruns the jobs when it changes.

    >>> task = NetworkTask("binary", ["Signal", "Background"], ["Met", "HT"])
    >>> task.signal_class, task.n_outputs, task.score_columns
    ('Signal', 1, ['score_Signal'])
    >>> NetworkTask("multiclass", ["S", "W", "tt"], ["Met"]).score_columns
    ['score_S', 'score_W', 'score_tt']

    A parametrised network (``training.parametrised``) takes the signal point's masses
    after the variables:

    >>> NetworkTask("binary", ["S", "B"], ["Met"], mass_inputs=MASS_INPUTS).inputs
    ('Met', 'signal_mass_1', 'signal_mass_2')
    """

    classification: str
    class_names: tuple[str, ...]
    features: tuple[str, ...]
    mass_inputs: tuple[str, ...] = ()

    def __post_init__(self):
        if self.classification not in CLASSIFICATIONS:
            raise ValueError(
                f"classification: {self.classification!r} is not one of {list(CLASSIFICATIONS)}"
            )
        object.__setattr__(self, "class_names", tuple(self.class_names))
        object.__setattr__(self, "features", tuple(self.features))
        object.__setattr__(self, "mass_inputs", tuple(self.mass_inputs))

    def __repr__(self) -> str:
        # a network without masses reads as before they existed
        masses = f", mass_inputs={self.mass_inputs!r}" if self.mass_inputs else ""
        return (
            f"NetworkTask(classification={self.classification!r}, "
            f"class_names={self.class_names!r}, features={self.features!r}{masses})"
        )

    @property
    def parametrised(self) -> bool:
        """Whether the network takes the signal point's masses."""
        return bool(self.mass_inputs)

    @property
    def inputs(self) -> tuple[str, ...]:
        """The network's inputs: the variables, then the masses of a parametrised one."""
        return self.features + self.mass_inputs

    @property
    def signal_class(self) -> str:
        """The signal class: the first."""
        return self.class_names[0]

    @property
    def n_outputs(self) -> int:
        """The network's outputs: one for binary, one per class for multiclass."""
        return 1 if self.classification == "binary" else len(self.class_names)

    @property
    def score_columns(self) -> list[str]:
        """The score columns of the prediction files: the signal's, or every class's."""
        return [f"{SCORE_PREFIX}{name}" for name in self.class_names[: self.n_outputs]]


def at_mass_point_files(named: dict, splits=SPLITS) -> dict:
    """``{split: file}`` of a parametrised network's tables at the mass points among a
    rule's named inputs or outputs (``{name: file}``, names ``at_mass_points_<split>``);
    empty for another network, whose rules have none."""
    return {split: named[f"at_mass_points_{split}"] for split in splits
            if f"at_mass_points_{split}" in named}  # fmt: skip
