"""The overtraining check: does the network answer alike on events it trained on
(training split) and on events it never saw (validation split)?

TMVA's users know it as a Kolmogorov–Smirnov test between the two output
distributions, per class. The events carry weights, and none of the pipeline's
dependencies ships a weighted two-sample KS test, so it is implemented here:

- the statistic is the largest distance between the two weighted empirical CDFs,
  evaluated after each distinct value (ties are handled as in the unweighted test);
- the p-value is SciPy's asymptotic two-sample distribution (``kstwo`` at the
  effective number ``n₁n₂/(n₁+n₂)``, as ``scipy.stats.ks_2samp(method="asymp")``), with
  Kish's effective sample sizes ``n = (Σw)²/Σw²`` in place of the event counts. With unit
  weights it is SciPy's test exactly.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.stats import kstwo

from cmsnn.statistics.effective_events import kish_effective_events


def weighted_ks_2samp(sample_1, weights_1, sample_2, weights_2) -> tuple[float, float]:
    """Weighted two-sample KS test: ``(statistic, p_value)``, two-sided."""
    x1, w1 = _sorted_sample(sample_1, weights_1)
    x2, w2 = _sorted_sample(sample_2, weights_2)
    values = np.union1d(x1, x2)
    cdf_1 = _weighted_cdf(x1, w1, values)
    cdf_2 = _weighted_cdf(x2, w2, values)
    statistic = float(np.max(np.abs(cdf_1 - cdf_2)))
    n_1, n_2 = (float(kish_effective_events(w.sum(), np.sum(w**2))) for w in (w1, w2))
    effective_n = n_1 * n_2 / (n_1 + n_2) if n_1 + n_2 > 0 else 0.0
    p_value = float(np.clip(kstwo.sf(statistic, max(1, round(effective_n))), 0.0, 1.0))
    return statistic, p_value


def ks_per_class(
    train: pd.DataFrame, validation: pd.DataFrame, score_column: str, class_names: Sequence[str]
) -> pd.DataFrame:
    """The weighted KS test of ``score_column`` between training and validation events,
    for each true class: a table indexed by class with ``statistic`` and ``p_value``."""
    rows = {}
    for name in class_names:
        a = train[train["class"] == name]
        b = validation[validation["class"] == name]
        if a.empty or b.empty:
            rows[name] = (np.nan, np.nan)
            continue
        rows[name] = weighted_ks_2samp(a[score_column], a["weight"], b[score_column], b["weight"])
    table = pd.DataFrame.from_dict(rows, orient="index", columns=["statistic", "p_value"])
    table.index.name = "class"
    return table


def _sorted_sample(sample, weights) -> tuple[np.ndarray, np.ndarray]:
    sample = np.asarray(sample, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    if sample.shape != weights.shape or sample.size == 0:
        raise ValueError("each sample needs as many weights as values, and at least one value")
    if not weights.sum() > 0:
        raise ValueError("the weights of a sample must have a positive sum")
    order = np.argsort(sample, kind="stable")
    return sample[order], weights[order]


def _weighted_cdf(sorted_sample, sorted_weights, values) -> np.ndarray:
    """Weighted fraction of the sample at or below each of ``values``."""
    cumulative = np.concatenate([[0.0], np.cumsum(sorted_weights)])
    return cumulative[np.searchsorted(sorted_sample, values, side="right")] / cumulative[-1]
