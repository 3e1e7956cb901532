"""Core of the LINA interventions on synthetic tensors: plan, prior, latent guidance, token alignment,
subspaces and the prompt edit (widths 768 / 2048 / 4096, 4-D and 5-D latents, pooled present / absent)."""
from __future__ import annotations

import hashlib
import json
import math

import pytest
import torch

from lina_nodes.csg import parse
from lina_nodes.csg.causal_prompt import causal_prompt
from lina_nodes.errors import CSGError, LinaError
from lina_nodes.intervention import latent_guidance as lg
from lina_nodes.intervention.plan import (
    LinaPlan,
    PlanError,
    as_plan,
    check_encoder_width,
)
from lina_nodes.intervention.prior import node_weights, prior_plan
from lina_nodes.intervention.prompt_edit import (
    aligned_targets,
    edit_pooled,
    edit_tokens,
)
from lina_nodes.intervention.subspace import SubspaceCache, contrastive_pairs, estimate
from lina_nodes.intervention.token_align import (
    align_prompt,
    align_words,
    choose_layout,
    node_words,
    words_with_spans,
)

PROMPT = "a red ball in front of a small mirror"


# ---- plan ---------------------------------------------------------------------------------------

def test_plan_json_round_trip_and_validation():
    g = parse(PROMPT)
    p = prior_plan(g, causal_prompt(g))
    q = LinaPlan.from_json(p.to_json())
    assert q == p and as_plan(p.to_json()) == p and as_plan(p.to_dict()) == p
    bad = [({"latent_strength": float("nan")}, "latent_strength"), ({"early_share": 1.5}, "early_share"),
           ({"mode": "replace"}, "mode"), ({"regions": [{"box": [0.5, 0, 0.2, 1]}]}, "box"),
           ({"frobnicate": 1}, "unknown"), ({"version": "2.0"}, "version"), ({"encoder_width": -1}, "encoder_width"),
           ({"token_weights": {"a": 2.0}}, "token_weights")]
    for d, needle in bad:
        with pytest.raises(PlanError, match=needle):
            LinaPlan.from_dict(d)
    with pytest.raises(PlanError, match="plan_json"):
        LinaPlan.from_json("{oops")
    with pytest.raises(PlanError, match="LINA_PLAN"):
        as_plan(42)


def test_plan_encoder_width_check():
    p = LinaPlan(encoder_width=768)
    check_encoder_width(p, 768)
    check_encoder_width(LinaPlan(), 4096)  # unbound plan fits any width
    with pytest.raises(PlanError, match="width 768.*width 4096"):
        check_encoder_width(p, 4096)


# ---- prior --------------------------------------------------------------------------------------

def test_prior_weights_implied_nodes_and_their_causes():
    g = parse(PROMPT)
    w = node_weights(g)
    assert w["reflection_ball_0"] == 1.0 and w["ball_0"] > 0 and w["mirror_0"] > 0
    p = prior_plan(g)
    assert p.prompt_strength > 0 and p.latent_strength > 0 and 0 < p.early_share < 1
    assert {r.node for r in p.regions} == {"ball_0", "mirror_0", "reflection_ball_0"}
    deeper = prior_plan(parse("a red ball"))  # no relation, no implied node: documented no-op
    assert deeper.is_noop and deeper.notes and deeper.notes[0].startswith("no-op")


def test_prior_on_empty_and_inconsistent_graphs():
    from lina_nodes.csg.model import CSG, Edge, Node
    empty = prior_plan(CSG())
    assert empty.is_noop and "empty graph" in empty.notes[0]
    bad = CSG(nodes=(Node(id="a", name="ball"),), edges=(Edge(src="a", dst="ghost", kind="spatial", relation="on"),))
    with pytest.raises(CSGError, match="ghost"):
        prior_plan(bad)
    with pytest.raises(CSGError):
        prior_plan("not a graph")


# ---- latent guidance ----------------------------------------------------------------------------

def test_lambda_window_and_decay():
    for smax, sb in ((14.6, 2.0), (1.0, 0.9)):  # eps and flow sigma ranges
        assert lg.lambda_at(smax, smax, sb, 2.0, 1.0) == pytest.approx(2.0)
        assert lg.lambda_at(sb, smax, sb, 2.0, 1.0) == 0.0
        assert lg.lambda_at(sb * 0.5, smax, sb, 2.0, 1.0) == 0.0
        mid = math.exp((math.log(smax) + math.log(sb)) / 2)
        assert lg.lambda_at(mid, smax, sb, 2.0, 1.0) == pytest.approx(1.0)
        assert lg.lambda_at(mid, smax, sb, 2.0, 2.0) == pytest.approx(0.5)
        assert lg.lambda_at(mid, smax, sb, 2.0, 0.0) == pytest.approx(2.0)  # box window
    assert lg.lambda_at(float("nan"), 1.0, 0.5, 1.0) == 0.0


def test_region_mask_soft_coverage_and_floor():
    p = LinaPlan(regions=({"node": "a", "box": [0.0, 0.0, 0.5, 0.5], "weight": 1.0},), mask_floor=0.1).updated()
    m = lg.region_mask(p, 4, 4)
    assert m[0, 0] == 1.0 and m[3, 3] == pytest.approx(0.1) and m.shape == (4, 4)
    m3 = lg.region_mask(p, 3, 3)  # the box edge falls inside a cell: a quarter of it is covered
    assert float(m3[1, 1]) == pytest.approx(0.25) and float(m3[0, 0]) == 1.0
    assert (lg.region_mask(LinaPlan(), 5, 7) == 1).all()


@pytest.mark.parametrize("shape", [(2, 4, 8, 8), (1, 16, 3, 6, 10)])
def test_latent_mask_broadcasts_for_4d_and_5d(shape):
    p = prior_plan(parse(PROMPT))
    m = lg.latent_mask(p, shape)
    assert m.ndim == len(shape) and m.shape[-2:] == shape[-2:] and m.shape[1] == 1
    x = torch.zeros(shape)
    assert (x * m).shape == x.shape
    assert p.mask_floor < float(m.max()) <= 1.0 and float(m.min()) == pytest.approx(p.mask_floor)


def test_user_mask_resizing_and_errors():
    shape5 = (1, 16, 3, 8, 8)
    per_frame = torch.stack([torch.full((64, 64), float(i)) / 8 for i in range(9)])  # 9 pixel frames
    m = lg.fit_user_mask(per_frame, shape5)
    assert m.shape == (1, 1, 3, 8, 8)
    assert float(m[0, 0, 0, 0, 0]) == 0.0 and float(m[0, 0, 2, 0, 0]) > float(m[0, 0, 1, 0, 0])
    assert lg.fit_user_mask(torch.ones(32, 32), (2, 4, 8, 8)).shape == (1, 1, 8, 8)
    with pytest.raises(PlanError, match="aspect"):
        lg.fit_user_mask(torch.ones(1, 16, 64), (1, 4, 8, 8))
    with pytest.raises(PlanError, match="NaN"):
        lg.fit_user_mask(torch.full((1, 8, 8), float("nan")), (1, 4, 8, 8))
    with pytest.raises(PlanError, match="3 masks for a batch of 2"):
        lg.fit_user_mask(torch.ones(3, 8, 8), (2, 4, 8, 8))
    with pytest.raises(PlanError, match="4-D image or 5-D"):
        lg.latent_mask(LinaPlan(), (4, 8, 8))


def test_combine_formula_and_nan_guard():
    d, c, e = torch.zeros(1, 4, 2, 2), torch.ones(1, 4, 2, 2), torch.full((1, 4, 2, 2), 3.0)
    out, bad = lg.combine(d, c, e, 0.5, torch.tensor([[[[1.0, 0.0], [0.5, 1.0]]]]))
    assert bad == 0 and out[0, 0, 0, 0] == 1.0 and out[0, 0, 0, 1] == 0.0 and out[0, 0, 1, 0] == 0.5
    e[0, 1, 0, 0] = float("nan")
    e[0, 2, 0, 0] = float("inf")
    out, bad = lg.combine(d, c, e, 1.0)
    assert bad == 2 and torch.isfinite(out).all() and out[0, 1, 0, 0] == 0.0
    same, bad = lg.combine(d, c, e, 0.0)
    assert same is d and bad == 0


# ---- token alignment ----------------------------------------------------------------------------

class FakeTokenizer:
    """Word-level tokenizer in ComfyUI's output format; long words split in two tokens, 8-token chunks."""

    def __init__(self, key="l", bos=1, eos=2, pad=0, chunk=8):
        self.key, self.bos, self.eos, self.pad, self.chunk = key, bos, eos, pad, chunk

    def ids(self, word):
        h = int(hashlib.md5(word.encode()).hexdigest(), 16)
        base = 10 + h % 10000
        return [base, base + 1] if len(word) > 5 else [base]

    def __call__(self, text):
        toks = [t for w in text.split() for t in self.ids(w)]
        chunks, n = [], self.chunk - 2
        for i in range(0, max(len(toks), 1), n):
            c = [self.bos] + toks[i:i + n] + [self.eos]
            chunks.append([(t, 1.0) for t in c + [self.pad] * (self.chunk - len(c))])
        return {self.key: chunks}


def test_align_words_in_order_and_missing():
    assert align_words([1, 5, 6, 7, 5, 2], [[5], [6, 7], [9], [5]]) == [[1], [2, 3], [], [4]]


def test_node_words_cover_nodes_relations_and_lent_weight():
    g = parse(PROMPT)
    words = words_with_spans(PROMPT)
    w = node_words(g, words, node_weights(g))
    by = dict(zip([x[0] for x in words], w))
    assert by["ball"] > 0 and by["mirror"] > 0 and by["front"] > 0  # nodes and the relation words
    assert by["ball"] == 1.0  # the implied reflection lends its weight to the ball


def test_choose_layout():
    assert choose_layout({"l": [[(1, 1)] * 77]}, 77) == [("l", 0)]
    assert choose_layout({"l": [[(1, 1)] * 77], "g": [[(1, 1)] * 77], "t5xxl": [[(1, 1)] * 90]}, 167) == \
        [("l", 0), ("t5xxl", 77)]
    assert choose_layout({"l": [[(1, 1)] * 77]}, 100) == []


def test_align_prompt_targets_point_into_the_causal_completion():
    g = parse(PROMPT)
    cp = causal_prompt(g)
    tok = FakeTokenizer(chunk=16)
    tp, tc = tok(PROMPT), tok(cp)
    L, L2 = sum(len(c) for c in tp["l"]), sum(len(c) for c in tc["l"])
    tw, groups, notes = align_prompt(g, node_weights(g), PROMPT, cp, tp, tc, tok, L, L2)
    assert len(tw) == L and any(tw) and not notes
    flat = [t for c in tp["l"] for t, _ in c]
    ball = flat.index(tok.ids("ball")[0])
    assert tw[ball] == 1.0 and groups[ball]
    prefix = len(PROMPT.split()) + 2
    assert min(groups[ball]) >= prefix  # targets come from the completion, not the repeated prompt
    assert all(tw[i] == 0 for i, t in enumerate(flat) if t in (0, 1, 2))
    _, _, notes = align_prompt(g, node_weights(g), PROMPT, cp, tp, tc, tok, L + 3, L2)
    assert "unrecognised" in notes[0]


# ---- subspace + prompt edit ---------------------------------------------------------------------

PHYS_WORDS = ("floating", "outside", "left", "empty", "under", "still")


def fake_encoder(width, pooled_width=None, seed=0):
    """Token embedding = sum of word vectors; physics words add along one known direction."""
    gen = torch.Generator().manual_seed(seed)
    phys_dir = torch.randn(width, generator=gen)
    phys_dir /= phys_dir.norm()
    table = {}

    def vec(word):
        if word not in table:
            g2 = torch.Generator().manual_seed(int(hashlib.md5(word.encode()).hexdigest(), 16) % 2**31)
            v = torch.randn(width, generator=g2) * 0.01
            v = v - (v @ phys_dir) * phys_dir
            if word.strip(",") in PHYS_WORDS:
                v = v + 3.0 * phys_dir
            table[word] = v
        return table[word]

    def encode(text):
        ws = text.split() or [""]
        toks = torch.stack([vec(w) for w in ws])[None]
        pooled = None if pooled_width is None else toks.mean(1)[:, :pooled_width]
        return toks, pooled

    return encode, phys_dir


@pytest.mark.parametrize("width,pooled", [(768, 768), (2048, 1280), (4096, None)])
def test_subspace_finds_physics_direction_orthogonal_to_texture(width, pooled):
    encode, phys_dir = fake_encoder(width, pooled)
    sub = estimate(encode)
    assert sub.width == width and sub.P.shape[1] == width
    assert torch.allclose(sub.P @ sub.P.T, torch.eye(sub.P.shape[0]), atol=1e-4)
    captured = float((sub.P @ phys_dir).norm())
    assert captured > 0.9, captured
    if sub.T.shape[0]:
        assert float((sub.P @ sub.T.T).abs().max()) < 1e-4
    assert (sub.P_pooled is None) == (pooled is None)


def test_subspace_cache_per_encoder():
    cache = SubspaceCache(size=2)
    e1, _ = fake_encoder(64, seed=1)
    e2, _ = fake_encoder(64, seed=2)
    a = cache.get(e1, "enc")
    assert cache.get(e1, "enc") is a and cache.misses == 1
    b = cache.get(e2, "enc")
    assert b is not a and b.fingerprint != a.fingerprint and cache.misses == 2
    phys, tex = contrastive_pairs(["ball"])
    assert phys and tex and all("ball" in x for p in phys + tex for x in p)


@pytest.mark.parametrize("width,pooled,mask", [(768, True, False), (2048, True, False), (4096, False, True)])
def test_prompt_edit_moves_only_weighted_tokens_along_p(width, pooled, mask):
    torch.manual_seed(0)
    L, L2 = 12, 20
    c = torch.randn(2, L, width)
    cc = torch.randn(1, L2, width)
    basis = torch.linalg.qr(torch.randn(width, 3))[0].T  # [3, D] orthonormal

    def proj(v):
        return (v @ basis.T) @ basis

    groups = [[] for _ in range(L)]
    groups[2], groups[5] = [13, 14], [15]
    w = torch.zeros(L)
    w[2], w[5], w[7] = 1.0, 0.5, 1.0  # token 7 has weight but target = itself: no move
    targets = aligned_targets(c, cc, groups)
    am = None
    if mask:
        am = torch.ones(2, L)
        am[:, 5] = 0  # padding never moves
    out = edit_tokens(c, targets, w, proj, 0.8, attention_mask=am)
    delta = out - c
    moved = (delta.abs().amax(-1) > 1e-5)[0].nonzero().flatten().tolist()
    assert moved == ([2] if mask else [2, 5])
    assert torch.allclose(delta - proj(delta), torch.zeros_like(delta), atol=1e-4)  # only along P
    expect = 0.8 * proj(cc[:, 13:15].mean(1) - c[:, 2])
    assert torch.allclose(delta[:, 2], expect, atol=1e-4)
    assert edit_tokens(c, targets, w, proj, 0.0) is c
    if pooled:
        pw = 1280 if width == 2048 else width
        pb = torch.linalg.qr(torch.randn(pw, 2))[0].T
        p, pc = torch.randn(2, pw), torch.randn(1, pw)
        p2 = edit_pooled(p, pc, lambda v: (v @ pb.T) @ pb, 0.5)
        assert p2.shape == p.shape and not torch.equal(p2, p)
    assert edit_pooled(None, None, proj, 0.5) is None


def test_prompt_edit_rejects_mismatched_shapes():
    with pytest.raises(LinaError, match="same D"):
        aligned_targets(torch.zeros(1, 4, 768), torch.zeros(1, 4, 4096), [[]] * 4)
    with pytest.raises(LinaError, match="token weights"):
        edit_tokens(torch.zeros(1, 4, 8), torch.zeros(1, 4, 8), torch.ones(5), lambda v: v, 1.0)


def test_plan_json_is_plain_json():
    p = prior_plan(parse(PROMPT))
    d = json.loads(p.to_json())
    assert isinstance(d["regions"], list) and isinstance(d["token_weights"], dict)
