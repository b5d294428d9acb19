"""Checks config files before Snakemake reads them: ``python -m cmsnn.config FILE …``.

Snakemake merges every ``--configfile`` into its config before the workflow's own
checks run, copying each YAML alias of a mapping as it goes: a file of nested aliases
(the "billion laughs") keeps it busy for hours. Run this on a config you did not write;
it reads each file once, in time proportional to its length, and exits 1 naming the
file and the place when one is unsafe to give to Snakemake.
"""

from __future__ import annotations

import sys

from cmsnn.config.size import check_config_file


def main(paths: list[str]) -> int:
    if not paths:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    failed = False
    for path in paths:
        try:
            check_config_file(path)
        except ValueError as problem:
            print(problem, file=sys.stderr)
            failed = True
        else:
            print(f"{path}: safe to give to Snakemake")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
