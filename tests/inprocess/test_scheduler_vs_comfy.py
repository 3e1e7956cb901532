"""LINA Causal Scheduler node against ComfyUI's own BasicScheduler, for every base scheduler and family.

ComfyUI 0.3.75 is imported in-process (CPU) with the real model-sampling objects its loaders build;
the MODEL handed to both nodes is SamplingOnlyModel, a carrier of those real objects.
"""
import pytest
import torch

from lina_nodes.inprocess.comfy_import import SamplingOnlyModel, import_comfy
from lina_nodes.errors import ScheduleError

import_comfy()
import comfy.samplers  # noqa: E402
from comfy_extras.nodes_custom_sampler import BasicScheduler  # noqa: E402

from lina_nodes.comfy_nodes.scheduler import LINACausalScheduler  # noqa: E402
from lina_nodes.inprocess.sigmas import model_family  # noqa: E402
from lina_nodes.intervention.schedule import early_step_count, knee_for_family  # noqa: E402




FAMILIES = ["sd15", "sdxl", "sd3", "flux", "wan21"]


def lina(model, steps, scheduler, beta=0.0, rho=0.35, denoise=1.0):
    return LINACausalScheduler.execute(model, steps, scheduler, beta, rho, denoise).result[0]


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("scheduler", comfy.samplers.SCHEDULER_NAMES)
@pytest.mark.parametrize("steps", [10, 20, 50])
def test_against_basic_scheduler(family, scheduler, steps):
    model = SamplingOnlyModel(family)
    base = BasicScheduler.execute(model, scheduler, steps, 1.0).result[0]
    ours = lina(model, steps, scheduler, rho=0.4)
    assert ours.shape == base.shape == (steps + 1,)
    assert float(ours[0]) == pytest.approx(float(base[0]), rel=1e-6)  # same start
    assert float(ours[-1]) == 0.0 == float(base[-1])  # ends at 0
    assert torch.all(ours[1:] < ours[:-1]), ours  # strictly decreasing
    sigma_beta = float(model.get_model_object('model_sampling').percent_to_sigma(knee_for_family(model_family(model))))
    assert early_step_count(ours, sigma_beta) == round(0.4 * steps)  # early share as asked
    assert float(ours.min()) >= 0.0 and float(ours.max()) <= float(base[0]) * (1 + 1e-6)


@pytest.mark.parametrize("family", ["sd15", "sd3"])
def test_denoise_matches_basic_scheduler_range(family):
    model = SamplingOnlyModel(family)
    base = BasicScheduler.execute(model, "normal", 10, 0.9).result[0]
    ours = lina(model, 10, "normal", beta=0.3, rho=0.3, denoise=0.9)
    assert float(ours[0]) == pytest.approx(float(base[0]), rel=1e-6)
    assert ours.shape == base.shape and float(ours[-1]) == 0.0


def test_auto_beta_uses_family_knee():
    sd3 = SamplingOnlyModel("sd3")
    assert model_family(sd3) == "sd3"
    auto = lina(sd3, 10, "simple", beta=0.0)
    explicit = lina(sd3, 10, "simple", beta=0.11)
    assert torch.equal(auto, explicit)
    assert not torch.equal(auto, lina(sd3, 10, "simple", beta=0.3))


def test_more_steps_in_window_than_base():
    m = SamplingOnlyModel("sd3")
    sb = float(m.get_model_object('model_sampling').percent_to_sigma(0.11))
    base = BasicScheduler.execute(m, "simple", 20, 1.0).result[0]
    ours = lina(m, 20, "simple", beta=0.11, rho=0.35)
    assert early_step_count(base, sb) < early_step_count(ours, sb) == 7


def test_low_denoise_names_denoise():
    m = SamplingOnlyModel("sd15")
    with pytest.raises(ScheduleError, match="^denoise") as e:
        lina(m, 10, "normal", beta=0.2, denoise=0.3)
    assert "Fix:" in str(e.value)


def test_single_step_names_steps():
    with pytest.raises(ScheduleError, match="^steps"):
        lina(SamplingOnlyModel("sd15"), 1, "normal")


def test_model_without_sampling_names_model():
    class NotAModel:
        def get_model_object(self, name):
            raise AttributeError(name)

    with pytest.raises(ScheduleError, match="^model"):
        lina(NotAModel(), 10, "normal")


def test_zero_denoise_is_empty_like_basic_scheduler():
    m = SamplingOnlyModel("sd15")
    assert lina(m, 10, "normal", denoise=0.0).numel() == 0 == BasicScheduler.execute(m, "normal", 10, 0.0).result[0].numel()


def test_scheduler_starting_below_window_names_scheduler():
    # ddim_uniform with 4 steps starts at timestep 751 (progress 0.25), past SD1.5's window end (0.2)
    with pytest.raises(ScheduleError, match="^scheduler") as e:
        lina(SamplingOnlyModel("sd15"), 4, "ddim_uniform")
    assert "more steps" in str(e.value)
