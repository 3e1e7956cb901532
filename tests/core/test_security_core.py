"""Security bounds of the pure core (no ComfyUI): the LLM exchange, strict JSON, masks, completion time,
weights and adapter files checked before anything is built, short messages. Plus Hypothesis over the
node-facing pure functions (>= 10,000 cases in all, in-process)."""
from __future__ import annotations

import json
import math
import struct
import threading
import time
from http.server import ThreadingHTTPServer

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lina_nodes.csg.knowledge import load_knowledge
from lina_nodes.csg.llm import LLMCancelled, chat, check_url, parse_llm
from lina_nodes.csg.masks import MAX_MASK_BYTES, csg_masks
from lina_nodes.csg.model import CSG
from lina_nodes.csg.parser import parse
from lina_nodes.csg.rules import apply_rules
from lina_nodes.devtools.fake_http import QuietHandler, loopback_server
from lina_nodes.errors import CSGError, LinaError, MAX_MESSAGE, WeightsError
from lina_nodes.intervention.adapter import AdapterError, load_adapter
from lina_nodes.physworld_model.weights_io import load_model, save_model
from lina_nodes.security import loads_strict, require_finite

KB = load_knowledge()
FAST = settings(max_examples=2500, deadline=None, suppress_health_check=list(HealthCheck), database=None)


# ---- a hostile OpenAI-compatible endpoint on loopback ---------------------------------------------
class Hostile(QuietHandler):
    mode = "good"
    seen: list = []
    redirect_to = ""

    def do_POST(self):  # noqa: N802
        Hostile.seen.append((self.path, dict(self.headers)))
        n = int(self.headers.get("Content-Length", 0))
        self.rfile.read(n)
        try:
            if Hostile.mode == "drip":              # one byte every 0.3 s: a per-read timeout never fires
                return self.drip(100, 0.3)
            if Hostile.mode == "redirect":
                return self.redirect(302, Hostile.redirect_to)
            if Hostile.mode == "huge":
                body = b"{" + b" " * 3_000_000 + b"}"
            elif Hostile.mode == "nan":
                body = b'{"choices": [{"message": {"content": "{\\"nodes\\": [], \\"x\\": NaN}"}}], "y": NaN}'
            elif Hostile.mode == "deep":
                body = b"[" * 100_000 + b"]" * 100_000
            else:
                content = json.dumps({"nodes": [{"id": "cat_0", "name": "cat"}], "edges": []})
                body = json.dumps({"choices": [{"message": {"content": content}}]}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass


@pytest.fixture()
def hostile():
    Hostile.seen, Hostile.mode = [], "good"
    with loopback_server(Hostile) as url:
        yield url


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://127.0.0.1/x", "http://127.0.0.1:9/v1?", "http://h/v1#x",
                                 "http://user:pw@127.0.0.1/v1", "gopher://127.0.0.1", "http:///nohost",
                                 "http://127.0.0.1:99999/v1", "http://a b/", "\x00"])
def test_only_plain_http_base_urls(url):
    with pytest.raises(CSGError, match="llm_url"):
        check_url(url)
    g = parse_llm("a cat on a mat", url=url, timeout=1)
    assert g.meta["llm_fallback"] is True and "llm_url" in g.meta["llm_error"]


def test_hard_deadline_on_a_dripping_endpoint(hostile):
    Hostile.mode = "drip"
    t = time.monotonic()
    g = parse_llm("a cat on a mat", url=hostile, timeout=1.0)
    assert time.monotonic() - t < 2.0
    assert g.meta["llm_fallback"] is True and "timed out" in g.meta["llm_error"]


def test_cancel_cuts_the_exchange_short(hostile):
    Hostile.mode = "drip"
    t0 = time.monotonic()
    with pytest.raises(LLMCancelled):
        parse_llm("a cat", url=hostile, timeout=60, cancel=lambda: time.monotonic() - t0 > 0.3)
    assert time.monotonic() - t0 < 1.5


def test_no_redirect_is_followed_and_the_key_stays_home(hostile):
    other = ThreadingHTTPServer(("127.0.0.1", 0), Hostile)
    threading.Thread(target=other.serve_forever, daemon=True).start()
    try:
        Hostile.mode, Hostile.redirect_to = "redirect", f"http://127.0.0.1:{other.server_address[1]}/steal"
        g = parse_llm("a cat", url=hostile, timeout=3, api_key="SECRET-KEY")
        assert g.meta["llm_fallback"] is True and "redirect" in g.meta["llm_error"]
        assert len(Hostile.seen) == 1 and Hostile.seen[0][1]["Authorization"] == "Bearer SECRET-KEY"
    finally:
        other.shutdown()
        other.server_close()


@pytest.mark.parametrize("mode, words", [("huge", "too large"), ("nan", "NaN"), ("deep", "nested")])
def test_hostile_replies_fall_back_with_a_clear_reason(hostile, mode, words):
    Hostile.mode = mode
    t = time.monotonic()
    g = parse_llm("a snake is eaten by a bird", url=hostile, timeout=4)
    assert time.monotonic() - t < 4.5
    assert g.meta["llm_fallback"] is True and words in g.meta["llm_error"], g.meta["llm_error"]
    assert any(e.relation == "eats" for e in g.edges)


def test_network_errors_say_nothing_about_what_exists():
    a = parse_llm("a cat", url="http://127.0.0.1:9/v1", timeout=1).meta["llm_error"]
    b = parse_llm("a cat", url="http://127.0.0.1:1/v1", timeout=1).meta["llm_error"]
    assert a == b and "Errno" not in a and "refused" not in a.lower()


def test_good_reply_still_works(hostile):
    assert chat("a cat", hostile, "m", 3.0)


# ---- strict JSON, finite numbers, short messages ---------------------------------------------------
@pytest.mark.parametrize("text, where", [
    ('{"nodes": [{"box": [0, NaN, 1, 1]}]}', "csg_json.nodes[0].box[1]"),
    ('{"a": Infinity}', "csg_json.a"), ('[-Infinity]', "csg_json[0]")])
def test_nan_and_infinity_are_refused_naming_the_field(text, where):
    with pytest.raises(LinaError) as ei:
        loads_strict(text, "csg_json")
    assert str(ei.value).startswith(where)


def test_deep_nesting_and_size_are_bounded():
    with pytest.raises(LinaError, match="nested"):
        loads_strict("[" * 50_000 + "]" * 50_000, "csg_json")
    with pytest.raises(LinaError, match="at most"):
        loads_strict(" " * 6_000_000, "csg_json")
    for bad in (float("nan"), float("inf"), "x", None):
        with pytest.raises(LinaError, match="llm_timeout"):
            require_finite(bad, "llm_timeout")


def test_messages_are_truncated():
    e = CSGError("bad value " + "x" * 10_000_000, field="csg_json", fix="y" * 10_000)
    assert len(str(e)) < MAX_MESSAGE + 800 and "more characters" in str(e)
    with pytest.raises(CSGError) as ei:
        CSG.from_json('{"version": "1.0", "prompt": "' + "z" * 300_000 + '", "nodes": [], "edges": []}')
    assert len(str(ei.value)) < 5000


# ---- bounded work ----------------------------------------------------------------------------------
def big_graph(n_obj: int, n_light: int) -> CSG:
    nodes = [{"id": f"ball_{i}", "name": "ball", "kind": "object"} for i in range(n_obj)]
    nodes += [{"id": f"lamp_{j}", "name": "lamp", "kind": "light"} for j in range(n_light)]
    return CSG.from_dict({"version": "1.0", "prompt": "x", "nodes": nodes, "edges": [], "constraints": [], "meta": {}})


def test_completion_near_the_node_cap_is_bounded():
    for n_obj, n_light in ((1000, 999), (600, 100)):
        t = time.monotonic()
        try:
            out = apply_rules(big_graph(n_obj, n_light), KB)
            assert len(out.nodes) <= 2000
        except CSGError as e:
            assert "takes more than" in str(e) and "csg" in str(e)
        assert time.monotonic() - t < 4.0


def test_masks_refuse_by_memory_before_allocating():
    g = parse("a red ball on a table under a lamp")
    with pytest.raises(CSGError, match="GiB"):
        csg_masks(g, 8192, 8192, 4096)
    assert len(g.nodes) * 4 * 8192 * 8192 * 4 > MAX_MASK_BYTES
    m, _ = csg_masks(g, 16, 16, 3)
    assert m.shape == (len(g.nodes) * 3, 16, 16) and (m[0] == m[1]).all()


# ---- weights and adapters: checked before anything is built -----------------------------------------
TEXT = {"max_len": 8, "dim": 16, "layers": 1, "heads": 2, "ff_mult": 2}
DEN = {"image_size": 16, "in_channels": 3, "patch": 2, "channels": [8, 16], "num_res_blocks": [1, 1],
       "attention": [False, True], "heads": 2, "time_dim": 16, "context_dim": 16, "groups": 4, "predict": "x0"}
CONFIG = {"text": TEXT, "denoiser": DEN, "diffusion": {"kind": "rectified_flow", "shift": 1.0, "t_logit_mean": 0.0,
                                                      "t_logit_std": 1.0},
          "sample": {"steps": 4, "cfg": 2.0, "sampler": "euler", "scheduler": "simple"}}


def _tiny_weights(path, config=CONFIG, poison=None):
    from lina_nodes.physworld_model.model import build_denoiser, build_text_encoder

    vocab = ["<pad>", "<unk>", "a", "ball"]
    te, dn = build_text_encoder(TEXT, len(vocab)), build_denoiser(DEN)
    sd = dn.state_dict()
    if poison:
        sd = {k: (v.fill_(float("nan")) if k == next(iter(sd)) else v) for k, v in sd.items()}
    return save_model(path, te.state_dict(), sd, config, vocab, "0" * 64)


def test_config_bomb_is_refused_before_building(tmp_path, monkeypatch):
    import lina_nodes.physworld_model.model as model_mod

    bomb = json.loads(json.dumps(CONFIG))
    bomb["denoiser"]["channels"] = [4096, 8192]
    p = _tiny_weights(tmp_path / "bomb.safetensors", bomb)
    built = []
    real = model_mod.build_denoiser
    monkeypatch.setattr(model_mod, "build_denoiser", lambda dn: built.append(torch.empty(0).device) or real(dn))
    with pytest.raises(WeightsError, match="tampered header"):
        load_model(p)
    assert all(d.type == "meta" for d in built)   # only ever built on the meta device (no memory)


def test_nan_weights_and_nan_shift_are_refused(tmp_path):
    with pytest.raises(WeightsError, match="NaN"):
        load_model(_tiny_weights(tmp_path / "nan.safetensors", poison=True), verify=False)
    cfg = json.loads(json.dumps(CONFIG))
    cfg["diffusion"]["shift"] = float("nan")
    with pytest.raises(WeightsError, match="shift|finite"):
        load_model(_tiny_weights(tmp_path / "shift.safetensors", cfg))


def test_huge_header_is_refused_without_parsing(tmp_path):
    p = tmp_path / "huge.safetensors"
    n = 40 * 1024 * 1024
    with open(p, "wb") as f:
        f.write(struct.pack("<Q", n))
        f.truncate(8 + n)
    t = time.monotonic()
    with pytest.raises(WeightsError, match="larger than"):
        load_model(p)
    with pytest.raises(AdapterError, match="header"):
        load_adapter(p)
    assert time.monotonic() - t < 1.0


def test_adapter_shapes_are_checked_before_reading_tensors(tmp_path):
    from safetensors.torch import save_file

    from lina_nodes.intervention.action_space import ACTION_SPACE_VERSION
    from lina_nodes.intervention.adapter import FEATURES, FORMAT, FORMAT_VERSION

    p = tmp_path / "big.safetensors"
    meta = {"format": FORMAT, "format_version": FORMAT_VERSION, "width": "4", "encoder_fingerprint": "x",
            "features": json.dumps(list(FEATURES)), "actions": json.dumps({"prior": {}}),
            "action_space": ACTION_SPACE_VERSION}
    save_file({"subspace.P": torch.zeros(2000, 4), "subspace.T": torch.zeros(1, 4),
               "head.weight": torch.zeros(1, len(FEATURES)), "head.bias": torch.zeros(1)},
              str(p), metadata=meta)
    with pytest.raises(AdapterError, match="bounds"):
        load_adapter(p)


# ---- Hypothesis over the pure functions behind the node inputs (4 x 2500 = 10,000 cases) ------------
text = st.text(alphabet=st.characters(codec="utf-8"), max_size=300)


@FAST
@given(text, st.integers(0, 2**32 - 1))
def test_parse_any_prompt_gives_a_graph_or_a_clear_error(prompt, seed):
    try:
        g = parse(prompt, seed=seed)
    except LinaError:
        return
    CSG.from_dict(g.to_dict())


json_values = st.recursive(st.none() | st.booleans() | st.floats(allow_nan=True) | st.integers() | text,
                           lambda c: st.lists(c, max_size=4) | st.dictionaries(text, c, max_size=4), max_leaves=20)


@FAST
@given(st.one_of(json_values.map(json.dumps), text))
def test_csg_json_gives_a_graph_or_a_clear_error(raw):
    try:
        CSG.from_dict(loads_strict(raw, "csg_json", CSGError))
    except LinaError as e:
        assert len(str(e)) <= MAX_MESSAGE + 800


@FAST
@given(st.integers(-5, 300), st.integers(-5, 300), st.integers(-2, 50), st.sampled_from(["node", "kind", "x"]), text)
def test_masks_any_widgets(w, h, frames, mode, select):
    g = parse("a red ball in front of a small mirror")
    try:
        m, index = csg_masks(g, w, h, frames, mode, select)
    except LinaError:
        return
    assert m.shape == (len(index) * frames, h, w) and m.dtype.name == "float32"


@FAST
@given(st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(), text, st.none()))
def test_numbers_are_finite_or_refused_naming_the_field(v):
    try:
        x = require_finite(v, "cfg", lo=0, hi=100)
    except LinaError as e:
        assert str(e).startswith("cfg:")
        return
    assert math.isfinite(x) and 0 <= x <= 100
