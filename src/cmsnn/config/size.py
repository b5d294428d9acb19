"""The config's size: a config (a file, or the merged config with ``--config``) whose
values could not be walked in bounded time is refused before anything walks it. YAML
aliases are references to one value, cheap to read, but every check, every merge and
the schema's validation walk them expanded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import yaml

from cmsnn.files import read_yaml

#: The most values (mappings, lists and scalars, each YAML alias counted as often as it
#: is used) and the deepest nesting a config may have: the shipped config has about 150
#: values, 5 levels deep. Every check walks the expanded config, so a file of nested
#: aliases (the "billion laughs") would otherwise keep the start-up busy for hours.
CONFIG_VALUE_LIMIT = 100_000
CONFIG_DEPTH_LIMIT = 20


def config_problem(config) -> str | None:
    """What is wrong with a config's size: too many values once its aliases are
    expanded, nesting too deep, or a value that holds itself; ``None`` when it is sane.

    Each value is visited once (an alias is the same object as its anchor), so this
    takes time in proportion to the file, not to its expansion.

    >>> bomb = ["lol"] * 9
    >>> for _ in range(8):
    ...     bomb = [bomb] * 9
    >>> config_problem({"plots": {"status": bomb}})
    'its aliases expand to more than 100,000 values (at plots.status[0][0][0])'
    >>> config_problem({"seeds": [1, 2]}) is None
    True
    """
    sizes: dict[int, tuple[int, int]] = {}  # id → (expanded values, depth)
    open_ids: set[int] = set()

    def measure(value, where: str) -> tuple[int, int]:
        if not isinstance(value, Mapping | list):
            return 1, 0
        if id(value) in sizes:
            return sizes[id(value)]
        if id(value) in open_ids:
            raise _ConfigTooBig(f"a value holds itself (at {where or 'the top'})")
        open_ids.add(id(value))
        items = value.items() if isinstance(value, Mapping) else enumerate(value)
        count, depth = 1, 0
        for key, item in items:
            inner = f"{where}.{key}" if isinstance(value, Mapping) else f"{where}[{key}]"
            item_count, item_depth = measure(item, inner.lstrip("."))
            count, depth = count + item_count, max(depth, item_depth + 1)
            if count > CONFIG_VALUE_LIMIT:
                raise _ConfigTooBig(
                    f"its aliases expand to more than {CONFIG_VALUE_LIMIT:,} values "
                    f"(at {where or 'the top'})"
                )
            if depth > CONFIG_DEPTH_LIMIT:
                raise _ConfigTooBig(
                    f"it nests deeper than {CONFIG_DEPTH_LIMIT} levels (at {where or 'the top'})"
                )
        open_ids.discard(id(value))
        sizes[id(value)] = count, depth
        return count, depth

    try:
        measure(config, "")
    except _ConfigTooBig as problem:
        return str(problem)
    except RecursionError:
        return f"it nests deeper than {CONFIG_DEPTH_LIMIT} levels"
    return None


class _ConfigTooBig(Exception):
    pass


def check_config_size(config, files: Sequence = ()) -> None:
    """Refuses a config that the start-up could not walk in bounded time (see
    :func:`config_problem`), naming the config file that makes it so.

    Args:
        config: the config as Snakemake merged it.
        files: the config files Snakemake read, each checked on its own when the merged
            config is too big, to name the culprit.

    Raises:
        ValueError: naming the file (or ``--config``), the place and what to do.
    """
    problem = config_problem(config)
    if problem is None:
        return
    for path in files:
        check_config_file(path)
    raise ValueError(
        f"the config (with --config): {problem}; write the values out without nested aliases"
    )


def check_config_file(path) -> None:
    """Refuses a config file whose values could not be walked in bounded time (see
    :func:`config_problem`); a file that is not there, or not YAML, is left to Snakemake
    to name.

    Raises:
        ValueError: naming the file, the place and what to do.
    """
    try:
        problem = config_problem(read_yaml(path))
    except (OSError, yaml.YAMLError):
        return
    except RecursionError:  # (PyYAML's composer recurses once per level)
        problem = f"it nests deeper than {CONFIG_DEPTH_LIMIT} levels"
    if problem is not None:
        raise ValueError(
            f"{path}: {problem}; a config needs no YAML aliases or nesting like this: write "
            "the values out, or remove the file if it is not yours"
        )
