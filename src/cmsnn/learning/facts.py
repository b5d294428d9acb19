"""What a training's facts (``training.json``) say about it, for the training's own log
and for the summary alike. No TensorFlow: the summary reads them without it."""

from __future__ import annotations

from collections.abc import Mapping


def unconverged_warning(facts: Mapping) -> str | None:
    """The warning for a network whose kept epoch is its last: it was still improving
    when training stopped, so its FOM is not that of a trained model.

    >>> unconverged_warning({"best_epoch": 5, "epochs_run": 5})
    'the kept epoch is the last one trained (5 of 5): the validation loss was still falling; raise training.epochs'
    >>> unconverged_warning({"best_epoch": 3, "epochs_run": 5}) is None
    True
    """  # noqa: E501
    if facts["epochs_run"] > 1 and facts["best_epoch"] == facts["epochs_run"]:
        return (
            f"the kept epoch is the last one trained ({facts['best_epoch']} of "
            f"{facts['epochs_run']}): the validation loss was still falling; raise "
            "training.epochs"
        )
    return None
