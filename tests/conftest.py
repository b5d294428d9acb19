"""Test-session settings shared by every test file."""

from __future__ import annotations

#: The files whose shared end-to-end runs take longest, longest first. Two workers each
#: take a whole file (``--dist loadfile``); started first, these run side by side and the
#: short files fill in after them, instead of the longest file starting last, alone.
LONGEST_FIRST = ("test_workflow.py", "test_slurm.py", "test_presets.py")


def pytest_collection_modifyitems(config, items):
    rank = {name: position for position, name in enumerate(LONGEST_FIRST)}
    # a stable sort: the other files, and the tests within each file, keep their order
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))
