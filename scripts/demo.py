"""The demo: start a fresh headless ComfyUI with the LINA pack, run the PhysWorld example workflows (image,
frame sequence, LINA), then a fixed list of in-distribution and out-of-distribution PhysWorld prompts through
the plain and the LINA workflow, judged by the PhysWorld judge. Writes out/demo/<workflow>/...,
out/demo/physworld/{images/, scores.json, contact_sheet.png} and out/demo/summary.json."""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

from lina_nodes.server.client import ComfyClient, output_files
from lina_nodes.server.runtime import ComfyServer, find_comfyui
from lina_nodes.server.workflow_format import is_api_format, load_workflow, ui_to_api

ROOT = Path(__file__).resolve().parent.parent


def _run_image(client: ComfyClient, base: Path, api: dict, sets: list):
    import numpy as np
    from PIL import Image

    from lina_nodes.server.workflow_format import apply_sets

    entry = client.run(apply_sets(api, sets), timeout=300)
    saved = [f for f in output_files(entry, base) if f["type"] == "output"]   # not the CSG preview (temp)
    with Image.open(saved[0]["path"]) as im:
        return np.asarray(im.convert("RGB"))


def physworld_prompts(client: ComfyClient, base: Path, out: Path, n: int) -> dict:
    """The fixed prompt list (the first n id_test and n ood_test PhysWorld prompts, seed = index) through
    ComfyUI twice: the plain example workflow (KSampler) and the LINA example workflow (CSG Parse -> LINA Plan
    -> LINA Guider + Causal Scheduler). Judges every image against its prompt; writes the images, a contact
    sheet (reference render | plain | LINA) and scores.json."""
    from PIL import Image

    from lina_nodes.paths import PHYSWORLD_DEFAULT_WEIGHTS as DEFAULT_WEIGHTS
    from lina_nodes.physworld_model.data import eval_samples
    from lina_nodes.physworld_model.weights_io import weights_split
    from lina_nodes.physworld_model.evaluate import contact_sheet, score_images

    plain = json.loads((ROOT / "tests" / "workflows" / "physworld_image_ksampler.api.json").read_text())
    lina = json.loads((ROOT / "tests" / "workflows" / "physworld_lina_guider.api.json").read_text())
    result, rows = {}, []
    img_dir = out / "images"
    img_dir.mkdir(parents=True, exist_ok=True)
    for split in ("id_test", "ood_test"):
        samples = eval_samples(split, n, version=weights_split(DEFAULT_WEIGHTS))
        records = [s.record for s in samples]
        imgs = {"plain": [], "lina": []}
        for i, sample in enumerate(samples):
            text = json.dumps(sample.record["prompt"])
            a = _run_image(client, base, plain, [f"2.text={text}", f"5.seed={i}",
                                                 f"7.filename_prefix=demo_{split}_{i}"])
            b = _run_image(client, base, lina, [f"2.prompt={text}", f"8.noise_seed={i}",
                                                f"12.filename_prefix=demo_lina_{split}_{i}"])
            imgs["plain"].append(a)
            imgs["lina"].append(b)
            Image.fromarray(a).save(img_dir / f"{split}_{i:02d}_plain.png")
            Image.fromarray(b).save(img_dir / f"{split}_{i:02d}_lina.png")
            rows.append([sample.image, a, b])
        result[split] = {"prompts": [r["prompt"] for r in records]}
        for k, v in imgs.items():
            sc = score_images(v, records)
            result[split][k] = {"physical_alignment_score": round(sc["score"], 4),
                                "per_image": [d["score"] for d in sc["images_detail"]],
                                "per_category": {c: round(x["score"], 4) for c, x in sc["per_category"].items()}}
        print(f"PhysWorld {split}: physical-alignment score plain {result[split]['plain']['physical_alignment_score']}"
              f", LINA {result[split]['lina']['physical_alignment_score']} over {n} prompts")
    (out / "scores.json").write_text(json.dumps(result, indent=2))
    contact_sheet(rows, out / "contact_sheet.png")
    print(f"contact sheet (reference render | plain | LINA): {out / 'contact_sheet.png'}")
    return {s: {k: result[s][k]["physical_alignment_score"] for k in ("plain", "lina")} for s in result}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default=str(ROOT / "out" / "demo"))
    ap.add_argument("--workflows", nargs="*", default=None,
                    help="default: the PhysWorld examples workflows/physworld_*.json")
    ap.add_argument("--all-workflows", action="store_true",
                    help="also run the SD1.5 / Wan examples on tiny random-weight models (written first)")
    ap.add_argument("--prompts", type=int, default=8, help="PhysWorld prompts per split (id_test, ood_test)")
    ap.add_argument("--threads", type=int, default=None,
                    help="CPU threads for the server's torch (default: torch's; use 1 when other jobs run)")
    args = ap.parse_args()
    out = Path(args.out)
    base = out / "comfy-base"
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    pattern = "*.json" if args.all_workflows else "physworld_*.json"
    paths = args.workflows or sorted(str(p) for p in (ROOT / "workflows").glob(pattern))
    if args.all_workflows or any(not Path(p).name.startswith("physworld") for p in paths):
        import subprocess

        r = subprocess.run([sys.executable, "-m", "lina_nodes.devtools.tiny_models", "--comfy", str(find_comfyui()),
                            "--out", str(base / "models"), "--json"], capture_output=True, text=True)
        if r.returncode != 0:
            print(r.stderr, file=sys.stderr)
            return 1
    summary = {"workflows": []}
    with ComfyServer(base_dir=base, threads=args.threads) as server:
        print(f"ComfyUI with LINA at {server.url} (ready {time.perf_counter() - t0:.1f} s after start)")
        client = ComfyClient(server.url)
        info = client.object_info()
        for p in paths:
            t = time.perf_counter()
            data = load_workflow(p)
            prompt = data if is_api_format(data) else ui_to_api(data, info)
            entry = client.run(prompt, timeout=600)
            files = []
            for f in (f for f in output_files(entry, base) if f["type"] == "output"):
                dest = out / Path(p).stem / f["filename"]
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(f["path"], dest)
                files.append(str(dest.relative_to(ROOT)) if dest.is_relative_to(ROOT) else str(dest))
            dt = time.perf_counter() - t
            summary["workflows"].append({"workflow": Path(p).name, "seconds": round(dt, 2), "outputs": files})
            print(f"{Path(p).name}: {dt:.2f} s -> {', '.join(files)}")
        if args.prompts > 0:
            summary["physworld"] = physworld_prompts(client, base, out / "physworld", args.prompts)
    summary["seconds"] = round(time.perf_counter() - t0, 1)
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    print(f"summary: {out / 'summary.json'} ({summary['seconds']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
