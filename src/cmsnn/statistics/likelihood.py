"""The binned likelihood of the network output, in pyhf (HistFactory): a signal
strength μ on the signal, the simulated samples' statistical uncertainty in every bin
(``staterror``, Barlow–Beeston lite, the signal's included), and one of two background
uncertainty models:

- ``uncorrelated`` (the default): the FOM's own relative uncertainty ``f`` on the whole
  background, in every bin, uncorrelated across bins and Poisson-constrained (pyhf's
  ``shapesys`` with ``f·B``): the on/off model of the counting FOM, so a one-bin
  histogram gives exactly the counting FOM, and no bin's background is pinned down by
  the others;
- ``class_norms``: one normalisation per background class, ``±f``, correlated over all
  bins (``normsys``, a datacard's lnN), as analyses start. The many background-dominated
  low-score bins constrain these normalisations, so this model's Z is close to the Z
  without any background uncertainty: a reader should not take it as a robust number.

The expected numbers are computed on Asimov data, as an analysis quotes them before
unblinding: the discovery significance from ``q0`` on the signal-plus-background Asimov
data, the 95 % CL upper limit on μ (asymptotic CLs, ``q̃μ``) with its ±1σ and ±2σ bands on
the background-only Asimov data. The workspace (pyhf's JSON schema) holds the
background-only expectation as its observation, so ``pyhf cls workspace.json`` gives the
median expected limit.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pyhf
import scipy.optimize
from scipy.stats import norm

#: The background uncertainty models, the first the default.
BACKGROUND_MODELS = ("uncorrelated", "class_norms")
#: The signal strength's name in the workspace.
POI = "mu"
#: The channel's name (one channel: the signal score).
CHANNEL = "network_output"
#: Fits to this relative tolerance (scipy's default leaves 1e-6 on tiny significances).
FIT_TOLERANCE = 1e-14
#: The limits' relative precision.
LIMIT_RTOL = 1e-4
#: CLs of the upper limit.
CLS_LEVEL = 0.05
#: Quantiles of the expected limit: −2σ, −1σ, median, +1σ, +2σ.
LIMIT_BANDS = ("minus2", "minus1", "median", "plus1", "plus2")


def workspace_spec(
    signal: tuple[np.ndarray, np.ndarray],
    backgrounds: Mapping[str, tuple[np.ndarray, np.ndarray]],
    relative_uncertainty: float,
    model: str = "uncorrelated",
) -> dict:
    """A pyhf workspace of one channel, the background-only expectation as observation.

    Args:
        signal: the signal's ``(Σw, Σw²)`` per bin.
        backgrounds: ``{class: (Σw, Σw²)}`` per bin of each background class.
        relative_uncertainty: ``f``, the FOM's relative background uncertainty.
        model: one of :data:`BACKGROUND_MODELS`.

    Returns:
        The workspace (pyhf's schema), with the POI's bounds wide enough for its limit.

    Raises:
        ValueError: an unknown model, or a bin without background.
    """
    if model not in BACKGROUND_MODELS:
        raise ValueError(
            f"statistics.background_model: {model!r} is not one of {BACKGROUND_MODELS}"
        )
    signal_w, signal_w2 = (np.asarray(part, dtype=np.float64) for part in signal)
    background_w = sum(np.asarray(w, dtype=np.float64) for w, _ in backgrounds.values())
    if np.any(background_w <= 0):
        raise ValueError("every bin of the binned likelihood needs a positive background")
    f = float(relative_uncertainty)
    samples = [
        _sample("signal", signal_w, signal_w2, [{"name": POI, "type": "normfactor", "data": None}])
    ]
    if model == "uncorrelated":
        background_w2 = sum(np.asarray(w2, dtype=np.float64) for _, w2 in backgrounds.values())
        modifiers = []
        if f > 0:
            modifiers.append(
                {"name": "background_f", "type": "shapesys", "data": list(f * background_w)}
            )
        samples.append(_sample("background", background_w, background_w2, modifiers))
    else:
        for name, (w, w2) in backgrounds.items():
            modifiers = []
            if f > 0:
                modifiers.append(
                    {
                        "name": f"norm_{name}",
                        "type": "normsys",
                        "data": {"hi": 1 + f, "lo": max(1 - f, 1e-6)},
                    }
                )
            samples.append(
                _sample(
                    name,
                    np.asarray(w, dtype=np.float64),
                    np.asarray(w2, dtype=np.float64),
                    modifiers,
                )
            )
    upper = poi_upper_bound(signal_w, background_w, f)
    return {
        "channels": [{"name": CHANNEL, "samples": samples}],
        "observations": [{"name": CHANNEL, "data": [float(value) for value in background_w]}],
        "measurements": [
            {
                "name": "expected",
                "config": {"poi": POI, "parameters": [{"name": POI, "bounds": [[0.0, upper]]}]},
            }
        ],
        "version": "1.0.0",
    }


def poi_upper_bound(signal_w: np.ndarray, background_w: np.ndarray, f: float) -> float:
    """A bound on μ well above its limit: forty times the best bin's rough counting limit
    ``2·√(B + (fB)²)/S``, at least 10."""
    with np.errstate(divide="ignore", invalid="ignore"):
        rough = 2 * np.sqrt(background_w + (f * background_w) ** 2) / signal_w
    finite = rough[np.isfinite(rough) & (rough > 0)]
    return float(max(10.0, 40 * finite.min())) if finite.size else 1e6


def expected_numbers(spec: Mapping, limits: bool = True) -> dict:
    """The expected discovery significance and the expected upper limit on μ with its
    bands, of a workspace from :func:`workspace_spec`.

    Args:
        spec: the workspace.
        limits: whether to compute the limits too (else only ``z``).

    Returns:
        ``{"z": Z, "limit_minus2": …, "limit_minus1": …, "limit_median": …,
        "limit_plus1": …, "limit_plus2": …}``; ``z`` is 0 and the limits NaN for a
        signal without events.
    """
    fits = FixedPoiFits(spec)
    model = fits.model
    no_signal = not np.any(np.asarray(model.expected_actualdata(_pars(model, 1.0)))
                           > np.asarray(model.expected_actualdata(_pars(model, 0.0))))  # fmt: skip
    numbers = {"z": 0.0 if no_signal else discovery_significance(fits)}
    if limits:
        bands = dict.fromkeys(LIMIT_BANDS, float("nan")) if no_signal else expected_limits(fits)
        numbers |= {f"limit_{band}": value for band, value in bands.items()}
    return numbers


class FixedPoiFits:
    """Maximum-likelihood fits of one pyhf model with μ fixed, as
    ``pyhf.infer.mle.fixed_poi_fit`` does them with its NumPy backend (SciPy's SLSQP on
    ``−2 ln L``, the parameters inside their suggested bounds), but with the gradient
    given: central differences of ``−2 ln L`` in every free parameter, all computed in
    one call of the model built with pyhf's ``batch_size``. Without it SLSQP takes one
    likelihood call per parameter for every gradient, and pyhf's cost per call hardly
    depends on the batch (about 0.2 ms for 1 or 67 parameter sets), so the fits take a
    fifth of the time. ``tests/test_likelihood.py`` checks the numbers against pyhf's
    own fits and limits.

    Args:
        spec: the workspace (pyhf's schema) of :func:`workspace_spec`; its first
            measurement's parameter settings are used.
    """

    #: The relative step of the central differences: the cube root of the float64
    #: epsilon balances their truncation error against rounding.
    STEP = float(np.cbrt(np.finfo(np.float64).eps))

    def __init__(self, spec: Mapping):
        # built from the spec without pyhf's schema checks: the specs are this module's
        # own, and checking each of a job's fifty took a third of its time; the
        # workspaces written out are checked (fit_binned_likelihood_files)
        model_spec = {
            "channels": spec["channels"],
            "parameters": spec["measurements"][0]["config"]["parameters"],
        }
        self.model = pyhf.Model(model_spec, poi_name=POI, validate=False)
        config = self.model.config
        fixed = np.asarray(config.suggested_fixed(), dtype=bool)
        fixed[config.poi_index] = True
        self.free = np.flatnonzero(~fixed)
        self.bounds = np.asarray(config.suggested_bounds(), dtype=np.float64)[self.free]
        self.batched = pyhf.Model(
            model_spec, poi_name=POI, validate=False, batch_size=2 * len(self.free) + 1
        )

    def fit(self, data, mu: float, init_pars, tolerance: float | None = None):
        """−2 ln L at its minimum with μ fixed, and the fitted parameters.

        Args:
            data: the observations and auxiliary data.
            mu: the signal strength.
            init_pars: all parameters to start from (μ among them is replaced).
            tolerance: SLSQP's ``tol`` (SciPy's default where None).

        Raises:
            pyhf.exceptions.FailedMinimization: where SLSQP does not converge.
        """
        data = np.asarray(data, dtype=np.float64)
        start = np.array(init_pars, dtype=np.float64)
        start[self.model.config.poi_index] = mu

        def parameters(free: np.ndarray) -> np.ndarray:
            pars = start.copy()
            pars[self.free] = free
            return pars

        def twice_nll(free: np.ndarray) -> float:
            return -2 * float(self.model.logpdf(parameters(free), data)[0])

        def differences(free: np.ndarray) -> tuple:
            """−2 ln L at ``free`` and a step up and down in each parameter (one-sided
            next to a bound, where the likelihood may not be defined), in one call."""
            step = self.STEP * np.maximum(1.0, np.abs(free))
            up = np.where(free + step > self.bounds[:, 1], 0.0, step)
            down = np.where(free - step < self.bounds[:, 0], 0.0, step)
            rows = np.tile(parameters(free), (self.batched.batch_size, 1))
            index = np.arange(len(self.free))
            rows[1 + index, self.free] += up
            rows[1 + len(index) + index, self.free] -= down
            values = -2 * np.asarray(self.batched.logpdf(rows, data), dtype=np.float64)
            return values[0], values[1 : 1 + len(index)], values[1 + len(index) :], up, down

        if not len(self.free):  # every parameter fixed: nothing to fit
            return twice_nll(start[self.free]), start
        # SLSQP's quasi-Newton matrix starts as the identity, so it runs on parameters
        # scaled to the likelihood's curvature at the start (a constrained γ's width is a
        # few per cent): half the likelihood calls of the unscaled fit
        centre, plus, minus, up, down = differences(start[self.free])
        with np.errstate(divide="ignore", invalid="ignore"):
            curvature = np.where(up * down > 0, (plus + minus - 2 * centre) / (up * down), 0)
            scale = np.where(curvature > 0, 1 / np.sqrt(curvature), 1.0)

        def scaled_gradient(scaled: np.ndarray) -> np.ndarray:
            _, plus, minus, up, down = differences(scaled * scale)
            return (plus - minus) / (up + down) * scale

        result = scipy.optimize.minimize(
            lambda scaled: twice_nll(scaled * scale), start[self.free] / scale,
            jac=scaled_gradient, method="SLSQP", bounds=self.bounds / scale[:, None],
            tol=tolerance, options={"maxiter": 100_000},
        )  # fmt: skip
        result.x = result.x * scale
        if not result.success:
            raise pyhf.exceptions.FailedMinimization(result)
        return float(result.fun), parameters(result.x)


def discovery_significance(fits: FixedPoiFits) -> float:
    """Median expected discovery significance: ``√q0`` on the signal-plus-background
    Asimov data (μ = 1, nuisance parameters at their nominal values).

    On Asimov data the unconditional fit is known: the parameters the data were made
    with (μ = 1, every nuisance parameter at its nominal value), so ``q0`` needs only the
    fit with μ fixed to 0, done to :data:`FIT_TOLERANCE` (the significance of a small
    signal is a small difference of likelihoods). ``tests/test_likelihood.py`` checks it
    against ``pyhf.infer.hypotest(0, …, test_stat="q0")``.
    """
    model = fits.model
    nominal = _pars(model, 1.0)
    data = model.expected_data(nominal)
    twice_nll, _ = fits.fit(data, 0.0, nominal, tolerance=FIT_TOLERANCE)
    q0 = twice_nll + 2 * float(model.logpdf(nominal, data)[0])
    return float(np.sqrt(max(q0, 0.0)))


def expected_limits(fits: FixedPoiFits) -> dict[str, float]:
    """The expected 95 % CL upper limit on μ and its ±1σ, ±2σ bands (asymptotic CLs with
    ``q̃μ``), as ``{band: limit}`` in the order of :data:`LIMIT_BANDS`.

    The same asymptotic formulae as ``pyhf.infer.hypotest``'s expected set, solved
    directly: on the background-only Asimov data the expected CLs of band ``N`` at μ
    depends on μ only through ``√q̃μ,A``, and is ``Φ(−(N + √q̃μ,A)) / Φ(−N)``; so each
    band's limit is where ``√q̃μ,A`` reaches ``−N − Φ⁻¹(α·Φ(−N))``, found by a secant
    search on ``√q̃μ,A(μ)`` (nearly linear in μ) inside a bracket of the values tried,
    each fit starting from the parameters of the nearest μ tried. The unconditional fit
    to those data is known (μ = 0 and the nominal nuisance parameters), so each point
    costs one fit.
    ``tests/test_likelihood.py`` checks the limits against pyhf's own ``upper_limit``.
    """
    model = fits.model
    nominal = _pars(model, 0.0)
    data = model.expected_data(nominal)
    best = -2 * float(model.logpdf(nominal, data)[0])
    upper = model.config.suggested_bounds()[model.config.poi_index][1]
    # √q̃μ and the fitted parameters at every μ tried: each fit starts from the nearest
    # μ's parameters, and each band's search from the two nearest values tried
    tried: dict[float, tuple[float, np.ndarray]] = {0.0: (0.0, nominal)}

    def root_q(mu: float) -> float:
        if mu not in tried:
            nearest = min(tried, key=lambda known: abs(known - mu))
            value, pars = fits.fit(data, mu, tried[nearest][1])
            tried[mu] = (float(np.sqrt(max(value - best, 0.0))), pars)
        return tried[mu][0]

    def bracket(target: float) -> dict[float, float]:
        """The values tried, with one at least ``target``: √q̃μ,A is nearly linear in μ,
        so a fifth beyond the straight line through 0 and the highest μ tried."""
        while max(value for value, _ in tried.values()) < target:
            top = max(tried)
            if top >= upper:
                raise RuntimeError(f"no expected limit found below mu = {upper:g}")
            value = tried[top][0]
            guess = 1.2 * top * target / value if value > 0 else 10 * top
            root_q(min(upper, max(guess, 1.1 * top)))
        return {mu: value for mu, (value, _) in tried.items()}

    root_q(upper / 40)  # near the limits: the rough counting limit (poi_upper_bound)
    limits = {}
    for band, n_sigma in zip(LIMIT_BANDS, (2, 1, 0, -1, -2), strict=True):
        target = -n_sigma - norm.ppf(CLS_LEVEL * norm.cdf(-n_sigma))
        limits[band] = float(_solve(root_q, target, bracket(target)))
    return limits


def _solve(function, target: float, tried: Mapping[float, float]) -> float:
    """``μ`` with ``function(μ) = target`` for an increasing function, given its values
    ``tried`` (at least one below and one above the target): secant steps from the two
    tried values nearest the target, inside the bracket the tried values make,
    bisection where a step leaves it."""
    below = [mu for mu, value in tried.items() if value < target]
    above = [mu for mu, value in tried.items() if value >= target]
    low, high = max(below), min(above)
    mu_1, mu_2 = sorted(tried, key=lambda mu: abs(tried[mu] - target))[:2]
    f_1 = function(mu_1) - target
    for _ in range(60):
        f_2 = function(mu_2) - target
        low, high = (max(low, mu_2), high) if f_2 < 0 else (low, min(high, mu_2))
        step = mu_2 - f_2 * (mu_2 - mu_1) / (f_2 - f_1) if f_2 != f_1 else 0.5 * (low + high)
        mu_1, f_1 = mu_2, f_2
        mu_2 = step if low < step < high else 0.5 * (low + high)
        if abs(mu_2 - mu_1) <= LIMIT_RTOL * mu_2:
            return mu_2
    raise RuntimeError(f"the expected limit did not converge between mu = {low:g} and {high:g}")


def _pars(model: pyhf.Model, mu: float) -> np.ndarray:
    pars = np.asarray(model.config.suggested_init(), dtype=np.float64)
    pars[model.config.poi_index] = mu
    return pars


def _sample(name: str, w: np.ndarray, w2: np.ndarray, modifiers: list) -> dict:
    return {
        "name": name,
        "data": [float(value) for value in w],
        "modifiers": [
            *modifiers,
            {"name": "mc_stat", "type": "staterror", "data": [float(v) for v in np.sqrt(w2)]},
        ],
    }
