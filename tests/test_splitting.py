"""Train/validation/test splitting (stratified per process) and the pre-split layout."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from cmsnn.config.checks import check_fractions
from cmsnn.dataframes import read_parquet, write_parquet
from cmsnn.preprocessing.selection import apply_preselection, preselect_files
from cmsnn.preprocessing.splitting import (
    assign_splits,
    check_presplit_classes,
    collect_presplit_files,
    share_warnings,
    split_counts,
    split_events,
    split_events_files,
    split_shares,
)
from cmsnn.vocabulary import SPLITS

FRACTIONS = {"train": 0.25, "validation": 0.25, "test": 0.5}
PROCESS_SIZES = {"sig.root": 1001, "wjets.root": 4000, "ttbar.root": 37, "rare.root": 3}


def split_outputs(outputs):
    """The split entry points' output keywords, from ``{<split>: path, "shares": path}``."""
    return {"splits": {split: outputs[split] for split in SPLITS}, "shares": outputs["shares"]}


@pytest.fixture
def events():
    rng = np.random.default_rng(7)
    processes = np.concatenate([[name] * n for name, n in PROCESS_SIZES.items()])
    rng.shuffle(processes)  # processes interleaved, as after concatenating and sorting
    n = len(processes)
    return pd.DataFrame(
        {
            "event_id": np.arange(n),
            "Met": rng.exponential(100.0, n).astype(np.float32) + 200,
            "weight": rng.uniform(0.1, 2.0, n),
            "process": processes,
        }
    )


def test_every_event_exactly_once(events):
    parts = split_events(events, FRACTIONS, seed=1)
    assert set(parts) == set(SPLITS)
    ids = np.concatenate([parts[split]["event_id"].to_numpy() for split in SPLITS])
    assert len(ids) == len(events)
    assert np.array_equal(np.sort(ids), events["event_id"].to_numpy())


def test_rows_are_carried_unchanged(events):
    """Weights (and every other column) travel with their event, untouched."""
    parts = split_events(events, FRACTIONS, seed=1)
    merged = pd.concat(parts.values()).sort_values("event_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(merged, events)
    for part in parts.values():
        assert part.index.equals(pd.RangeIndex(len(part)))


def test_stratified_per_process(events):
    parts = split_events(events, FRACTIONS, seed=3)
    for process, n in PROCESS_SIZES.items():
        counts = {split: int((parts[split]["process"] == process).sum()) for split in SPLITS}
        assert sum(counts.values()) == n
        for split in SPLITS:
            assert abs(counts[split] - n * FRACTIONS[split]) <= 1, (process, counts)


def test_split_counts_by_hand():
    assert split_counts(1000, FRACTIONS) == {"train": 250, "validation": 250, "test": 500}
    assert split_counts(1001, {"train": 0.6, "validation": 0.2, "test": 0.2}) == {
        "train": 601,
        "validation": 200,
        "test": 200,
    }
    assert split_counts(3, {"train": 0.5, "validation": 0.45, "test": 0.05}) == {
        "train": 2,
        "validation": 1,
        "test": 0,
    }
    for n in range(0, 50):
        counts = split_counts(n, FRACTIONS)
        assert sum(counts.values()) == n and min(counts.values()) >= 0


def test_deterministic_for_a_seed_and_different_for_another(events):
    first = split_events(events, FRACTIONS, seed=11)
    again = split_events(events, FRACTIONS, seed=11)
    other = split_events(events, FRACTIONS, seed=12)
    for split in SPLITS:
        pd.testing.assert_frame_equal(first[split], again[split])
    assert not np.array_equal(
        np.sort(first["train"]["event_id"]), np.sort(other["train"]["event_id"])
    )


def test_split_ignores_the_frame_index(events):
    """A concatenation without ignore_index (duplicate labels) splits the same way."""
    relabelled = events.set_axis(np.arange(len(events)) % 7)
    expected = split_events(events, FRACTIONS, seed=4)
    got = split_events(relabelled, FRACTIONS, seed=4)
    for split in SPLITS:
        pd.testing.assert_frame_equal(got[split], expected[split])


def test_split_is_random_within_a_process(events):
    """The training events are not simply the first rows of each process."""
    parts = split_events(events, FRACTIONS, seed=5)
    sig = events[events["process"] == "sig.root"]["event_id"].to_numpy()
    train_sig = parts["train"][parts["train"]["process"] == "sig.root"]["event_id"].to_numpy()
    assert not np.array_equal(np.sort(train_sig), sig[: len(train_sig)])


@pytest.mark.parametrize(
    "fractions",
    [
        {"train": 0.5, "validation": 0.5},
        {"train": 0.5, "validation": 0.3, "test": 0.3},
        {"train": 0.5, "validation": 0.6, "test": -0.1},
        {"train": 0.5, "validation": 0.5, "test": 0.0},
        {"train": 0.2, "validation": 0.2, "test": 0.2, "extra": 0.4},
    ],
)
def test_check_fractions_rejects(fractions, events):
    with pytest.raises(ValueError, match="fractions"):
        check_fractions(fractions)
    with pytest.raises(ValueError, match="fractions"):
        split_events(events, fractions, seed=1)


def test_check_fractions_accepts_valid():
    check_fractions(FRACTIONS)
    check_fractions({"train": 0.7, "validation": 0.2, "test": 0.1})


def test_split_events_files_round_trip(tmp_path, events):
    sources = []
    for process, group in events.groupby("process"):
        path = tmp_path / f"{process}.parquet"
        write_parquet(group, path)
        sources.append(path)
    outputs = {split: str(tmp_path / "split" / f"{split}.parquet") for split in SPLITS}
    outputs["shares"] = str(tmp_path / "split" / "shares.csv")
    split_events_files(ingested=sources, **split_outputs(outputs), fractions=FRACTIONS, seed=2)
    parts = {split: read_parquet(outputs[split]) for split in SPLITS}
    ids = np.sort(np.concatenate([p["event_id"].to_numpy() for p in parts.values()]))
    assert np.array_equal(ids, events["event_id"].to_numpy())
    assert abs(len(parts["test"]) - 0.5 * len(events)) <= len(PROCESS_SIZES)
    # the shares the yields use are measured from the events, per process
    shares = pd.read_csv(outputs["shares"]).set_index("process")
    assert set(shares["split_by"]) == {"workflow"}
    for split, part in parts.items():
        measured = part.groupby("process").size() / events.groupby("process").size()
        assert shares[f"{split}_share"].to_dict() == pytest.approx(measured.to_dict())
        # the config's fraction up to the rounding of each process's event count
        difference = (shares[f"{split}_share"] - FRACTIONS[split]).abs()
        assert (difference <= 1 / shares["events"]).all()


def test_adding_a_process_leaves_the_others_split_unchanged(events):
    """Each process draws from its own stream (seed and name): a new sample, or one
    removed, must not reshuffle the training events of the others."""
    before = split_events(events, FRACTIONS, seed=9)
    rng = np.random.default_rng(0)
    n_new = 500
    new = pd.DataFrame(
        {
            "event_id": np.arange(len(events), len(events) + n_new),
            "Met": rng.exponential(100.0, n_new).astype(np.float32) + 200,
            "weight": rng.uniform(0.1, 2.0, n_new),
            # sorts between the existing names, and is interleaved with them
            "process": "sa_new.root",
        }
    )
    # the new rows are slipped in among the old ones, whose order is kept
    keys = np.concatenate([np.arange(len(events)), rng.uniform(0, len(events), n_new)])
    extended = pd.concat([events, new], ignore_index=True).iloc[np.argsort(keys, kind="stable")]
    assert (extended["process"].iloc[:1000] == "sa_new.root").any()
    after = split_events(extended, FRACTIONS, seed=9)
    for split in SPLITS:
        old = after[split][after[split]["process"] != "sa_new.root"]
        assert sorted(old["event_id"]) == sorted(before[split]["event_id"]), split
    # and removing a process
    reduced = events[events["process"] != "wjets.root"]
    without = split_events(reduced, FRACTIONS, seed=9)
    for split in SPLITS:
        kept = before[split][before[split]["process"] != "wjets.root"]
        assert sorted(without[split]["event_id"]) == sorted(kept["event_id"]), split


def test_split_of_a_process_depends_on_its_name_and_the_seed_only():
    """The assignment of a process's events is the same alone or among others, and
    two processes of equal size are not split alike."""
    fractions = {"train": 0.5, "validation": 0.25, "test": 0.25}
    alone = assign_splits(pd.Series(["b.root"] * 200), fractions, seed=3)
    # a.root sorts first: with one stream for all processes it would consume the draws
    mixed = assign_splits(pd.Series(["a.root"] * 200 + ["b.root"] * 200), fractions, seed=3)
    np.testing.assert_array_equal(mixed[200:], alone)
    assert not np.array_equal(mixed[:200], alone)
    other_seed = assign_splits(pd.Series(["b.root"] * 200), fractions, seed=4)
    assert not np.array_equal(other_seed, alone)


def presplit_frame(processes, classes):
    return pd.DataFrame(
        {
            "x": np.arange(len(processes), dtype=float),
            "weight": 0.1,
            "process": processes,
            "class": classes,
        }
    )


def test_collect_presplit_files_concatenates(tmp_path):
    sources = {}
    expected = {}
    for split in SPLITS:
        sig = presplit_frame(["s", "s"], ["Signal", "Signal"])
        bkg = presplit_frame([f"b_{split}"], ["Wjets"])
        paths = [tmp_path / f"{split}_sig.parquet", tmp_path / f"{split}_bkg.parquet"]
        write_parquet(sig, paths[0])
        write_parquet(bkg, paths[1])
        sources[split] = paths
        expected[split] = pd.concat([sig, bkg], ignore_index=True)
    outputs = {split: tmp_path / "out" / f"{split}.parquet" for split in SPLITS}
    outputs["shares"] = tmp_path / "out" / "shares.csv"
    collect_presplit_files(ingested=sources, **split_outputs(outputs), signal_class="Signal")
    for split in SPLITS:
        got = read_parquet(outputs[split])
        pd.testing.assert_frame_equal(got, expected[split], check_dtype=False)
        assert got["process"].tolist() == ["s", "s", f"b_{split}"]
    # the headline signal is checked here, when the split files come together
    for wrong in ("t", "b_test"):
        with pytest.raises(ValueError, match=rf"\['{wrong}'\].*choose among \['s'\]"):
            collect_presplit_files(
                ingested=sources,
                **split_outputs(outputs | {"test": tmp_path / "x.parquet"}),
                signal_class="Signal",
                signal_processes=[wrong],
            )
        assert not (tmp_path / "x.parquet").exists()


def test_check_presplit_classes_accepts_consistent_files():
    check_presplit_classes(
        presplit_frame(["s1", "s2"], ["Signal", "Signal"]), "a/train_sig.parquet", "Signal"
    )
    check_presplit_classes(
        presplit_frame(["w", "t"], ["Wjets", "TTbar"]), "a/val_bkg.parquet", "Signal"
    )
    check_presplit_classes(presplit_frame([], []), "a/test_bkg.parquet", "Signal")


def test_check_presplit_classes_background_in_a_signal_file():
    events = presplit_frame(["s", "w1", "w2", "w1"], ["Signal", "Wjets", "Other", "Wjets"])
    with pytest.raises(ValueError) as info:
        check_presplit_classes(events, "data/train_sig.parquet", "Signal")
    message = str(info.value)
    assert message.startswith("data/train_sig.parquet: a signal file")
    assert "['w1', 'w2']" in message and "['Other', 'Wjets']" in message
    assert "'s'" not in message


def test_check_presplit_classes_signal_in_a_background_file():
    events = presplit_frame(["w", "stop.root", "w"], ["Wjets", "Signal", "Wjets"])
    with pytest.raises(ValueError) as info:
        check_presplit_classes(events, "data/val_bkg.parquet", "Signal")
    message = str(info.value)
    assert message.startswith("data/val_bkg.parquet: a background file")
    assert "['stop.root']" in message and "['Signal']" in message
    assert "'w'" not in message


def test_collect_presplit_files_names_the_wrong_file(tmp_path):
    sources = {}
    for split in SPLITS:
        sig = presplit_frame(["s"], ["Signal"])
        # the test background file holds a process the class patterns call signal
        bkg = presplit_frame(["w", "s_x"], ["Wjets", "Signal" if split == "test" else "Wjets"])
        sources[split] = [tmp_path / f"{split}_sig.parquet", tmp_path / f"{split}_bkg.parquet"]
        write_parquet(sig, sources[split][0])
        write_parquet(bkg, sources[split][1])
    outputs = {split: tmp_path / "out" / f"{split}.parquet" for split in SPLITS}
    outputs["shares"] = tmp_path / "out" / "shares.csv"
    with pytest.raises(ValueError, match=r"test_bkg\.parquet: a background file .*\['s_x'\]"):
        collect_presplit_files(ingested=sources, **split_outputs(outputs), signal_class="Signal")
    assert not outputs["test"].exists()


# --- preselection --------------------------------------------------------------------


@pytest.fixture
def small():
    return pd.DataFrame(
        {
            "Met": [210.0, 260.0, 300.0, 250.0, 500.0],
            "Njet": [1.0, 2.0, 3.0, 2.0, 1.0],
            "weight": [1.0, 2.0, 3.0, 4.0, 5.0],
            "process": ["a", "b", "a", "b", "a"],
        }
    )


@pytest.mark.parametrize(
    ("cut", "kept_weights"),
    [
        ("Met > 250 and Njet >= 2", [2.0, 3.0]),
        ("Met >= 250", [2.0, 3.0, 4.0, 5.0]),
        ("process == 'a' or Njet == 2", [1.0, 2.0, 3.0, 4.0, 5.0]),
        ("Met > 1000", []),
    ],
)
def test_apply_preselection_keeps_exactly_the_query_rows(small, cut, kept_weights):
    selected = apply_preselection(small, cut)
    assert selected["weight"].tolist() == kept_weights
    pd.testing.assert_frame_equal(selected, small.query(cut).reset_index(drop=True))


def test_preselect_files(tmp_path, small):
    source, output = tmp_path / "in.parquet", tmp_path / "out.parquet"
    write_parquet(small, source)
    preselect_files(events=source, selected=output, cut="Met > 255", split="train")
    assert read_parquet(output)["weight"].tolist() == [2.0, 3.0, 5.0]
    with pytest.raises(ValueError, match="keeps no event of the validation split"):
        preselect_files(
            events=source, selected=tmp_path / "none.parquet", cut="Met > 1000", split="validation"
        )
    assert not (tmp_path / "none.parquet").exists()


@pytest.mark.parametrize("cut", ["Met >> ", "Foo > 1", "Met > ", ""])
def test_bad_preselection_names_the_expression(small, cut):
    with pytest.raises(ValueError, match="preselection") as info:
        apply_preselection(small, cut)
    assert repr(cut) in str(info.value)


@pytest.mark.parametrize("cut", ["Met + 1", "Njet", "Met * Njet"])
def test_non_boolean_preselection_rejected(small, cut):
    with pytest.raises(ValueError, match="condition"):
        apply_preselection(small, cut)


def test_unknown_fom_signal_processes_fail_at_the_split(tmp_path):
    events = pd.DataFrame(
        {
            "x": [1.0, 2.0, 3.0, 4.0],
            "weight": 1.0,
            "process": ["sig_a.root", "sig_b.root", "bkg.root", "bkg.root"],
            "class": ["Signal", "Signal", "B", "B"],
        }
    )
    write_parquet(events, tmp_path / "all.parquet")
    outputs = {split: tmp_path / f"{split}.parquet" for split in ("train", "validation", "test")}
    outputs["shares"] = tmp_path / "shares.csv"
    fractions = {"train": 0.25, "validation": 0.25, "test": 0.5}
    arguments = {"ingested": [tmp_path / "all.parquet"], **split_outputs(outputs)}
    arguments |= {"fractions": fractions, "seed": 1, "signal_class": "Signal"}
    with pytest.raises(ValueError, match=r"\['sig_c\.root'\].*\['sig_a\.root', 'sig_b\.root'\]"):
        split_events_files(**arguments, signal_processes=["sig_c.root"])
    assert not any(path.exists() for path in outputs.values())
    split_events_files(**arguments, signal_processes=["sig_b.root"])
    assert all(path.exists() for path in outputs.values())


def shares_of(splits_by_process, presplit, weights=None):
    """The shares table of ``{split: {process: n_events}}`` (weights 1, or from
    ``weights(process, split, n)``), and its warnings."""
    tables = {}
    for split in SPLITS:
        frames = []
        for process, n in splits_by_process[split].items():
            weight = weights(process, split, n) if weights else np.ones(n)
            frames.append(pd.DataFrame({"process": process, "class": "C", "weight": weight}))
        tables[split] = pd.concat(frames, ignore_index=True)
    shares = split_shares(tables)
    return shares.set_index("process"), share_warnings(shares, presplit)


def test_split_shares_count_events_and_weights_per_process():
    shares, warnings = shares_of(
        {"train": {"a": 30, "b": 10}, "validation": {"a": 30, "b": 10}, "test": {"a": 30, "b": 10}},
        presplit=True,
    )
    assert shares.loc["a", "events"] == 90 and shares.loc["b", "test_events"] == 10
    assert shares["train_share"].to_numpy() == pytest.approx(1 / 3)
    assert shares["test_weight_share"].to_numpy() == pytest.approx(1 / 3)
    assert warnings == []


def test_a_process_missing_from_a_split_is_named_with_what_it_costs():
    shares, warnings = shares_of(
        {"train": {"a": 5, "b": 2}, "validation": {"a": 5, "b": 0}, "test": {"a": 10, "b": 0}},
        presplit=False,
    )
    assert shares.loc["b", "test_share"] == 0 and shares.loc["b", "train_share"] == 1
    assert warnings == [
        "process b has no events in the validation split (2 in all): the validation yields "
        "and the chosen cut leave it out",
        "process b has no events in the test split (2 in all): the test yields leave it out",
    ]


def test_a_process_whose_weights_are_all_zero_is_named():
    """Such a process counts nowhere: every model's warnings say so (issue 30, row 7)."""
    sizes = {split: {"a": 10, "zero": 5} for split in SPLITS}
    _, warnings = shares_of(
        sizes, presplit=False, weights=lambda p, s, n: np.zeros(n) if p == "zero" else np.ones(n)
    )
    assert warnings == [
        "process zero: all 15 of its weights are zero; it adds nothing to any yield or to "
        "the training: check its weight column"
    ]


def test_presplit_files_split_by_weight_are_named():
    """The heavy events of a process all in the training file: its share of events is a
    third everywhere, its share of the weights is not, far beyond statistics."""
    rng = np.random.default_rng(1)
    sizes = {split: {"a": 1000, "b": 1000} for split in SPLITS}

    def weights(process, split, n):
        if process == "a" and split == "train":
            return rng.uniform(2.0, 3.0, n)
        return rng.uniform(0.5, 1.5, n)

    _, warnings = shares_of(sizes, presplit=True, weights=weights)
    assert len(warnings) == 3 and all(w.startswith("process a: the ") for w in warnings)
    # 2.5 / (2.5 + 1 + 1) of the weights in the training file
    assert re.search(
        r"train split holds 33\.3% of its events but 5[56]\.\d% of its sum of w", warnings[0]
    )
    # a random split of the same weights is left alone
    _, warnings = shares_of(sizes, presplit=True, weights=lambda p, s, n: rng.uniform(0.5, 1.5, n))
    assert warnings == []


def test_presplit_files_of_unequal_composition_are_named():
    _, warnings = shares_of(
        {
            "train": {"a": 800, "b": 400},
            "validation": {"a": 100, "b": 400},
            "test": {"a": 100, "b": 400},
        },
        presplit=True,
    )
    assert any(
        w.startswith("process a: the train split holds 80.0% of its events against 54.5%")
        for w in warnings
    )
    assert all("the splits differ in composition" in w for w in warnings)
    # a split drawn by the workflow is stratified: only missing processes are named
    assert (
        shares_of(
            {"train": {"a": 800}, "validation": {"a": 100}, "test": {"a": 100}}, presplit=False
        )[1]
        == []
    )


def test_shares_read_back_keep_names_as_text_and_weights_that_cancel_as_no_share(tmp_path):
    """A process named like a number stays that name; one whose weights sum to 0 (NLO)
    has no share of weights, which is not compared, and no crash."""
    from cmsnn.preprocessing.splitting import read_shares, write_shares

    tables = {
        split: pd.DataFrame(
            {"process": ["550", "550", "NA"], "class": "C", "weight": [1.0, 1.0, w]}
        )
        for split, w in zip(SPLITS, (1.0, -1.0, 0.0), strict=True)
    }
    write_shares(tables, tmp_path / "shares.csv", presplit=True)
    fractions, warnings = read_shares(tmp_path / "shares.csv")
    assert fractions["test"] == {"550": pytest.approx(1 / 3), "NA": pytest.approx(1 / 3)}
    assert not any("sum of weights" in warning for warning in warnings)
