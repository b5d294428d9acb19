"""Choosing the cut: the validation split's best FOM among the cuts that keep at least
``min_background_events`` effective (Kish) background events, ``(Σw)²/Σw²``, and the
test split's FOM at that cut. The FOM itself is never altered by the requirement, so
the test FOM at the chosen cut is always the test FOM there.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from cmsnn.statistics.effective_events import enough_background

#: What :func:`best_cut_summary` reports of the test split at the chosen cut.
_TEST_AT_BEST_CUT = (
    "fom",
    "signal_yield",
    "signal_efficiency",
    "background_yield",
    "background_mc_relative_uncertainty",
    "background_events",
    "background_effective_events",
)


def best_cut_summary(scans: Mapping[str, pd.DataFrame], min_background_events: float = 0) -> dict:
    """The cut maximising the validation FOM among the cuts whose validation background
    has at least ``min_background_events`` effective events; the validation and test
    FOMs there with their bootstrap errors, the test yields and counts there, and the
    test maximum (among cuts passing the same requirement on the test background).

    ``warnings`` lists what makes the choice meaningless or suspect: no allowed cut with
    a validation FOM above 0 (no cut is chosen: the cut's numbers are NaN), a chosen cut
    on an edge of the scanned range, a test FOM of 0 everywhere.
    """
    validation, test = scans["validation"], scans["test"]
    cuts = validation["cut"].to_numpy()
    validation_fom = _allowed(validation, min_background_events)
    test_fom = _allowed(test, min_background_events)
    best = int(np.argmax(validation_fom))
    best_test = int(np.argmax(test_fom))
    warnings = cut_warnings(cuts, validation_fom, best, test["fom"].to_numpy())
    effective = validation["background_effective_events"].to_numpy()
    if not enough_background(effective, min_background_events).any():
        # Say why no cut is allowed at all, with the numbers that would fix it.
        most = int(np.nanargmax(effective)) if np.isfinite(effective).any() else 0
        warnings = [
            f"no scanned cut keeps fom.min_background_events = {min_background_events:g} "
            f"effective background events on the validation split (the most: "
            f"{np.nan_to_num(effective[most]):.3g}, at cut {cuts[most]:.4g}): no cut is chosen; "
            "lower fom.min_background_events or fom.cut_min, or bring more simulated "
            "background"
        ] + warnings[1:]
    numbers = {
        "best_cut": float(cuts[best]),
        "fom_validation_at_best_cut": float(validation_fom[best]),
        "fom_validation_at_best_cut_stat_error": float(validation["fom_stat_error"].iloc[best]),
    }
    for column in _TEST_AT_BEST_CUT:
        numbers[f"{column}_test_at_best_cut"] = float(test[column].iloc[best])
        if column == "fom":
            numbers["fom_test_at_best_cut_stat_error"] = float(test["fom_stat_error"].iloc[best])
    numbers["background_events_test_at_best_cut"] = int(test["background_events"].iloc[best])
    if not validation_fom[best] > 0:
        # No cut is chosen: nothing at "the chosen cut" is a result.
        numbers = dict.fromkeys(numbers, float("nan"))
        numbers["background_events_test_at_best_cut"] = None
    numbers |= {
        "fom_test_max": float(test_fom[best_test]),
        "cut_test_max": float(test["cut"].iloc[best_test])
        if test_fom[best_test] > 0
        else float("nan"),
        "warnings": warnings,
    }
    return numbers


def _allowed(scan: pd.DataFrame, min_background_events: float) -> np.ndarray:
    """The scan's FOM where a cut may be chosen, 0 elsewhere."""
    allowed = enough_background(scan["background_effective_events"], min_background_events)
    return np.where(allowed, scan["fom"].to_numpy(), 0.0)


def cut_warnings(cuts: np.ndarray, validation_fom: np.ndarray, best: int, test_fom) -> list[str]:
    """Why a scan's chosen cut is not a result, or is a suspect one (see
    :func:`best_cut_summary`)."""
    scanned = f"[{cuts[0]:.6g}, {cuts[-1]:.6g}]"
    if not validation_fom[best] > 0:
        return [
            f"the validation FOM is 0 at every allowed cut of the scan {scanned}: no cut is "
            "chosen (no counted signal above the cuts, or too few effective background "
            "events for fom.min_background_events); widen the scan or check the classes"
        ]
    warnings = []
    if len(cuts) > 1 and best == 0:
        warnings.append(
            f"the chosen cut {cuts[0]:.6g} is the lowest scanned: the optimum may lie below "
            "the scan; lower fom.cut_min"
        )
    if len(cuts) > 1 and best == len(cuts) - 1:
        warnings.append(
            f"the chosen cut {cuts[-1]:.6g} is the highest scanned: the optimum may lie above "
            "the scan; raise fom.cut_max"
        )
    if not np.max(test_fom) > 0:
        warnings.append(f"the test FOM is 0 at every scanned cut {scanned}")
    return warnings
