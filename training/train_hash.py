"""One 64-bit hashing model for every image the archive holds: Medical MNIST, brain-tumour MR
and the default archive's own images (seeds/images). One command, fixed seed, CPU only:

    npm run build && /usr/bin/python3 training/train_hash.py

writes training/.cache/hash64.onnx (the network wrapped by mirror_average.py; --no-mirror for
the network alone) and hash64.pt; `npm run eval:retrieval -- --model
training/.cache/hash64.onnx` is the measure that counts; copy it to models/obia-hash64.onnx
to ship it (then `export_fixture.py --onnx`).

Data (every image decoded by the server's own decoders, cached in training/.cache/):
  Medical MNIST train            6 classes (modality × site)
  brain-tumour MR, blocks 0-2    3 tumour types; block 3 of every 5 is never trained on: it
                                 gives the held-out queries (src/retrieval/dataset.ts)
  seed archive (seedArchive.ts)  the default archive's CT/MR/CR/NM images, labelled by their
                                 series' modality and site and joined to the MNIST class of
                                 the same modality and site (CT abdomen → AbdomenCT, CT chest
                                 → ChestCT, CR chest → CXR; MR abdomen and NM whole body are
                                 classes of their own), so a real chest radiograph is trained
                                 next to chest radiographs. The seed's MedNIST and brain slices
                                 are left out (they are evaluation images).
Every step draws --mnist, --brain and --seed images; each is augmented; the first --views
also as a re-sampled second view (what a JPEG q90 / ±10 % resized query looks like).

Losses on u = tanh(h), h the output (bit i = h[i] > 0):
  classify   classification of u (--focal): cross-entropy with label smoothing --smooth (default
             0.1), or focal loss (gamma 2) with --smooth 0
  centre     central similarity quantisation: BCE of (u+1)/2 to the class's Hadamard centre (--centre)
  triplet    batch-hard on the Hamming surrogate, margin --margin bits (--triplet; off by default)
  quant      mean((|u| - 1)^2) (--quant)
  structure  within-class bit similarity regressed onto pixel similarity (--structure): keeps
             several codes per class, so "similar" means more than "same class"
  stable     bit-margin hinge between the two views (--stable): outputs stay away from 0

--arch res (default): ResHashNet (model.py) at --side 128; --arch fused --init v1 --side 64
reproduces the earlier joint fine-tune of the shipped v1 model.
"""
import argparse
import json
import os
import random
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from hash_losses import (augment, centre_loss, focal_loss, hadamard_centres, mean_ap, normalise, outputs, perturb,  # noqa: E402
                         stability, stable_loss, structure_loss, to_side, triplet_batch_hard, upsample)
from model import BITS, FusedHashNet, ResHashNet  # noqa: E402
from obia_preprocess import BRAIN_ROOT, CACHE, REPO, brain_held_out, load_split  # noqa: E402

SEED = 20240611
V1 = os.path.join(REPO, "models", "obia-hash64-v1.onnx")

# Seed (modality, site) pairs → the training class they join; the trainer and eval agree on
# these groups (src/retrieval/seedArchive.ts SEED_GROUPS).
SEED_CLASS = {
    "CT:ABDOMEN": "AbdomenCT", "CT:KIDNEY": "AbdomenCT", "CT:LIVER": "AbdomenCT", "CT:ABDOMENPELVIS": "AbdomenCT",
    "CT:PELVIS": "AbdomenCT", "CT:CHEST": "ChestCT", "CT:LUNG": "ChestCT", "CR:CHEST": "CXR", "DX:CHEST": "CXR",
    "CT:HEAD": "HeadCT", "MR:BREAST": "BreastMRI", "MR:ABDOMEN": "seed/MR:ABDOMEN", "NM:WHOLEBODY": "seed/NM:WHOLEBODY",
}
EVAL_SOURCES = {"mednist", "figshare-brain-tumour"}


def load_seed(side):
    """The seed archive's images (dumpGray.js seed), resized to side: (u8, pair names, series, source)."""
    prefix = os.path.join(CACHE, "seed")
    if not os.path.exists(prefix + ".json"):
        import subprocess
        subprocess.run(["node", os.path.join(REPO, "dist/src/retrieval/cli/dumpGray.js"), "seed", prefix], check=True, cwd=REPO)
    meta = json.load(open(prefix + ".json"))
    blob = np.fromfile(prefix + ".u8", dtype=np.uint8)
    imgs = [blob[e["offset"]: e["offset"] + e["width"] * e["height"]].reshape(e["height"], e["width"]) for e in meta["images"]]
    pairs = np.array([meta["classes"][e["label"]] for e in meta["images"]])
    return to_side(imgs, side), pairs, np.array([e["series"] for e in meta["images"]]), np.array([e["source"] for e in meta["images"]])


def seed_neighbour_check(model, side, k=5):
    """Share of the seed archive's images whose k nearest others (Hamming, then plan order)
    are all of the same group (SEED_CLASS); per group. What test/seed/defaultArchive asks of
    a chest X-ray and a CT kidney slice, for every image."""
    x, pairs, _, _ = load_seed(side)
    b = outputs(model, x, side) > 0
    groups = np.array([SEED_CLASS.get(p, p) for p in pairs])
    d = (b[:, None, :] != b[None, :, :]).sum(2) + np.eye(len(b), dtype=np.int64) * 10 ** 6
    ok = {}
    for i in range(len(b)):
        nn_ = np.lexsort((np.arange(len(b)), d[i]))[:k]
        ok.setdefault(groups[i], []).append(bool((groups[nn_] == groups[i]).all()))
    return {g: (float(np.mean(v)), len(v)) for g, v in sorted(ok.items())}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--arch", choices=("res", "fused"), default="res")
    ap.add_argument("--width", default="24,32,64,128,192", help="res: stem width, then one stride-2 residual block per width")
    ap.add_argument("--no-se", action="store_true", help="res: without squeeze-excite attention")
    ap.add_argument("--side", type=int, default=128)
    ap.add_argument("--init", default="", help="fused: an ONNX file of the v1 graph to start from ('v1' = models/obia-hash64-v1.onnx)")
    ap.add_argument("--steps", type=int, default=3500)
    ap.add_argument("--mnist", type=int, default=16, help="Medical MNIST images per step")
    ap.add_argument("--brain", type=int, default=48, help="brain MR images per step")
    ap.add_argument("--seed-images", type=int, default=8, help="seed-archive images per step")
    ap.add_argument("--views", type=int, default=16, help="images per step also seen as a perturbed second view")
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--focal", type=float, default=1.0, help="weight of the classification term (focal loss; cross-entropy when --smooth > 0)")
    ap.add_argument("--centre", type=float, default=1.0)
    ap.add_argument("--triplet", type=float, default=0.0)
    ap.add_argument("--margin", type=float, default=12.0, help="triplet margin in bits")
    ap.add_argument("--quant", type=float, default=0.1)
    ap.add_argument("--structure", type=float, default=0.5)
    ap.add_argument("--stable", type=float, default=1.0)
    ap.add_argument("--stable-margin", type=float, default=1.0)
    ap.add_argument("--rot", type=float, default=10.0, help="augmentation: rotation in degrees")
    ap.add_argument("--no-augment", action="store_true")
    ap.add_argument("--eval-every", type=int, default=0, help="quick brain evaluation every N steps (0 = only at the end)")
    ap.add_argument("--full-eval", action="store_true", help="all 3,000 MNIST queries and the stability proxy")
    ap.add_argument("--eval-mnist-db", type=int, default=3000, help="Medical MNIST database images of the quick evaluation (a seeded sample; 0 = all 24,000)")
    ap.add_argument("--log-every", type=int, default=50)
    ap.add_argument("--threads", type=int, default=1, help="torch threads; the shipped model was trained with 1 (another count changes the float sums, so the weights)")
    ap.add_argument("--ema", type=float, default=0.0, help="keep an exponential moving average of the weights with this decay and ship it (0 = the last weights)")
    ap.add_argument("--smooth", type=float, default=0.1, help="label smoothing of the classification term (cross-entropy instead of focal when > 0)")
    ap.add_argument("--no-mirror", action="store_true", help="export the network alone, not wrapped by mirror_average.py (the shipped model is wrapped)")
    ap.add_argument("--out", default=os.path.join(REPO, "training", ".cache", "hash64.onnx"))
    args = ap.parse_args()
    ckpt_path = os.path.splitext(args.out)[0] + ".pt"
    print(f"args {vars(args)}", flush=True)

    torch.set_num_threads(args.threads)
    random.seed(SEED)
    np.random.seed(SEED)
    torch.manual_seed(SEED)
    t0, c0 = time.time(), time.process_time()
    side = args.side

    m_tr, m_try, _, m_cls = load_split("train")
    m_va, m_vay, _, _ = load_split("val")
    b_raw, b_y, b_keys, b_cls = load_split("train", BRAIN_ROOT, "brain")
    held = np.array([brain_held_out(k) for k in b_keys])
    if args.seed_images:
        s_x, s_pairs, _, s_src = load_seed(side)
    else:
        s_x, s_pairs, s_src = np.zeros((0, side, side), np.uint8), np.array([], dtype=str), np.array([], dtype=str)
    classes = list(m_cls) + [f"brain/{c}" for c in b_cls] + sorted({v for v in SEED_CLASS.values() if v.startswith("seed/")})
    cidx = {c: i for i, c in enumerate(classes)}
    nm = len(m_cls)
    # MNIST stays 64×64 in memory and is up-scaled per batch (exactly the area resize at 2×).
    xm_tr, xm_va = np.stack(m_tr), np.stack(m_va)
    if side % 64:
        xm_tr, xm_va = to_side(m_tr, side), to_side(m_va, side)
    bpath = os.path.join(CACHE, f"brain-{side}.npy")
    if not os.path.exists(bpath):
        np.save(bpath, to_side(b_raw, side))
    xb = np.load(bpath)
    xb_tr, yb_tr = xb[~held], b_y[~held] + nm
    xb_q, yb_q = xb[held], b_y[held] + nm
    train_seed = np.array([src not in EVAL_SOURCES and p in SEED_CLASS for p, src in zip(s_pairs, s_src)], dtype=bool)
    xs_tr = s_x[train_seed]
    ys_tr = np.array([cidx[SEED_CLASS[p]] for p in s_pairs[train_seed]], dtype=np.int64)
    if not args.seed_images:
        xs_tr, ys_tr = np.zeros((1, side, side), np.uint8), np.zeros(1, np.int64)
    print(f"data ({time.time() - t0:.0f}s): mnist train {len(xm_tr)} val {len(xm_va)}; brain train {len(xb_tr)} held-out {len(xb_q)}; "
          f"seed archive {len(xs_tr)} of {len(s_x)} ({', '.join(f'{c}: {n}' for c, n in zip(*np.unique(s_pairs[train_seed], return_counts=True)))}); "
          f"side {side}; classes {classes}", flush=True)

    if args.arch == "fused":
        model = FusedHashNet(BITS, len(classes))
        if args.init:
            model.load_onnx(V1 if args.init == "v1" else args.init)
    else:
        model = ResHashNet(BITS, len(classes), tuple(int(w) for w in args.width.split(",")), se=not args.no_se)
    print(f"parameters {sum(p.numel() for p in model.parameters())}", flush=True)
    # oneDNN's convolutions are several times faster on NHWC tensors than Debian torch's NCHW path.
    model = model.to(memory_format=torch.channels_last)
    centres = hadamard_centres(len(classes), BITS)
    g = torch.Generator().manual_seed(SEED)
    rng = np.random.default_rng(SEED)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=5e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=args.steps, pct_start=0.15)
    # Polyak averaging: the average of the last few hundred steps' weights generalises better than
    # the last step's on a small training set; batch-norm statistics are averaged the same way.
    ema = {k: v.detach().clone() for k, v in model.state_dict().items()} if args.ema else None

    def ema_update():
        with torch.no_grad():
            for k, v in model.state_dict().items():
                if v.dtype.is_floating_point:
                    ema[k].mul_(args.ema).add_(v.detach(), alpha=1 - args.ema)
                else:
                    ema[k].copy_(v)

    def quick_brain():
        hq = outputs(model, xb_q, side)
        r = mean_ap(hq > 0, yb_q, outputs(model, xb_tr, side) > 0, yb_tr)
        with torch.no_grad():
            acc = float((model.classifier(torch.tanh(torch.from_numpy(hq))).argmax(1).numpy() == yb_q).mean())
        return f"brain held-out mAP@30 {r[0]:.4f} full {r[1]:.4f} P@10 {r[2]:.4f} accuracy {acc:.4f}"

    t_train, c_train = time.time(), time.process_time()
    names = ("focal", "centre", "triplet", "quant", "structure", "stable")
    tot = np.zeros(len(names))
    for step in range(args.steps):
        model.train()
        mi = rng.choice(len(xm_tr), size=args.mnist, replace=False)
        bi = rng.choice(len(xb_tr), size=args.brain, replace=False)
        si = rng.choice(len(xs_tr), size=args.seed_images, replace=True)
        u8 = np.concatenate([upsample(xm_tr[mi], side), xb_tr[bi], xs_tr[si]])
        x = normalise(torch.from_numpy(u8))
        y = torch.from_numpy(np.concatenate([m_try[mi], yb_tr[bi], ys_tr[si]]))
        x1 = x if args.no_augment else augment(x, g, rot=args.rot)
        # The perturbed views are split between the sets (a quarter MNIST, half brain, the rest seed;
        # a set drawn 0 times gives its share to the others).
        groups = [(0, args.mnist, 1), (args.mnist, args.brain, 2), (args.mnist + args.brain, args.seed_images, 1)]
        live = [gr for gr in groups if gr[1]]
        share = [args.views * w // sum(w for _, _, w in live) for _, _, w in live]
        share[-1] = args.views - sum(share[:-1])
        vi = torch.cat([start + torch.arange(k) % size for (start, size, _), k in zip(live, share)])
        x2 = perturb(x1[vi], g)
        h = model(torch.cat([x1, x2]).contiguous(memory_format=torch.channels_last))
        n = len(y)
        h1, h2 = h[vi], h[n:]
        u = torch.tanh(h)
        yy = torch.cat([y, y[vi]])
        logits = model.classifier(u)
        parts = [F.cross_entropy(logits, yy, label_smoothing=args.smooth) if args.smooth else focal_loss(logits, yy), centre_loss(u, yy, centres), triplet_batch_hard(u, yy, margin=args.margin),
                 ((u.abs() - 1) ** 2).mean(), structure_loss(u[:n], x1, y), stable_loss(h1, h2, args.stable_margin)]
        weights = (args.focal, args.centre, args.triplet, args.quant, args.structure, args.stable)
        loss = sum(w * p for w, p in zip(weights, parts) if w)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if ema is not None:
            ema_update()
        tot += [p.item() for p in parts]
        if (step + 1) % args.log_every == 0:
            tot /= args.log_every
            print(f"step {step + 1}/{args.steps} " + " ".join(f"{k} {v:.4f}" for k, v in zip(names, tot)) +
                  f" ({time.time() - t_train:.0f}s wall, {time.process_time() - c_train:.0f}s cpu)", flush=True)
            tot[:] = 0
        if args.eval_every and (step + 1) % args.eval_every == 0 and step + 1 < args.steps:
            print(f"  step {step + 1}: {quick_brain()}", flush=True)
            if ema is not None:
                live_weights = {k: v.detach().clone() for k, v in model.state_dict().items()}
                model.load_state_dict(ema)
                print(f"  step {step + 1} (averaged): {quick_brain()}", flush=True)
                model.load_state_dict(live_weights)
    train_cpu = time.process_time() - c_train
    print(f"training time {time.time() - t_train:.1f}s wall, {train_cpu:.1f}s cpu", flush=True)

    if ema is not None:
        print(f"last weights: {quick_brain()}", flush=True)
        torch.save({"state": model.state_dict(), "classes": classes, "args": vars(args)}, os.path.splitext(args.out)[0] + ".last.pt")
        model.load_state_dict(ema)
    model.eval()
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    torch.save({"state": model.state_dict(), "classes": classes, "args": vars(args)}, ckpt_path)
    torch.onnx.export(model, normalise(torch.from_numpy(upsample(xm_va[:2], side))), args.out, input_names=["input"], output_names=["code"],
                      dynamic_axes={"input": {0: "n"}, "code": {0: "n"}}, opset_version=13, do_constant_folding=True)
    if not args.no_mirror:
        # The shipped file codes an image by the average of the outputs for it and its mirror
        # (training/README, finding 4); the evaluations below read the network alone.
        from mirror_average import mirror_average
        mirror_average(args.out, args.out)
    print(f"exported {args.out} ({os.path.getsize(args.out)} bytes{'' if args.no_mirror else ', mirror-averaged'})", flush=True)

    qi = np.arange(len(xm_va)) if args.full_eval else np.random.default_rng(0).choice(len(xm_va), 600, replace=False)
    di = np.arange(len(xm_tr)) if not args.eval_mnist_db else np.random.default_rng(0).choice(len(xm_tr), args.eval_mnist_db, replace=False)
    hm_q = outputs(model, xm_va[qi], side)
    r = mean_ap(hm_q > 0, m_vay[qi], outputs(model, xm_tr[di], side) > 0, m_try[di])
    print(f"mnist val→train ({len(qi)} queries, {len(di)} database): mAP@30 {r[0]:.4f} mAP(full) {r[1]:.4f} P@10 {r[2]:.4f}", flush=True)
    print(quick_brain(), flush=True)
    print(f"seed archive, share whose 5 nearest are of its group: {seed_neighbour_check(model, side)}", flush=True)
    if args.full_eval:
        for name, raw in (("mnist val", m_va), ("brain held-out", [b_raw[i] for i in np.flatnonzero(held)])):
            print(f"stability (PIL proxy) {name}: {stability(model, raw, side, np.random.default_rng(1))}", flush=True)
    print(f"total {time.time() - t0:.1f}s wall, {time.process_time() - c0:.1f}s cpu (training {train_cpu:.0f} cpu-s)", flush=True)


if __name__ == "__main__":
    main()
