"""One 64-bit model for every image the archive holds: Medical MNIST and brain-tumour MR.

    npm run build && nice -n 5 /usr/bin/python3 training/train_joint.py

Stage 1 is the committed MNIST model, models/obia-hash64-v1.onnx (made by training/train.py
with its fixed seed). This script is stage 2: it reads that model's weights from the ONNX file
(its convolutions have batch norm folded in, so the network here is conv+bias -> ReLU -> max
pool, exactly the exported graph) and fine-tunes it on both sets at once. Starting from the
saturated MNIST model is what makes a joint run fit the CPU budget: the experimental run from
scratch (training/experimental) spent its 684 steps re-learning MNIST and dropped it to 0.81.

Every batch is balanced: --mnist images from Medical MNIST train and --brain from the brain
slices of patient blocks 0-2 of every 5 (block 3 is never trained on: it gives the held-out
queries, see src/retrieval/dataset.ts). Losses as in experimental/train_mixed.py: focal (9
classes) on u = tanh(h), batch-hard triplet on the Hamming surrogate, quantisation, the
within-class structure term, and the bit-margin hinge between a view and its re-sampled copy
(what keeps outputs away from 0, so JPEG q90 or a ±10 % resize does not flip bits).
Input side 64 (preprocess.ts unchanged; HashModel reads the side from the ONNX).

Its 400-step run is not shipped (training/README.md has its figures and why).
"""
import argparse
import os
import random
import sys
import time

import numpy as np
import onnx
import torch
import torch.nn as nn
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "experimental"))
from obia_preprocess import BRAIN_ROOT, REPO, brain_held_out, load_split  # noqa: E402
from train_mixed import (augment, focal_loss, mean_ap, normalise, outputs, perturb, stability, stable_loss,  # noqa: E402
                         structure_loss, to_u8, triplet_batch_hard)

SEED = 20240611
BITS = 64
SIDE = 64


class FusedHashNet(nn.Module):
    """The exported graph of training/model.py's HashNet: batch norm folded into conv biases."""

    def __init__(self, classes, width=(16, 32, 64, 128)):
        super().__init__()
        chans = (1,) + tuple(width)
        self.features = nn.Sequential(*[nn.Sequential(nn.Conv2d(chans[i], chans[i + 1], 3, padding=1), nn.ReLU(inplace=True),
                                                      nn.MaxPool2d(2)) for i in range(len(width))])
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.hash = nn.Linear(width[-1], BITS)
        self.classifier = nn.Linear(BITS, classes)

    def forward(self, x):
        return self.hash(torch.flatten(self.pool(self.features(x)), 1))

    def load_onnx(self, path):
        """Initialisers in graph order: conv weight, conv bias per stage, then hash.weight/bias."""
        inits = {i.name: numpy_helper.to_array(i) for i in onnx.load(path).graph.initializer}
        convs = [n for n in onnx.load(path).graph.node if n.op_type == "Conv"]
        with torch.no_grad():
            for stage, node in zip(self.features, convs):
                stage[0].weight.copy_(torch.from_numpy(inits[node.input[1]].copy()))
                stage[0].bias.copy_(torch.from_numpy(inits[node.input[2]].copy()))
            self.hash.weight.copy_(torch.from_numpy(inits["hash.weight"].copy()))
            self.hash.bias.copy_(torch.from_numpy(inits["hash.bias"].copy()))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--init", default=os.path.join(REPO, "models", "obia-hash64-v1.onnx"), help="stage-1 model ('' = from scratch)")
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--mnist", type=int, default=24, help="Medical MNIST images per step")
    ap.add_argument("--brain", type=int, default=40, help="brain MR images per step")
    ap.add_argument("--views", type=int, default=16, help="images per step also seen perturbed")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--quant", type=float, default=0.1)
    ap.add_argument("--margin", type=float, default=12.0, help="triplet margin in bits")
    ap.add_argument("--structure", type=float, default=1.0)
    ap.add_argument("--stable", type=float, default=1.0)
    ap.add_argument("--stable-margin", type=float, default=1.0)
    ap.add_argument("--no-augment", action="store_true")
    ap.add_argument("--quick-eval", action="store_true", help="600 Medical MNIST queries and no stability proxy (npm run eval:retrieval is the measure)")
    ap.add_argument("--out", default=os.path.join(REPO, "training", ".cache", "joint-hash64.onnx"))
    ap.add_argument("--ckpt", default=os.path.join(REPO, "training", ".cache", "joint-hash64.pt"), help="torch weights (export_fixture.py --joint)")
    args = ap.parse_args()
    print(f"args {vars(args)}", flush=True)

    torch.set_num_threads(2)
    random.seed(SEED)
    np.random.seed(SEED)
    torch.manual_seed(SEED)
    t0, c0 = time.time(), time.process_time()

    m_tr, m_try, _, m_cls = load_split("train")
    m_va, m_vay, _, _ = load_split("val")
    b_raw, b_y, b_keys, b_cls = load_split("train", BRAIN_ROOT, "brain")
    held = np.array([brain_held_out(k) for k in b_keys])
    nm = len(m_cls)
    classes = m_cls + [f"brain/{c}" for c in b_cls]
    xm_tr, xm_va = to_u8(m_tr, SIDE, "train"), to_u8(m_va, SIDE, "val")
    xb = to_u8(b_raw, SIDE, "brain")
    xb_tr, yb_tr = xb[~held], b_y[~held] + nm
    xb_q, yb_q = xb[held], b_y[held] + nm
    print(f"data ({time.time() - t0:.0f}s): mnist train {len(xm_tr)} val {len(xm_va)}; brain train {len(xb_tr)} held-out {len(xb_q)}",
          flush=True)

    model = FusedHashNet(len(classes))
    if args.init:
        model.load_onnx(args.init)
    g = torch.Generator().manual_seed(SEED)
    rng = np.random.default_rng(SEED)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=5e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=args.steps, pct_start=0.15)

    t_train, c_train = time.time(), time.process_time()
    tot = np.zeros(5)
    for step in range(args.steps):
        model.train()
        mi = rng.choice(len(xm_tr), size=args.mnist, replace=False)
        bi = rng.choice(len(xb_tr), size=args.brain, replace=False)
        x = normalise(torch.from_numpy(np.concatenate([xm_tr[mi], xb_tr[bi]])))
        y = torch.from_numpy(np.concatenate([m_try[mi], yb_tr[bi]]))
        x1 = x if args.no_augment else augment(x, g)
        # The perturbed views are split between the two sets.
        vi = torch.cat([torch.arange(args.views // 2), args.mnist + torch.arange(args.views - args.views // 2)])
        x2 = perturb(x1[vi], g)
        h = model(torch.cat([x1, x2]))
        n = len(y)
        h1, h2 = h[vi], h[n:]
        u = torch.tanh(h)
        yy = torch.cat([y, y[vi]])
        lf = focal_loss(model.classifier(u), yy)
        lt = triplet_batch_hard(u, yy, margin=args.margin)
        lq = ((u.abs() - 1) ** 2).mean()
        ls = structure_loss(u[:n], x1, y)
        lm = stable_loss(h1, h2, args.stable_margin)
        loss = lf + lt + args.quant * lq + args.structure * ls + args.stable * lm
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        tot += [lf.item(), lt.item(), lq.item(), ls.item(), lm.item()]
        if (step + 1) % 100 == 0:
            tot /= 100
            print(f"step {step + 1}/{args.steps} focal {tot[0]:.4f} triplet {tot[1]:.4f} quant {tot[2]:.4f} structure {tot[3]:.4f} "
                  f"stable {tot[4]:.4f} ({time.time() - t_train:.0f}s wall, {time.process_time() - c_train:.0f}s cpu)", flush=True)
            tot[:] = 0
    print(f"training time {time.time() - t_train:.1f}s wall, {time.process_time() - c_train:.1f}s cpu", flush=True)

    model.eval()
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    torch.save({"state": model.state_dict(), "classes": classes}, args.ckpt)
    torch.onnx.export(model, normalise(torch.from_numpy(xm_va[:2])), args.out, input_names=["input"], output_names=["code"],
                      dynamic_axes={"input": {0: "n"}, "code": {0: "n"}}, opset_version=13, do_constant_folding=True)
    print(f"exported {args.out} ({os.path.getsize(args.out)} bytes)", flush=True)

    qi = np.random.default_rng(0).choice(len(xm_va), 600, replace=False) if args.quick_eval else np.arange(len(xm_va))
    xm_va, m_vay = xm_va[qi], m_vay[qi]
    hm_db, hm_q = outputs(model, xm_tr), outputs(model, xm_va)
    hb_db, hb_q = outputs(model, xb_tr), outputs(model, xb_q)
    r = mean_ap(hm_q > 0, m_vay, hm_db > 0, m_try)
    print(f"mnist val→train ({len(hm_q)} queries): mAP@30 {r[0]:.4f} mAP(full) {r[1]:.4f} P@10 {r[2]:.4f}", flush=True)
    r = mean_ap(hb_q > 0, yb_q, hb_db > 0, yb_tr)
    print(f"brain held-out blocks→train blocks ({len(hb_q)} queries): mAP@30 {r[0]:.4f} mAP(full) {r[1]:.4f} P@10 {r[2]:.4f}", flush=True)
    print(f"min |output| {np.abs(np.concatenate([hm_q, hb_q])).min():.2e}", flush=True)
    for name, raw in (() if args.quick_eval else (("mnist val", m_va), ("brain held-out", [b_raw[i] for i in np.flatnonzero(held)]))):
        print(f"stability (PIL proxy) {name}: {stability(model, raw, SIDE, np.random.default_rng(1))}", flush=True)
    print(f"total {time.time() - t0:.1f}s wall, {time.process_time() - c0:.1f}s cpu", flush=True)


if __name__ == "__main__":
    main()
