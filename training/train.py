"""Train the 64-bit deep-hashing CNN and export models/obia-hash64.onnx.

    npm run build && /usr/bin/python3 training/train.py [--epochs 3]

Losses on the relaxed code u = tanh(h):
  focal     classification of u (6 classes), gamma 2
  triplet   batch-hard, on the Hamming surrogate (bits - u·v)/2, margin --margin bits
  quant     mean((|u| - 1)^2), pulls u to ±1 so sign(h) loses little
  structure for same-class pairs, bit similarity b·b'/bits (straight-through signs) regressed onto
            0.5 + 0.5·cos(pixels) (16×16, mean-removed). Without it the first three
            terms are all satisfied by one code per class: mAP is perfect but
            similarImages would return arbitrary images of the right class.
"""
import argparse
import os
import random
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import BITS, HashNet  # noqa: E402
from obia_preprocess import REPO, load_split, preprocess  # noqa: E402
from hash_losses import focal_loss, triplet_batch_hard  # noqa: E402

SEED = 20240611


def structure_loss(u, x, y):
    p = F.avg_pool2d(x, 4).flatten(1)
    p = F.normalize(p - p.mean(1, keepdim=True), dim=1)
    target = 0.5 + 0.5 * (p @ p.t())
    # Straight-through signs: the similarity that counts is that of the bits. On u
    # itself the net meets the target through magnitudes and the signs still collapse.
    b = u + (torch.sign(u) - u).detach()
    sim = (b @ b.t()) / u.shape[1]
    same = (y[:, None] == y[None, :]) & ~torch.eye(len(y), dtype=torch.bool)
    return ((sim - target) ** 2)[same].mean()


def code_stats(c, y):
    """Mean within-class Hamming distance and distinct codes per class."""
    out = []
    for k in np.unique(y):
        cc = c[y == k][:300]
        d = (cc[:, None, :] != cc[None, :, :]).sum(2)
        out.append((float(d.sum() / (len(cc) * (len(cc) - 1))), len({r.tobytes() for r in c[y == k]})))
    return out


def stack(imgs):
    return np.stack([preprocess(i) for i in imgs])


@torch.no_grad()
def codes(model, x, batch=1000):
    model.eval()
    return torch.cat([model(torch.from_numpy(x[i:i + batch])) for i in range(0, len(x), batch)]).numpy() > 0


def mean_ap(q, qy, db, dby, topk=None, seed=1):
    """Ranking by (Hamming, id) with ids a seeded permutation of the database, as in
    src/retrieval/cli/evalRetrieval.ts."""
    ids = np.random.default_rng(seed).permutation(len(db))
    qp = np.packbits(q, 1)
    dbp = np.packbits(db, 1)
    aps = []
    for i in range(len(q)):
        dist = np.unpackbits(qp[i] ^ dbp, 1).sum(1)
        order = np.lexsort((ids, dist))
        rel = (dby[order] == qy[i]).astype(np.float64)
        if topk:
            rel = rel[:topk]
        hits = rel.cumsum()
        n = rel.sum()
        aps.append(0.0 if n == 0 else float((hits / np.arange(1, len(rel) + 1) * rel).sum() / n))
    return float(np.mean(aps))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--out", default=os.path.join(REPO, "models", "obia-hash64.onnx"))
    ap.add_argument("--eval-queries", type=int, default=3000)
    ap.add_argument("--quant", type=float, default=0.1, help="weight of the quantisation term")
    ap.add_argument("--margin", type=float, default=12.0, help="triplet margin in bits")
    ap.add_argument("--structure", type=float, default=5.0, help="weight of the within-class structure term")
    ap.add_argument("--ckpt", default=os.path.join(REPO, "training", ".cache", "obia-hash64.pt"))
    args = ap.parse_args()

    torch.set_num_threads(2)
    random.seed(SEED)
    np.random.seed(SEED)
    torch.manual_seed(SEED)
    torch.use_deterministic_algorithms(True)

    t0 = time.time()
    tr_imgs, tr_y, _, classes = load_split("train")
    va_imgs, va_y, _, _ = load_split("val")
    xtr, xva = stack(tr_imgs), stack(va_imgs)
    print(f"data: train {xtr.shape} val {xva.shape} classes {classes} ({time.time() - t0:.1f}s)", flush=True)

    model = HashNet(BITS, len(classes))
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    steps_per_epoch = len(xtr) // args.batch
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=args.epochs * steps_per_epoch, pct_start=0.15)
    g = torch.Generator().manual_seed(SEED)
    xt, yt = torch.from_numpy(xtr), torch.from_numpy(tr_y)

    t_train = time.time()
    for epoch in range(args.epochs):
        model.train()
        perm = torch.randperm(len(xt), generator=g)
        tot = np.zeros(4)
        for s in range(steps_per_epoch):
            idx = perm[s * args.batch:(s + 1) * args.batch]
            x, y = xt[idx], yt[idx]
            # Random 0–2 px shifts: cheap robustness to framing differences between scanners.
            dx, dy = torch.randint(-2, 3, (2,), generator=g).tolist()
            x = torch.roll(x, shifts=(dy, dx), dims=(2, 3))
            u = torch.tanh(model(x))
            lf = focal_loss(model.classifier(u), y)
            lt = triplet_batch_hard(u, y, margin=args.margin)
            lq = ((u.abs() - 1) ** 2).mean()
            ls = structure_loss(u, x, y)
            loss = lf + lt + args.quant * lq + args.structure * ls
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            tot += [lf.item(), lt.item(), lq.item(), ls.item()]
            if (s + 1) % 50 == 0:
                print(f"epoch {epoch + 1} step {s + 1}/{steps_per_epoch} focal {tot[0] / (s + 1):.4f} triplet {tot[1] / (s + 1):.4f} quant {tot[2] / (s + 1):.4f} structure {tot[3] / (s + 1):.4f} ({time.time() - t_train:.0f}s)", flush=True)
    print(f"training time {time.time() - t_train:.1f}s", flush=True)

    model.eval()
    ctr, cva = codes(model, xtr), codes(model, xva)
    nq = min(args.eval_queries, len(cva))
    sel = np.random.default_rng(0).permutation(len(cva))[:nq]
    print(f"val→train ({nq} queries): mAP@30 {mean_ap(cva[sel], va_y[sel], ctr, tr_y, 30):.4f}  mAP(full) {mean_ap(cva[sel], va_y[sel], ctr, tr_y):.4f}", flush=True)

    for k, (d, n) in enumerate(code_stats(cva, va_y)):
        print(f"  {classes[k]}: mean within-class Hamming {d:.1f}, distinct codes {n}/{(va_y == k).sum()}", flush=True)

    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    torch.onnx.export(model, torch.from_numpy(xva[:2]), args.out, input_names=["input"], output_names=["code"],
                      dynamic_axes={"input": {0: "n"}, "code": {0: "n"}}, opset_version=13, do_constant_folding=True)
    torch.save(model.state_dict(), args.ckpt)
    print(f"exported {args.out} ({os.path.getsize(args.out)} bytes); total {time.time() - t0:.1f}s", flush=True)


if __name__ == "__main__":
    main()
