"""Atomic writes: no half-written result, no stale leftovers, the usual file mode."""

from __future__ import annotations

import os
import stat

import pandas as pd
import pytest

from cmsnn.files import atomic_path, remove_stale_partials, write_csv


@pytest.fixture
def umask_022():
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_results_get_the_umasks_mode_not_mkstemps_0600(tmp_path, umask_022):
    path = tmp_path / "table.csv"
    write_csv(pd.DataFrame({"a": [1]}), path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    os.umask(0o002)
    write_csv(pd.DataFrame({"a": [2]}), path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o664


def test_a_failed_write_leaves_nothing_and_a_killed_one_is_cleaned_next_time(tmp_path):
    path = tmp_path / "fom_scan.csv"
    with pytest.raises(RuntimeError), atomic_path(path) as temporary:
        temporary.write_text("half")
        raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []
    # a job killed by SIGKILL between writing and renaming leaves its temporary file
    leftover = tmp_path / ".fom_scan.k1ll3d_x.partial.csv"
    leftover.write_text("half")
    other = tmp_path / ".fom_scan_by_signal.abcdefgh.partial.csv"  # another output's
    other.write_text("in flight")
    write_csv(pd.DataFrame({"a": [1]}), path)
    assert not leftover.exists() and other.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [other.name, "fom_scan.csv"]


def test_remove_stale_partials_reports_what_it_removed(tmp_path):
    (tmp_path / ".model.12345678.partial.keras").write_text("x")
    assert [p.name for p in remove_stale_partials(tmp_path / "model.keras")] == [
        ".model.12345678.partial.keras"
    ]
    assert remove_stale_partials(tmp_path / "model.keras") == []
