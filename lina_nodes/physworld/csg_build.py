"""The true CSG (v1, lina_nodes.csg.model) of a PhysWorld scene: nodes with layout boxes, edges
and the constraints the judge checks."""
from __future__ import annotations

from ..csg.model import CSG, Constraint, Edge, Node
from .geometry import HORIZON, MIRROR_FRAME, REFLECT_SQUASH, SHADOW_NEAR, clamp_box, intersect, \
    obj_box, obj_wh, shadow_len
from .scene import FILL_PHRASES, Scene, container_interior


class _B:
    def __init__(self):
        self.nodes, self.edges, self.cons = [], [], []

    def node(self, id, name, kind, box=None, explicit=True, texture=None, physics=None):
        self.nodes.append(Node(id=id, name=name, kind=kind, explicit=explicit, hop=0 if explicit else 1,
                               texture=dict(texture or {}), physics=dict(physics or {}),
                               box=None if box is None else clamp_box(box)))

    def edge(self, src, dst, kind, relation, **attrs):
        self.edges.append(Edge(src=src, dst=dst, kind=kind, relation=relation, attrs=attrs))

    def con(self, kind, subject, obj=None, text="", **params):
        self.cons.append(Constraint(id=f"c{len(self.cons)}", kind=kind, subject=subject, object=obj,
                                    params=params, text=text))

    def object(self, o, kind="object", support=None):
        phys = {"size": o.size}
        if support:
            phys["support"] = support
        if o.submerged:
            phys["state"] = "floating"
        self.node(o.id, o.shape, kind, obj_box(o), texture={"color": o.color}, physics=phys)
        lab = f"{o.color} {o.shape}"
        self.con("present", o.id, text=f"Is there a {lab}?")
        self.con("color", o.id, text=f"Is the {o.shape} {o.color}?", color=o.color)
        self.con("size", o.id, text=f"Is the {lab} {o.size}?", size=o.size)

    def floor(self):
        if not any(n.id == "floor_0" for n in self.nodes):
            self.node("floor_0", "floor", "surface", (0.0, HORIZON, 1.0, 1.0), explicit=False)

    def contact(self, o, sup_id):
        x0, _, x1, y1 = obj_box(o)
        cid = f"contact_{o.id}"
        self.node(cid, "contact", "contact", (x0, y1 - 0.02, x1, y1 + 0.02), explicit=False)
        self.edge(sup_id, cid, "causal", "supports")
        self.edge(o.id, cid, "causal", "supports")
        self.con("touches_support", o.id, sup_id, text=f"Does the {o.color} {o.shape} touch the {sup_id.split('_')[0]}?")


def to_csg(sc: Scene, prompt: str = "") -> CSG:
    """Build the scene's true CSG; boxes are the drawn geometry (normalised)."""
    b = _B()
    getattr(_Cat, sc.category)(b, sc)
    meta = {"source": "physworld", "category": sc.category, "subcategory": sc.subcategory, "seed": sc.seed}
    return CSG(nodes=tuple(b.nodes), edges=tuple(b.edges), constraints=tuple(b.cons), prompt=prompt, meta=meta)


class _Cat:
    @staticmethod
    def shadow(b, sc):
        o, li = sc.objects[0], sc.light
        b.floor()
        b.object(o, support="floor_0")
        r = li["r"]
        b.node(li["id"], li["kind"], "light", (li["x"] - r, li["y"] - r, li["x"] + r, li["y"] + r),
               physics={"side": li["side"]})
        b.con("present", li["id"], text=f"Is there a {li['kind']}?")
        w, _ = obj_wh(o.shape, o.size)
        x0, _, x1, y1 = obj_box(o)
        L = shadow_len(o)
        box = {"left": (x1 - 0.02, y1 - 0.045, x1 + L, y1 + 0.022), "right": (x0 - L, y1 - 0.045, x0 + 0.02, y1 + 0.022),
               "above": (x0 - SHADOW_NEAR, y1 - 0.03, x1 + SHADOW_NEAR, y1 + 0.022)}[li["side"]]
        sid = f"shadow_{o.id}"
        opp = {"left": "right", "right": "left", "above": "below"}[li["side"]]
        b.node(sid, "shadow", "shadow", box, explicit=False, physics={"side": opp})
        b.edge(li["id"], sid, "causal", "casts")
        b.edge(o.id, sid, "causal", "casts")
        b.edge(o.id, "floor_0", "spatial", "on")
        b.con("shadow_opposite_light", sid, li["id"], caster=o.id, side=li["side"],
              text=f"Does the {o.color} {o.shape}'s shadow fall on the side away from the {li['kind']}?")
        b.contact(o, "floor_0")

    @staticmethod
    def reflection(b, sc):
        o, r = sc.objects[0], sc.reflector
        b.object(o, support=r["id"] if r["kind"] == "mirror" else None)
        name = "mirror" if r["kind"] == "mirror" else ("pond" if r["size"] == "small" else "lake")
        b.node(r["id"], name, "surface" if r["kind"] == "mirror" else "medium", (r["x0"], r["y0"], r["x1"], r["y1"]),
               texture={"material": "glass" if r["kind"] == "mirror" else "water"},
               physics={"size": r["size"]})
        b.con("present", r["id"], text=f"Is there a {r['size']} {name} where the layout puts it?", size=r["size"])
        w, h = obj_wh(o.shape, o.size)
        fr = MIRROR_FRAME if r["kind"] == "mirror" else 0.0
        full = (o.x - w / 2, o.base, o.x + w / 2, o.base + REFLECT_SQUASH * h)
        vis = intersect(full, (r["x0"] + fr, r["y0"] + fr, r["x1"] - fr, r["y1"] - fr)) or full
        rid = f"reflection_{o.id}"
        b.node(rid, "reflection", "reflection", vis, explicit=False, texture={"color": o.color})
        b.edge(r["id"], rid, "causal", "reflects")
        b.edge(o.id, rid, "causal", "reflects")
        b.edge(o.id, r["id"], "spatial", "on" if r["kind"] == "mirror" else "near")
        b.con("reflection_inside", rid, r["id"], caster=o.id,
              text=f"Is the reflection of the {o.color} {o.shape} inside the {r['size']} {name}, clipped at its edge?")
        b.con("reflection_matches", rid, o.id, text=f"Does the reflection match the {o.color} {o.shape}?")

    @staticmethod
    def support(b, sc):
        o, s = sc.objects[0], sc.support
        top = s["top"]
        box = (s["x0"], top, s["x1"], top + s["thick"] if s["kind"] == "shelf" else s["floor"])
        if s["relation"] == "on":
            b.object(o, support=s["id"])
        else:
            b.floor()
            b.object(o, support="floor_0")
        b.node(s["id"], s["kind"], "surface", box, texture={"material": "wood"})
        if s["relation"] == "on":
            b.edge(o.id, s["id"], "spatial", "on")
            b.con("on_top", o.id, s["id"], text=f"Is the {o.color} {o.shape} on the {s['kind']}?")
            b.contact(o, s["id"])
        else:
            b.edge(o.id, s["id"], "spatial", "under")
            b.con("below", o.id, s["id"], text=f"Is the {o.color} {o.shape} under the table top?")
            b.contact(o, "floor_0")

    @staticmethod
    def container(b, sc):
        c = sc.container
        b.node(c["id"], c["kind"], "container", (c["x0"], c["y0"], c["x1"], c["y1"]),
               texture={"material": "glass" if c["kind"] == "jar" else "plastic"})
        ix0, iy0, ix1, iy1 = container_interior(c)
        f = c["fill"]
        fid = f"fill_{c['id']}"
        b.node(fid, c["material"], "fill", (ix0, iy1 - f * (iy1 - iy0), ix1, iy1),
               texture={"material": c["material"]}, physics={"fill": round(f, 4)})
        b.edge(fid, c["id"], "spatial", "in")
        b.edge(c["id"], fid, "causal", "fills")
        _, kind, params = FILL_PHRASES[c["phrase"]]
        if c["phrase"] in ("more_than", "less_than"):
            b.edge(fid, c["id"], "comparative", c["phrase"], quantity="amount", than="empty space")
        words = {"almost_empty": "almost empty", "half": "about half full", "nearly_full": "nearly full",
                 "more_than": "more than half full", "less_than": "less than half full"}[c["phrase"]]
        b.con(kind, fid, c["id"], text=f"Is the {c['kind']} {words} of {c['material']}?", **params)
        b.con("material", fid, text=f"Is the {c['kind']} filled with {c['material']}?", material=c["material"])

    @staticmethod
    def spatial(b, sc):
        rel = sc.relation["rel"]
        a = sc.objects[0]
        if rel in ("in", "next_to"):
            c = sc.container
            b.object(a, support=c["id"] if rel == "in" else None)
            b.node(c["id"], c["kind"], "container", (c["x0"], c["y0"], c["x1"], c["y1"]), physics={"fill": 0.0})
            if rel == "in":
                b.edge(a.id, c["id"], "spatial", "in")
                b.con("inside", a.id, c["id"], text=f"Is the {a.color} {a.shape} inside the {c['kind']}?")
            else:
                b.edge(a.id, c["id"], "spatial", "next_to")
                b.con("near", a.id, c["id"], relation="next_to",
                      text=f"Is the {a.color} {a.shape} next to (not in) the {c['kind']}?")
            return
        o2 = sc.objects[1]
        if rel == "on":
            b.object(o2)
            b.object(a, support=o2.id)
            b.edge(a.id, o2.id, "spatial", "on")
            b.con("on_top", a.id, o2.id, text=f"Is the {a.color} {a.shape} on top of the {o2.color} {o2.shape}?")
            b.contact(a, o2.id)
            return
        b.object(a)
        b.object(o2)
        b.edge(a.id, o2.id, "spatial", rel)
        b.con(rel, a.id, o2.id, text=f"Is the {a.color} {a.shape} {rel.replace('_of', '')} of the {o2.color} {o2.shape}?")

    @staticmethod
    def region(b, sc):
        o, r = sc.objects[0], sc.regions
        wx0, wx1 = (0.0, r["split"]) if r["water_side"] == "left" else (r["split"], 1.0)
        lx0, lx1 = (r["split"], 1.0) if r["water_side"] == "left" else (0.0, r["split"])
        b.object(o, support=r["land_id"] if r["placement"] != "in_water" else None)
        b.node(r["land_id"], r["land"], "region", (lx0, HORIZON, lx1, 1.0), texture={"material": r["land"]})
        b.node(r["water_id"], "water", "medium", (wx0, HORIZON, wx1, 1.0), texture={"material": "water"})
        if r["placement"] == "in_water":
            b.edge(o.id, r["water_id"], "spatial", "in")
            b.con("inside", o.id, r["water_id"], text=f"Is the {o.color} {o.shape} in the water?")
            return
        b.edge(o.id, r["land_id"], "spatial", "in")
        b.con("inside", o.id, r["land_id"], text=f"Is the {o.color} {o.shape} {'in the sand' if r['land'] == 'sand' else 'on the grass'}?")
        if r["placement"] == "near":
            b.edge(o.id, r["water_id"], "spatial", "close_to")
            b.con("near", o.id, r["water_id"], text=f"Is the {o.color} {o.shape} close to the water?")
        else:
            b.edge(o.id, r["water_id"], "spatial", "far_from")
            b.con("far", o.id, r["water_id"], text=f"Is the {o.color} {o.shape} far from the water?")

    @staticmethod
    def action(b, sc):
        act = sc.action
        ag, pa = sc.obj(act["agent"]), sc.obj(act["patient"])
        b.object(ag, kind="agent")
        b.object(pa)
        b.edge(ag.id, pa.id, "action", act["verb"])
        b.con("action_direction", ag.id, pa.id, verb=act["verb"],
              text=f"Does the {ag.color} {ag.shape} {act['verb'].rstrip('s')} the {pa.color} {pa.shape} (not the reverse)?")
