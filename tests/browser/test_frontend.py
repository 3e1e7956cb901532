"""The example workflows in the real ComfyUI frontend (1.32.9), in headless Chromium.

Each workflows/*.json loads with no missing node types, the LINA widgets hold the saved values,
and the frontend's own graph-to-prompt conversion gives exactly the API twin in tests/workflows/.
Needs Debian's chromium (scripts/test.sh installs it when it can) and the playwright package.
"""
from __future__ import annotations

import json
import shutil
from urllib.parse import urlparse
from pathlib import Path

import pytest

from lina_nodes.server.client import ComfyClient

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((REPO / "workflows").glob("*.json"))
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (scripts/test.sh installs it as root)")


LOCAL_HOSTS = {"127.0.0.1"}
BLOCKED: list[str] = []  # every request to another host, blocked (the test below asserts they all were)
ALLOWED_OUTSIDE: list[str] = []  # must stay empty


def _only_local(route):
    url = route.request.url
    host = urlparse(url).hostname or ""
    if url.startswith(("data:", "blob:")) or host in LOCAL_HOSTS:
        route.continue_()
    else:
        BLOCKED.append(url)
        route.abort("blockedbyclient")


@pytest.fixture(scope="module")
def page(comfy, tmp_path_factory):
    sync_api = pytest.importorskip("playwright.sync_api")
    client = ComfyClient(comfy.url)
    # a fresh user would get the template browser dialog on first load
    assert client._request("/settings/Comfy.TutorialCompleted", True)[0] == 200
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        pg = browser.new_page(viewport={"width": 1400, "height": 900})
        pg.route("**/*", _only_local)  # the frontend looks up outside hosts on load: block them all
        pg.goto(comfy.url, wait_until="domcontentloaded", timeout=60000)
        pg.wait_for_function(
            "() => window.app && window.app.vueAppReady && window.LiteGraph && "
            "window.LiteGraph.registered_node_types['LINACausalScheduler']", timeout=90000)
        pg.evaluate("""() => window.app.registerExtension({name: 'lina.test.missing',
                         afterConfigureGraph(missing) { window.__linaMissing = missing || []; }})""")
        yield pg
        browser.close()


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_loads_and_converts_to_api_twin(page, path, tmp_path):
    ui = json.loads(path.read_text())
    page.evaluate("window.__linaMissing = null")
    page.evaluate("async ([wf, name]) => { await window.app.loadGraphData(wf, true, true, name); }", [ui, path.stem])
    page.wait_for_function("() => window.__linaMissing !== null", timeout=30000)
    assert page.evaluate("window.__linaMissing.map(m => m.type || m)") == []
    widgets = page.evaluate("""() => Object.fromEntries(window.app.graph._nodes
        .filter(n => n.type === 'LINACausalScheduler')
        .map(n => [String(n.id), Object.fromEntries(n.widgets.map(w => [w.name, w.value]))]))""")
    twin = json.loads((REPO / "tests" / "workflows" / f"{path.stem}.api.json").read_text())
    for node_id, values in widgets.items():
        expected = {k: v for k, v in twin[node_id]["inputs"].items() if not isinstance(v, list)}
        assert values == expected
    prompt = page.evaluate("async () => (await window.app.graphToPrompt()).output")
    strip = lambda g: {k: {"class_type": v["class_type"], "inputs": v["inputs"]} for k, v in g.items()}
    assert strip(prompt) == strip(twin)
    page.screenshot(path=str(tmp_path / f"{path.stem}.png"))


def test_no_request_left_the_machine(page):
    """Every request the page made went to 127.0.0.1; the outside ones it tried were all blocked."""
    seen = page.evaluate("() => performance.getEntriesByType('resource').map(e => e.name)")
    outside = [u for u in seen if not u.startswith(("data:", "blob:")) and urlparse(u).hostname not in LOCAL_HOSTS]
    assert set(outside) <= set(BLOCKED), f"requests to outside hosts that were not blocked: {outside}"
    assert ALLOWED_OUTSIDE == []


def test_examples_have_no_overlapping_nodes_in_the_frontend(page):
    """After loading, the frontend's own node boxes (title bar included) do not overlap."""
    for path in EXAMPLES:
        ui = json.loads(path.read_text())
        page.evaluate("async ([wf, name]) => { await window.app.loadGraphData(wf, true, true, name); }", [ui, path.stem])
        boxes = page.evaluate("""() => window.app.graph._nodes.map(n => {
            const b = n.getBounding(); return [String(n.id), b[0], b[1], b[2], b[3]]; })""")
        for i, (a, ax, ay, aw, ah) in enumerate(boxes):
            for b, bx, by, bw, bh in boxes[i + 1:]:
                overlap = ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah
                assert not overlap, f"{path.name}: nodes {a} and {b} overlap in the frontend"
