"""Writes test/retrieval/fixtures/python-codes.json: codes the Python pipeline (own
preprocessing + the trained torch weights) gives for 30 val images, as-is and after
deterministic re-sizing, so the TS side (preprocess.ts + onnxruntime-node) can be
checked bit for bit.

    /usr/bin/python3 training/export_fixture.py                                   (after train.py)
    /usr/bin/python3 training/export_fixture.py --ckpt training/.cache/hash64.pt   (after train_hash.py,
                                                  whose ONNX was copied to models/obia-hash64.onnx)
    /usr/bin/python3 training/export_fixture.py --onnx   (a model made from an ONNX file, such as the
                                                  mirror-averaged one: the committed graph evaluated
                                                  with torch's ops by onnx_torch.py)
"""
import hashlib
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import FusedHashNet, HashNet, ResHashNet  # noqa: E402
from obia_preprocess import CACHE, REPO, load_split, preprocess, stretch_nearest  # noqa: E402

# (width, height) of the stretched variants: one upscale with uneven boxes, one downscale.
VARIANTS = [(97, 131), (200, 150)]


def code_hex(out: np.ndarray) -> str:
    v = 0
    for i, x in enumerate(out):
        if x > 0:
            v |= 1 << i
    return f"{v:016x}"


def main():
    torch.set_num_threads(2)
    imgs, labels, keys, classes = load_split("val")
    side = 64
    onnx_path = os.path.join(REPO, "models", "obia-hash64.onnx")
    graph_only = "--onnx" in sys.argv
    if graph_only:
        import onnx
        from onnx_torch import run as run_graph
        side = onnx.load(onnx_path).graph.input[0].type.tensor_type.shape.dim[3].dim_value
        model = None
    elif "--ckpt" in sys.argv:
        ckpt = torch.load(sys.argv[sys.argv.index("--ckpt") + 1])
        a = ckpt["args"]
        side = a["side"]
        if a["arch"] == "fused":
            model = FusedHashNet(64, len(ckpt["classes"]))
        else:
            model = ResHashNet(64, len(ckpt["classes"]), tuple(int(w) for w in a["width"].split(",")), se=not a["no_se"])
        model.load_state_dict(ckpt["state"])
    else:
        model = HashNet(64, len(classes))
        model.load_state_dict(torch.load(os.path.join(CACHE, "obia-hash64.pt")))
    if model is not None:
        model.eval()
    items = []
    for c in range(len(classes)):
        idx = np.flatnonzero(labels == c)[::100][:5]
        for i in idx:
            cases = [("original", imgs[i])] + [(f"stretch{w}x{h}", stretch_nearest(imgs[i], w, h)) for w, h in VARIANTS]
            for name, img in cases:
                x = preprocess(img, side)
                if graph_only:
                    out = run_graph(onnx_path, x[None])[0]
                else:
                    with torch.no_grad():
                        out = model(torch.from_numpy(x[None]))[0].numpy()
                items.append({
                    "key": keys[i],
                    "variant": name,
                    "inputSha256": hashlib.sha256(x.astype("<f4").tobytes()).hexdigest(),
                    "code": code_hex(out),
                    "minAbsOutput": float(np.abs(out).min()),
                })
    fixture = {
        "model": "models/obia-hash64.onnx",
        "modelSha256": hashlib.sha256(open(onnx_path, "rb").read()).hexdigest(),
        "bitOrder": "bit i of the 64-bit value = output[i] > 0; hex is most significant digit first",
        "items": items,
    }
    out = os.path.join(REPO, "test", "retrieval", "fixtures", "python-codes.json")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    json.dump(fixture, open(out, "w"), indent=1)
    print(f"wrote {len(items)} codes to {out}")


if __name__ == "__main__":
    main()
