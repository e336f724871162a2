"""Losses, augmentation and the quick evaluation of training/train_hash.py.

Every loss works on the relaxed code u = tanh(h), h the network's output (the exported ONNX
output: bit i = h[i] > 0).
"""
import io
import math

import numpy as np
import torch
import torch.nn.functional as F

from obia_preprocess import NORMALISE, resize_area

NORM = torch.from_numpy(NORMALISE)


def focal_loss(logits, target, gamma=2.0):
    logp = F.log_softmax(logits, 1).gather(1, target[:, None]).squeeze(1)
    return (-((1 - logp.exp()) ** gamma) * logp).mean()


def triplet_batch_hard(u, y, margin):
    """Batch-hard triplet on the Hamming surrogate (bits - u·v)/2, margin in bits."""
    d = (u.shape[1] - u @ u.t()) / 2
    same = y[:, None] == y[None, :]
    dpos = (d - 1e9 * (~same).float()).max(1).values
    dneg = (d + 1e9 * same.float()).min(1).values
    return F.relu(dpos - dneg + margin).mean() / u.shape[1]


def hadamard_centres(classes, bits):
    """Hash centres (central similarity quantisation, Yuan et al. CVPR 2020): rows of a
    Sylvester Hadamard matrix and their negations, pairwise bits/2 apart (or all bits apart)."""
    h = np.array([[1.0]])
    while h.shape[0] < bits:
        h = np.block([[h, h], [h, -h]])
    rows = np.concatenate([h, -h])
    if classes > len(rows):
        raise ValueError(f"{classes} classes need more than {len(rows)} Hadamard centres")
    # Row 0 is all ones and its negation all minus ones: skip both, they are the codes
    # an untrained network drifts to.
    order = [i for i in range(len(rows)) if i not in (0, bits)]
    return torch.from_numpy(rows[order[:classes]].astype(np.float32))


def centre_loss(u, y, centres):
    """Binary cross-entropy between (u+1)/2 and the class's centre bits."""
    t = (centres[y] + 1) / 2
    p = ((u + 1) / 2).clamp(1e-6, 1 - 1e-6)
    return F.binary_cross_entropy(p, t)


def structure_loss(u, x, y):
    """Within one class, the similarity of the straight-through sign bits regressed onto
    0.5 + 0.5·cos(16×16 pixels): without it the codes collapse to one per class and
    similarImages would return arbitrary images of the right class."""
    p = F.adaptive_avg_pool2d(x, 16).flatten(1)
    p = F.normalize(p - p.mean(1, keepdim=True), dim=1)
    target = 0.5 + 0.5 * (p @ p.t())
    b = u + (torch.sign(u) - u).detach()
    sim = (b @ b.t()) / u.shape[1]
    same = (y[:, None] == y[None, :]) & ~torch.eye(len(y), dtype=torch.bool)
    return ((sim - target) ** 2)[same].mean() if same.any() else u.sum() * 0


def stable_loss(h1, h2, m):
    """Each bit of the perturbed view must sit on the original's side by a margin (both
    ways): what keeps outputs away from 0, so re-encoding a query does not flip bits."""
    return F.relu(m - h2 * torch.sign(h1).detach()).mean() + F.relu(m - h1 * torch.sign(h2).detach()).mean()


def to_side(imgs, side):
    """uint8 [N,side,side] by the area resize of preprocess.ts."""
    return np.stack([i if i.shape == (side, side) else resize_area(i, side, side) for i in imgs])


def normalise(u8):
    """The exact model input (preprocess.ts): the float32 table, not float arithmetic."""
    return NORM[u8.long()][:, None]


def augment(x, g, rot=8.0, scale=0.1, shift=0.08, contrast=0.1, flip=True):
    """Flip, rotation, scale, shift, contrast; background stays black (-1)."""
    n = x.shape[0]
    r = lambda lo, hi: lo + (hi - lo) * torch.rand(n, generator=g)
    a, s = r(-rot, rot) * math.pi / 180, r(1 - scale, 1 + scale)
    fx = torch.where(torch.rand(n, generator=g) < 0.5, -1.0, 1.0) if flip else torch.ones(n)
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0], theta[:, 0, 1] = torch.cos(a) / s * fx, -torch.sin(a) / s
    theta[:, 1, 0], theta[:, 1, 1] = torch.sin(a) / s * fx, torch.cos(a) / s
    theta[:, :, 2] = torch.stack([r(-shift, shift), r(-shift, shift)], 1)
    grid = F.affine_grid(theta, x.shape, align_corners=False)
    y = F.grid_sample(x + 1, grid, mode="bilinear", padding_mode="zeros", align_corners=False) - 1
    c = r(1 - contrast, 1 + contrast)[:, None, None, None]
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
def outputs(model, u8, side, batch=250):
    model.eval()
    return torch.cat([model(normalise(torch.from_numpy(upsample(u8[i:i + batch], side))).contiguous(memory_format=torch.channels_last))
                      for i in range(0, len(u8), batch)]).numpy()


def upsample(u8, side):
    """Integer up-scaling by pixel repetition: exactly what the area resize of preprocess.ts
    gives when the side is a multiple of the image's (each output box is one source pixel),
    so 64×64 Medical MNIST can stay 64×64 in memory."""
    f = side // u8.shape[-1]
    if f == 1:
        return u8
    assert f * u8.shape[-1] == side, (u8.shape, side)
    return u8.repeat(f, axis=-1).repeat(f, axis=-2)


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
    base = outputs(model, to_side([raw[i] for i in idx], side), side) > 0
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
        c = outputs(model, to_side(out, side), side) > 0
        res[name] = float(((c != base).sum(1) <= 2).mean())
    return res
