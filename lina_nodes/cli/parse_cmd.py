"""`lina parse "PROMPT"`: print the Causal Scene Graph as JSON, or a readable tree with --pretty."""
from __future__ import annotations

import argparse
import json
import sys

from . import CLIError


def register(sub) -> None:
    p = sub.add_parser("parse", help="parse a prompt into a Causal Scene Graph (CSG)",
                       description="Parse a prompt into a Causal Scene Graph: explicit entities and relations, "
                                   "implied physical nodes (reflection, shadow, contact, fill...), constraints "
                                   "and layout boxes. Offline and deterministic by default.")
    p.add_argument("prompt", nargs="?", default=None, help="the prompt (use - or omit to read stdin)")
    p.add_argument("--pretty", action="store_true", help="a readable tree instead of JSON")
    p.add_argument("--causal", action="store_true", help="also print the causal prompt")
    p.add_argument("--seed", type=int, default=0, help="layout seed (default 0)")
    p.add_argument("--knowledge", default=None, help="path of your own physics knowledge JSON")
    p.add_argument("--no-layout", action="store_true", help="leave boxes empty")
    p.add_argument("--llm-url", default=None,
                   help="use an OpenAI-compatible chat endpoint (e.g. http://127.0.0.1:11434/v1); falls back "
                        "to the rule parser on any failure")
    p.add_argument("--llm-model", default="llama3.1")
    p.add_argument("--llm-timeout", type=float, default=20.0)
    p.set_defaults(func=run)


def tree(g) -> str:
    lines = [f"CSG v{g.version}: {g.prompt!r}", "nodes:"]
    for n in g.nodes:
        attrs = {**n.texture, **{k: v for k, v in n.physics.items()}}
        extra = " ".join(f"{k}={v}" for k, v in attrs.items())
        box = "" if n.box is None else " box=[" + ", ".join(f"{v:.2f}" for v in n.box) + "]"
        flag = " NOT" if n.negated else ""
        lines.append(f"  {'  ' * n.hop}{n.id} ({n.kind}, hop {n.hop}{', x' + str(n.count) if n.count != 1 else ''})"
                     f"{flag} {extra}{box}".rstrip())
    lines.append("edges:")
    for e in g.edges:
        extra = (" " + json.dumps(e.attrs)) if e.attrs else ""
        lines.append(f"  {e.src} -[{e.kind}:{'not ' if e.negated else ''}{e.relation}]-> {e.dst}{extra}")
    lines.append("constraints:")
    for c in g.constraints:
        lines.append(f"  {c.id} {c.kind}({c.subject}{', ' + c.object if c.object else ''}) {c.text}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from ..csg.causal_prompt import causal_prompt
    from ..csg.llm import parse_llm
    from ..csg.parser import parse
    from ..errors import LinaError

    prompt = args.prompt
    if prompt is None or prompt == "-":
        prompt = sys.stdin.read()
    try:
        if args.llm_url:
            g = parse_llm(prompt, url=args.llm_url, model=args.llm_model, timeout=args.llm_timeout,
                          knowledge=args.knowledge, seed=args.seed)
        else:
            g = parse(prompt, knowledge=args.knowledge, seed=args.seed, layout=not args.no_layout)
    except LinaError as e:
        raise CLIError(str(e)) from e
    if getattr(args, "json", False) or not args.pretty:
        data = g.to_dict()
        if args.causal:
            data = {"csg": data, "causal_prompt": causal_prompt(g)}
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return 0
    text = tree(g)
    if args.causal:
        text += "\ncausal prompt:\n  " + causal_prompt(g)
    print(text)
    return 0
