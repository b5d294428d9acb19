"""Seed ensembles: the mean of a grid point's seeds' outputs, a model too.

Networks trained from different seeds disagree event by event; averaging their outputs
cancels part of that scatter without any retraining, the usual way to steady a cut's
figure of merit. The ensemble's predictions have the members' layout, so the FOM scan,
AUCs and summary treat it like any other model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from cmsnn.dataframes import read_predictions, write_parquet, write_predictions
from cmsnn.vocabulary import EVENT_COLUMNS, MASS_POINT, SCORE_PREFIX


def average_predictions(
    members: Sequence[pd.DataFrame], member_names: Sequence[str]
) -> pd.DataFrame:
    """The members' scores averaged event by event; in multi-class mode (a
    ``predicted_class`` column) the predicted class is the highest averaged score.
    The members must hold the same events in the same order."""
    first = members[0]
    scores = [column for column in first.columns if column.startswith(SCORE_PREFIX)]
    for name, member in zip(member_names[1:], members[1:], strict=True):
        _check_same_events(first, member, member_names[0], name, scores)
    mean_scores = np.mean([member[scores].to_numpy(dtype=np.float64) for member in members], axis=0)
    averaged = pd.DataFrame(mean_scores, columns=scores)
    if "predicted_class" in first.columns:
        classes = np.asarray([column.removeprefix(SCORE_PREFIX) for column in scores], dtype=object)
        averaged["predicted_class"] = classes[mean_scores.argmax(axis=1)]
    for column in _event_columns(first):
        averaged[column] = first[column].to_numpy()
    return averaged


def average_seed_predictions_files(
    *,
    members: Mapping[str, Sequence[str]],
    ensemble: Mapping[str, str],
    ensemble_csv: Mapping[str, str],
    members_at_mass_points: Mapping[str, Sequence[str]] | None = None,
    at_mass_points: Mapping[str, str] | None = None,
) -> None:
    """Entry point of rule ``average_seed_predictions``: ``members`` (``{split: [each
    seed's prediction Parquet file]}``) in, the seed ensemble's predictions per split out
    (``ensemble``: Parquet, for the later rules; ``ensemble_csv``: the same as CSV); and
    for a parametrised network, the same of its tables at every signal point
    (``members_at_mass_points`` in, ``at_mass_points`` out)."""
    for split, paths in members.items():
        tables = [read_predictions(path) for path in paths]
        averaged = average_predictions(tables, [str(path) for path in paths])
        write_predictions(averaged, ensemble[split], ensemble_csv[split])
    for split, paths in (members_at_mass_points or {}).items():
        tables = [read_predictions(path) for path in paths]
        write_parquet(average_predictions(tables, [str(p) for p in paths]), at_mass_points[split])


def _check_same_events(first, member, first_name, name, scores) -> None:
    if list(member.columns) != list(first.columns) or len(member) != len(first):
        raise ValueError(
            f"{name} and {first_name} do not hold the same events or outputs "
            f"({len(member)} vs {len(first)} rows); rerun their predictions"
        )
    for column in _event_columns(first):
        if not member[column].equals(first[column]):
            row = int(np.argmax(member[column].to_numpy() != first[column].to_numpy()))
            raise ValueError(
                f"{name} and {first_name} differ in column {column!r} at event {row} (row "
                f"{row + 2} of the prediction CSV): the members of an ensemble must predict "
                "the same events in the same order; rerun their predictions"
            )


def _event_columns(predictions: pd.DataFrame) -> list[str]:
    return [column for column in (*EVENT_COLUMNS, MASS_POINT) if column in predictions.columns]
