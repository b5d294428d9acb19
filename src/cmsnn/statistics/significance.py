"""The figure of merit: Asimov discovery significance with a background uncertainty,
scanned over a lower cut on the network's signal output.

With ``s`` and ``b`` the expected signal and background yields above the cut and
``σ`` the absolute uncertainty of the background yield, the median discovery
significance (Cowan, Cranmer, Gross, Vitells, arXiv:1007.1727, eq. 97 with an uncertain
background; the tutorial's FOM) is

    Z² = 2·[(s+b)·ln((s+b)(b+σ²) / (b²+(s+b)σ²)) − (b²/σ²)·ln(1 + σ²s / (b(b+σ²)))].

The background uncertainty has two parts, added in quadrature:

    σ² = (f·b)² + Σ w²,

a relative systematic uncertainty ``f`` and, with ``include_mc_statistics``, the
statistical uncertainty of the simulated background above the cut (``w`` the events'
yield weights: expected events per simulated event). The second term matters at the
tight cuts the scan prefers: a background estimated from a dozen weighted events is
uncertain by 30–40 %, more than a typical ``f``, and a FOM without it rewards cuts
that merely leave few simulated events behind.

Typed as it stands the formula loses every digit when ``s ≪ b`` (two nearly equal terms
are subtracted) and is 0/0 at ``σ = 0``. With ``u = s/b``, ``β = σ²/b`` (``= f²b`` for the
systematic part alone) and ``t = βu/(1+β)`` it is rewritten exactly as

    Z²/2 = b·[g(u) − (1 + u + 1/β)·h(t)],   g(u) = (1+u)·ln(1+u) − u,
                                             h(t) = ln(1+t) − t/(1+t),

where ``g`` and ``h`` are evaluated by their Taylor series for small arguments. The
remaining difference loses at most log10(1+β) digits (relative error ≈ 1e-16·(1+β):
1e-10 for f = 0.2 and b = 10⁶ expected events), and ``σ = 0`` is simply ``β = 0``:
``Z² = 2b·g(u)``, the familiar ``2[(s+b)ln(1+s/b) − s]``.

Conventions: ``Z = 0`` when ``s ≤ 0``; ``Z = 0`` when ``b ≤ 0``: a cut that leaves no
simulated background has no background estimate, and such a cut must never be chosen
as the best one.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

#: Below this argument ``g`` and ``h`` use their Taylor series.
_SERIES_LIMIT = 0.05
_SERIES_TERMS = 18


def asimov_significance(signal_yield, background_yield, relative_background_uncertainty):
    """Median discovery significance ``Z`` for yields ``s``, ``b`` and relative
    background uncertainty ``f`` (``σ = f·b``); see the module docstring.

    Args:
        signal_yield, background_yield: expected events ``s`` and ``b`` (arrays
            broadcast).
        relative_background_uncertainty: ``f`` (not negative).

    Returns:
        ``Z`` (a float for scalars, else an array); 0 where ``s ≤ 0`` or ``b ≤ 0``.

    Without an uncertainty it is the familiar ``√(2[(s+b)ln(1+s/b) − s])``, and an
    uncertainty lowers it:

    >>> import math
    >>> round(asimov_significance(10, 100, 0.0), 6), round((2 * (110 * math.log(1.1) - 10)) ** 0.5, 6)
    (0.983992, 0.983992)
    >>> round(asimov_significance(10, 100, 0.1), 4)
    0.6902
    """  # noqa: E501
    s, b, f = _float_arrays(signal_yield, background_yield, relative_background_uncertainty)
    if np.any(f < 0):
        raise ValueError("the relative background uncertainty must not be negative")
    return _asimov(s, b, f**2 * np.maximum(b, 0.0))


def asimov_significance_with_uncertainty(signal_yield, background_yield, background_uncertainty):
    """Median discovery significance ``Z`` for yields ``s``, ``b`` and an absolute
    background uncertainty ``σ`` (arrays broadcast); see the module docstring.

    >>> round(asimov_significance_with_uncertainty(10, 100, 10.0), 4)  # σ = 0.1·b
    0.6902
    """
    s, b, sigma = _float_arrays(signal_yield, background_yield, background_uncertainty)
    if np.any(sigma < 0):
        raise ValueError("the background uncertainty must not be negative")
    with np.errstate(divide="ignore", invalid="ignore"):
        beta = np.where(b > 0, sigma**2 / np.where(b > 0, b, 1.0), 0.0)
    return _asimov(s, b, beta)


def background_uncertainty(
    background_yield, background_sum_w2, relative_uncertainty: float, include_mc_statistics: bool
):
    """Absolute background uncertainty ``σ = √((f·b)² + Σw²)``.

    Args:
        background_yield: ``b``.
        background_sum_w2: ``Σw²`` of the background's yield weights above the cut.
        relative_uncertainty: the relative systematic ``f``.
        include_mc_statistics: whether the simulated sample's statistical uncertainty
            (``Σw²``) is added.

    >>> float(background_uncertainty(100.0, 300.0, 0.2, include_mc_statistics=True))
    26.457513110645905
    """
    b = np.asarray(background_yield, dtype=np.float64)
    variance = (relative_uncertainty * b) ** 2
    if include_mc_statistics:
        variance = variance + np.asarray(background_sum_w2, dtype=np.float64)
    return np.sqrt(variance)


def figure_of_merit(signal_yield, background_yield, background_sum_w2, options: Mapping):
    """The scan's FOM from the yields above a cut and the background's ``Σw²``:
    ``Z`` with ``σ`` from :func:`background_uncertainty`.

    Args:
        signal_yield, background_yield, background_sum_w2: above the cut.
        options: the config's ``fom`` section (``relative_background_uncertainty``,
            ``include_mc_statistics``).
    """
    sigma = background_uncertainty(
        background_yield,
        background_sum_w2,
        options["relative_background_uncertainty"],
        options["include_mc_statistics"],
    )
    return asimov_significance_with_uncertainty(signal_yield, background_yield, sigma)


def _float_arrays(*values) -> list[np.ndarray]:
    return np.broadcast_arrays(*(np.asarray(value, dtype=np.float64) for value in values))


def _asimov(s: np.ndarray, b: np.ndarray, beta: np.ndarray):
    """Z from ``s``, ``b`` and ``β = σ²/b`` (the module docstring's form)."""
    valid = (s > 0) & (b > 0)
    s_ok, b_ok = np.where(valid, s, 0.0), np.where(valid, b, 1.0)
    beta_ok = np.where(valid, beta, 0.0)
    u = s_ok / b_ok
    t = beta_ok * u / (1.0 + beta_ok)
    with np.errstate(divide="ignore", invalid="ignore"):
        # below the smallest normal float 1/β overflows; the term is ≈ βu²/2 ≈ 0 there
        significant = beta_ok > np.finfo(np.float64).tiny
        uncertainty_term = np.where(significant, (1.0 + u + 1.0 / beta_ok) * _h(t), 0.0)
    half_z_squared = b_ok * (_g(u) - uncertainty_term)
    z = np.sqrt(2.0 * np.maximum(half_z_squared, 0.0))
    z = np.where(valid, z, 0.0)
    return z if z.ndim else float(z)


def _g(u: np.ndarray) -> np.ndarray:
    """(1+u)·ln(1+u) − u = Σ_{n≥2} (−1)ⁿ uⁿ / (n(n−1))."""
    n = np.arange(2, _SERIES_TERMS + 2)
    small = np.abs(u) < _SERIES_LIMIT
    us = np.where(small, u, 0.0)[..., None]
    series = np.sum((-1.0) ** n * us**n / (n * (n - 1)), axis=-1)
    with np.errstate(invalid="ignore"):
        direct = (1.0 + u) * np.log1p(u) - u
    return np.where(small, series, direct)


def _h(t: np.ndarray) -> np.ndarray:
    """ln(1+t) − t/(1+t) = Σ_{m≥2} (−1)ᵐ tᵐ (m−1)/m."""
    m = np.arange(2, _SERIES_TERMS + 2)
    small = np.abs(t) < _SERIES_LIMIT
    ts = np.where(small, t, 0.0)[..., None]
    series = np.sum((-1.0) ** m * ts**m * (m - 1) / m, axis=-1)
    direct = np.log1p(t) - t / (1.0 + t)
    return np.where(small, series, direct)
