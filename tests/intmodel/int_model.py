#!/usr/bin/python3
"""Independent integer model of circa's fixed-point inference.

Written ONLY from docs/architecture.md (sections "Fixed point", "Block-circulant matrices", "FFT",
"Activations", "Inputs", "LSTMP", "GRU", "Output layer") and docs/formats.md (safetensors, Kaldi ark/scp, .npy,
hardware INI). No circa source was read to write it. Comments cite the doc sections.

Usage:
  int_model.py --model M.safetensors --features F.{ark,scp,npy,dir} [--config C.ini]
               [--set section.key=value ...] --out OUT.ark|OUTDIR [--sat-json S.json]

The model is three modules of this folder:
  intmodel_io.py     files: safetensors models, Kaldi ark/scp and .npy features, the hardware INI and its
                     defaults, the output ark/.npy
  intmodel_fixed.py  fixed point: formats, rounding, saturation counters, quantization, the fixed FFT/IFFT, the
                     double FFT of the weights, the block-circulant matvec, the activation tables
  int_model.py       this file: the configuration (INI + --set -> Numerics), the LSTMP/GRU/output-layer network,
                     the log-softmax, compute() and the command line

Double-precision steps use IEEE float64 and Python's math module (the C library) for exp and log; see
intmodel_fixed.py for the integer bounds.
"""

import argparse
import json
import math
import os
import sys

import numpy as np

sys.dont_write_bytecode = True   # leave no __pycache__ in the source tree (this imports the two modules below)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from intmodel_io import (DEFAULTS, KNOWN, InputError, ark_bytes, load_model, npy_bytes, parse_bool,  # noqa: E402
                         read_features, read_ini, write_atomic)
from intmodel_fixed import Activation, FMatrix, Numerics, parse_q  # noqa: E402


# ----------------------------------------------------------------------------------------------------------------
# Configuration (formats.md "Hardware configuration (INI)"; architecture.md "Fixed point")
# ----------------------------------------------------------------------------------------------------------------

def build_config(ini_path, overrides):
    vals = read_ini(ini_path) if ini_path else {}
    seen = set()
    for o in overrides:
        o = o[2:] if o.startswith("--") else o
        if "=" not in o:
            raise InputError("--set %s: expected section.key=value" % o)
        k, v = o.split("=", 1)
        if k not in KNOWN:
            raise InputError("--set: unknown key %s" % k)
        if k in seen:
            raise InputError("--set: key %s given twice" % k)
        seen.add(k)
        vals[k] = v
    cfg = dict(DEFAULTS)
    cfg.update(vals)
    src = ini_path or "config"
    try:
        qw, qa, qc = (parse_q(cfg["numerics." + k]) for k in ("weight", "activation", "cell"))
        acc = int(cfg["numerics.accumulator_bits"])
        if not 32 <= acc <= 64:
            raise ValueError("numerics.accumulator_bits out of range")
        guard = int(cfg["numerics.guard_bits"])
        if not 0 <= guard <= 12:
            raise ValueError("numerics.guard_bits out of range")
        ib = int(cfg["numerics.ifft_bits"])
        if not 16 <= ib <= 40:
            raise ValueError("numerics.ifft_bits out of range")
        rnd = cfg["numerics.rounding"]
        if rnd not in ("half_even", "half_up"):
            raise ValueError("bad numerics.rounding %r" % rnd)
        mode = cfg["activation.mode"]
        if mode not in ("lut", "pwl"):
            raise ValueError("bad activation.mode %r" % mode)
        E = int(cfg["activation.lut_entries"])
        if not 16 <= E <= 65536:
            raise ValueError("activation.lut_entries out of range")
        rng = float(cfg["activation.lut_range"])
        if not (0 < rng <= 64):
            raise ValueError("activation.lut_range out of range")
        S = int(cfg["activation.pwl_segments"])
        if not 4 <= S <= 256:
            raise ValueError("activation.pwl_segments out of range")
        interp = parse_bool(cfg["activation.interpolate"])
    except ValueError as e:
        raise InputError("%s: %s" % (src, e))
    num = Numerics(qw, qa, qc, rnd == "half_even", guard, ib)
    num.acc_bits = acc
    acfg = dict(mode=mode, lut_entries=E, lut_range=rng, interpolate=interp, pwl_segments=S)
    return num, acfg


# ----------------------------------------------------------------------------------------------------------------
# The network ("Inputs", "LSTMP", "GRU", "Output layer")
# ----------------------------------------------------------------------------------------------------------------

class Net:
    def __init__(self, M, num, acfg):
        self.M, self.num = M, num
        qa, qw, qc = num.qa, num.qw, num.qc
        self.sig = Activation("sigma", qa, qa, acfg, num)
        self.tanh = Activation("tanh", qa, qa, acfg, num)
        # tanh_c (Qc -> Qa) is only used by an LSTMP, but formats.md ("activation.lut_range") checks the geometry
        # for numerics.cell too, whatever the arch; building it performs that check.
        self.tanh_c = Activation("tanh", qc, qa, acfg, num)
        self.layers = []
        mats = []
        for l, d in enumerate(M.L):
            L = {}
            wx = FMatrix.from_tensor(d["w_x"], num, "layers.%d.w_x" % l)
            wr = FMatrix.from_tensor(d["w_r"], num, "layers.%d.w_r" % l)
            if M.arch == "lstmp":
                L["bias"] = num.quant(d["bias"].astype(np.float64), qa, "bias")
                L["peep"] = num.quant(d["peep"].astype(np.float64), qw, "weight").reshape(3 * M.cell_dim)
                if wx.k == wr.k:
                    L["joint"] = FMatrix.hcat(wx, wr, "layers.%d.[w_x|w_r]" % l)
                    mats.append(L["joint"])
                else:
                    L["wx"], L["wr"] = wx, wr
                    mats += [wx, wr]
                if M.proj_dim > 0:
                    L["proj"] = FMatrix.from_tensor(d["w_proj"], num, "layers.%d.w_proj" % l)
                    mats.append(L["proj"])
            else:
                L["wx"], L["wr"] = wx, wr
                mats += [wx, wr]
                L["bx"] = num.quant(d["bias_x"].astype(np.float64), qa, "bias")
                L["bh"] = num.quant(d["bias_r"].astype(np.float64), qa, "bias")
            self.layers.append(L)
        # dense output layer: a k = 1 matrix; quant(w, Qw) of the k = 1 "FFT" (the identity)
        ow = num.quant(M.out_w.astype(np.float64), qw, "weight")          # [classes, rec]
        self.out = FMatrix(1, ow.reshape(1, M.classes, M.rec), np.zeros((1, M.classes, M.rec), dtype=np.int64),
                           "output.w")
        mats.append(self.out)
        self.out_b = num.quant(M.out_b.astype(np.float64), qa, "bias")
        for m in mats:
            w = m.acc_width(num)
            if w > num.acc_bits:
                raise InputError("accumulator: %s needs %d bits, numerics.accumulator_bits is %d"
                                 % (m.name, w, num.acc_bits))

    def quant_input(self, x):
        """"Inputs": x float32 [frames, dim] -> int64 raw Qa."""
        v = x.astype(np.float64)
        if self.M.mean is not None:
            v = (v - self.M.mean.astype(np.float64)) * self.M.inv_std.astype(np.float64)
        return self.num.quant(v, self.num.qa, "input")

    def lstmp_step(self, l, x, st):
        num, L, C = self.num, self.layers[l], self.M.cell_dim
        F, G, qa, qc = num.F, num.guard, num.qa, num.qc
        na, nc, nw = num.na, num.nc, num.nw
        c_prev, r_prev = st
        if "joint" in L:
            Y = L["joint"].mv([x, r_prev], num)
        else:
            Y = L["wx"].mv([x], num) + L["wr"].mv([r_prev], num)
        b, p = L["bias"], L["peep"]
        pe = nw + nc - F
        Y0, Y1, Y2, Y3 = Y[:, :C], Y[:, C:2 * C], Y[:, 2 * C:3 * C], Y[:, 3 * C:]
        a_i = num.wb(Y0 + (b[:C] << G) + num.rs(p[:C] * c_prev, pe), F, qa, "accum")
        a_f = num.wb(Y1 + (b[C:2 * C] << G) + num.rs(p[C:2 * C] * c_prev, pe), F, qa, "accum")
        a_g = num.wb(Y2 + (b[2 * C:3 * C] << G), F, qa, "accum")
        i, f, g = self.sig(a_i), self.sig(a_f), self.tanh(a_g)
        F2 = max(na + nc, 2 * na)
        c = num.wb(((f * c_prev) << (F2 - na - nc)) + ((i * g) << (F2 - 2 * na)), F2, qc, "cell")
        a_o = num.wb(Y3 + (b[3 * C:] << G) + num.rs(p[2 * C:] * c, pe), F, qa, "accum")
        o = self.sig(a_o)
        m = num.wb(o * self.tanh_c(c), 2 * na, qa, "act")
        if "proj" in L:
            r = num.wb(L["proj"].mv([m], num), F, qa, "accum")
        else:
            r = m
        return r, (c, r)

    def gru_step(self, l, x, st):
        num, L, C = self.num, self.layers[l], self.M.cell_dim
        F, G, qa, na = num.F, num.guard, num.qa, num.na
        (h_prev,) = st
        Yx = L["wx"].mv([x], num)
        Yh = L["wr"].mv([h_prev], num)
        bx, bh = L["bx"], L["bh"]
        s0, s1, s2 = slice(0, C), slice(C, 2 * C), slice(2 * C, 3 * C)
        r = self.sig(num.wb(Yx[:, s0] + Yh[:, s0] + ((bx[s0] + bh[s0]) << G), F, qa, "accum"))
        z = self.sig(num.wb(Yx[:, s1] + Yh[:, s1] + ((bx[s1] + bh[s1]) << G), F, qa, "accum"))
        hn = num.wb(Yh[:, s2] + (bh[s2] << G), F, qa, "accum")
        n = self.tanh(num.wb(Yx[:, s2] + (bx[s2] << G) + num.rs(r * hn, 2 * na - F), F, qa, "accum"))
        h = num.wb(((1 << na) - z) * n + z * h_prev, 2 * na, qa, "act")
        return h, (h,)

    def logits(self, r):
        num = self.num
        Z = self.out.mv([r], num)                                 # sat(rs(sum, nw - GUARD), IB), accum
        return num.wb(Z + (self.out_b << num.guard), num.F, num.qa, "accum")

    def run(self, utts):
        """utts: list of (key, float32 [frames, dim]). Runs them as a batch (each utterance independent)."""
        num, M = self.num, self.M
        xs = [self.quant_input(a) for _, a in utts]
        order = sorted(range(len(utts)), key=lambda u: -xs[u].shape[0])   # active ones first
        lens = [xs[u].shape[0] for u in order]
        Bn = len(order)
        C, rec = M.cell_dim, M.rec
        if M.arch == "lstmp":
            state = [(np.zeros((Bn, C), np.int64), np.zeros((Bn, rec), np.int64)) for _ in range(M.layers)]
            step = self.lstmp_step
        else:
            state = [(np.zeros((Bn, C), np.int64),) for _ in range(M.layers)]
            step = self.gru_step
        logit_out = [np.zeros((lens[b], M.classes), np.int64) for b in range(Bn)]
        for t in range(lens[0]):
            nb = sum(1 for n in lens if n > t)
            x = np.stack([xs[order[b]][t] for b in range(nb)])
            for l in range(M.layers):
                st = tuple(s[:nb] for s in state[l])
                x, new = step(l, x, st)
                for s, v in zip(state[l], new):
                    s[:nb] = v
            lg = self.logits(x)
            for b in range(nb):
                logit_out[b][t] = lg[b]
        res = [None] * len(utts)
        for b, u in enumerate(order):
            res[u] = (utts[u][0], log_softmax(logit_out[b], num.na))
        return res


def log_softmax(logits, na):
    """"Output layer": double, C library exp/log, sum in class order, float32 at the end."""
    out = np.empty(logits.shape, dtype=np.float32)
    scale = 2.0 ** -na
    for t in range(logits.shape[0]):
        z = [float(v) * scale for v in logits[t].tolist()]   # exact
        mx = max(z)
        s = 0.0
        for zc in z:
            s = s + math.exp(zc - mx)
        lse = mx + math.log(s)
        out[t] = np.array([zc - lse for zc in z], dtype=np.float64).astype(np.float32)
    return out


def compute(model, features, config=None, sets=(), stats=None):
    """Run the model file on the features: returns (results, saturation counts), results a list of (key, float32
    log-posteriors [frames, classes]) in the features' order, the counts a dict by kind (KINDS). config: the INI
    path or None; sets: the --set overrides ("section.key=value"). stats: None, or a dict that receives the
    statistics of the IFFT inputs (Numerics.stats in intmodel_fixed.py); it changes no result. Raises InputError."""
    num, acfg = build_config(config, list(sets))
    num.stats = stats
    M = load_model(model)
    utts = read_features(features)
    for k, x in utts:
        if x.shape[1] != M.input_dim:
            raise InputError("%s: utterance %s has dimension %d, the model's input_dim is %d"
                             % (features, k, x.shape[1], M.input_dim))
    net = Net(M, num, acfg)
    return net.run(utts), num.sat


def main(argv):
    ap = argparse.ArgumentParser(description="independent integer model of circa's fixed-point inference")
    ap.add_argument("--model", required=True)
    ap.add_argument("--features", required=True)
    ap.add_argument("--config", default=None, help="hardware INI (default: every key at its documented default)")
    ap.add_argument("--set", action="append", default=[], metavar="section.key=value")
    ap.add_argument("--out", required=True, help="OUT.ark (binary Kaldi FM) or a folder for KEY.npy files")
    ap.add_argument("--sat-json", default=None)
    a = ap.parse_args(argv)
    try:
        res, sat = compute(a.model, a.features, a.config, a.set)
    except InputError as e:
        sys.stderr.write("int_model: %s\n" % e)
        return 2
    if a.out.endswith(".ark"):
        write_atomic(a.out, ark_bytes(res))
    else:
        os.makedirs(a.out, exist_ok=True)
        for key, arr in res:
            write_atomic(os.path.join(a.out, key + ".npy"), npy_bytes(arr))
    js = json.dumps(sat, sort_keys=False)
    print(js)
    if a.sat_json:
        write_atomic(a.sat_json, (js + "\n").encode())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
