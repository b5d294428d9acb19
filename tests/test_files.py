"""Atomic writes: no half-written result, no stale leftovers, the usual file mode."""

from __future__ import annotations

import os
import stat

import numpy as np
import pandas as pd
import pytest

from cmsnn.dataframes import (
    read_csv_with_names,
    read_predictions,
    write_csv,
    write_predictions,
    write_predictions_csv,
)
from cmsnn.files import atomic_path, remove_stale_partials


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


def test_predictions_written_by_pyarrow_read_back_as_pandas_writes_them(tmp_path):
    """pyarrow's CSV writer gives the same numbers as pandas' (float32 scores at their
    shortest exact text, float64 weights to the last bit), and the file reads back
    equal with either reader."""
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(
        {
            "score_Signal": rng.random(1000, dtype=np.float32),
            "predicted_class": rng.choice(["Signal", "TTbar, dileptonic"], 1000),
            "weight": 10 ** rng.uniform(-9, 3, 1000) * rng.choice([-1, 1], 1000),
            "process": "TTJets.root",
            "source_entry": np.arange(1000, dtype=np.int64),
        }
    )
    fast, reference = tmp_path / "fast.csv", tmp_path / "pandas.csv"
    write_predictions_csv(frame, fast)
    write_csv(frame, reference)
    expected = pd.read_csv(reference)
    pd.testing.assert_frame_equal(pd.read_csv(fast), expected)
    # every digit is kept: the text reads back (Python's exact parser) as the same double
    assert [float(text) for text in pd.read_csv(fast, dtype=str)["weight"]] == list(frame["weight"])
    assert (pd.read_csv(fast)["score_Signal"] == expected["score_Signal"]).all()
    # written atomically: no partial file left beside them
    assert sorted(path.name for path in tmp_path.iterdir()) == ["fast.csv", "pandas.csv"]


def test_predictions_are_written_as_parquet_for_the_rules_and_the_same_table_as_csv(tmp_path):
    """The Parquet file the later rules read and the CSV beside it for people hold the
    same table: every score and weight to the last bit, names kept as text."""
    rng = np.random.default_rng(2)
    frame = pd.DataFrame(
        {
            "score_Signal": rng.random(500, dtype=np.float32),
            "predicted_class": rng.choice(["Signal", "NA"], 500),
            "weight": 10 ** rng.uniform(-9, 3, 500) * rng.choice([-1, 1], 500),
            "process": rng.choice(["550", "TTJets.root"], 500),
            "class": rng.choice(["Signal", "NA"], 500),
            "source_entry": np.arange(500, dtype=np.int64),
        }
    )
    parquet, csv = tmp_path / "predictions_test.parquet", tmp_path / "predictions_test.csv"
    write_predictions(frame, parquet, csv)
    from_parquet = read_predictions(parquet)
    pd.testing.assert_frame_equal(from_parquet, frame)
    from_csv = read_csv_with_names(csv).astype({"score_Signal": np.float32})
    pd.testing.assert_frame_equal(from_csv, frame, check_dtype=False, check_exact=True)
    kept = read_predictions(parquet, columns=lambda column: column != "source_entry")
    assert list(kept.columns) == list(frame.columns[:-1])
