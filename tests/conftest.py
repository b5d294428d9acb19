"""Test-session settings shared by every test file."""

from __future__ import annotations

#: The files whose end-to-end runs take longest, longest first (minutes each in
#: `.ci/run`'s `--durations`). Two workers each take a whole file (``--dist loadfile``),
#: in collection order (``--no-loadscope-reorder``: xdist would otherwise order the
#: files by their number of tests, and these few-test files came last, one of them
#: running alone at the end). Started first, they run side by side and the short files
#: fill in after them.
LONGEST_FIRST = ("test_workflow.py", "test_slurm.py", "test_presets.py")


def pytest_collection_modifyitems(config, items):
    rank = {name: position for position, name in enumerate(LONGEST_FIRST)}
    # a stable sort: the other files, and the tests within each file, keep their order
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))
