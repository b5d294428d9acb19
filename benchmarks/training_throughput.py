"""How fast the training step trains, against Keras' fastest way on the same data.

For each network (the default 17-64-64-5 relu at batch 512, and the tutorial's
12-50-50-1 relu and 17-100-100-5 tanh at batch 5000) and thread count, trains on the
same synthetic events with the same settings, interleaved (A B C A B C …, several
repeats, median of the per-epoch time after the first epoch, which compiles):

- ``train_model``: the project's training step (one ``fit`` call for every epoch over
  its own shuffled batches, the best-epoch keeper, checkpoints, deterministic ops);
- ``train_model, ops not deterministic``: the same without TensorFlow's op determinism,
  to show what the bit-for-bit reproducibility costs;
- ``train_model, jit_compile: true``: the same compiled with XLA (``training.jit_compile``);
- ``fit, 16 steps/execution``: one plain ``model.fit`` over all epochs;
- ``fit, XLA epoch``: one ``model.fit`` compiled with XLA (``jit_compile``) running a
  whole epoch per execution (``steps_per_execution`` = batches per epoch): the whole
  epoch as one compiled loop over in-memory batches, the reference (without TensorFlow's
  op determinism, under which Keras silently declines to compile with XLA).

Prints events per second, the ratio to the reference, and the achieved GFLOP/s beside
the machine's measured float32 matrix-multiplication rate; writes the table to CSV.

    python benchmarks/training_throughput.py [--events 100000] [--epochs 4] [--repeats 3]
        [--threads 1 2] [--methods train_model …] (the reference is always measured)
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

NETWORKS = {
    "default 17-64-64-5 relu, batch 512": (17, [64, 64], 5, "relu", 512),
    "tutorial 12-50-50-1 relu, batch 5000": (12, [50, 50], 1, "relu", 5000),
    "tutorial 17-100-100-5 tanh, batch 5000": (17, [100, 100], 5, "tanh", 5000),
}
METHODS = (
    "train_model",
    "train_model, ops not deterministic",
    "train_model, jit_compile: true",
    "fit, 16 steps/execution",
    "fit, XLA epoch",
)

#: One measurement in a fresh process (TensorFlow's threads are fixed at start-up):
#: prints the median seconds per epoch after the first.
WORKER = """
import sys, time, json
import numpy as np, pandas as pd
from cmsnn.learning.model import limit_threads
from cmsnn.learning.training import configure_backend, train_model
threads, method, n_in, layers, n_out, activation, batch, events, epochs = json.loads(sys.argv[1])
if method in ("train_model, ops not deterministic", "fit, XLA epoch"):
    limit_threads(threads)
else:
    configure_backend(threads, jit_compile=method == "train_model, jit_compile: true")
import keras
from cmsnn.learning import callbacks, training
from cmsnn.learning.model import build_model
rng = np.random.default_rng(0)
classes = max(n_out, 2)
mode = "binary" if n_out == 1 else "multiclass"
labels = rng.integers(0, classes, events)
x = (rng.normal(size=(events, n_in)) + labels[:, None] * 0.3).astype("float32")
frame = pd.DataFrame(x, columns=[f"x{i}" for i in range(n_in)])
frame["class_index"] = labels.astype("int32")
frame["training_weight"] = rng.uniform(0.5, 1.5, events)
settings = {"layers": layers, "activation": activation, "initializer": "he_normal",
            "dropout": 0.0, "l2": 0.0, "learning_rate": 1e-3, "decay_rate": 1e-3,
            "epochs": epochs, "batch_size": batch, "shuffle": True,
            "early_stopping_patience": 0, "jit_compile": method.endswith("jit_compile: true")}
features = list(frame.columns[:n_in])
validation = frame.iloc[: events // 4]
ends = []  # wall time at each epoch's end: an epoch's time is the gap, fit() calls included
if method.startswith("train_model"):
    keep = callbacks.KeepBestWeights.on_epoch_end
    def timed_end(self, epoch, logs=None):
        keep(self, epoch, logs)
        ends.append(time.perf_counter())
    callbacks.KeepBestWeights.on_epoch_end = timed_end
    model, _, _ = train_model(frame, validation, features, settings, mode, classes, seed=1)
    assert model.jit_compile == settings["jit_compile"], "Keras declined XLA"
else:
    class Timer(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            ends.append(time.perf_counter())
    x_train, y_train, w_train = training._arrays(frame, features, mode, classes)
    x_val, y_val, w_val = training._arrays(validation, features, mode, classes)
    keras.utils.set_random_seed(1)
    model = build_model(n_in, classes, mode, settings)
    steps = int(np.ceil(events / batch))
    xla = method == "fit, XLA epoch"
    model.compile(optimizer=model.optimizer,
                  loss="binary_crossentropy" if mode == "binary" else "categorical_crossentropy",
                  weighted_metrics=["accuracy"], jit_compile=xla,
                  steps_per_execution=steps if xla else 16)
    assert model.jit_compile == xla, "Keras declined XLA"
    model.fit(x_train, y_train, sample_weight=w_train, batch_size=batch, epochs=epochs,
              validation_data=(x_val, y_val, w_val), callbacks=[Timer()], verbose=0)
print(json.dumps(float(np.median(np.diff(ends)))))
"""


def flops_per_event(n_in: int, layers: list[int], n_out: int) -> float:
    """Multiply-adds of one forward pass, times 3 for forward and backward, times 2."""
    sizes = [n_in, *layers, max(n_out, 1)]
    return 2 * 3 * sum(a * b for a, b in zip(sizes[:-1], sizes[1:], strict=False))


def matmul_gflops(threads: int) -> float:
    code = (
        "import time, numpy as np\n"
        "a = np.random.rand(1024, 1024).astype('float32'); a @ a\n"
        "start = time.perf_counter()\n"
        "for _ in range(20): a @ a\n"
        "print(20 * 2 * 1024**3 / (time.perf_counter() - start) / 1e9)"
    )
    environment = {
        **os.environ,
        "OMP_NUM_THREADS": str(threads),
        "OPENBLAS_NUM_THREADS": str(threads),
    }
    return float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                env=environment, check=True).stdout)  # fmt: skip


def measure(arguments: list) -> float:
    import json

    result = subprocess.run([sys.executable, "-c", WORKER, json.dumps(arguments)],
                            capture_output=True, text=True)  # fmt: skip
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-3000:])
    return float(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--networks", nargs="+", default=list(NETWORKS), choices=list(NETWORKS))
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    arguments = parser.parse_args()
    rows = []
    for threads in arguments.threads:
        peak = matmul_gflops(threads)
        for name in arguments.networks:
            n_in, layers, n_out, activation, batch = NETWORKS[name]
            methods = sorted(set(arguments.methods) | {"fit, XLA epoch"}, key=METHODS.index)
            times = {method: [] for method in methods}
            for _ in range(arguments.repeats):
                for method in methods:  # interleaved
                    job = [threads, method, n_in, layers, n_out, activation, batch,
                           arguments.events, arguments.epochs]  # fmt: skip
                    times[method].append(measure(job))
            reference = float(np.median(times["fit, XLA epoch"]))
            for method, measured in times.items():
                seconds = float(np.median(measured))
                rate = arguments.events / seconds
                flops = rate * flops_per_event(n_in, layers, n_out)
                rows.append({
                    "threads": threads, "network": name, "method": method,
                    "events_per_s": round(rate),
                    "ratio_to_xla_epoch": round(reference / seconds, 2),
                    "gflops": round(flops / 1e9, 2), "matmul_gflops": round(peak, 1),
                })  # fmt: skip
    table = pd.DataFrame(rows)
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores"
    print(f"{machine}, {arguments.events} events, median of {arguments.repeats} repeats")
    print(table.to_string(index=False))
    table.to_csv(Path(__file__).with_suffix(".csv"), index=False)


if __name__ == "__main__":
    main()
