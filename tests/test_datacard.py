"""The Combine datacard of the binned likelihood (cmsnn.statistics.datacard): the shapes
file and the card read back independently of the module's own reader, the check catching
edits, and the per-bin shape nuisances that stand in for pyhf's shapesys."""

from __future__ import annotations

import numpy as np
import pytest
import uproot
import uproot.writing.identify

from cmsnn.statistics.datacard import check_datacard, read_datacard, write_datacard
from cmsnn.statistics.likelihood import CHANNEL, workspace_spec

EDGES = [0.0, 0.4, 0.7, 0.9, 1.0]
F = 0.2
SIGNAL = (np.array([0.2, 0.9, 2.5, 4.0]), np.array([0.01, 0.09, 0.4, 0.9]))
BACKGROUNDS = {
    "ttbar": (np.array([40.0, 12.0, 3.5, 0.8]), np.array([4.0, 1.5, 0.6, 0.2])),
    "wjets": (np.array([55.0, 9.0, 1.2, 0.3]), np.array([9.0, 2.0, 0.5, 0.1])),
}


def written(tmp_path, model):
    spec = workspace_spec(SIGNAL, BACKGROUNDS, F, model)
    card, shapes = tmp_path / "card.txt", tmp_path / "shapes" / "network.root"
    notes = write_datacard(spec, EDGES, card, shapes)
    return spec, card, shapes, notes


def samples_of(spec):
    """``{sample: (yields, staterror data, modifiers)}`` straight from the workspace."""
    return {
        s["name"]: (
            np.array(s["data"]),
            np.array(next(m["data"] for m in s["modifiers"] if m["type"] == "staterror")),
            s["modifiers"],
        )
        for s in spec["channels"][0]["samples"]
    }


def card_rows(card):
    """The card's non-comment lines, split into words."""
    return [line.split() for line in card.read_text().splitlines() if line and line[0] != "#"]


@pytest.mark.parametrize("model", ["uncorrelated", "class_norms"])
def test_the_shapes_file_holds_each_sample_with_its_mc_stat_errors(tmp_path, model):
    spec, _, shapes, _ = written(tmp_path, model)
    with uproot.open(shapes) as file:
        for name, (yields, errors, _) in samples_of(spec).items():
            histogram = file[name]
            assert histogram.classname == "TH1D"
            np.testing.assert_allclose(histogram.values(), yields, rtol=1e-15)
            np.testing.assert_allclose(histogram.errors(), errors, rtol=1e-14)
            np.testing.assert_allclose(histogram.variances(), errors**2, rtol=1e-14)
            np.testing.assert_array_equal(histogram.axis().edges(), EDGES)
        np.testing.assert_allclose(file["data_obs"].values(), spec["observations"][0]["data"])
        np.testing.assert_array_equal(file["data_obs"].axis().edges(), EDGES)
    assert sorted(path.name for path in tmp_path.rglob("*") if path.is_file()) == [
        "card.txt",
        "network.root",
    ]  # nothing half-written left behind


@pytest.mark.parametrize("model", ["uncorrelated", "class_norms"])
def test_the_card_lists_the_processes_rates_and_lnn_values_of_the_workspace(tmp_path, model):
    spec, card, _, _ = written(tmp_path, model)
    rows = card_rows(card)
    samples = samples_of(spec)
    names, indices = (row[1:] for row in rows if row[0] == "process")
    assert names == list(samples) and names[0] == "signal"
    assert indices == [str(i) for i in range(len(names))]
    assert next(row[1:] for row in rows if row[0] == "rate") == ["-1"] * len(names)
    assert ["bin", CHANNEL] in rows and ["observation", "-1"] in rows
    assert ["shapes", "*", "*", "shapes/network.root", "$PROCESS", "$PROCESS_$SYSTEMATIC"] in rows
    assert rows[-1] == [CHANNEL, "autoMCStats", "0"]
    lnn = {row[0]: dict(zip(names, row[2:], strict=True)) for row in rows if row[1:2] == ["lnN"]}
    shape_rows = [row for row in rows if row[1:2] == ["shape"]]
    nuisances = next(int(row[1]) for row in rows if row[0] == "kmax")
    assert nuisances == len(lnn) + len(shape_rows)
    if model == "class_norms":
        assert set(lnn) == {"norm_ttbar", "norm_wjets"} and not shape_rows
        for name, (_, _, modifiers) in samples.items():
            for modifier in (m for m in modifiers if m["type"] == "normsys"):
                lo, hi = (float(v) for v in lnn[modifier["name"]][name].split("/"))
                assert (
                    (lo, hi) == (modifier["data"]["lo"], modifier["data"]["hi"]) == (1 - F, 1 + F)
                )
                others = {p: v for p, v in lnn[modifier["name"]].items() if p != name}
                assert set(others.values()) == {"-"}
    else:
        assert not lnn and len(shape_rows) == len(EDGES) - 1
        assert [row[0] for row in shape_rows] == [f"background_f_bin{i}" for i in range(4)]
        assert all(row[2:] == ["-", "1"] for row in shape_rows)


@pytest.mark.parametrize("model", ["uncorrelated", "class_norms"])
def test_the_check_passes_on_the_written_card_and_read_gives_the_workspace(tmp_path, model):
    spec, card, _, _ = written(tmp_path, model)
    check_datacard(spec, card)
    read = read_datacard(card)
    np.testing.assert_array_equal(read["edges"], EDGES)
    for name, (yields, errors, _) in samples_of(spec).items():
        np.testing.assert_allclose(read["yields"][name], yields, rtol=1e-15)
        np.testing.assert_allclose(read["errors"][name], errors, rtol=1e-14)
    assert read["systematics"]["autoMCStats"] == ("autoMCStats", {CHANNEL: "0"})


def rewrite_with(shapes, name, bin_index, factor):
    """The shapes file again, ``name``'s ``bin_index`` scaled by ``factor`` (errors kept)."""
    with uproot.open(shapes) as file:
        contents = {
            key: (file[key].values(), file[key].variances(), file[key].axis().edges())
            for key in file.keys(cycle=False)
        }
    values, variances, edges = contents[name]
    values = values.copy()
    values[bin_index] *= factor
    contents[name] = (values, variances, edges)
    with uproot.recreate(shapes) as file:
        for key, (values, variances, edges) in contents.items():
            padded, sumw2 = (np.concatenate([[0.0], a, [0.0]]) for a in (values, variances))
            axis = uproot.writing.identify.to_TAxis(
                "xaxis", "", len(values), edges[0], edges[-1], fXbins=edges
            )
            file[key] = uproot.writing.identify.to_TH1x(
                key, key, padded, padded.sum(), values.sum(), variances.sum(), 0.0, 0.0,
                sumw2, axis,
            )  # fmt: skip


@pytest.mark.parametrize(
    ("model", "name"), [("uncorrelated", "background"), ("class_norms", "ttbar")]
)
def test_the_check_names_the_process_and_bin_of_an_edited_histogram(tmp_path, model, name):
    spec, card, shapes, _ = written(tmp_path, model)
    rewrite_with(shapes, name, 2, 1.001)
    with pytest.raises(ValueError, match=rf"process '{name}' yield, bin 2 of {CHANNEL}"):
        check_datacard(spec, card)


def test_the_check_names_the_process_of_an_edited_lnn_value_or_rate(tmp_path):
    spec, card, _, _ = written(tmp_path, "class_norms")
    text = card.read_text()
    lines = text.splitlines()
    lnn = next(i for i, line in enumerate(lines) if line.startswith("norm_wjets lnN"))
    card.write_text(text.replace(lines[lnn], lines[lnn].replace("0.8/1.2", "0.8/1.25")))
    assert card.read_text() != text
    with pytest.raises(ValueError, match=r"process 'wjets' lnN norm_wjets"):
        check_datacard(spec, card)
    rate = next(line for line in lines if line.startswith("rate"))
    assert rate.split() == ["rate", "-1", "-1", "-1"]
    card.write_text(text.replace(rate, "rate -1 58.9 -1"))  # ttbar's rate, not its shape's
    with pytest.raises(ValueError, match=r"process 'ttbar' yield, bin 0"):
        check_datacard(spec, card)


def test_each_shapesys_bin_is_a_shape_nuisance_moving_only_its_own_bin(tmp_path):
    spec, card, shapes, notes = written(tmp_path, "uncorrelated")
    background = np.array(spec["channels"][0]["samples"][1]["data"])
    modifiers = spec["channels"][0]["samples"][1]["modifiers"]
    sigma = np.array(next(m["data"] for m in modifiers if m["type"] == "shapesys"))
    np.testing.assert_allclose(sigma, F * background)
    with uproot.open(shapes) as file:
        for i in range(len(background)):
            for direction, sign in (("Up", 1), ("Down", -1)):
                shift = file[f"background_background_f_bin{i}{direction}"].values() - background
                assert np.flatnonzero(shift).tolist() == [i]
                np.testing.assert_allclose(shift[i], sign * F * background[i], rtol=1e-12)
        assert not any("signal_background_f" in key for key in file.keys())
    assert any("Poisson" in note and "Gaussian" in note for note in notes)
    assert any("Poisson" in line and line.startswith("#") for line in card.read_text().splitlines())


def test_edges_that_do_not_fit_the_bins_are_refused(tmp_path):
    spec = workspace_spec(SIGNAL, BACKGROUNDS, F, "class_norms")
    with pytest.raises(ValueError, match="increasing edges"):
        write_datacard(spec, EDGES[:-1], tmp_path / "card.txt", tmp_path / "shapes.root")
    assert not list(tmp_path.iterdir())
