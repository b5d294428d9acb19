"""How fast the training step trains, against the whole epoch as one compiled function.

For each network (the default 17-64-64-5 relu at batch 512, and the tutorial's
12-50-50-1 relu and 17-100-100-5 tanh at batch 5000) and thread count, trains on the
same synthetic events, interleaved (A B C A B C …, several repeats; the median of the
per-epoch time after the first epoch, which compiles), each in a fresh process:

- ``train_model (tensorflow)`` and ``train_model (jax)``: the project's training, on
  either Keras backend, as a job runs it: each compiled epoch, its validation, and the
  callbacks between epochs (best weights, history; no checkpoint folder);
- ``whole-epoch function (tensorflow)``: the reference. Written here by hand, without
  Keras: the events held as tensors, the epoch's seeded permutation passed in, and one
  ``tf.function(jit_compile=True)`` looping over the batches (gather, dense layers,
  weighted cross-entropy, gradient, Adam with the inverse-time decay), the last
  partial batch included; no validation;
- ``whole-epoch function (jax)``: the same in JAX (``jax.jit`` over ``lax.scan``);
- ``Keras fit, XLA, one epoch per execution``: ``model.fit`` compiled with XLA and
  ``steps_per_execution`` = the batches of an epoch (what the project's reference was).

Prints events per second (median over the repeats), the ratio of each row to the faster
whole-epoch function of its thread count and network and to its own backend's (each
repeat's ratio to the references run beside it, then the median over the repeats: the
machine's speed drifts from one minute to the next, not within one repeat), the achieved
GFLOP/s, and its share of the machine's float32 matrix-multiplication rate (a 1024²
product, measured at the start: the roofline of these layers). Writes the table to CSV.

    python benchmarks/training_throughput.py [--events 200000] [--epochs 5] [--repeats 3]
        [--threads 1 2] [--networks …] [--methods …] (the references always run)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

NETWORKS = {
    "default 17-64-64-5 relu, batch 512": (17, [64, 64], 5, "relu", 512),
    "tutorial 12-50-50-1 relu, batch 5000": (12, [50, 50], 1, "relu", 5000),
    "tutorial 17-100-100-5 tanh, batch 5000": (17, [100, 100], 5, "tanh", 5000),
}
REFERENCES = ("whole-epoch function (tensorflow)", "whole-epoch function (jax)")
METHODS = (
    "train_model (tensorflow)",
    "train_model (jax)",
    *REFERENCES,
    "Keras fit, XLA, one epoch per execution",
)

#: The events of every method: the same seeded draw.
EVENTS = """
import numpy as np
def synthetic(events, n_in, n_out):
    rng = np.random.default_rng(0)
    classes = max(n_out, 2)
    labels = rng.integers(0, classes, events)
    x = (rng.normal(size=(events, n_in)) + labels[:, None] * 0.3).astype("float32")
    if n_out == 1:
        y = labels[:, None].astype("float32")
    else:
        y = np.eye(classes, dtype="float32")[labels]
    return labels, x, y, rng.uniform(0.5, 1.5, events).astype("float32")
def orders(events, epochs):
    return [np.random.default_rng([1, e]).permutation(events).astype("int32")
            for e in range(epochs)]
"""

#: The project's training, as the job runs it.
TRAIN_MODEL = """
import time, pandas as pd
from cmsnn.learning.training import configure_backend, train_model
configure_backend(threads)
from cmsnn.learning import callbacks
labels, x, y, w = synthetic(events, n_in, n_out)
frame = pd.DataFrame(x, columns=[f"x{i}" for i in range(n_in)])
frame["class_index"] = labels.astype("int32")
frame["training_weight"] = w
settings = {"layers": layers, "activation": activation, "initializer": "he_normal",
            "dropout": 0.0, "l2": 0.0, "learning_rate": 1e-3, "decay_rate": 1e-3,
            "epochs": epochs, "batch_size": batch, "shuffle": True,
            "early_stopping_patience": 0}
keep = callbacks.KeepBestWeights.on_epoch_end
def timed_end(self, epoch, logs=None):
    keep(self, epoch, logs)
    ends.append(time.perf_counter())
callbacks.KeepBestWeights.on_epoch_end = timed_end
mode = "binary" if n_out == 1 else "multiclass"
started = time.perf_counter()
train_model(frame, frame.iloc[: events // 4], list(frame.columns[:n_in]), settings, mode,
            max(n_out, 2), seed=1)
"""

#: The reference in TensorFlow, by hand.
TENSORFLOW = """
import time, tensorflow as tf
tf.config.threading.set_intra_op_parallelism_threads(threads)
tf.config.threading.set_inter_op_parallelism_threads(threads)
labels, x, y, w = synthetic(events, n_in, n_out)
sizes = [n_in, *layers, n_out]
rng = np.random.default_rng(1)
params = [tf.Variable(rng.normal(0, np.sqrt(2 / a), (a, b)).astype("float32"))
          for a, b in zip(sizes[:-1], sizes[1:])]
params += [tf.Variable(np.zeros(b, "float32")) for b in sizes[1:]]
moments = [tf.Variable(tf.zeros_like(p)) for p in params for _ in range(2)]
step_count = tf.Variable(0.0)
act = {"relu": tf.nn.relu, "tanh": tf.tanh}[activation]
n_full, n_rest = events // batch, events % batch
def loss_of(xb, yb, wb):
    h = xb
    for kernel, bias in zip(params[: len(layers)], params[len(layers) + 1 : -1]):
        h = act(h @ kernel + bias)
    logits = h @ params[len(layers)] + params[-1]
    if n_out == 1:
        per_event = tf.nn.sigmoid_cross_entropy_with_logits(yb, logits)[:, 0]
    else:
        per_event = tf.nn.softmax_cross_entropy_with_logits(yb, logits)
    return tf.reduce_sum(per_event * wb) / tf.cast(tf.shape(xb)[0], tf.float32)
def step(xb, yb, wb):
    with tf.GradientTape() as tape:
        loss = loss_of(xb, yb, wb)
    grads = tape.gradient(loss, params)
    step_count.assign_add(1.0)
    lr = 1e-3 / (1 + 1e-3 * (step_count - 1))
    for p, g, m, v in zip(params, grads, moments[0::2], moments[1::2]):
        m.assign(0.9 * m + 0.1 * g)
        v.assign(0.999 * v + 0.001 * g * g)
        m_hat = m / (1 - 0.9 ** step_count)
        v_hat = v / (1 - 0.999 ** step_count)
        p.assign_sub(lr * m_hat / (tf.sqrt(v_hat) + 1e-7))
    return loss
@tf.function(jit_compile=True)
def epoch(x, y, w, order):
    full = tf.reshape(order[: n_full * batch], [n_full, batch])
    total = tf.constant(0.0)
    for i in tf.range(n_full):
        idx = full[i]
        total += step(tf.gather(x, idx), tf.gather(y, idx), tf.gather(w, idx)) * batch
    if n_rest:
        rest = order[n_full * batch :]
        total += step(tf.gather(x, rest), tf.gather(y, rest), tf.gather(w, rest)) * n_rest
    return total / events
tensors = [tf.constant(a) for a in (x, y, w)]
for order in orders(events, epochs):
    float(epoch(*tensors, tf.constant(order)))
    ends.append(time.perf_counter())
"""

#: The reference in JAX, by hand.
JAX = """
import time, jax, jax.numpy as jnp
labels, x, y, w = synthetic(events, n_in, n_out)
sizes = [n_in, *layers, n_out]
rng = np.random.default_rng(1)
params = [(jnp.asarray(rng.normal(0, np.sqrt(2 / a), (a, b)).astype("float32")),
           jnp.zeros(b, jnp.float32)) for a, b in zip(sizes[:-1], sizes[1:])]
act = {"relu": jax.nn.relu, "tanh": jnp.tanh}[activation]
n_full, n_rest = events // batch, events % batch
def loss_of(params, xb, yb, wb):
    h = xb
    for kernel, bias in params[:-1]:
        h = act(h @ kernel + bias)
    logits = h @ params[-1][0] + params[-1][1]
    if n_out == 1:
        softplus = jnp.log1p(jnp.exp(-jnp.abs(logits)))
        per_event = (jnp.maximum(logits, 0) - logits * yb + softplus)[:, 0]
    else:
        per_event = -jnp.sum(yb * jax.nn.log_softmax(logits), axis=-1)
    return jnp.sum(per_event * wb) / xb.shape[0]
def step(state, xb, yb, wb):
    params, m, v, t = state
    loss, grads = jax.value_and_grad(loss_of)(params, xb, yb, wb)
    t = t + 1.0
    lr = 1e-3 / (1 + 1e-3 * (t - 1))
    m = jax.tree.map(lambda m, g: 0.9 * m + 0.1 * g, m, grads)
    v = jax.tree.map(lambda v, g: 0.999 * v + 0.001 * g * g, v, grads)
    params = jax.tree.map(lambda p, m, v: p - lr * (m / (1 - 0.9 ** t))
                          / (jnp.sqrt(v / (1 - 0.999 ** t)) + 1e-7), params, m, v)
    return (params, m, v, t), loss
@jax.jit
def epoch(state, x, y, w, order):
    full = order[: n_full * batch].reshape(n_full, batch)
    state, losses = jax.lax.scan(lambda s, idx: step(s, x[idx], y[idx], w[idx]), state, full)
    total = losses.sum() * batch
    if n_rest:
        rest = order[n_full * batch :]
        state, last = step(state, x[rest], y[rest], w[rest])
        total = total + last * n_rest
    return state, total / events
zeros = jax.tree.map(jnp.zeros_like, params)
state = (params, zeros, zeros, jnp.float32(0.0))
arrays = [jnp.asarray(a) for a in (x, y, w)]
for order in orders(events, epochs):
    state, loss = epoch(state, *arrays, jnp.asarray(order))
    float(loss)
    ends.append(time.perf_counter())
"""

#: Keras' own fastest: fit with XLA, a whole epoch per execution.
KERAS_FIT = """
import time, keras
from cmsnn.learning.model import build_model, limit_threads
limit_threads(threads)
labels, x, y, w = synthetic(events, n_in, n_out)
settings = {"layers": layers, "activation": activation, "initializer": "he_normal",
            "dropout": 0.0, "l2": 0.0, "learning_rate": 1e-3, "decay_rate": 1e-3}
keras.utils.set_random_seed(1)
mode = "binary" if n_out == 1 else "multiclass"
model = build_model(n_in, max(n_out, 2), mode, settings)
model.compile(optimizer=model.optimizer, loss=model.loss, weighted_metrics=["accuracy"],
              jit_compile=True, steps_per_execution=-(-events // batch))
assert model.jit_compile, "Keras declined XLA"
class Timer(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        ends.append(time.perf_counter())
n_val = events // 4
model.fit(x, y, sample_weight=w, batch_size=batch, epochs=epochs,
          validation_data=(x[:n_val], y[:n_val], w[:n_val]), callbacks=[Timer()], verbose=0)
"""

SCRIPTS = {
    "train_model (tensorflow)": TRAIN_MODEL,
    "train_model (jax)": TRAIN_MODEL,
    "whole-epoch function (tensorflow)": TENSORFLOW,
    "whole-epoch function (jax)": JAX,
    "Keras fit, XLA, one epoch per execution": KERAS_FIT,
}


def worker(method: str) -> str:
    """The code of one measurement: prints the median seconds per epoch after the first."""
    return (
        "import json, sys\n"
        "threads, n_in, layers, n_out, activation, batch, events, epochs ="
        " json.loads(sys.argv[1])\n"
        "ends = []\n" + EVENTS + SCRIPTS[method] + "\n"
        "print(json.dumps(float(np.median(np.diff(ends)))))\n"
    )


def environment(method: str, threads: int) -> dict[str, str]:
    """The backend and its threads, chosen before it starts (as the training job does)."""
    variables = {**os.environ, "KERAS_BACKEND": "jax" if "jax" in method else "tensorflow"}
    if "jax" in method and threads == 1:
        variables["XLA_FLAGS"] = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
    return variables


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
    variables = {**os.environ, "OMP_NUM_THREADS": str(threads),
                 "OPENBLAS_NUM_THREADS": str(threads)}  # fmt: skip
    return float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                env=variables, check=True).stdout)  # fmt: skip


def measure(method: str, arguments: list) -> float:
    # a file, not -c: TensorFlow's AutoGraph reads the loops' source to compile them
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "measure.py"
        script.write_text(worker(method))
        result = subprocess.run([sys.executable, script, json.dumps(arguments)],
                                capture_output=True, text=True,
                                env=environment(method, arguments[0]))  # fmt: skip
    if result.returncode != 0:
        raise RuntimeError(f"{method}:\n{result.stderr[-3000:]}")
    return float(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--networks", nargs="+", default=list(NETWORKS), choices=list(NETWORKS))
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    arguments = parser.parse_args()
    methods = sorted(set(arguments.methods) | set(REFERENCES), key=METHODS.index)
    rows = []
    for threads in arguments.threads:
        peak = matmul_gflops(threads)
        for name in arguments.networks:
            n_in, layers, n_out, activation, batch = NETWORKS[name]
            job = [threads, n_in, layers, n_out, activation, batch, arguments.events,
                   arguments.epochs]  # fmt: skip
            times = {method: [] for method in methods}
            for _ in range(arguments.repeats):
                for method in methods:  # interleaved
                    times[method].append(measure(method, job))
            # each repeat's ratio to the references of the same repeat, run seconds
            # apart: the machine's speed drifts between repeats, not within one
            faster = np.min([times[reference] for reference in REFERENCES], axis=0)
            for method, seconds in times.items():
                seconds = np.array(seconds)
                rate = arguments.events / float(np.median(seconds))
                own = np.array(times[REFERENCES[1] if "jax" in method else REFERENCES[0]])
                flops = rate * flops_per_event(n_in, layers, n_out) / 1e9
                rows.append({
                    "threads": threads, "network": name, "method": method,
                    "events_per_s": round(rate),
                    "ratio_to_whole_epoch": round(float(np.median(faster / seconds)), 2),
                    "ratio_to_own_backend": round(float(np.median(own / seconds)), 2),
                    "gflops": round(flops, 2), "roofline_share": round(flops / peak, 3),
                    "matmul_gflops": round(peak, 1),
                })  # fmt: skip
            print(pd.DataFrame(rows[-len(times) :]).to_string(index=False), flush=True)
    table = pd.DataFrame(rows)
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores"
    print(f"\n{machine}, {arguments.events} events, median of {arguments.repeats} repeats")
    print(table.to_string(index=False))
    table.to_csv(Path(__file__).with_suffix(".csv"), index=False)


if __name__ == "__main__":
    main()
