"""One whole epoch per compiled call: the inner loop of the training.

The training events stay on the device as arrays. Each epoch's order (the seeded
permutation of :func:`cmsnn.learning.callbacks.epoch_order`) is passed in, and one
compiled function (``tf.function(jit_compile=True)`` on TensorFlow, ``jax.jit`` over
``lax.scan`` on JAX) runs every batch of the epoch in that order, the last partial batch
included: gather the batch, run the network, compute the weighted loss (plus the L2
terms), its gradient and the optimizer's update. No Python, no input pipeline and no
host round trip run between two batches, so a small network trains at the speed the
compiler gives it (``benchmarks/training_throughput.py``), on a CPU and on a GPU alike.

The Keras model keeps holding the weights and the optimizer's state (so checkpoints,
``model.keras`` and the export are as with ``fit``); its loss and accuracy are Keras'
own (the loss of ``model.compile``, reduced over each batch as ``fit`` does; the
epoch's loss is the mean of the batches' losses weighted by their sizes, as ``fit``
reports it). The validation split is evaluated by a compiled function too, in chunks.
"""

from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np

#: The losses a model may be compiled with (``cmsnn.learning.model.build_model``'s).
LOSSES = {
    "binary_crossentropy": keras.losses.BinaryCrossentropy,
    "categorical_crossentropy": keras.losses.CategoricalCrossentropy,
}
#: Events per compiled chunk of the validation (forward only): large enough that a
#: chunk costs more than its call, small enough for the layers' activations.
VALIDATION_CHUNK = 65_536


class CompiledEpochs:
    """Trains ``model`` one whole epoch per call of a compiled function.

    Args:
        model: a compiled Keras model (its optimizer and loss are used).
        classification: ``"binary"`` (one sigmoid output) or ``"multiclass"``.
        batch_size: events per weight update; the last batch of an epoch is partial.
        train: the training inputs, targets and weights (float32 arrays).
        validation: the same for the validation split.
        jit_compile: compile with XLA (TensorFlow); JAX always compiles.
    """

    def __init__(self, model, classification: str, batch_size: int, train, validation,
                 jit_compile: bool = True):  # fmt: skip
        self.model = model
        self.batch_size = batch_size
        self.n_train, self.n_validation = len(train[0]), len(validation[0])
        self.input_shape = np.shape(train[0])
        # the compiled loss, reduced over a batch as compile() wraps it (sum over the
        # batch's events of loss times weight, divided by their number)
        if model.loss not in LOSSES:
            raise ValueError(f"the compiled epochs train with {sorted(LOSSES)}, not {model.loss!r}")
        self.loss = LOSSES[model.loss]()
        self.matches = _binary_matches if classification == "binary" else _class_matches
        if not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)
        backend = keras.backend.backend()
        if backend == "tensorflow":
            self._engine = _TensorFlowEpochs(self, train, validation, jit_compile)
        elif backend == "jax":
            self._engine = _JaxEpochs(self, train, validation)
        else:
            raise RuntimeError(f"Keras runs on {backend!r}; the training supports tensorflow, jax")

    def train(self, order: np.ndarray, inputs: np.ndarray | None = None) -> dict[str, float]:
        """One epoch over the training events in ``order``: ``{"loss", "accuracy"}``.

        Args:
            order: the events' order (a permutation of their indices).
            inputs: this epoch's inputs of the training events, where they change from
                epoch to epoch (a parametrised network's background masses); the ones
                given at the start otherwise.
        """
        order = np.asarray(order, dtype=np.int32)
        if order.shape != (self.n_train,):
            raise ValueError(f"an epoch's order has {self.n_train} events, got {order.shape}")
        if inputs is not None:
            inputs = np.asarray(inputs, dtype=np.float32)
            if inputs.shape != self.input_shape:
                raise ValueError(f"an epoch's inputs are {self.input_shape}, got {inputs.shape}")
        loss_sum, matched, weights = self._engine.train(order, inputs)
        return {"loss": loss_sum / self.n_train, "accuracy": _ratio(matched, weights)}

    def validate(self) -> dict[str, float]:
        """The validation loss and accuracy of the weights as they are now."""
        loss_sum, matched, weights = self._engine.validate()
        return {"val_loss": loss_sum / self.n_validation, "val_accuracy": _ratio(matched, weights)}

    def batch_terms(self, targets, predictions, weights, losses) -> tuple:
        """A batch's loss (as ``fit`` computes it: the compiled loss, reduced over the
        batch, plus the model's regularisation terms), and its weighted matches and
        weights (for the accuracy)."""
        loss = self.loss(targets, predictions, sample_weight=weights)
        for term in losses:
            loss = loss + term
        matched = keras.ops.sum(weights * self.matches(targets, predictions))
        return loss, matched, keras.ops.sum(weights)


def _binary_matches(targets, predictions):
    """Keras' binary accuracy: the score above 0.5 and the target 1, or neither."""
    predicted = keras.ops.cast(predictions[:, 0] > 0.5, "float32")
    return keras.ops.cast(keras.ops.equal(predicted, targets[:, 0]), "float32")


def _class_matches(targets, predictions):
    """Keras' categorical accuracy: the highest score is the target's class."""
    same = keras.ops.equal(keras.ops.argmax(predictions, -1), keras.ops.argmax(targets, -1))
    return keras.ops.cast(same, "float32")


def _ratio(numerator: float, denominator: float) -> float:
    return float(numerator) / float(denominator) if float(denominator) else float("nan")


def _batches(n_events: int, size: int) -> tuple[int, int]:
    """Full batches of ``size`` in ``n_events``, and the events of the partial one."""
    return n_events // size, n_events % size


def _targets_2d(targets: np.ndarray) -> np.ndarray:
    """Targets as (events, outputs): a binary network's single score is a column."""
    targets = np.asarray(targets, dtype=np.float32)
    return targets[:, None] if targets.ndim == 1 else targets


class _TensorFlowEpochs:
    """The epoch as one ``tf.function``: a ``tf.range`` loop over the full batches (a
    ``while`` loop inside the XLA cluster), then the partial batch; the Keras variables
    are updated in place."""

    def __init__(self, owner: CompiledEpochs, train, validation, jit_compile: bool):
        import tensorflow as tf

        self.owner, self.tf = owner, tf
        self.train_arrays = _device_arrays(tf.constant, train)
        self.validation_arrays = _device_arrays(tf.constant, validation)
        self._train = tf.function(self._epoch, jit_compile=jit_compile)
        self._validate = tf.function(self._evaluate, jit_compile=jit_compile)

    def _step(self, x, y, w):
        tf, model = self.tf, self.owner.model
        with tf.GradientTape() as tape:
            predictions = model(x, training=True)
            loss, matched, weights = self.owner.batch_terms(y, predictions, w, model.losses)
        gradients = tape.gradient(loss, model.trainable_variables)
        model.optimizer.apply(gradients, model.trainable_variables)
        return tf.stack([loss * tf.cast(tf.shape(x)[0], tf.float32), matched, weights])

    def _epoch(self, x, y, w, order):
        tf = self.tf
        size = self.owner.batch_size
        n_full, n_rest = _batches(self.owner.n_train, size)
        sums = tf.zeros([3])
        if n_full:  # (a loop over no batch would still be compiled, with empty slices)
            full = tf.reshape(order[: n_full * size], [n_full, size])
            for index in tf.range(n_full):
                batch = full[index]
                sums += self._step(tf.gather(x, batch), tf.gather(y, batch), tf.gather(w, batch))
        if n_rest:
            rest = order[n_full * size :]
            sums += self._step(tf.gather(x, rest), tf.gather(y, rest), tf.gather(w, rest))
        return sums

    def _evaluate(self, x, y, w):
        tf, model = self.tf, self.owner.model
        n_full, n_rest = _batches(self.owner.n_validation, VALIDATION_CHUNK)

        def chunk_sums(xc, yc, wc):
            predictions = model(xc, training=False)
            loss, matched, weights = self.owner.batch_terms(yc, predictions, wc, model.losses)
            return tf.stack([loss * tf.cast(tf.shape(xc)[0], tf.float32), matched, weights])

        sums = tf.zeros([3])
        if n_full:
            end = n_full * VALIDATION_CHUNK
            chunks = [tf.reshape(a[:end], [n_full, VALIDATION_CHUNK, *a.shape[1:]])
                      for a in (x, y, w)]  # fmt: skip
            for index in tf.range(n_full):
                sums += chunk_sums(*(chunk[index] for chunk in chunks))
        if n_rest:
            start = n_full * VALIDATION_CHUNK
            sums += chunk_sums(x[start:], y[start:], w[start:])
        return sums

    def train(self, order, inputs=None):
        x, y, w = self.train_arrays
        x = x if inputs is None else self.tf.constant(inputs)
        return self._train(x, y, w, self.tf.constant(order)).numpy()

    def validate(self):
        return self._validate(*self.validation_arrays).numpy()


class _JaxEpochs:
    """The epoch as one ``jax.jit`` function of the model's state (``lax.scan`` over
    the full batches, then the partial batch), with Keras' stateless calls; the state
    is written back into the Keras variables after every epoch (a few kB), so that
    callbacks and checkpoints see the model as it is."""

    def __init__(self, owner: CompiledEpochs, train, validation):
        import jax
        import jax.numpy as jnp

        self.owner, self.jax = owner, jax
        self.train_arrays = _device_arrays(jnp.asarray, train)
        self.validation_arrays = _device_arrays(jnp.asarray, validation)
        self._train = jax.jit(self._epoch)
        self._validate = jax.jit(self._evaluate)

    def _variables(self):
        model = self.owner.model
        return (
            model.trainable_variables,
            model.non_trainable_variables,
            model.optimizer.variables,
        )

    def _step(self, state, x, y, w):
        jax, model = self.jax, self.owner.model
        trainable, non_trainable, optimizer = state

        def loss_of(trainable):
            predictions, non_trainable_after, losses = model.stateless_call(
                trainable, non_trainable, x, training=True, return_losses=True
            )
            loss, matched, weights = self.owner.batch_terms(y, predictions, w, losses)
            return loss, (non_trainable_after, matched, weights)

        (loss, (non_trainable, matched, weights)), gradients = jax.value_and_grad(
            loss_of, has_aux=True
        )(trainable)
        trainable, optimizer = model.optimizer.stateless_apply(optimizer, gradients, trainable)
        sums = keras.ops.stack([loss * x.shape[0], matched, weights])
        return (trainable, non_trainable, optimizer), sums

    def _epoch(self, state, x, y, w, order):
        size = self.owner.batch_size
        n_full, n_rest = _batches(self.owner.n_train, size)

        def body(state, batch):
            return self._step(state, x[batch], y[batch], w[batch])

        sums = keras.ops.zeros([3])
        if n_full:
            full = order[: n_full * size].reshape(n_full, size)
            state, batch_sums = self.jax.lax.scan(body, state, full)
            sums = batch_sums.sum(axis=0)
        if n_rest:
            rest = order[n_full * size :]
            state, last = self._step(state, x[rest], y[rest], w[rest])
            sums = sums + last
        return state, sums

    def _evaluate(self, trainable, non_trainable, x, y, w):
        model = self.owner.model
        n_full, n_rest = _batches(self.owner.n_validation, VALIDATION_CHUNK)

        def chunk_sums(xc, yc, wc):
            predictions, _, losses = model.stateless_call(
                trainable, non_trainable, xc, training=False, return_losses=True
            )
            loss, matched, weights = self.owner.batch_terms(yc, predictions, wc, losses)
            return keras.ops.stack([loss * xc.shape[0], matched, weights])

        def body(sums, start):
            chunk = [
                self.jax.lax.dynamic_slice_in_dim(array, start, VALIDATION_CHUNK)
                for array in (x, y, w)
            ]
            return sums + chunk_sums(*chunk), None

        sums = keras.ops.zeros([3])
        if n_full:
            starts = keras.ops.arange(n_full) * VALIDATION_CHUNK
            sums, _ = self.jax.lax.scan(body, sums, starts)
        if n_rest:
            start = n_full * VALIDATION_CHUNK
            sums = sums + chunk_sums(x[start:], y[start:], w[start:])
        return sums

    def train(self, order, inputs=None):
        state = tuple([v.value for v in group] for group in self._variables())
        x, y, w = self.train_arrays
        x = x if inputs is None else self.jax.numpy.asarray(inputs)
        state, sums = self._train(state, x, y, w, self.jax.numpy.asarray(order))
        for group, values in zip(self._variables(), state, strict=True):
            for variable, value in zip(group, values, strict=True):
                variable.assign(value)
        return np.asarray(sums)

    def validate(self):
        trainable, non_trainable, _ = self._variables()
        return np.asarray(
            self._validate(
                [v.value for v in trainable],
                [v.value for v in non_trainable],
                *self.validation_arrays,
            )
        )


def _device_arrays(to_device: Callable, arrays) -> tuple:
    x, y, w = arrays
    return (
        to_device(np.asarray(x, dtype=np.float32)),
        to_device(_targets_2d(y)),
        to_device(np.asarray(w, dtype=np.float32)),
    )
