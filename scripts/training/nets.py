"""LSTMP (peepholes + projection) and GRU acoustic models whose matrices are dense or block circulant, with the
equations of docs/architecture.md, so that an exported model computes in circa what it computed here."""
import math

import numpy as np

import torch
from torch import nn

import circulant as circ
import quant


class CircMatrix(nn.Module):
    """A [rows, cols] weight matrix with a block size k. It is held either as a dense parameter (dense training, and
    the W-step of ADMM) or as circulant first columns [rows/k, ceil(cols/k), k]."""

    def __init__(self, rows, cols, k, circulant, bound):
        super().__init__()
        if rows % k:
            raise ValueError(f"{rows} rows is not a multiple of the block size {k}")
        self.rows, self.cols, self.k = rows, cols, k
        self.circulant = circulant and k > 1
        if self.circulant:
            self.w = nn.Parameter(torch.empty(rows // k, math.ceil(cols / k), k).uniform_(-bound, bound))
        else:
            self.weight = nn.Parameter(torch.empty(rows, cols).uniform_(-bound, bound))

    def matrix(self):
        return circ.expand(self.w, self.cols) if self.circulant else self.weight

    def first_columns(self):
        if self.circulant:
            return self.w.detach()
        if self.k == 1:
            return self.weight.detach()[:, :, None]
        raise RuntimeError("a dense matrix with block size > 1 must be projected before export")

    def make_circulant(self):
        """Hard projection: the matrix becomes the nearest block-circulant one, parametrized by its first columns."""
        if self.circulant or self.k == 1:
            return
        w = circ.project(self.weight.detach(), self.k)
        del self.weight
        self.w = nn.Parameter(w)
        self.circulant = True

    def set_first_columns(self, w):
        w = torch.tensor(np.array(w), dtype=torch.float32)
        if w.shape[-1] == 1:
            self.weight = nn.Parameter(w[:, :, 0].clone())
            self.circulant = False
        else:
            self.w = nn.Parameter(w.clone())
            self.circulant = True


def _lstmp_steps(gx, c, r, WrT, pi, pf, po, WpT, q):
    # unbind/stack keep each frame a view: indexing gx[t] would give every frame's backward a full-size gradient.
    outs = []
    for g_t in gx.unbind(0):
        g = q.act(torch.addmm(g_t, r, WrT))
        gi, gf, gg, go = g.chunk(4, 1)
        i = torch.sigmoid(q.act(gi + pi * c))
        f = torch.sigmoid(q.act(gf + pf * c))
        c = q.cell(f * c + i * torch.tanh(gg))
        o = torch.sigmoid(q.act(go + po * c))
        m = q.act(o * torch.tanh(c))
        r = q.act(m @ WpT) if WpT is not None else m
        outs.append(r)
    return torch.stack(outs), c, r


def _gru_steps(gx, h, WrT, br, H, q):
    outs = []
    for g_t in gx.unbind(0):
        gh = q.act(torch.addmm(br, h, WrT))
        rz = torch.sigmoid(q.act(g_t[:, :2 * H] + gh[:, :2 * H]))
        r, z = rz[:, :H], rz[:, H:]
        n = torch.tanh(q.act(g_t[:, 2 * H:] + r * gh[:, 2 * H:]))
        h = q.act((1 - z) * n + z * h)
        outs.append(h)
    return torch.stack(outs), h


class LstmpLayer(nn.Module):
    def __init__(self, in_dim, cell, proj, blocks, circulant, prefix):
        super().__init__()
        self.in_dim, self.cell, self.proj = in_dim, cell, proj
        rec = proj if proj else cell
        b = 1.0 / math.sqrt(cell)
        self.w_x = CircMatrix(4 * cell, in_dim, blocks[prefix + "w_x"], circulant, b)
        self.w_r = CircMatrix(4 * cell, rec, blocks[prefix + "w_r"], circulant, b)
        self.bias = nn.Parameter(torch.empty(4 * cell).uniform_(-b, b))
        with torch.no_grad():
            self.bias[cell:2 * cell] += 1.0  # forget gate open at the start, the usual LSTM recipe
        self.peep = nn.Parameter(torch.zeros(3, cell))
        self.w_proj = CircMatrix(proj, cell, blocks[prefix + "w_proj"], circulant, b) if proj else None

    def matrices(self):
        return [m for m in (self.w_x, self.w_r, self.w_proj) if m is not None]

    def init_state(self, batch):
        z = self.bias.new_zeros
        return (z(batch, self.cell), z(batch, self.proj or self.cell))

    def forward(self, x, state, q):
        c, r = state
        gx = q.act(torch.matmul(x, q.weight(self.w_x.matrix()).t()) + q.bias(self.bias))
        WpT = q.weight(self.w_proj.matrix()).t() if self.w_proj is not None else None
        pk = q.peep(self.peep)
        y, c, r = _lstmp_steps(gx, c, r, q.weight(self.w_r.matrix()).t(), pk[0], pk[1], pk[2], WpT, q)
        return y, (c, r)


class GruLayer(nn.Module):
    def __init__(self, in_dim, hid, blocks, circulant, prefix):
        super().__init__()
        self.in_dim, self.cell = in_dim, hid
        b = 1.0 / math.sqrt(hid)
        self.w_x = CircMatrix(3 * hid, in_dim, blocks[prefix + "w_x"], circulant, b)
        self.w_r = CircMatrix(3 * hid, hid, blocks[prefix + "w_r"], circulant, b)
        self.bias_x = nn.Parameter(torch.empty(3 * hid).uniform_(-b, b))
        self.bias_r = nn.Parameter(torch.empty(3 * hid).uniform_(-b, b))

    def matrices(self):
        return [self.w_x, self.w_r]

    def init_state(self, batch):
        return (self.bias_x.new_zeros(batch, self.cell),)

    def forward(self, x, state, q):
        gx = q.act(torch.matmul(x, q.weight(self.w_x.matrix()).t()) + q.bias(self.bias_x))
        y, h = _gru_steps(gx, state[0], q.weight(self.w_r.matrix()).t(), q.bias(self.bias_r), self.cell, q)
        return y, (h,)


def matrix_names(arch, layers, proj):
    names = []
    for l in range(layers):
        names += [f"layers.{l}.w_x", f"layers.{l}.w_r"]
        if arch == "lstmp" and proj:
            names.append(f"layers.{l}.w_proj")
    return names


class AcousticModel(nn.Module):
    def __init__(self, arch, input_dim, cell, proj, layers, classes, blocks, circulant):
        super().__init__()
        if arch == "gru":
            proj = 0
        self.config = dict(arch=arch, input_dim=input_dim, cell=cell, proj=proj, layers=layers, classes=classes,
                           blocks=dict(blocks))
        for name, k in blocks.items():
            if k not in (1, 2, 4, 8, 16, 32, 64):
                raise ValueError(f"{name}: block size {k} is not one of 1, 2, 4, 8, 16, 32, 64")
        self.arch = arch
        self.layers = nn.ModuleList()
        out = proj if proj else cell
        for l in range(layers):
            ind = input_dim if l == 0 else out
            if arch == "lstmp":
                self.layers.append(LstmpLayer(ind, cell, proj, blocks, circulant, f"layers.{l}."))
            else:
                self.layers.append(GruLayer(ind, cell, blocks, circulant, f"layers.{l}."))
        b = 1.0 / math.sqrt(out)
        self.out_w = nn.Parameter(torch.empty(classes, out).uniform_(-b, b))
        self.out_b = nn.Parameter(torch.zeros(classes))
        self.quant = quant.Float()

    def named_matrices(self):
        out = []
        for l, layer in enumerate(self.layers):
            out.append((f"layers.{l}.w_x", layer.w_x))
            out.append((f"layers.{l}.w_r", layer.w_r))
            if getattr(layer, "w_proj", None) is not None:
                out.append((f"layers.{l}.w_proj", layer.w_proj))
        return out

    def init_state(self, batch):
        return [layer.init_state(batch) for layer in self.layers]

    def forward(self, x, state=None):
        """x [T, B, input_dim] (CMVN applied) -> logits [T, B, classes], state after the last frame."""
        q = self.quant
        if state is None:
            state = self.init_state(x.shape[1])
        h = q.input(x)
        new_state = []
        for layer, s in zip(self.layers, state):
            h, s = layer(h, s, q)
            new_state.append(s)
        logits = q.act(torch.matmul(h, q.weight(self.out_w).t()) + q.bias(self.out_b))
        return logits, new_state

    def make_circulant(self):
        for _, m in self.named_matrices():
            m.make_circulant()
