"""Optional LLM backend against a loopback OpenAI-compatible server the test starts."""
from __future__ import annotations

import json
import time

import pytest

from lina_nodes.csg.llm import parse_llm
from lina_nodes.devtools.fake_http import QuietHandler, loopback_server

GOOD = {"nodes": [{"id": "bird_0", "name": "bird", "kind": "agent"}, {"id": "snake_0", "name": "snake", "kind": "agent"},
                  {"id": "mirror_0", "name": "mirror", "kind": "surface"}],
        "edges": [{"src": "bird_0", "dst": "snake_0", "kind": "action", "relation": "eats"},
                  {"src": "bird_0", "dst": "mirror_0", "kind": "spatial", "relation": "in_front_of"}]}


class Handler(QuietHandler):
    reply = ""          # set per test
    status = 200
    delay = 0.0
    seen: list = []

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Handler.seen.append((self.path, body))
        time.sleep(Handler.delay)
        payload = json.dumps({"choices": [{"message": {"role": "assistant", "content": Handler.reply}}]}).encode()
        try:
            self.send_response(Handler.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass


@pytest.fixture(scope="module")
def loopback():
    """One loopback server for the module (stopping one waits out its 0.5 s poll): state is reset per test."""
    with loopback_server(Handler) as url:
        yield url


@pytest.fixture()
def server(loopback):
    Handler.seen, Handler.status, Handler.delay = [], 200, 0.0
    yield loopback


def test_valid_llm_output_is_used_and_completed(server):
    Handler.reply = "```json\n" + json.dumps(GOOD) + "\n```"
    g = parse_llm("a bird eats a snake in front of a mirror", url=server, model="tiny", timeout=5)
    assert g.meta["parser"] == "llm" and "llm_error" not in g.meta
    path, body = Handler.seen[0]
    assert path == "/v1/chat/completions" and body["model"] == "tiny" and body["temperature"] == 0
    assert any(e.relation == "eats" and e.src == "bird_0" for e in g.edges)
    assert any(n.kind == "reflection" and not n.explicit for n in g.nodes)       # rules added implied nodes
    assert all(n.box is not None for n in g.nodes)                               # and a layout


@pytest.mark.parametrize("reply, status", [
    ("not json at all", 200),
    (json.dumps({"nodes": [{"id": "a", "name": "x", "kind": "dragon"}], "edges": []}), 200),    # schema error
    (json.dumps({"nodes": [{"id": "a", "name": "x"}], "edges": [{"src": "a", "dst": "zz", "kind": "spatial",
                                                                "relation": "on"}]}), 200),  # dangling edge
    (json.dumps(GOOD), 500),
])
def test_any_failure_falls_back_to_the_rule_parser(server, reply, status):
    Handler.reply, Handler.status = reply, status
    g = parse_llm("a snake is eaten by a bird", url=server, timeout=5)
    assert g.meta["parser"] == "lina-rules" and g.meta["llm_fallback"] is True and g.meta["llm_error"]
    assert any(e.relation == "eats" for e in g.edges)


def test_timeout_falls_back(server):
    Handler.reply, Handler.delay = json.dumps(GOOD), 3.0
    g = parse_llm("a cat on a mat", url=server, timeout=0.5)
    assert g.meta["llm_fallback"] is True and "timed out" in g.meta["llm_error"].lower()


def test_unreachable_endpoint_falls_back():
    g = parse_llm("a cat on a mat", url="http://127.0.0.1:9/v1", timeout=1)
    assert g.meta["llm_fallback"] is True
