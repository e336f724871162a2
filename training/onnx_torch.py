"""Evaluates an ONNX graph of the shipped kind with torch's functional ops, node by node: a second
implementation of the committed model, independent of onnxruntime, for the parity fixture
(export_fixture.py --onnx) when the training checkpoint is not at hand (the mirror-averaged model
is made from the ONNX file, not trained). Debian's python3-onnx 1.12 has no reference evaluator.
Only the operators the hashing models use are implemented; any other is refused by name.
"""
import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper


def _attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _slice(x, starts, ends, axes, steps):
    for s, e, a, st in zip(starts.tolist(), ends.tolist(), axes.tolist(), steps.tolist()):
        if st == -1 and s == -1 and e <= -x.shape[a]:
            x = torch.flip(x, [a])
        elif st == 1:
            x = x.narrow(a, s, min(e, x.shape[a]) - s)
        else:
            raise NotImplementedError(f"Slice with step {st} from {s} to {e}")
    return x


def run(model_path: str, x: np.ndarray) -> np.ndarray:
    """The graph's single output for the float32 input x."""
    model = onnx.load(model_path)
    g = model.graph
    env = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in g.initializer}
    env[g.input[0].name] = torch.from_numpy(x)
    with torch.no_grad():
        for node in g.node:
            a = _attrs(node)
            i = [env[n] for n in node.input]
            op = node.op_type
            if op == "Conv":
                p = a.get("pads", [0, 0, 0, 0])
                assert p[0] == p[2] and p[1] == p[3], "asymmetric padding"
                y = F.conv2d(i[0], i[1], i[2] if len(i) > 2 else None, stride=a.get("strides", [1, 1]),
                             padding=(p[0], p[1]), dilation=a.get("dilations", [1, 1]), groups=a.get("group", 1))
            elif op == "Relu":
                y = F.relu(i[0])
            elif op == "Sigmoid":
                y = torch.sigmoid(i[0])
            elif op == "Mul":
                y = i[0] * i[1]
            elif op == "Add":
                y = i[0] + i[1]
            elif op == "GlobalAveragePool":
                y = i[0].mean(dim=(2, 3), keepdim=True)
            elif op == "Flatten":
                y = torch.flatten(i[0], a.get("axis", 1))
            elif op == "Gemm":
                b = i[1].t() if a.get("transB", 0) else i[1]
                y = a.get("alpha", 1.0) * (i[0] @ b) + a.get("beta", 1.0) * i[2]
            elif op == "Slice":
                y = _slice(i[0], *i[1:5])
            elif op == "Concat":
                y = torch.cat(i, dim=a["axis"])
            elif op == "Reshape":
                y = i[0].reshape(i[1].tolist())
            elif op == "ReduceMean":
                y = i[0].mean(dim=tuple(a["axes"]), keepdim=bool(a.get("keepdims", 1)))
            else:
                raise NotImplementedError(f"ONNX operator {op}")
            env[node.output[0]] = y
    return env[g.output[0].name].numpy()
