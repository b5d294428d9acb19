"""Training weights: balancing the classes the network learns to separate.

Physics weights (cross section / generated events) differ by orders of magnitude
between processes; trained on as they are, the loss is dominated by a few processes
and becomes numerically tiny. The balancing schemes put the classes on an equal
footing while keeping the event-by-event differences inside each class.
"""

from __future__ import annotations

import numpy as np

from cmsnn.vocabulary import BALANCING_SCHEMES, CLASSIFICATIONS

#: What happens to negative event weights (NLO samples) in the training and validation
#: weights; yields, FOMs and AUCs always use the signed weights.
NEGATIVE_WEIGHT_POLICIES = ("keep", "abs", "drop")
#: A class whose net weight is below this share of its absolute weight is mostly
#: cancellation: its balanced per-event weights become huge. It is flagged.
NET_WEIGHT_WARNING_SHARE = 0.1


def apply_negative_weight_policy(weights, policy: str) -> np.ndarray:
    """The weights the network trains on: ``keep`` the signs, take their ``abs``olute
    value, or ``drop`` the negative events from the loss (weight 0; the event stays in
    the files, so predictions and yields still see it)."""
    weights = np.asarray(weights, dtype=np.float64)
    if policy == "keep":
        return weights
    if policy == "abs":
        return np.abs(weights)
    if policy == "drop":
        return np.where(weights < 0, 0.0, weights)
    raise ValueError(f"negative_weights must be one of {NEGATIVE_WEIGHT_POLICIES}, got {policy!r}")


def negative_weight_report(weights, class_index, class_names) -> dict[str, dict]:
    """Per class: events and summed weight of the negative-weight events (what the policy
    touches), the net and the absolute sum of weights."""
    weights = np.asarray(weights, dtype=np.float64)
    class_index = np.asarray(class_index)
    report = {}
    for index, name in enumerate(class_names):
        members = weights[class_index == index]
        negative = members[members < 0]
        report[name] = {
            "negative_events": int(len(negative)),
            "negative_weight": float(negative.sum()),
            "net_weight": float(members.sum()),
            "absolute_weight": float(np.abs(members).sum()),
        }
    return report


def net_weight_warnings(report: dict[str, dict], where: str) -> list[str]:
    """The classes of a :func:`negative_weight_report` whose net weight is under
    :data:`NET_WEIGHT_WARNING_SHARE` of their absolute weight."""
    return [
        f"class {name} in the {where}: net weight {numbers['net_weight']:.4g} is "
        f"{numbers['net_weight'] / numbers['absolute_weight']:.1%} of its absolute weight "
        f"{numbers['absolute_weight']:.4g} (negative weights cancel most of it); balanced "
        "per-event weights become large: consider preprocessing.negative_weights: abs"
        for name, numbers in report.items()
        if numbers["absolute_weight"] > 0
        and numbers["net_weight"] < NET_WEIGHT_WARNING_SHARE * numbers["absolute_weight"]
    ]


def training_targets(class_index: np.ndarray, classification: str) -> np.ndarray:
    """The network's target per event: binary 1 = signal (class 0), 0 = background;
    multi-class: the class index itself."""
    class_index = np.asarray(class_index)
    if classification == "binary":
        return (class_index == 0).astype(np.int32)
    if classification == "multiclass":
        return class_index.astype(np.int32)
    raise ValueError(f"classification must be one of {CLASSIFICATIONS}, got {classification!r}")


def balance_class_weights(
    weights: np.ndarray, class_index: np.ndarray, scheme: str, classification: str, class_names=None
) -> np.ndarray:
    """Training weights balanced between the classes the network distinguishes.

    In binary mode the classes are signal and background (all background classes
    together); in multi-class mode every configured class. With ``N_S`` the number of
    signal events, ``W_S`` their summed weight and ``W_c`` that of class ``c``:

    - ``equal``: every class sums to the same total: ``N_B``, the number of background
      events, in binary mode (the tutorial's binary scheme), ``N_S`` in multi-class mode;
    - ``sqrt``: signal sums to ``N_S``; background class ``c`` to ``N_S·√(W_c/W_S)``
      (the tutorial's multi-class "SQRT" scheme), so larger backgrounds weigh more,
      but less than in proportion;
    - ``none``: the physics weights, only rescaled by one common factor to a mean of 1.
    """
    weights = np.asarray(weights, dtype=np.float64)
    groups = training_targets(class_index, classification)
    signal_group = 1 if classification == "binary" else 0
    if scheme not in BALANCING_SCHEMES:
        raise ValueError(f"balancing must be one of {BALANCING_SCHEMES}, got {scheme!r}")
    if scheme == "none":
        return weights * (len(weights) / _positive_sum(weights, "all events"))

    present = np.unique(groups)
    names = _group_names(classification, class_names)
    if signal_group not in present or len(present) < 2:
        found = [names(group) for group in present]
        raise ValueError(f"balancing needs signal and background events, found only {found}")
    if classification == "multiclass" and class_names is not None:
        empty = [name for index, name in enumerate(class_names) if index not in present]
        if empty:
            raise ValueError(
                f"the classes {empty} have no events here (after the preselection and the "
                "split): a multi-class network cannot learn them; loosen the preselection, "
                "add events, or remove the classes"
            )
    n_signal = np.count_nonzero(groups == signal_group)
    signal_sum = _positive_sum(weights[groups == signal_group], names(signal_group))
    reference = np.count_nonzero(groups != signal_group) if classification == "binary" else n_signal

    balanced = np.empty_like(weights)
    for group in present:
        members = groups == group
        group_sum = _positive_sum(weights[members], names(group))
        if scheme == "equal":
            target = reference
        elif group == signal_group:
            target = n_signal
        else:
            target = n_signal * np.sqrt(group_sum / signal_sum)
        balanced[members] = weights[members] * (target / group_sum)
    return balanced


def _positive_sum(weights: np.ndarray, what: str) -> float:
    total = float(np.sum(weights))
    if not total > 0:
        raise ValueError(f"the weights of {what} sum to {total}; balancing needs a positive sum")
    return total


def _group_names(classification: str, class_names):
    if classification == "binary":
        return lambda group: "signal" if group == 1 else "background"
    return lambda group: class_names[group] if class_names is not None else f"class {group}"
