"""How fast one FOM scan is, against one ``numpy.argsort`` of the same scores (the
least any scan over sorted scores can cost) and against the tutorial's way, a boolean
selection and sum per cut.

Synthetic multi-class predictions (as in ``fom_bootstrap_cost.py``) of a given size
are scanned over 200 cuts without the bootstrap, interleaved (A B C A B C …, several
repeats, median; the tutorial's loop on the smallest size only, it takes minutes on
the largest). Prints a table and writes it to CSV beside this script.

    python benchmarks/fom_scan_speed.py [--events 100000 1000000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd
from fom_bootstrap_cost import FOM_OPTIONS, predictions

from cmsnn.statistics.scan import cut_values, scan_split
from cmsnn.statistics.significance import asimov_significance

CUTS = cut_values(0.5, 1.0, 200)
OPTIONS = FOM_OPTIONS | {"bootstrap_replicas": 0}


def project_scan(frame: pd.DataFrame) -> None:
    scan_split(frame, CUTS, 0.5, OPTIONS, "multiclass", "Signal")


def one_argsort(frame: pd.DataFrame) -> None:
    np.argsort(frame["score_Signal"].to_numpy(), kind="stable")


def tutorial_loop(frame: pd.DataFrame) -> None:
    """The tutorial's scan: per cut, select the events above it and sum their yields."""
    events = frame[frame["predicted_class"] == "Signal"]
    is_signal = (events["class"] == "Signal").to_numpy()
    scores, yields = events["score_Signal"].to_numpy(), events["weight"].to_numpy() * 35866 / 0.5
    for cut in CUTS:
        above = scores > cut
        asimov_significance(yields[above & is_signal].sum(), yields[above & ~is_signal].sum(), 0.2)


def timed(function, frame) -> float:
    start = time.perf_counter()
    function(frame)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeats", type=int, default=5)
    arguments = parser.parse_args()
    rows = []
    for n_events in arguments.events:
        frame = predictions(n_events, seed=0)
        methods = {"one numpy.argsort": one_argsort, "project's scan_split": project_scan}
        if n_events == min(arguments.events):
            methods["tutorial's loop over cuts"] = tutorial_loop
        times = {name: [] for name in methods}
        for _ in range(arguments.repeats):
            for name, method in methods.items():  # interleaved
                times[name].append(timed(method, frame))
        reference = float(np.median(times["one numpy.argsort"]))
        for name, measured in times.items():
            seconds = float(np.median(measured))
            rows.append({"events": n_events, "method": name, "seconds": round(seconds, 4),
                         "ratio_to_argsort": round(seconds / reference, 2)})  # fmt: skip
    table = pd.DataFrame(rows)
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"{len(CUTS)} cuts, median of {arguments.repeats} interleaved repeats")  # fmt: skip
    print(table.to_string(index=False))
    table.to_csv(Path(__file__).with_suffix(".csv"), index=False)


if __name__ == "__main__":
    main()
