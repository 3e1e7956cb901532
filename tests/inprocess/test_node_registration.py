"""Every LINA node class passes ComfyUI's own schema validation, ids are prefixed, inputs have tooltips."""
import asyncio
from pathlib import Path

import pytest

from lina_nodes.inprocess.comfy_import import import_comfy

import_comfy()
from lina_nodes.comfy_nodes import collect_nodes, comfy_entrypoint  # noqa: E402

NODES = collect_nodes()


def test_entrypoint_lists_nodes():
    ext = asyncio.run(comfy_entrypoint())
    listed = asyncio.run(ext.get_node_list())
    assert [n.__name__ for n in listed] == [n.__name__ for n in NODES]
    assert "LINACausalScheduler" in [n.GET_SCHEMA().node_id for n in listed]


@pytest.mark.parametrize("node", NODES, ids=lambda n: n.__name__)
def test_schema(node):
    schema = node.GET_SCHEMA()  # ComfyUI's own validation
    assert schema.node_id.startswith("LINA")
    assert schema.display_name and schema.display_name.startswith("LINA ")
    assert schema.category.startswith("LINA")
    assert schema.description
    doc = Path(__file__).resolve().parents[2] / "web" / "docs" / f"{schema.node_id}.md"
    assert doc.is_file(), f"missing side-panel doc {doc}"
    for inp in schema.inputs or []:
        assert inp.tooltip, f"{schema.node_id}.{inp.id} has no tooltip"


def test_node_ids_unique():
    ids = [n.GET_SCHEMA().node_id for n in NODES]
    assert len(ids) == len(set(ids))


def test_broken_node_is_skipped_not_fatal(monkeypatch):
    from comfy_api.latest import io

    import lina_nodes.comfy_nodes.scheduler as sched

    class LINABroken(io.ComfyNode):
        @classmethod
        def define_schema(cls):
            return io.Schema(node_id="LINABroken", inputs=[io.Int.Input("x")], outputs=[io.Int.Output("x")])

    monkeypatch.setattr(sched, "NODES", [*sched.NODES, LINABroken])
    ids = [n.GET_SCHEMA().node_id for n in collect_nodes()]
    assert "LINABroken" not in ids and "LINACausalScheduler" in ids
