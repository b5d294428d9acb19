"""Peak memory of a ROOT ingestion: chunked (the pipeline) against whole-file reading.

Writes a NanoAOD-like ROOT file of about ``--size-gb`` GB (flat MET/weight branches and
jagged jet branches; random numbers, so it barely compresses), then ingests it in a fresh
process per method and measures that process's peak resident memory:

- ``chunked <step>``: :func:`cmsnn.ingestion.root_files.ingest_root_files` as the
  workflow runs it, one Parquet row group per step;
- ``whole file``: the same expressions on the whole tree read at once
  (``tree.arrays``), what a script without chunking does.

Prints a table and writes it to ``benchmarks/root_ingestion_memory.csv``::

    python benchmarks/root_ingestion_memory.py --size-gb 2
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

FEATURES = ["met", "lead_jet_pt", "n_jets_30", "ht"]
PROCESS = {
    "name": "ttbar",
    "tree": "Events",
    "selection": "nJet >= 1",
    "weight": "genWeight",
    "variables": {
        "met": "MET_pt",
        "lead_jet_pt": "Jet_pt[:, 0]",
        "n_jets_30": "ak.num(Jet_pt[Jet_pt > 30])",
        "ht": "ak.sum(Jet_pt, axis=1)",
    },
}
#: Bytes per event of the file written (3 float64 flat branches, ~6 jets x 3 float32).
BYTES_PER_EVENT = 94  # measured: 3 float64 flat branches, ~6 jets x 3 float32, counts
EVENTS_PER_BASKET = 100_000

_MEASURE = """
import json, resource, sys, time
method, path, output, step = sys.argv[1:5]
step = int(step) if step.isdigit() else step
process = json.loads(sys.argv[5]); features = json.loads(sys.argv[6])
start = time.perf_counter()
if method == "chunked":
    from cmsnn.ingestion.root_files import ingest_root_files
    classes = [{"name": "Background", "patterns": ["*"]}]
    ingest_root_files(parquet=output, process={**process, "files": [path]}, features=features,
                      classes=classes, step_size=step)
else:
    import numpy as np, uproot
    from cmsnn.ingestion.expressions import (
        evaluate_object_expression, expression_names, parse_expression
    )
    texts = {**process["variables"], "selection": process["selection"], "weight": process["weight"]}
    trees = {k: parse_expression(v, None, objects=True) for k, v in texts.items()}
    names = sorted({n for t in trees.values() for n in expression_names(t)})
    columns = uproot.open(path)[process["tree"]].arrays(names)
    columns = {n: columns[n] for n in names}
    mask = evaluate_object_expression(trees["selection"], columns, 0.0)
    columns = {n: a[mask] for n, a in columns.items()}
    values = {k: evaluate_object_expression(trees[k], columns, 0.0) for k in [*features, "weight"]}
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "peak_mib": peak}))
"""


def write_file(path: Path, size_gb: float, seed: int = 1) -> int:
    import awkward as ak
    import uproot

    events = int(size_gb * 1e9 / BYTES_PER_EVENT)
    rng = np.random.default_rng(seed)
    with uproot.recreate(path) as file:
        written = 0
        while written < events:
            n = min(EVENTS_PER_BASKET, events - written)
            counts = rng.poisson(6.0, n)
            jets = ak.zip(
                {
                    key: ak.unflatten(rng.exponential(40.0, counts.sum()).astype("f4"), counts)
                    for key in ("pt", "eta", "phi")
                }
            )
            chunk = {
                "MET_pt": rng.exponential(50.0, n),
                "genWeight": rng.normal(1.0, 0.1, n),
                "PV_z": rng.normal(0.0, 5.0, n),
                "Jet": jets,
            }
            if written == 0:
                file.mktree("Events", {k: getattr(v, "type", None) or v.dtype
                                       for k, v in chunk.items()})  # fmt: skip
            file["Events"].extend(chunk)
            written += n
    return events


def measure(method: str, path: Path, output: Path, step) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", _MEASURE, method, str(path), str(output), str(step),
         json.dumps(PROCESS), json.dumps(FEATURES)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-gb", type=float, default=2.0)
    parser.add_argument("--steps", nargs="+", default=["100 MB", "500 MB"])
    parser.add_argument("--skip-whole-file", action="store_true")
    parser.add_argument("--output", default=str(Path(__file__).with_suffix(".csv")))
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cmsnn-root-benchmark-") as folder:
        path = Path(folder) / "events.root"
        start = time.perf_counter()
        events = write_file(path, arguments.size_gb)
        print(f"wrote {path.stat().st_size / 1e9:.2f} GB, {events} events, "
              f"in {time.perf_counter() - start:.0f} s")  # fmt: skip
        rows = []
        methods = [("chunked", step) for step in arguments.steps]
        methods += [] if arguments.skip_whole_file else [("whole file", "-")]
        for method, step in methods:
            numbers = measure(method.split()[0], path, Path(folder) / "out.parquet", step)
            rows.append({
                "method": method, "step_size": step,
                "file_gb": round(path.stat().st_size / 1e9, 2), "events": events,
                "peak_memory_mib": round(numbers["peak_mib"]),
                "seconds": round(numbers["seconds"], 1),
                "events_per_second": round(events / numbers["seconds"]),
            })  # fmt: skip
    table = pd.DataFrame(rows)
    print(f"\n{platform.node()} ({platform.processor() or platform.machine()}), "
          f"Python {platform.python_version()}")  # fmt: skip
    print(table.to_string(index=False))
    table.to_csv(arguments.output, index=False)


if __name__ == "__main__":
    main()
