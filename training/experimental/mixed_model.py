import torch
import torch.nn as nn

BITS = 64


def conv_bn(cin, cout, stride):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class HashNet(nn.Module):
    """Strided 3×3 conv stages (each halves the side), global average pool, a linear hash
    layer. The forward output is the pre-tanh activation: its signs are the code bits, which
    is what ONNX exports. `deep` adds a stride-1 conv to each stage from `deep` on (cheap
    at low resolution, where most of the tumour-type evidence is combined)."""

    def __init__(self, bits: int = BITS, classes: int = 9, width=(24, 48, 96, 192), deep: int = 99):
        super().__init__()
        layers, cin = [], 1
        for i, w in enumerate(width):
            layers.append(conv_bn(cin, w, 2))
            if i >= deep:
                layers.append(conv_bn(w, w, 1))
            cin = w
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.hash = nn.Linear(cin, bits)
        # Classifies the relaxed code itself, so class structure is forced into the bits.
        self.classifier = nn.Linear(bits, classes)

    def forward(self, x):
        return self.hash(torch.flatten(self.pool(self.features(x)), 1))
