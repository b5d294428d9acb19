"""The weighted linear correlations of the input variables, per class (the matrices TMVA
shows beside the input distributions)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def weighted_correlation(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted linear (Pearson) correlation matrix of the columns of ``values``.

    A constant column has no defined correlation: its entries are NaN, its diagonal 1.
    """
    values = np.asarray(values, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    centred = values - np.average(values, axis=0, weights=weights)
    covariance = (centred * weights[:, None]).T @ centred / weights.sum()
    spread = np.sqrt(np.diag(covariance))
    # A constant column's computed spread is rounding noise, not zero: test it exactly.
    spread[np.ptp(values, axis=0) == 0] = np.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        correlation = covariance / np.outer(spread, spread)
    np.fill_diagonal(correlation, 1.0)
    return correlation


def correlation_matrices(
    events: pd.DataFrame, features: Sequence[str], class_names: Sequence[str]
) -> dict[str, pd.DataFrame]:
    """The weighted correlation matrix of ``features`` for every class present."""
    matrices = {}
    for name in class_names:
        members = events[events["class"] == name]
        if len(members) > 1:
            matrix = weighted_correlation(members[list(features)].to_numpy(), members["weight"])
            matrices[name] = pd.DataFrame(matrix, index=list(features), columns=list(features))
    return matrices
