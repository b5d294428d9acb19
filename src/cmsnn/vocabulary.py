"""The words every stage shares: the splits, the reserved event columns, the method
names of the config, and how a signal process names its mass point.

Standard library only, and nothing but names: any stage may import it, and an edit here
reruns exactly the stages whose results the changed name can alter.
"""

from __future__ import annotations

import re

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

#: Column names the pipeline adds; input features may not use them.
#: Where each event came from: the input file as configured, and the event's 0-based
#: entry in it (the data row of a CSV, header not counted; the entry of a ROOT tree).
#: They travel with the event to the prediction files, so that those join back to the
#: inputs (``pd.read_csv(source_file).iloc[source_entry]``), as TMVA's friend trees do.
EVENT_ID_COLUMNS = ("source_file", "source_entry")
RESERVED_COLUMNS = ("weight", "process", "class", "class_index", *EVENT_ID_COLUMNS)

#: Columns of the process table.
PROCESS_TABLE_COLUMNS = ("process", "class", "events", "sum_of_weights")

#: Columns carried from the events into the prediction files: what the FOM needs, and
#: where the event came from (:data:`EVENT_ID_COLUMNS`) where the events say so (the
#: pipeline's always do).
EVENT_COLUMNS = ("weight", "process", "class", *EVENT_ID_COLUMNS)

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
