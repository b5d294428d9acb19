"""The hyper-parameter grid: which models the configuration asks for, and their names.

A grid point is one combination of the values listed under ``grid:`` in the config;
each point is trained once per seed. Points are named from their values
(``decay_rate-0.001``, ``layers-64x64_learning_rate-0.0005``) so a user finds a model's
folder without reading code, and so that editing one value creates a new folder while
every other point keeps its results.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping

#: Grid keys that choose the prepared data set rather than the network.
PREPROCESSING_KEYS = ("scaling", "balancing")
#: Training keys that change how a job runs, not its result: not among a model's settings
#: (which are its rule's params, so a change would retrain).
RUN_ONLY_KEYS = ("checkpoint_seconds", "progress_seconds")
#: Training keys that say what the network is asked (its inputs) rather than how it is
#: trained: they reach the jobs through the task and the masses, not the settings.
TASK_KEYS = ("parametrised", "signal_masses", "held_out_mass_points", "dedicated_networks")


def format_value(value) -> str:
    """Render one grid value for use in a folder name."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return format(value, "g")
    if isinstance(value, list | tuple):
        return "x".join(format_value(item) for item in value)
    return str(value)


def point_name(values: Mapping) -> str:
    """Name of a grid point, ``key-value`` pairs joined by ``_`` in the grid's key order."""
    if not values:
        return "default"
    return "_".join(f"{key}-{format_value(value)}" for key, value in values.items())


def expand_grid(grid: Mapping[str, list]) -> dict[str, dict]:
    """All grid points as ``{point name: {key: value}}``, in the order the grid lists them."""
    keys = list(grid)
    points = {}
    for combination in itertools.product(*(grid[key] for key in keys)):
        values = dict(zip(keys, combination, strict=True))
        name = point_name(values)
        if name in points:
            raise ValueError(
                f"grid points {points[name]} and {values} share the folder name {name!r}; "
                "make the grid values distinct"
            )
        points[name] = values
    return points


def point_settings(config: Mapping, point_values: Mapping) -> dict:
    """The training and preprocessing settings of one grid point: the defaults, overridden.

    Keys are sorted: Snakemake compares a rule's params as text, so reordering keys in
    the config file must not look like a change that retrains every model.
    """
    settings = {**config["preprocessing"], **config["training"], **point_values}
    for key in (*RUN_ONLY_KEYS, *TASK_KEYS):
        settings.pop(key, None)
    return canonical(settings)


def canonical(value):
    """``value`` with every mapping's keys sorted, recursively (stable params for Snakemake)."""
    if isinstance(value, Mapping):
        return {key: canonical(value[key]) for key in sorted(value)}
    if isinstance(value, list | tuple):
        return [canonical(item) for item in value]
    return value
