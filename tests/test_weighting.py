"""Class balancing of the training weights (physical yields: test_fom.py).

The hand-made sample: signal weights [1, 3] (N_S = 2, W_S = 4), background class 1
weights [6, 12, 18] (W_1 = 36), class 2 weights [16, 48] (W_2 = 64). Background in
total: N_B = 5, W_B = 100. The expected balanced weights below are worked out by hand.
"""

from __future__ import annotations

import numpy as np
import pytest

import cmsnn.preprocessing.weighting
from cmsnn.config.checks import default_balancing
from cmsnn.preprocessing.weighting import balance_class_weights, training_targets

WEIGHTS = np.array([1.0, 3.0, 6.0, 12.0, 18.0, 16.0, 48.0])
CLASS_INDEX = np.array([0, 0, 1, 1, 1, 2, 2])
NAMES = ["Signal", "Wjets", "TTbar"]


def class_sums(weights, class_index=CLASS_INDEX):
    return [float(weights[class_index == c].sum()) for c in range(3)]


def test_training_targets():
    assert training_targets(CLASS_INDEX, "binary").tolist() == [1, 1, 0, 0, 0, 0, 0]
    assert training_targets(CLASS_INDEX, "multiclass").tolist() == CLASS_INDEX.tolist()
    with pytest.raises(ValueError, match="classification"):
        training_targets(CLASS_INDEX, "regression")


def test_equal_binary():
    # each side sums to N_B = 5: signal x 5/4, background x 5/100
    expected = [1.25, 3.75, 0.3, 0.6, 0.9, 0.8, 2.4]
    balanced = balance_class_weights(WEIGHTS, CLASS_INDEX, "equal", "binary")
    np.testing.assert_allclose(balanced, expected, rtol=1e-14)
    assert balanced[:2].sum() == pytest.approx(5.0)
    assert balanced[2:].sum() == pytest.approx(5.0)


def test_equal_binary_preserves_ratios_within_a_class_on_random_weights():
    rng = np.random.default_rng(0)
    n = 500
    class_index = rng.integers(0, 4, n)
    weights = rng.lognormal(0.0, 2.0, n)
    balanced = balance_class_weights(weights, class_index, "equal", "binary")
    signal, background = class_index == 0, class_index != 0
    n_background = np.count_nonzero(background)
    assert balanced[signal].sum() == pytest.approx(n_background, rel=1e-12)
    assert balanced[background].sum() == pytest.approx(n_background, rel=1e-12)
    for members in (signal, background):
        ratio = balanced[members] / weights[members]
        np.testing.assert_allclose(ratio, ratio[0], rtol=1e-12)


def test_equal_multiclass():
    # every class sums to N_S = 2
    expected = [0.5, 1.5, 1 / 3, 2 / 3, 1.0, 0.5, 1.5]
    balanced = balance_class_weights(WEIGHTS, CLASS_INDEX, "equal", "multiclass", NAMES)
    np.testing.assert_allclose(balanced, expected, rtol=1e-14)
    np.testing.assert_allclose(class_sums(balanced), [2.0, 2.0, 2.0], rtol=1e-14)


def test_sqrt_multiclass():
    # signal -> N_S = 2; class 1 -> 2*sqrt(36/4) = 6; class 2 -> 2*sqrt(64/4) = 8
    expected = [0.5, 1.5, 1.0, 2.0, 3.0, 2.0, 6.0]
    balanced = balance_class_weights(WEIGHTS, CLASS_INDEX, "sqrt", "multiclass", NAMES)
    np.testing.assert_allclose(balanced, expected, rtol=1e-14)
    np.testing.assert_allclose(class_sums(balanced), [2.0, 6.0, 8.0], rtol=1e-14)


def test_sqrt_binary():
    # signal -> 2; all background together -> 2*sqrt(100/4) = 10, i.e. x 10/100
    expected = [0.5, 1.5, 0.6, 1.2, 1.8, 1.6, 4.8]
    balanced = balance_class_weights(WEIGHTS, CLASS_INDEX, "sqrt", "binary")
    np.testing.assert_allclose(balanced, expected, rtol=1e-14)


def test_none_keeps_ratios_with_mean_one():
    balanced = balance_class_weights(WEIGHTS, CLASS_INDEX, "none", "multiclass", NAMES)
    np.testing.assert_allclose(balanced, WEIGHTS * 7 / 104, rtol=1e-14)
    assert balanced.mean() == pytest.approx(1.0, rel=1e-14)
    # 'none' needs no signal
    only_background = balance_class_weights([2.0, 6.0], [1, 2], "none", "binary")
    np.testing.assert_allclose(only_background, [0.5, 1.5])


def test_input_weights_not_modified():
    weights = WEIGHTS.copy()
    balance_class_weights(weights, CLASS_INDEX, "sqrt", "multiclass", NAMES)
    np.testing.assert_array_equal(weights, WEIGHTS)


def test_negative_event_weights_allowed_when_the_class_sum_is_positive():
    weights = np.array([2.0, -1.0, 3.0, 1.0])
    balanced = balance_class_weights(weights, [0, 0, 1, 1], "equal", "binary")
    np.testing.assert_allclose(balanced, [4.0, -2.0, 1.5, 0.5])


@pytest.mark.parametrize("scheme", ["equal", "sqrt"])
@pytest.mark.parametrize("classification", ["binary", "multiclass"])
def test_missing_signal_or_background_is_an_error(scheme, classification):
    with pytest.raises(ValueError, match="signal and background"):
        balance_class_weights([1.0, 2.0], [1, 2], scheme, classification, NAMES)
    with pytest.raises(ValueError, match="signal and background"):
        balance_class_weights([1.0, 2.0], [0, 0], scheme, classification, NAMES)


@pytest.mark.parametrize("scheme", ["equal", "sqrt"])
def test_non_positive_class_sum_is_an_error_naming_the_class(scheme):
    weights = np.array([1.0, 3.0, 6.0, -6.0, 0.0, 16.0, 48.0])  # Wjets sums to 0
    with pytest.raises(ValueError, match="Wjets"):
        balance_class_weights(weights, CLASS_INDEX, scheme, "multiclass", NAMES)
    weights = np.array([1.0, -3.0, 6.0, 12.0, 18.0, 16.0, 48.0])  # signal sums to -2
    with pytest.raises(ValueError, match="signal"):
        balance_class_weights(weights, CLASS_INDEX, scheme, "binary")


def test_none_with_non_positive_total_is_an_error():
    with pytest.raises(ValueError, match="positive"):
        balance_class_weights([1.0, -1.0], [0, 1], "none", "binary")


def test_unknown_scheme_or_mode_rejected():
    with pytest.raises(ValueError, match="balancing"):
        balance_class_weights(WEIGHTS, CLASS_INDEX, "log", "binary")
    with pytest.raises(ValueError, match="classification"):
        balance_class_weights(WEIGHTS, CLASS_INDEX, "equal", "ternary")


def test_yield_weights_moved_to_fom():
    """Physical yields belong to the figure of merit; the training step need not load them."""
    assert not hasattr(cmsnn.preprocessing.weighting, "yield_weights")


def test_default_balancing_follows_the_tutorial_per_mode():
    assert default_balancing("binary") == "equal"
    assert default_balancing("multiclass") == "sqrt"
    with pytest.raises(ValueError, match="classification"):
        default_balancing("ternary")


def test_a_multiclass_class_without_events_is_an_error():
    weights = np.ones(4)
    class_index = np.array([0, 0, 2, 2])  # class 1 emptied by a preselection
    with pytest.raises(ValueError, match=r"the classes \['Wjets'\] have no events here"):
        balance_class_weights(weights, class_index, "sqrt", "multiclass", ["S", "Wjets", "TT"])
    # binary mode groups all backgrounds: an empty background class is harmless there
    balanced = balance_class_weights(weights, class_index, "equal", "binary", ["S", "Wjets", "TT"])
    assert balanced.sum() == pytest.approx(4.0)
