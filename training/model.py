import torch
import torch.nn as nn

BITS = 64


def block(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True), nn.MaxPool2d(2))


class HashNet(nn.Module):
    """Four conv blocks (64→4 px) then a linear hash layer. The forward output is the
    pre-tanh activation: its signs are the code bits, which is what ONNX exports."""

    def __init__(self, bits: int = BITS, classes: int = 6, width=(16, 32, 64, 128)):
        super().__init__()
        chans = (1,) + tuple(width)
        self.features = nn.Sequential(*[block(chans[i], chans[i + 1]) for i in range(len(width))])
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.hash = nn.Linear(width[-1], bits)
        # Classifies the relaxed code itself, so class structure is forced into the bits.
        self.classifier = nn.Linear(bits, classes)

    def forward(self, x):
        return self.hash(torch.flatten(self.pool(self.features(x)), 1))


class FusedHashNet(nn.Module):
    """The exported graph of HashNet (batch norm folded into the conv biases), so the shipped
    v1 ONNX file can be read back and fine-tuned (train_hash.py --arch fused --init v1)."""

    def __init__(self, bits: int = BITS, classes: int = 6, width=(16, 32, 64, 128)):
        super().__init__()
        chans = (1,) + tuple(width)
        self.features = nn.Sequential(*[nn.Sequential(nn.Conv2d(chans[i], chans[i + 1], 3, padding=1), nn.ReLU(inplace=True),
                                                      nn.MaxPool2d(2)) for i in range(len(width))])
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.hash = nn.Linear(width[-1], bits)
        self.classifier = nn.Linear(bits, classes)

    def forward(self, x):
        return self.hash(torch.flatten(self.pool(self.features(x)), 1))

    def load_onnx(self, path):
        """Initialisers in graph order: conv weight, conv bias per stage, then hash.weight/bias."""
        import onnx
        from onnx import numpy_helper
        graph = onnx.load(path).graph
        inits = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
        convs = [n for n in graph.node if n.op_type == "Conv"]
        with torch.no_grad():
            for stage, node in zip(self.features, convs):
                stage[0].weight.copy_(torch.from_numpy(inits[node.input[1]].copy()))
                stage[0].bias.copy_(torch.from_numpy(inits[node.input[2]].copy()))
            self.hash.weight.copy_(torch.from_numpy(inits["hash.weight"].copy()))
            self.hash.bias.copy_(torch.from_numpy(inits["hash.bias"].copy()))


class SqueezeExcite(nn.Module):
    """Channel attention (Hu et al., squeeze-and-excitation): cheap at these widths, and it
    lets a stage weight the channels that carry the tumour's texture over the skull's."""

    def __init__(self, c, r=4):
        super().__init__()
        self.fc = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(c, c // r, 1), nn.ReLU(inplace=True), nn.Conv2d(c // r, c, 1), nn.Sigmoid())

    def forward(self, x):
        return x * self.fc(x)


class ResBlock(nn.Module):
    def __init__(self, cin, cout, stride, se=True):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
                                  nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout))
        self.se = SqueezeExcite(cout) if se else nn.Identity()
        self.skip = nn.Identity() if stride == 1 and cin == cout else nn.Sequential(
            nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
        self.act = nn.ReLU(inplace=True)

    def forward(self, x):
        return self.act(self.se(self.body(x)) + self.skip(x))


class ResHashNet(nn.Module):
    """A small residual CNN with squeeze-excite attention: a stride-2 3×3 stem, then one
    stride-2 residual block per width, global average pool, linear hash layer. Output: the
    pre-tanh activation, whose signs are the bits (what ONNX exports)."""

    def __init__(self, bits: int = BITS, classes: int = 11, width=(24, 32, 64, 128, 192), se=True):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, width[0], 3, 2, 1, bias=False), nn.BatchNorm2d(width[0]), nn.ReLU(inplace=True))
        self.features = nn.Sequential(*[ResBlock(width[i], width[i + 1], 2, se) for i in range(len(width) - 1)])
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.hash = nn.Linear(width[-1], bits)
        self.classifier = nn.Linear(bits, classes)

    def forward(self, x):
        return self.hash(torch.flatten(self.pool(self.features(self.stem(x))), 1))
