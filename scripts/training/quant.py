"""Quantization hooks of the forward pass. Float() is the identity; Fixed() rounds to the hardware's Q formats
(round half to even, saturating, as platform/configs/default.ini's numerics) with a straight-through gradient, for
quantization-aware fine-tuning. FFT-domain weights are quantized by the hardware after the FFT, which has no
time-domain equivalent, so matrix weights stay float here; peepholes (weight format) and biases (activation
format) are quantized in the time domain, as the hardware does."""
import re

import torch


def parse_q(s):
    m = re.fullmatch(r"Q(\d+)\.(\d+)", s)
    if not m:
        raise ValueError(f"'{s}' is not a Q format like Q8.8")
    return int(m.group(1)), int(m.group(2))


def fake_quant(x, fmt):
    m, n = fmt
    scale = float(2 ** n)
    # Symmetric, as the hardware saturates (docs/architecture.md, "Fixed point"): the most negative code never occurs.
    hi = 2.0 ** (m - 1) - 1.0 / scale
    lo = -hi
    q = torch.clamp(torch.round(x * scale) / scale, lo, hi)  # torch.round is round half to even
    return x + (q - x).detach()


class Float:
    def input(self, x):
        return x

    def act(self, x):
        return x

    def cell(self, x):
        return x

    def weight(self, w):
        return w

    def peep(self, p):
        return p

    def bias(self, b):
        return b


class Fixed(Float):
    def __init__(self, activation="Q8.8", cell="Q8.8", weight="Q4.12"):
        self.a, self.c, self.w = parse_q(activation), parse_q(cell), parse_q(weight)

    def input(self, x):
        return fake_quant(x, self.a)

    def act(self, x):
        return fake_quant(x, self.a)

    def cell(self, x):
        return fake_quant(x, self.c)

    def peep(self, p):
        return fake_quant(p, self.w)

    def bias(self, b):
        return fake_quant(b, self.a)
