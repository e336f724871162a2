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
