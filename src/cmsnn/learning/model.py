"""The network: a dense classifier as in the tutorial, built with Keras 3."""

from __future__ import annotations

import logging
from collections.abc import Mapping

import keras

log = logging.getLogger(__name__)


def build_model(
    n_features: int,
    n_classes: int,
    classification: str,
    settings: Mapping,
) -> keras.Model:
    """A compiled dense network for ``n_features`` inputs.

    ``settings`` holds ``layers`` (units per hidden layer), ``activation``,
    ``initializer``, ``dropout``, ``l2``, ``learning_rate`` and ``decay_rate``. Binary
    mode ends in one sigmoid unit with binary cross-entropy, multi-class mode in a
    softmax over the classes with categorical cross-entropy; both are weighted by the
    events' training weights. The model is compiled for its optimizer and loss, which
    the training's compiled epochs use (:mod:`cmsnn.learning.epochs`).
    """
    regularizer = keras.regularizers.L2(settings["l2"]) if settings["l2"] > 0 else None
    inputs = keras.Input(shape=(n_features,), name="features")
    hidden = inputs
    for index, units in enumerate(settings["layers"], start=1):
        hidden = keras.layers.Dense(
            units,
            activation=settings["activation"],
            kernel_initializer=settings["initializer"],
            kernel_regularizer=regularizer,
            name=f"hidden_{index}",
        )(hidden)
        if settings["dropout"] > 0:
            hidden = keras.layers.Dropout(settings["dropout"], name=f"dropout_{index}")(hidden)
    if classification == "binary":
        outputs = keras.layers.Dense(1, activation="sigmoid", name="signal_score")(hidden)
        loss = "binary_crossentropy"
    else:
        outputs = keras.layers.Dense(n_classes, activation="softmax", name="class_scores")(hidden)
        loss = "categorical_crossentropy"
    model = keras.Model(inputs, outputs, name="classifier")
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate_schedule(settings)),
        loss=loss,
        weighted_metrics=["accuracy"],
    )
    return model


def learning_rate_schedule(settings: Mapping) -> keras.optimizers.schedules.LearningRateSchedule:
    """``lr / (1 + decay · step)``, step counting weight updates: what Keras 2's
    ``Adam(lr, decay)`` did, and what the tutorial's decay rates mean."""
    return keras.optimizers.schedules.InverseTimeDecay(
        initial_learning_rate=settings["learning_rate"],
        decay_steps=1,
        decay_rate=settings["decay_rate"],
    )


def limit_threads(threads: int) -> None:
    """Run TensorFlow's operations on ``threads`` threads (the rule's ``threads``); for
    JAX see :func:`cmsnn.backend.use_keras_backend`."""
    if keras.backend.backend() != "tensorflow":
        return
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:  # TensorFlow already started in this process (e.g. in tests)
        log.warning("TensorFlow is already initialised; thread settings unchanged")
