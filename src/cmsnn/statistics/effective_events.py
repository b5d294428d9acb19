"""How many simulated events a weighted sum stands for, and whether that is enough: the
rule the cut choice (:mod:`cmsnn.statistics`) and the FOM-scan figure (:mod:`cmsnn.figures`)
share, kept apart from the FOM's own constants so that a change to those does not
redraw every figure."""

from __future__ import annotations

import numpy as np

#: Relative slack on a required count, so that a sum that reaches it up to rounding
#: (10 events of weight 0.1 summing to 0.9999999999) still counts as reaching it.
_COUNT_TOLERANCE = 1e-9


def kish_effective_events(sum_w, sum_w2):
    """Kish's effective number of events ``(Σw)²/Σw²``: the number of unit-weight events
    with the same relative statistical uncertainty.

    Args:
        sum_w, sum_w2: the sums of the weights and of their squares (arrays broadcast).

    Returns:
        The counts; 0 where ``Σw ≤ 0`` or nothing passes.

    >>> kish_effective_events([10.0, 4.0, -1.0], [20.0, 16.0, 1.0])
    array([5., 1., 0.])
    """
    sum_w = np.asarray(sum_w, dtype=np.float64)
    sum_w2 = np.asarray(sum_w2, dtype=np.float64)
    valid = (sum_w > 0) & (sum_w2 > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(valid, sum_w**2 / np.where(valid, sum_w2, 1.0), 0.0)


def enough_background(effective_events, min_background_events: float) -> np.ndarray:
    """Where the Kish effective background count reaches ``min_background_events``:
    the cuts that may be chosen (up to rounding in the sums).

    >>> enough_background([9.99999999999, 5.0], 10)
    array([ True, False])
    """
    minimum = min_background_events * (1.0 - _COUNT_TOLERANCE)
    return np.asarray(effective_events, dtype=np.float64) >= minimum
