"""The causal schedule's core math (no ComfyUI)."""
import math

import numpy as np
import pytest
import torch

from lina_nodes.errors import ScheduleError
from lina_nodes.intervention.schedule import (
    early_step_count,
    family_from_config_name,
    knee_for_family,
    reallocate,
)


def karras(n, smin=0.03, smax=14.6, rho=7.0):
    ramp = np.linspace(0, 1, n)
    s = (smax ** (1 / rho) + ramp * (smin ** (1 / rho) - smax ** (1 / rho))) ** rho
    return torch.tensor(np.append(s, 0.0), dtype=torch.float32)


@pytest.mark.parametrize("steps", [2, 3, 5, 10, 20, 37, 100])
@pytest.mark.parametrize("rho", [0.1, 0.35, 0.5, 0.9])
def test_invariants_on_karras(steps, rho):
    base = karras(steps)
    sigma_beta = 5.0
    out = reallocate(base, sigma_beta, rho)
    s = out.sigmas
    assert s.shape == base.shape
    assert float(s[0]) == pytest.approx(float(base[0]))
    assert float(s[-1]) == 0.0
    assert torch.all(s[1:] < s[:-1]), s
    expected_k = min(max(round(rho * steps), 1), steps - 1)
    assert out.early_steps == expected_k
    assert early_step_count(s, sigma_beta) == expected_k
    assert abs(out.early_share - rho) <= max(0.5 / steps, 1.0 / steps) + 1e-9 or steps < 3


def test_more_early_steps_than_base():
    base = karras(20)
    sb = 5.0
    natural = early_step_count(base, sb)
    out = reallocate(base, sb, 0.5)
    assert out.early_steps == 10 > natural


def test_natural_share_reproduces_base():
    # with a linear base and a window end on a base point, asking for the base's own share gives the base back
    base = torch.linspace(1.0, 0.0, 11)
    out = reallocate(base, float(base[4]), 0.4)
    assert torch.allclose(out.sigmas, base, atol=1e-6)


def test_segments_keep_base_spacing():
    # a geometric base stays geometric inside each segment
    geo = torch.tensor([10.0 * 0.5 ** i for i in range(10)] + [0.0])
    out = reallocate(geo, float(geo[3]), 0.6)
    s = out.sigmas.double().numpy()
    early = s[: out.early_steps + 1]
    ratios = early[1:] / early[:-1]
    assert np.allclose(ratios, ratios[0], rtol=1e-5)


@pytest.mark.parametrize("bad,field", [
    ([1.0, 0.0], "sigmas"),
    ([[1.0, 0.5, 0.0]], "sigmas"),
    ([1.0, float("nan"), 0.0], "sigmas"),
    ([1.0, 0.5, 0.1], "sigmas"),
    ([1.0, 1.2, 0.0], "sigmas"),
])
def test_bad_base_is_named(bad, field):
    with pytest.raises(ScheduleError) as e:
        reallocate(bad, 0.5, 0.3)
    assert str(e.value).startswith(field)


@pytest.mark.parametrize("rho", [0.0, 1.0, -0.1, float("nan"), "0.3"])
def test_bad_rho(rho):
    with pytest.raises(ScheduleError, match="^rho"):
        reallocate(karras(10), 5.0, rho)


@pytest.mark.parametrize("sb", [0.0, -1.0, 14.7, 100.0, math.inf])
def test_window_outside_range(sb):
    with pytest.raises(ScheduleError) as e:
        reallocate(karras(10), sb, 0.3)
    assert "Fix:" in str(e.value) or "finite" in str(e.value)


def test_repeated_base_values_still_strict():
    base = torch.tensor([14.6, 14.6, 8.0, 8.0, 3.0, 1.0, 0.0])
    out = reallocate(base, 9.0, 0.5)
    assert torch.all(out.sigmas[1:] < out.sigmas[:-1])
    assert float(out.sigmas[0]) == pytest.approx(14.6)


def test_families():
    assert family_from_config_name("SD3") == "sd3"
    assert family_from_config_name("WAN21_T2V") == "wan21"
    assert family_from_config_name("SDXL") == "sdxl"
    assert family_from_config_name("SomethingNew") == "default"
    assert knee_for_family("sd3") == pytest.approx(0.11)
    assert knee_for_family("flux") == pytest.approx(0.21)
