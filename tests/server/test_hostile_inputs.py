"""Hostile API callers against the real server: no file read outside the allowed folders, no request to an
endpoint the operator did not configure, bounded time, clear errors, and the server keeps serving.
Loopback only; each case is bounded (< 5 s)."""
from __future__ import annotations

import json
import time
import urllib.request

import pytest

from lina_nodes.devtools.fake_http import QuietHandler, loopback_server
from lina_nodes.server.client import execution_error

SENTINEL = "SENTINEL-SECRET-7f3a"


def parse_node(prompt="a cat", **kw):
    return {"class_type": "LINACSGParse", "inputs": {"prompt": prompt, "seed": 0, "backend": "rules", **kw}}


def still_serves(comfy):
    entry = comfy.run({"p": parse_node("a dog chases a cat")}, timeout=30)
    assert "chases" in entry["outputs"]["p"]["csg_json"][0]


def timed(comfy, graph, expect_error):
    t = time.monotonic()
    entry = comfy.run(graph, timeout=30, expect_error=expect_error)
    assert time.monotonic() - t < 5.0
    return entry


class Fake(QuietHandler):
    hits: list = []
    mode = "drip"

    def do_POST(self):  # noqa: N802
        Fake.hits.append(self.path)
        try:
            if Fake.mode == "redirect":
                return self.redirect(307, "http://127.0.0.2:9/steal")
            self.drip(200, 0.2)
        except (BrokenPipeError, ConnectionResetError):
            pass


@pytest.fixture()
def fake():
    Fake.hits, Fake.mode = [], "drip"
    with loopback_server(Fake) as url:
        yield url


@pytest.fixture()
def operator(comfy):
    """Write the operator's settings file (re-read by the pack on change); removed after the test."""
    path = comfy.base_dir / "user" / "lina_settings.json"

    def write(**settings):
        path.write_text(json.dumps(settings))
        time.sleep(0.02)
    yield write
    path.unlink(missing_ok=True)


@pytest.fixture()
def sentinel(tmp_path):
    p = tmp_path / "physworld_secret.safetensors"
    p.write_text(SENTINEL)
    return p


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://127.0.0.1/", "http://127.0.0.1:9/?", "FAKE",
                                 "http://169.254.169.254/latest/meta-data#", ""])
def test_unconfigured_llm_urls_are_never_contacted(comfy, fake, url):
    url = fake if url == "FAKE" else url
    entry = timed(comfy, {"p": parse_node("a snake is eaten by a bird", backend="llm", llm_url=url,
                                          llm_timeout=2.0)}, False)
    meta = json.loads(entry["outputs"]["p"]["csg_json"][0])["meta"]
    assert meta["llm_fallback"] is True and "off on this server" in meta["llm_error"]
    assert Fake.hits == [] and "root:" not in meta["llm_error"]
    still_serves(comfy)


def test_configured_endpoint_has_a_hard_deadline_and_no_redirects(comfy, fake, operator):
    operator(llm_endpoints=[fake])
    entry = timed(comfy, {"p": parse_node("a cat", backend="llm", llm_url=fake, llm_timeout=1.0)}, False)
    meta = json.loads(entry["outputs"]["p"]["csg_json"][0])["meta"]
    assert "timed out" in meta["llm_error"] and Fake.hits == ["/v1/chat/completions"]
    Fake.mode = "redirect"
    entry = timed(comfy, {"p": parse_node("a cat", backend="llm", llm_url=fake, llm_timeout=2.0)}, False)
    assert "redirect" in json.loads(entry["outputs"]["p"]["csg_json"][0])["meta"]["llm_error"]
    still_serves(comfy)


def test_interrupt_cuts_the_llm_exchange_short(comfy, fake, operator):
    operator(llm_endpoints=[fake], llm_max_seconds=60)
    pid = comfy.client.queue({"p": parse_node("a cat", backend="llm", llm_url=fake, llm_timeout=60.0)})
    t = time.monotonic()
    while not Fake.hits and time.monotonic() - t < 10:
        time.sleep(0.05)
    urllib.request.urlopen(urllib.request.Request(comfy.url + "/interrupt", data=b"{}", method="POST"), timeout=5)
    entry = comfy.client.wait(pid, 10)
    assert time.monotonic() - t < 5.0
    assert entry["status"]["status_str"] == "error" or execution_error(entry) is not None or \
        any(m[0] == "execution_interrupted" for m in entry["status"].get("messages", []))
    still_serves(comfy)


def _file_error(comfy, graph) -> str:
    first = next(iter(graph))
    if graph[first]["class_type"] in ("LINAPhysWorldLoader", "LINAAdapterLoader"):
        graph = {**graph, "o": {"class_type": "PreviewAny", "inputs": {"source": [first, 0]}}}
    err = execution_error(timed(comfy, graph, True))
    return err["exception_message"]


def test_file_inputs_outside_the_allowed_folders_are_refused_generically(comfy, sentinel, tmp_path):
    link = comfy.base_dir / "models" / "lina_physworld"
    link.mkdir(parents=True, exist_ok=True)
    (link / "physworld_link.safetensors").unlink(missing_ok=True)
    (link / "physworld_link.safetensors").symlink_to(sentinel)
    cases = [str(sentinel), str(tmp_path / "physworld_none.safetensors"), "../../../../etc/passwd",
             "/proc/self/environ", "physworld_link.safetensors", "x" * 100_000]
    tails = set()
    for value in cases:
        msg = _file_error(comfy, {"l": {"class_type": "LINAPhysWorldLoader",
                                        "inputs": {"weights": "physworld_default.safetensors", "weights_path": value}}})
        assert msg.startswith("weights_path:") and SENTINEL not in msg and str(tmp_path) not in msg
        assert str(comfy.base_dir) not in msg and len(msg) < 800
        tails.add(msg.split(" was not found")[1])
    assert len(tails) == 1
    msg = _file_error(comfy, {"a": {"class_type": "LINAAdapterLoader",
                                    "inputs": {"adapter_name": "(none: use adapter_path)", "adapter_path": str(sentinel)}}})
    assert msg.startswith("adapter_path:") and "was not found" in msg and SENTINEL not in msg
    msg = _file_error(comfy, {"p": parse_node("a cat", knowledge_path="/etc/passwd")})
    assert msg.startswith("knowledge_path:") and "was not found" in msg
    still_serves(comfy)


def test_bad_weights_inside_the_folder_are_refused_before_building(comfy):
    folder = comfy.base_dir / "models" / "lina_physworld"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "physworld_trunc.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{}")
    (folder / "physworld_hugehdr.safetensors").write_bytes((40 * 2**20).to_bytes(8, "little") + b" " * 64)
    for name in ("physworld_trunc.safetensors", "physworld_hugehdr.safetensors"):
        msg = _file_error(comfy, {"l": {"class_type": "LINAPhysWorldLoader",
                                        "inputs": {"weights": "physworld_default.safetensors", "weights_path": name}}})
        assert name in msg and "corrupted" in msg and str(folder) not in msg
    still_serves(comfy)


def test_masks_are_refused_by_memory_up_front(comfy):
    msg = _file_error(comfy, {"p": parse_node("a red ball on a table under a lamp"),
                              "m": {"class_type": "LINACSGMasks", "inputs": {"csg": ["p", 0], "width": 8192,
                                                                             "height": 8192, "frames": 4096,
                                                                             "mode": "node", "select": ""}},
                              "o": {"class_type": "PreviewAny", "inputs": {"source": ["m", 1]}}})
    assert "GiB" in msg and "frames" in msg
    still_serves(comfy)


def _from_json(text):
    return {"j": {"class_type": "LINACSGFromJSON", "inputs": {"csg_json": text, "complete": True, "seed": 0}},
            "c": {"class_type": "LINACSGCausalPrompt", "inputs": {"csg": ["j", 0], "include_original": True,
                                                                   "include_explicit": True}}}


@pytest.mark.parametrize("text, words", [
    ('{"version": "1.0", "prompt": "x", "nodes": [{"id": "a", "name": "a", "box": [0, NaN, 1, 1]}], "edges": []}',
     "csg_json.nodes[0].box[1]"),
    ("[" * 20000 + "]" * 20000, "nested"),
    ('{"version": "1.0", "prompt": "' + "p" * 2_000_000 + '"}', "at most 200000"),
    ("{not json" + "x" * 1_000_000, "not valid JSON"),
])
def test_malformed_csg_json_gets_a_short_clear_error(comfy, text, words):
    msg = _file_error(comfy, _from_json(text))
    assert words in msg and len(msg) < 3000
    still_serves(comfy)


def test_completion_near_the_node_cap_is_bounded(comfy):
    nodes = [{"id": f"ball_{i}", "name": "ball", "kind": "object"} for i in range(1000)]
    nodes += [{"id": f"lamp_{j}", "name": "lamp", "kind": "light"} for j in range(999)]
    text = json.dumps({"version": "1.0", "prompt": "x", "nodes": nodes, "edges": [], "constraints": [],
                       "meta": {}})
    t = time.monotonic()
    entry = comfy.client.wait(comfy.client.queue(_from_json(text)), 30)
    assert time.monotonic() - t < 5.0          # completed within the bound, or refused by the time cap
    err = execution_error(entry)
    assert err is None or "takes more than" in err["exception_message"], err
    still_serves(comfy)


@pytest.mark.parametrize("prompt", ["\x00\x01\x1b[31m a cat \u202e on a mat", "a cat " * 30000])
def test_huge_and_control_character_prompts(comfy, prompt):
    t = time.monotonic()
    entry = comfy.client.wait(comfy.client.queue({"p": parse_node(prompt)}), 30)
    assert time.monotonic() - t < 5.0
    err = execution_error(entry)
    assert err is None or (err["exception_type"].endswith("CSGError") and len(err["exception_message"]) < 3000)
    still_serves(comfy)
