"""Bad input gives a clear error naming the pipeline class, the file or the field."""
from __future__ import annotations

import pytest

pytest.importorskip("diffusers", reason="diffusers is not installed: pip install -e '.[diffusers]'")
pytest.importorskip("transformers", reason="transformers is not installed: pip install -e '.[diffusers]'")

import torch  # noqa: E402

from _common import PROMPT, call_args, msl, pipe_of  # noqa: E402
from lina_nodes.diffusers import apply  # noqa: E402
from lina_nodes.diffusers.encoders import PipelineTextIO  # noqa: E402
from lina_nodes.diffusers.families import family_of  # noqa: E402
from lina_nodes.errors import LinaError  # noqa: E402
from lina_nodes.intervention.adapter import prior_adapter, save_adapter  # noqa: E402
from lina_nodes.intervention.conditioning_edit import encoder_subspace  # noqa: E402

pytestmark = pytest.mark.timeout(120)


def test_unsupported_pipeline_class_is_named():
    from diffusers import DDPMPipeline, DDPMScheduler, UNet2DModel

    pipe = DDPMPipeline(UNet2DModel(sample_size=8, block_out_channels=(4, 8), norm_num_groups=2,
                                    down_block_types=("DownBlock2D", "DownBlock2D"),
                                    up_block_types=("UpBlock2D", "UpBlock2D")), DDPMScheduler())
    with pytest.raises(LinaError, match=r"pipe: DDPMPipeline is not a pipeline LINA supports") as e:
        apply(pipe, PROMPT)
    assert "StableDiffusionXLPipeline" in str(e.value) and e.value.field == "pipe"


def test_adapter_for_another_encoder_names_the_file_and_the_pipeline(tmp_path):
    sd = pipe_of("sd15")
    sub = encoder_subspace(PipelineTextIO(sd, family_of(sd)))
    path = tmp_path / "sd15_adapter.safetensors"
    save_adapter(prior_adapter(sub, "sd15"), path)
    run = apply(sd, PROMPT, adapter=str(path))                 # fits its own encoder
    assert run.plan.source == "adapter"
    flux = pipe_of("flux")
    with pytest.raises(LinaError) as e:
        apply(flux, PROMPT, adapter=str(path), max_sequence_length=msl("flux"))
    msg = str(e.value)
    assert str(path) in msg and "FluxPipeline" in msg and e.value.field == "adapter"


def test_not_an_adapter_file_is_refused_with_its_name(tmp_path):
    bad = tmp_path / "not_an_adapter.safetensors"
    bad.write_bytes(b"this is not safetensors")
    with pytest.raises(LinaError, match="not_an_adapter.safetensors"):
        apply(pipe_of("sd15"), PROMPT, adapter=bad)


@pytest.mark.parametrize("prompt,field", [("", "prompt"), ("   ", "prompt"), (None, "prompt"),
                                          ("x" * 200_001, "prompt")])
def test_prompt_the_parser_cannot_handle(prompt, field):
    with pytest.raises(LinaError) as e:
        apply(pipe_of("sd15"), prompt)
    assert e.value.field == field and str(e.value).startswith(field)


def test_bad_csg_json_and_options_name_their_field():
    pipe = pipe_of("sd15")
    with pytest.raises(LinaError) as e:
        apply(pipe, PROMPT, csg="{not json")
    assert "csg" in str(e.value)
    with pytest.raises(LinaError, match="^mode: "):
        apply(pipe, PROMPT, mode="multiply")
    with pytest.raises(LinaError, match="^schedule: "):
        apply(pipe, PROMPT, schedule="yes")
    with pytest.raises(LinaError, match="^max_sequence_length: StableDiffusionPipeline has no T5"):
        apply(pipe, PROMPT, max_sequence_length=32)
    with pytest.raises(LinaError, match="^beta: must be a number strictly between 0 and 1"):
        apply(pipe, PROMPT, beta=1.5)
    with pytest.raises(LinaError, match="^rho: "):
        apply(pipe, PROMPT, rho=0.0)


def test_scheduler_that_cannot_take_the_schedule_is_named():
    from diffusers import PNDMScheduler

    pipe = pipe_of("sd15")
    orig = pipe.scheduler
    pipe.scheduler = PNDMScheduler.from_config(orig.config)
    try:
        with pytest.raises(LinaError, match=r"^pipe.scheduler: PNDMScheduler cannot take a custom schedule"):
            apply(pipe, PROMPT, schedule=True)
        run = apply(pipe, PROMPT)                  # auto: the window still works, the steps stay PNDM's
        with run as kw:
            pipe(**call_args("sd15", kw))
        assert run.schedule is None and any("PNDMScheduler" in n for n in run.notes)
        assert run.stats["extra_calls"] > 0
    finally:
        pipe.scheduler = orig
    assert torch.is_tensor(pipe.scheduler.sigmas)
