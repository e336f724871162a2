"""EXPERIMENTAL, not the shipped model: train one 64-bit hashing CNN on Medical MNIST and
brain-tumour MR together (one model, one index). It writes training/.cache/mixed-hash64.onnx;
models/obia-hash64.onnx is still made by training/train.py. See training/README.md for what the
one full run of this script measured (it did not beat the shipped model) and why.

    npm run build && nice -n 10 /usr/bin/python3 training/experimental/train_mixed.py

Data: Medical MNIST train (6 classes; a fresh seeded sample of --mnist-per-epoch images per
epoch: the set is saturated, and brain MR is the hard part) and the brain-tumour slices of
patient blocks 0-2 of every 5 (3 classes). Block 3 of every 5 is never trained on: its
slices are the brain queries of the evaluation (see src/retrieval/dataset.ts).

Every image is seen as an augmented view x1 (flip, small affine, contrast); the first
--views of each batch also as x2 = x1 re-sampled by ±10 % and re-quantised, what a
re-encoded or resized query looks like. Losses on the relaxed codes u = tanh(h):
  focal     classification of u (9 classes), gamma 2
  triplet   batch-hard, on the Hamming surrogate (bits - u·v)/2, margin --margin bits
  quant     mean((|u| - 1)^2)
  structure for same-class pairs, bit similarity b·b'/bits (straight-through signs)
            regressed onto 0.5 + 0.5·cos(16×16 pixels): without it the codes collapse to
            one per class and similarImages would return arbitrary images of the class
  stable    hinge relu(m - h2·sign(h1)) both ways: each bit of the perturbed view must sit
            on the original's side by a margin. This is what keeps outputs away from 0
            (the previous model had outputs within 1e-5 of 0: bits flipped on re-encode).
"""
import argparse
import io
import math
import os
import random
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from mixed_model import BITS, HashNet  # noqa: E402
from obia_preprocess import BRAIN_ROOT, CACHE, NORMALISE, REPO, brain_held_out, load_split, resize_area  # noqa: E402

SEED = 20240611
NORM = torch.from_numpy(NORMALISE)


def focal_loss(logits, target, gamma=2.0):
    logp = F.log_softmax(logits, 1).gather(1, target[:, None]).squeeze(1)
    return (-((1 - logp.exp()) ** gamma) * logp).mean()


def triplet_batch_hard(u, y, margin):
    d = (u.shape[1] - u @ u.t()) / 2
    same = y[:, None] == y[None, :]
    dpos = (d - 1e9 * (~same).float()).max(1).values
    dneg = (d + 1e9 * same.float()).min(1).values
    return F.relu(dpos - dneg + margin).mean() / u.shape[1]


def structure_loss(u, x, y):
    p = F.adaptive_avg_pool2d(x, 16).flatten(1)
    p = F.normalize(p - p.mean(1, keepdim=True), dim=1)
    target = 0.5 + 0.5 * (p @ p.t())
    # Straight-through signs: the similarity that counts is that of the bits.
    b = u + (torch.sign(u) - u).detach()
    sim = (b @ b.t()) / u.shape[1]
    same = (y[:, None] == y[None, :]) & ~torch.eye(len(y), dtype=torch.bool)
    return ((sim - target) ** 2)[same].mean()


def stable_loss(h1, h2, m):
    return F.relu(m - h2 * torch.sign(h1).detach()).mean() + F.relu(m - h1 * torch.sign(h2).detach()).mean()


def to_u8(imgs, side, cache=None):
    """Images area-resized to side×side (preprocess.ts), cached per side: resizing 27,000
    images in numpy is a minute and a half of CPU on this machine."""
    path = os.path.join(CACHE, f"{cache}-{side}.npy") if cache else None
    if path and os.path.exists(path):
        return np.load(path)
    out = np.stack([i if i.shape == (side, side) else resize_area(i, side, side) for i in imgs])
    if path:
        np.save(path, out)
    return out


def normalise(u8):
    """The exact model input (preprocess.ts): the float32 table, not float arithmetic."""
    return NORM[u8.long()][:, None]


def augment(x, g, flip=True):
    """Flip, ±8° rotation, 0.9-1.1 scale, ±4 % shift, ±10 % contrast; background stays black."""
    n = x.shape[0]
    r = lambda lo, hi: lo + (hi - lo) * torch.rand(n, generator=g)
    a, s = r(-8, 8) * math.pi / 180, r(0.9, 1.1)
    fx = torch.where(torch.rand(n, generator=g) < 0.5, -1.0, 1.0) if flip else torch.ones(n)
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0], theta[:, 0, 1] = torch.cos(a) / s * fx, -torch.sin(a) / s
    theta[:, 1, 0], theta[:, 1, 1] = torch.sin(a) / s * fx, torch.cos(a) / s
    theta[:, :, 2] = torch.stack([r(-0.08, 0.08), r(-0.08, 0.08)], 1)
    grid = F.affine_grid(theta, x.shape, align_corners=False)
    y = F.grid_sample(x + 1, grid, mode="bilinear", padding_mode="zeros", align_corners=False) - 1
    c = r(0.9, 1.1)[:, None, None, None]
    return ((y + 1) * c - 1).clamp(-1, 1)


def perturb(x, g):
    """What a re-encoded (JPEG q90) or ±10 % resized query looks like after preprocessing:
    a down/up re-sample by a random factor in [0.9, 1.1] and ±1.5 grey levels of noise."""
    side = x.shape[-1]
    s = 0.9 + 0.2 * torch.rand(1, generator=g).item()
    t = max(8, round(side * s))
    y = F.interpolate(x, size=(t, t), mode="bilinear", align_corners=False, antialias=True)
    y = F.interpolate(y, size=(side, side), mode="bilinear", align_corners=False, antialias=True)
    y = y + (torch.rand(x.shape, generator=g) - 0.5) * (3 / 127.5)
    return y.clamp(-1, 1)


@torch.no_grad()
def outputs(model, u8, batch=500):
    model.eval()
    return torch.cat([model(normalise(torch.from_numpy(u8[i:i + batch]))) for i in range(0, len(u8), batch)]).numpy()


def mean_ap(q, qy, db, dby, topk=30, seed=1):
    """(mAP@topk, full-ranking mAP, P@10). Ranking by (Hamming, id), ids a seeded
    permutation of the database, as in src/retrieval/cli/evalRetrieval.ts."""
    ids = np.random.default_rng(seed).permutation(len(db))
    qp, dbp = np.packbits(q, 1), np.packbits(db, 1)
    ak, af, p10 = [], [], []
    for i in range(len(q)):
        dist = np.unpackbits(qp[i] ^ dbp, 1).sum(1)
        rel = (dby[np.lexsort((ids, dist))] == qy[i]).astype(np.float64)
        prec = rel.cumsum() / np.arange(1, len(rel) + 1)
        af.append(float((prec * rel).sum() / max(rel.sum(), 1)))
        ak.append(float((prec[:topk] * rel[:topk]).sum() / max(rel[:topk].sum(), 1)))
        p10.append(float(rel[:10].mean()))
    return float(np.mean(ak)), float(np.mean(af)), float(np.mean(p10))


def stability(model, raw, side, rng, n=300):
    """Share of images whose code moves by <= 2 bits under JPEG q90 / resize ±10 % (PIL; a
    proxy for npm run eval:retrieval, which measures it with the server's decoder)."""
    from PIL import Image
    idx = rng.choice(len(raw), size=min(n, len(raw)), replace=False)
    base = outputs(model, to_u8([raw[i] for i in idx], side)) > 0
    res = {}
    for name in ("jpeg90", "resize0.9", "resize1.1"):
        out = []
        for i in idx:
            im = Image.fromarray(raw[i])
            if name == "jpeg90":
                buf = io.BytesIO()
                im.save(buf, format="JPEG", quality=90)
                im = Image.open(io.BytesIO(buf.getvalue())).convert("L")
            else:
                f = float(name[6:])
                im = im.resize((round(im.width * f), round(im.height * f)), Image.BILINEAR)
            out.append(np.asarray(im, dtype=np.uint8))
        c = outputs(model, to_u8(out, side)) > 0
        res[name] = float(((c != base).sum(1) <= 2).mean())
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--side", type=int, default=96)
    ap.add_argument("--width", default="16,32,64,128")
    ap.add_argument("--deep", type=int, default=3, help="stages from which a stride-1 conv is added")
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--batch", type=int, default=48, help="images per step (each seen as two views)")
    ap.add_argument("--mnist-per-epoch", type=int, default=900)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--quant", type=float, default=0.1)
    ap.add_argument("--margin", type=float, default=12.0, help="triplet margin in bits")
    ap.add_argument("--structure", type=float, default=1.0)
    ap.add_argument("--stable", type=float, default=1.0, help="weight of the bit-margin hinge between views")
    ap.add_argument("--stable-margin", type=float, default=1.0)
    ap.add_argument("--views", type=int, default=16, help="images per step also seen perturbed (the second view)")
    ap.add_argument("--no-augment", action="store_true")
    ap.add_argument("--eval-mnist-db", type=int, default=0, help="MNIST database images for the quick eval (0 = all 24,000)")
    ap.add_argument("--out", default=os.path.join(REPO, "training", ".cache", "mixed-hash64.onnx"))
    ap.add_argument("--ckpt", default=os.path.join(REPO, "training", ".cache", "mixed-hash64.pt"))
    args = ap.parse_args()
    print(f"args {vars(args)}", flush=True)

    torch.set_num_threads(2)
    random.seed(SEED)
    np.random.seed(SEED)
    torch.manual_seed(SEED)

    t0, c0 = time.time(), time.process_time()
    side = args.side
    m_tr, m_try, _, m_cls = load_split("train")
    m_va, m_vay, _, _ = load_split("val")
    b_raw, b_y, b_keys, b_cls = load_split("train", BRAIN_ROOT, "brain")
    held = np.array([brain_held_out(k) for k in b_keys])
    classes = m_cls + [f"brain/{c}" for c in b_cls]
    nm = len(m_cls)
    xm_tr, xm_va = to_u8(m_tr, side, "train"), to_u8(m_va, side, "val")
    xb = to_u8(b_raw, side, "brain")
    xb_tr, yb_tr = xb[~held], b_y[~held] + nm
    xb_q, yb_q = xb[held], b_y[held] + nm
    print(f"data ({time.time() - t0:.0f}s): mnist train {len(xm_tr)} val {len(xm_va)}; brain train {len(xb_tr)} "
          f"held-out {len(xb_q)} ({np.bincount(b_y[held])}); side {side}", flush=True)

    width = tuple(int(w) for w in args.width.split(","))
    model = HashNet(BITS, len(classes), width, args.deep)
    print(f"parameters {sum(p.numel() for p in model.parameters())}", flush=True)
    g = torch.Generator().manual_seed(SEED)
    rng = np.random.default_rng(SEED)
    steps_per_epoch = (len(xb_tr) + args.mnist_per_epoch) // args.batch
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=5e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=args.epochs * steps_per_epoch, pct_start=0.2)

    t_train, c_train = time.time(), time.process_time()
    for epoch in range(args.epochs):
        model.train()
        mi = rng.choice(len(xm_tr), size=args.mnist_per_epoch, replace=False)
        xs = np.concatenate([xm_tr[mi], xb_tr])
        ys = np.concatenate([m_try[mi], yb_tr])
        order = rng.permutation(len(xs))
        tot = np.zeros(5)
        for s in range(steps_per_epoch):
            idx = order[s * args.batch:(s + 1) * args.batch]
            x = normalise(torch.from_numpy(xs[idx]))
            y = torch.from_numpy(ys[idx])
            x1 = x if args.no_augment else augment(x, g)
            nv = min(args.views, len(idx))
            x2 = perturb(x1[:nv], g)
            h = model(torch.cat([x1, x2]))
            h1, h2 = h[:nv], h[len(idx):]
            u = torch.tanh(h)
            yy = torch.cat([y, y[:nv]])
            lf = focal_loss(model.classifier(u), yy)
            lt = triplet_batch_hard(u, yy, margin=args.margin)
            lq = ((u.abs() - 1) ** 2).mean()
            ls = structure_loss(u[:len(idx)], x1, y)
            lm = stable_loss(h1, h2, args.stable_margin)
            loss = lf + lt + args.quant * lq + args.structure * ls + args.stable * lm
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            tot += [lf.item(), lt.item(), lq.item(), ls.item(), lm.item()]
        tot /= steps_per_epoch
        print(f"epoch {epoch + 1}/{args.epochs} focal {tot[0]:.4f} triplet {tot[1]:.4f} quant {tot[2]:.4f} structure {tot[3]:.4f} "
              f"stable {tot[4]:.4f} ({time.time() - t_train:.0f}s wall, {time.process_time() - c_train:.0f}s cpu)", flush=True)
    print(f"training time {time.time() - t_train:.1f}s wall, {time.process_time() - c_train:.1f}s cpu", flush=True)

    model.eval()
    os.makedirs(os.path.dirname(args.ckpt), exist_ok=True)
    torch.save({"state": model.state_dict(), "width": width, "deep": args.deep, "classes": classes, "side": side}, args.ckpt)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    torch.onnx.export(model, normalise(torch.from_numpy(xm_va[:2])), args.out, input_names=["input"], output_names=["code"],
                      dynamic_axes={"input": {0: "n"}, "code": {0: "n"}}, opset_version=13, do_constant_folding=True)
    print(f"exported {args.out} ({os.path.getsize(args.out)} bytes)", flush=True)

    erng = np.random.default_rng(0)
    dbi = np.arange(len(xm_tr)) if not args.eval_mnist_db else erng.choice(len(xm_tr), args.eval_mnist_db, replace=False)
    hm_db, hm_q = outputs(model, xm_tr[dbi]), outputs(model, xm_va)
    hb_db, hb_q = outputs(model, xb_tr), outputs(model, xb_q)
    r = mean_ap(hm_q > 0, m_vay, hm_db > 0, m_try[dbi])
    print(f"mnist val→train ({len(hm_q)} queries, {len(dbi)} db): mAP@30 {r[0]:.4f} mAP(full) {r[1]:.4f} P@10 {r[2]:.4f}", flush=True)
    r = mean_ap(hb_q > 0, yb_q, hb_db > 0, yb_tr)
    print(f"brain held-out blocks→train blocks ({len(hb_q)} queries, {len(hb_db)} db): mAP@30 {r[0]:.4f} mAP(full) {r[1]:.4f} P@10 {r[2]:.4f}", flush=True)
    print(f"min |output| mnist val {np.abs(hm_q).min():.2e} brain held-out {np.abs(hb_q).min():.2e}; "
          f"share of |output| < 0.1: {(np.abs(np.concatenate([hm_q, hb_q])) < 0.1).mean():.4f}", flush=True)
    for name, raw in (("mnist val", m_va), ("brain held-out", [b_raw[i] for i in np.flatnonzero(held)])):
        print(f"stability (PIL proxy) {name}: {stability(model, raw, side, np.random.default_rng(1))}", flush=True)
    print(f"total {time.time() - t0:.1f}s wall, {time.process_time() - c0:.1f}s cpu", flush=True)


if __name__ == "__main__":
    main()
