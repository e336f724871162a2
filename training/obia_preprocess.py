"""Python mirror of src/retrieval/preprocess.ts. Keep the two in lock-step: the
fixture test (test/retrieval/parity.test.ts) compares their outputs bit for bit."""
import json
import os
import subprocess

import numpy as np

MODEL_SIDE = 128
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE = os.path.join(REPO, "training", ".cache")

# (v - 127.5) / 127.5 in float64, rounded once to float32 (TS builds the same table).
NORMALISE = ((np.arange(256, dtype=np.float64) - 127.5) / 127.5).astype(np.float32)


def _edges(src: int, dst: int):
    o = np.arange(dst, dtype=np.int64)
    lo = (o * src) // dst
    hi = np.maximum(((o + 1) * src) // dst, lo + 1)
    return lo, hi


def resize_area(img: np.ndarray, out_w: int = MODEL_SIDE, out_h: int = MODEL_SIDE) -> np.ndarray:
    """Area average over integer boxes, mean rounded half up: floor((2*sum+n)/(2*n))."""
    h, w = img.shape
    ii = np.zeros((h + 1, w + 1), dtype=np.int64)
    ii[1:, 1:] = img.astype(np.int64).cumsum(0).cumsum(1)
    y0, y1 = _edges(h, out_h)
    x0, x1 = _edges(w, out_w)
    s = ii[y1][:, x1] - ii[y0][:, x1] - ii[y1][:, x0] + ii[y0][:, x0]
    n = (y1 - y0)[:, None] * (x1 - x0)[None, :]
    return ((2 * s + n) // (2 * n)).astype(np.uint8)


def preprocess(img: np.ndarray, side: int = MODEL_SIDE) -> np.ndarray:
    """uint8 [H,W] -> float32 [1,side,side] (side = MODEL_SIDE for the shipped model)."""
    if img.shape != (side, side):
        img = resize_area(img, side, side)
    return NORMALISE[img][None, :, :]


BRAIN_ROOT = os.environ.get("OBIA_RETRIEVAL_BRAIN_DATA", os.path.join(os.path.dirname(REPO), "shared", "retrieval-brain"))
BRAIN_BLOCK = 60


def brain_block(key: str) -> int:
    """(index - 1) div 60: one patient's slices share a block (src/retrieval/dataset.ts brainBlock)."""
    return (int(os.path.splitext(os.path.basename(key))[0]) - 1) // BRAIN_BLOCK


def brain_held_out(key: str) -> bool:
    """Block 3 of every 5 is never trained on (src/retrieval/dataset.ts brainIsHeldOut)."""
    return brain_block(key) % 5 == 3


def load_split(split: str, root: str = None, name: str = None):
    """Decoded grey images of a split, decoded by the server's own JPEG decoder
    (node dist/src/retrieval/cli/dumpGray.js; run `npm run build` first).
    Returns (list of uint8 arrays, labels int64, keys, classes)."""
    os.makedirs(CACHE, exist_ok=True)
    prefix = os.path.join(CACHE, name or split)
    root = root or os.environ.get("OBIA_RETRIEVAL_DATA")
    if not (os.path.exists(prefix + ".u8") and os.path.exists(prefix + ".json")):
        cmd = ["node", os.path.join(REPO, "dist/src/retrieval/cli/dumpGray.js"), split, prefix]
        if root:
            cmd.append(root)
        subprocess.run(cmd, check=True, cwd=REPO)
    meta = json.load(open(prefix + ".json"))
    blob = np.fromfile(prefix + ".u8", dtype=np.uint8)
    imgs, labels, keys = [], [], []
    for e in meta["images"]:
        n = e["width"] * e["height"]
        imgs.append(blob[e["offset"]: e["offset"] + n].reshape(e["height"], e["width"]))
        labels.append(e["label"])
        keys.append(e["key"])
    return imgs, np.array(labels, dtype=np.int64), keys, meta["classes"]


def stretch_nearest(img: np.ndarray, out_w: int, out_h: int) -> np.ndarray:
    """Deterministic non-64×64 test input for the parity fixture (TS builds the same)."""
    h, w = img.shape
    ys = (np.arange(out_h, dtype=np.int64) * h) // out_h
    xs = (np.arange(out_w, dtype=np.int64) * w) // out_w
    return img[ys][:, xs]
