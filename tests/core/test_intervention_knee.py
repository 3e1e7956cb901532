"""Knee of a structure-formation curve on synthetic curves with known answers."""
import numpy as np
import pytest

from lina_nodes.errors import LinaError
from lina_nodes.intervention.knee import knee, reach


def test_step_curve_knee_is_the_step():
    p = np.linspace(0, 1, 21)
    s = (p >= 0.3).astype(float)
    assert knee(p, s) == pytest.approx(0.3)
    assert reach(p, s, 0.5) == pytest.approx(0.275)


def test_saturating_curve_and_falling_swap_curve():
    p = np.linspace(0, 1, 101)
    rise = 1 - np.exp(-p / 0.1)
    k = knee(p, rise)
    assert 0.15 < k < 0.35
    assert reach(p, rise, 0.9) == pytest.approx(0.1 * np.log(10), abs=0.01)
    swap = 0.2 + 0.7 * np.exp(-p / 0.1)  # late swaps no longer fix the result
    assert knee(p, swap) == pytest.approx(k)


def test_unsorted_flat_and_bad_input():
    p = [0.5, 0.0, 1.0, 0.25]
    s = [1.0, 0.0, 1.0, 0.9]
    assert knee(p, s) == 0.25
    assert knee([0, 0.5, 1], [2, 2, 2]) is None
    with pytest.raises(LinaError):
        knee([0, 1], [0, 1])
    with pytest.raises(LinaError):
        knee([0, 0.5, 1], [0, float("nan"), 1])
