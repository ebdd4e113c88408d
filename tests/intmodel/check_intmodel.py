#!/usr/bin/python3
"""Compare circa (golden model and virtual platform) with the independent integer model int_model.py, bit for bit.

usage: check_intmodel.py [CIRCA_BIN] [--root SOURCE_ROOT] [--keep DIR] [--only NAME[,NAME..]]

CIRCA_BIN defaults to $CIRCA_BIN, else SOURCE_ROOT/build/release/circa; SOURCE_ROOT defaults to the folder two
levels above this file. For each case it makes the inputs in a temporary folder (circa model synth, circa features
synth, and files this script derives from them), runs
    circa run --functional --precision fixed --out a.ark     (golden model)
    circa run --out b.ark --report r.json                    (virtual platform)
    int_model.py --out c.ark --sat-json s.json               (this folder's model)
and requires the three archives to hold bit-identical float32 log-posteriors (and c.ark to be byte-identical to
a.ark), and equal saturation counts: every kind against the golden model's 'saturations:' line, and the VP's
report (saturations.datapath = fft + accum + act + cell, saturations.input = input).
A case with a 'precheck' (wide-ifft-inputs) first runs int_model in-process with its statistics hook and fails
unless its inputs still produce what the case is about (IFFT inputs above 2^31, none saturated). No case is skipped:
if circa rejects a case's settings (e.g. a key the binary does not know), that case fails with circa's message.
Prints one line per case, then 'N passed, M failed'; exits 1 if anything failed (2 for a bad command line).
"""

import json
import math
import os
import re
import struct
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True   # leave no __pycache__ in the source tree
sys.path.insert(0, HERE)
import int_model as im  # noqa: E402  (compute() with stats, build_config and Net for accumulator widths)
import intmodel_fixed as ifx  # noqa: E402  (KINDS, FMatrix)
import intmodel_io as iio  # noqa: E402  (reading models and features)

DATAPATH_KINDS = ("fft", "accum", "act", "cell")


class CaseError(Exception):
    pass


# ------------------------------------------------------------------------------------------------ helpers

def run(cmd, cwd, expect_rc=0):
    p = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    if expect_rc is not None and p.returncode != expect_rc:
        raise CaseError("%s exited %d (expected %d): %s" % (os.path.basename(cmd[0]) if cmd[0] != sys.executable
                                                            else os.path.basename(cmd[1]), p.returncode,
                                                            expect_rc, (p.stderr.strip() or p.stdout.strip())[-400:]))
    return p


def write_safetensors(path, meta, tensors, dtypes=None):
    """tensors: name -> array (float32 unless dtypes[name] is F64, F16 or BF16). Metadata first, tensors in name
    order, header padded to 8 bytes."""
    hdr = {"__metadata__": meta}
    off = 0
    blobs = []
    for name in sorted(tensors, key=lambda s: s.encode()):
        dt = (dtypes or {}).get(name, "F32")
        if dt == "BF16":   # the top 16 bits of the float32 (the file's values are these bfloat16 numbers)
            a = np.ascontiguousarray(tensors[name], dtype="<f4")
            b = (a.view("<u4") >> 16).astype("<u2").tobytes()
        else:
            a = np.ascontiguousarray(tensors[name], dtype={"F32": "<f4", "F64": "<f8", "F16": "<f2"}[dt])
            b = a.tobytes()
        hdr[name] = {"dtype": dt, "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        off += len(b)
        blobs.append(b)
    h = json.dumps(hdr, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as fh:
        fh.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def load_st(path):
    meta, t = iio.read_safetensors(path)
    return meta, {k: a.copy() for k, (a, _) in t.items()}


def write_ark_scp(ark, utts, kinds=None):
    """utts: [(key, float32 matrix)]; kinds: per utterance 'FM' (default), 'DM' or 'text'. Writes ark + .scp."""
    scp_lines = []
    with open(ark, "wb") as fh:
        for n, (key, a) in enumerate(utts):
            kind = kinds[n] if kinds else "FM"
            fh.write(key.encode() + b" ")
            off = fh.tell()
            if kind == "text":
                rows = ["  " + " ".join(repr(float(v)) for v in row) for row in a]
                fh.write(("[\n" + "\n".join(rows) + " ]\n").encode())
            else:
                dt = "<f4" if kind == "FM" else "<f8"
                fh.write(b"\0B" + kind.encode() + b" \x04" + struct.pack("<i", a.shape[0]) + b"\x04" +
                         struct.pack("<i", a.shape[1]) + np.ascontiguousarray(a, dtype=dt).tobytes())
            scp_lines.append("%s %s:%d\n" % (key, os.path.abspath(ark), off))
    scp = ark[:-4] + ".scp"
    with open(scp, "w") as fh:
        fh.writelines(scp_lines)
    return scp


def read_ark_any(path):
    return [(k, np.asarray(a, dtype=np.float32)) for k, a in iio.read_ark(path)]


def compare_arks(ref_path, got_path, what):
    ref, got = read_ark_any(ref_path), read_ark_any(got_path)
    if [k for k, _ in ref] != [k for k, _ in got]:
        raise CaseError("%s: utterance keys differ: %s vs %s" % (what, [k for k, _ in ref][:4], [k for k, _ in got][:4]))
    for (key, a), (_, b) in zip(ref, got):
        if a.shape != b.shape:
            raise CaseError("%s: utterance %s: shape %s vs %s" % (what, key, a.shape, b.shape))
        ua, ub = a.view(np.uint32), b.view(np.uint32)
        diff = np.argwhere(ua != ub)
        if diff.size:
            t, c = diff[0]
            raise CaseError("%s: first difference at utterance %s frame %d class %d: %r (0x%08x) vs %r (0x%08x); "
                            "%d values differ" % (what, key, t, c, float(a[t, c]), int(ua[t, c]), float(b[t, c]),
                                                  int(ub[t, c]), diff.shape[0]))
    return sum(a.shape[0] for _, a in ref)


def parse_golden_sat(stdout):
    """'saturations: 0' or 'saturations: 412 (input 169, weight 3, accum 240)'."""
    m = re.search(r"^\s*saturations:\s*(\d+)(?:\s*\(([^)]*)\))?\s*$", stdout, re.M)
    if not m:
        raise CaseError("no 'saturations:' line in circa --functional output")
    total = int(m.group(1))
    kinds = {k: 0 for k in ifx.KINDS}
    if m.group(2):
        for part in m.group(2).split(","):
            name, val = part.split()
            if name not in kinds:
                raise CaseError("unknown saturation kind %r in circa's output" % name)
            kinds[name] = int(val)
    if sum(kinds.values()) != total:
        raise CaseError("circa's saturation kinds do not add up to its total: %s" % m.group(0).strip())
    return kinds


def parse_vp_sat(report_path, stdout):
    with open(report_path) as fh:
        rep = json.load(fh)
    s = rep["saturations"]
    m = re.search(r"saturations:\s*(\d+) in the datapath, (\d+) in input quantization", stdout)
    if m and (int(m.group(1)), int(m.group(2))) != (s["datapath"], s["input"]):
        raise CaseError("VP stdout and report disagree on saturations")
    return {"datapath": s["datapath"], "input": s["input"]}


# ------------------------------------------------------------------------------------------------ inputs

class Ctx:
    def __init__(self, circa, root, tmp):
        self.circa, self.root, self.tmp = circa, root, tmp
        self.cache = {}

    def path(self, name):
        return os.path.join(self.tmp, name)

    def synth_model(self, name, *args):
        p = self.path(name + ".safetensors")
        if p not in self.cache:
            run([self.circa, "model", "synth"] + list(args) + ["-o", p], self.tmp)
            self.cache[p] = True
        return p

    def synth_features(self, name, *args):
        p = self.path(name + ".ark")
        if p not in self.cache:
            run([self.circa, "features", "synth"] + list(args) + ["-o", p], self.tmp)
            self.cache[p] = True
        return p[:-4] + ".scp"


def feats40(ctx):
    return ctx.synth_features("f40", "--utts", "3", "--frames", "30", "--dim", "40", "--seed", "7")


def bundled_subset(ctx):
    """Three bundled utterances through our own scp lines (absolute paths into data/test.ark)."""
    src = os.path.join(ctx.root, "data", "test.scp")
    lines = [l.split() for l in open(src) if l.strip()]
    pick = [lines[0], lines[3], lines[4]]
    p = ctx.path("bundled3.scp")
    with open(p, "w") as fh:
        for key, loc in pick:
            f, off = loc.rsplit(":", 1)
            fh.write("%s %s:%s\n" % (key, os.path.join(ctx.root, "data", f), off))
    return p


def mixed_k_model(ctx):
    """An LSTMP with a different k for every matrix of layer 0 (k_x != k_r: the two-matvec path), CMVN, and
    layer 1 with k_x = k_r (joint path). Derived from a synth model; the new tensors are seeded uniform values."""
    p = ctx.path("kxkr.safetensors")
    if p in ctx.cache:
        return p
    base = ctx.synth_model("kxkr_base", "--arch", "lstmp", "--input-dim", "40", "--cell-dim", "64",
                           "--proj-dim", "32", "--layers", "2", "--block", "8", "--classes", "12", "--seed", "5")
    meta, t = load_st(base)
    rng = np.random.default_rng(12345)

    def uni(shape, amp):
        return rng.uniform(-amp, amp, size=shape).astype(np.float32)

    C, P = 64, 32
    t["layers.0.w_x"] = uni((4 * C // 4, -(-40 // 4), 4), 0.15)        # k_x = 4 (40 = 10 blocks)
    t["layers.0.w_r"] = uni((4 * C // 16, P // 16, 16), 0.15)          # k_r = 16
    t["layers.0.w_proj"] = uni((P // 2, C // 2, 2), 0.15)             # k_proj = 2
    t["layers.1.w_x"] = uni((4 * C // 32, P // 32, 32), 0.12)          # k_x = k_r = 32 (joint)
    t["layers.1.w_r"] = uni((4 * C // 32, P // 32, 32), 0.12)
    t["layers.1.w_proj"] = uni((P // 1, C // 1, 1), 0.15)             # k_proj = 1 (dense)
    t["input.mean"] = uni((40,), 0.5)
    t["input.inv_std"] = rng.uniform(0.5, 2.0, size=(40,)).astype(np.float32)
    write_safetensors(p, meta, t)
    ctx.cache[p] = True
    return p


def dtype_model(ctx):
    """The k_x != k_r model rewritten with F16, BF16 and F64 tensors (F64 values not representable in float32,
    so that loading must round them)."""
    p = ctx.path("dtypes.safetensors")
    if p in ctx.cache:
        return p
    meta, t = load_st(mixed_k_model(ctx))
    rng = np.random.default_rng(777)
    dt = {}
    for n, name in enumerate(sorted(t)):
        kind = ("F16", "BF16", "F64")[n % 3]
        dt[name] = kind
        if kind == "F64":
            a = t[name].astype(np.float64) * (1.0 + rng.uniform(-1e-3, 1e-3, size=t[name].shape))
            if name == "input.inv_std":
                a = np.abs(a)
            t[name] = a
    write_safetensors(p, meta, t, dt)
    ctx.cache[p] = True
    return p


def scaled_features(ctx, factor=24.0):
    p = ctx.path("f40x.ark")
    if p not in ctx.cache:
        utts = iio.read_features(feats40(ctx))
        write_ark_scp(p, [(k, (a * np.float32(factor)).astype(np.float32)) for k, a in utts])
        ctx.cache[p] = True
    return p[:-4] + ".scp"


def mixed_container_features(ctx):
    """One ark mixing FM, DM and text entries (read as an .ark, not through the scp)."""
    p = ctx.path("fmix.ark")
    if p not in ctx.cache:
        utts = iio.read_features(feats40(ctx))
        write_ark_scp(p, utts, kinds=["FM", "DM", "text"])
        ctx.cache[p] = True
    return p


def acc_model(ctx):
    """The bundled model with output.w scaled by 1/4 (exact), so that the widest accumulator bound is the joint
    [W_x | W_r] of a layer; returns (path, widest width, name of the widest matrix)."""
    p = ctx.path("acc.safetensors")
    meta, t = load_st(os.path.join(ctx.root, "models", "default.safetensors"))
    t["output.w"] = (t["output.w"] * np.float32(0.25)).astype(np.float32)
    write_safetensors(p, meta, t)
    M = iio.load_model(p)
    num, acfg = im.build_config(None, [])
    net = im.Net(M, num, acfg)
    widths = [(m.acc_width(num), m.name) for L in net.layers for m in L.values() if isinstance(m, ifx.FMatrix)]
    widths.append((net.out.acc_width(num), net.out.name))
    # the halves of each joint matrix on their own (what a per-tensor reading of the bound would check)
    for l, d in enumerate(M.L):
        for t_name in ("w_x", "w_r"):
            m = ifx.FMatrix.from_tensor(d[t_name], num, "layers.%d.%s alone" % (l, t_name))
            widths.append((m.acc_width(num), m.name))
    return p, sorted(widths, reverse=True)


WIDE_SETS = ["--numerics.guard_bits=12", "--numerics.weight=Q6.12", "--numerics.activation=Q4.14"]


def gru_model(ctx):
    return ctx.synth_model("gru", "--arch", "gru", "--input-dim", "40", "--cell-dim", "64", "--proj-dim", "0",
                           "--layers", "2", "--block", "8,4", "--classes", "12", "--seed", "2")


def mix_model(ctx):
    return ctx.synth_model("mix", "--arch", "lstmp", "--input-dim", "40", "--cell-dim", "64", "--proj-dim", "32",
                           "--layers", "2", "--block", "4,16", "--classes", "12", "--seed", "3")


def wide_model(ctx):
    """The 2-layer LSTMP of mix_model (k = 4, 16) with every 4th block row of layers.0.w_x (16 of its 64, spread over
    the four gates) made coherent: first column s * a * (u + cos(2 pi t / 4)), u uniform in [0.5, 1.5), s a random
    sign, a = 0.5, 1, 2, 4 in turn. With wide_features its DC sums (Zr) reach about 160 a and its bin-1 sums (Zi)
    about 20 a in real units, i.e. up to about 2^35 and 2^32 at F = 14 + 12 fractional bits. Its FFT-domain weights
    stay below 24 in magnitude: no weight saturates in Q6.12. The other rows keep their small synth weights."""
    p = ctx.path("wide.safetensors")
    if p in ctx.cache:
        return p
    meta, t = load_st(mix_model(ctx))
    rng = np.random.default_rng(2024)
    w = t["layers.0.w_x"]                                              # [4 C / 4, 10, 4]
    rows, q, k = w.shape
    cosv = np.cos(2 * np.pi * np.arange(k) / k)
    amps = (0.5, 1.0, 2.0, 4.0)
    for i in range(0, rows, 4):
        a = amps[(i // 4) % len(amps)] * rng.choice([-1.0, 1.0])
        w[i] = (a * (rng.uniform(0.5, 1.5, size=(q, k)) + cosv)).astype(np.float32)
    write_safetensors(p, meta, t)
    ctx.cache[p] = True
    return p


def wide_features(ctx):
    """feats40 as x / 2 + 4 + 2 * [0, 1, 0, -1][d mod 4]: all in [0.1, 7.9], inside Q4.14 (no input saturation),
    with a coherent DC bin (4) and a coherent imaginary bin 1 (-1) in every block of 4."""
    p = ctx.path("fwide.ark")
    if p not in ctx.cache:
        pat = np.array([0.0, 1.0, 0.0, -1.0] * 10, dtype=np.float32)
        utts = iio.read_features(feats40(ctx))
        write_ark_scp(p, [(k, (a * np.float32(0.5) + np.float32(4.0) + np.float32(2.0) * pat).astype(np.float32))
                          for k, a in utts])
        ctx.cache[p] = True
    return p[:-4] + ".scp"


def check_wide_ifft(model, feats, sets):
    """Our own model's IFFT inputs for the case: both some Zr and some Zi must exceed 2^31 in magnitude and none
    may be saturated (all below 2^(IB-1)); else the case no longer tests wide IFFT inputs. Returns a note."""
    st = {}
    try:
        _, sat = im.compute(model, feats, None, [x[2:] for x in sets], stats=st)
    except iio.InputError as e:
        raise CaseError("test setup: int_model: %s" % e)
    lim = 1 << 31
    re_max, im_max = st.get("ifft_in_max_re", 0), st.get("ifft_in_max_im", 0)
    if st.get("ifft_in_sat", 0):
        raise CaseError("test setup: %d IFFT inputs saturated (max |Z| %d); the case needs none"
                        % (st["ifft_in_sat"], st["ifft_in_max"]))
    if not (re_max > lim and im_max > lim):
        raise CaseError("test setup: max |Zr| %d (2^%.2f), max |Zi| %d (2^%.2f): both must exceed 2^31"
                        % (re_max, math.log2(max(re_max, 1)), im_max, math.log2(max(im_max, 1))))
    return ("int_model: max |Z| %d = 2^%.2f (|Zr| 2^%.2f, |Zi| 2^%.2f), %d values above 2^31, none saturated"
            % (st["ifft_in_max"], math.log2(st["ifft_in_max"]), math.log2(re_max), math.log2(im_max),
               st["ifft_in_over31"]))


# ------------------------------------------------------------------------------------------------ cases

def case_list(ctx):
    R = ctx.root
    default_model = os.path.join(R, "models", "default.safetensors")
    narrow = ["--numerics.weight=Q2.6", "--numerics.activation=Q2.6", "--numerics.cell=Q3.5"]
    return [
        dict(name="bundled-default", model=lambda: default_model, feats=lambda: bundled_subset(ctx), sets=[]),
        dict(name="gru-2layer-k8,4", model=lambda: gru_model(ctx), feats=lambda: feats40(ctx), sets=[]),
        dict(name="lstmp-2layer-k4,16", model=lambda: mix_model(ctx), feats=lambda: feats40(ctx), sets=[]),
        dict(name="lstmp-kx!=kr-cmvn", model=lambda: mixed_k_model(ctx), feats=lambda: feats40(ctx), sets=[]),
        dict(name="dtypes-f16-bf16-f64", model=lambda: dtype_model(ctx), feats=lambda: feats40(ctx), sets=[],
             vp_extra=["--streams", "2", "--buffer.weight_kib=0", "--tiling.cells=5", "--tiling.emac_chunks=1"]),
        dict(name="lstmp-noproj-k1,64", model=lambda: ctx.synth_model(
            "k1k64", "--arch", "lstmp", "--input-dim", "40", "--cell-dim", "64", "--proj-dim", "0", "--layers", "2",
            "--block", "1,64", "--classes", "12", "--seed", "4"), feats=lambda: mixed_container_features(ctx),
             sets=[]),
        dict(name="12bit-bundled", model=lambda: default_model, feats=lambda: bundled_subset(ctx),
             sets=["--numerics.weight=Q3.9", "--numerics.activation=Q6.6", "--numerics.cell=Q6.6"]),
        dict(name="12bit-gru-half_up", model=lambda: gru_model(ctx), feats=lambda: feats40(ctx),
             sets=["--numerics.weight=Q3.9", "--numerics.activation=Q5.7", "--numerics.cell=Q6.6",
                   "--numerics.rounding=half_up"]),
        dict(name="18bit-kx!=kr-lut4096", model=lambda: mixed_k_model(ctx), feats=lambda: feats40(ctx),
             sets=["--numerics.weight=Q4.14", "--numerics.activation=Q8.10", "--numerics.cell=Q9.9",
                   "--activation.lut_entries=4096", "--activation.lut_range=16"]),
        dict(name="pwl-bundled", model=lambda: default_model, feats=lambda: bundled_subset(ctx),
             sets=["--activation.mode=pwl"]),
        dict(name="pwl-odd-geometry-half_up", model=lambda: mix_model(ctx), feats=lambda: feats40(ctx),
             sets=["--activation.mode=pwl", "--activation.pwl_segments=7", "--activation.lut_range=6",
                   "--numerics.rounding=half_up", "--numerics.cell=Q7.11"]),
        dict(name="half_up-bundled", model=lambda: default_model, feats=lambda: bundled_subset(ctx),
             sets=["--numerics.rounding=half_up"]),
        dict(name="half_even-bundled-Q6.10", model=lambda: default_model, feats=lambda: bundled_subset(ctx),
             sets=["--numerics.rounding=half_even", "--numerics.activation=Q6.10"]),
        dict(name="lut-nointerp-den12", model=lambda: mixed_k_model(ctx), feats=lambda: feats40(ctx),
             sets=["--activation.interpolate=false", "--activation.lut_range=6", "--activation.lut_entries=100"]),
        dict(name="lut-interp-den-not-pow2", model=lambda: gru_model(ctx), feats=lambda: feats40(ctx),
             sets=["--activation.lut_range=6", "--activation.lut_entries=100", "--numerics.rounding=half_up"]),
        dict(name="saturating-lstmp", model=lambda: mixed_k_model(ctx), feats=lambda: scaled_features(ctx),
             sets=narrow, must_saturate=True, vp_extra=["--streams", "3", "--buffer.weight_kib=0"]),
        dict(name="saturating-gru", model=lambda: gru_model(ctx), feats=lambda: scaled_features(ctx),
             sets=["--numerics.weight=Q1.7", "--numerics.activation=Q2.6", "--numerics.rounding=half_up"],
             must_saturate=True),
        dict(name="saturating-bundled-pwl", model=lambda: default_model, feats=lambda: bundled_subset(ctx),
             sets=["--numerics.weight=Q1.7", "--numerics.activation=Q3.7", "--numerics.cell=Q3.7",
                   "--activation.mode=pwl"], must_saturate=True),
        dict(name="accumulator-bound", accumulator=True),
        # numerics.guard_bits / numerics.ifft_bits (docs/architecture.md "Fixed point"); a circa binary that does not
        # know these keys fails these cases
        dict(name="guard0-ifft16-saturating", model=lambda: mix_model(ctx), feats=lambda: scaled_features(ctx),
             sets=["--numerics.guard_bits=0", "--numerics.ifft_bits=16", "--numerics.activation=Q2.14"],
             must_saturate=True),
        dict(name="guard12-ifft28-12bit-gru", model=lambda: gru_model(ctx), feats=lambda: feats40(ctx),
             sets=["--numerics.guard_bits=12", "--numerics.ifft_bits=28", "--numerics.weight=Q3.9",
                   "--numerics.activation=Q6.6", "--numerics.cell=Q6.6"]),
        dict(name="guard9-bundled-pwl", model=lambda: default_model, feats=lambda: bundled_subset(ctx),
             sets=["--numerics.guard_bits=9", "--activation.mode=pwl", "--numerics.rounding=half_up"]),
        # IFFT inputs wider than 32 bits, not saturated (IB = 40, the default): checked on int_model's own values first
        dict(name="wide-ifft-inputs", model=lambda: wide_model(ctx), feats=lambda: wide_features(ctx),
             sets=WIDE_SETS, precheck=check_wide_ifft),
    ]


def sets_to_args(sets):
    out = []
    for s in sets:
        out += ["--set", s[2:]]
    return out


def run_case(ctx, case, model_py):
    cwd = ctx.path(case["name"])
    os.makedirs(cwd, exist_ok=True)
    if case.get("accumulator"):
        return run_accumulator_case(ctx, cwd, model_py)
    model, feats, sets = case["model"](), case["feats"](), case["sets"]
    if not case.get("precheck"):
        return compare_case(ctx, case, cwd, model, feats, sets, model_py)
    note = case["precheck"](model, feats, sets)     # the case's own condition, on int_model's values, first
    try:
        return "%s; %s" % (compare_case(ctx, case, cwd, model, feats, sets, model_py), note)
    except CaseError as e:
        raise CaseError("%s [%s]" % (e, note))


def compare_case(ctx, case, cwd, model, feats, sets, model_py):
    a, b, c = (os.path.join(cwd, n) for n in ("a.ark", "b.ark", "c.ark"))
    rep, sj = os.path.join(cwd, "r.json"), os.path.join(cwd, "s.json")
    common = ["--model", model, "--features", feats]
    pa = run([ctx.circa, "run", "--functional", "--precision", "fixed", "--out", a] + common + sets, cwd)
    pb = run([ctx.circa, "run", "--out", b, "--report", rep] + common + sets, cwd)
    run([sys.executable, model_py, "--out", c, "--sat-json", sj] + common + sets_to_args(sets), cwd)
    if case.get("vp_extra"):   # a second VP run (streams, weight streaming, other tiles): must not change a bit
        b2, rep2 = os.path.join(cwd, "b2.ark"), os.path.join(cwd, "r2.json")
        pb2 = run([ctx.circa, "run", "--out", b2, "--report", rep2] + common + sets + case["vp_extra"], cwd)
        compare_arks(b2, c, "VP %s vs int_model" % " ".join(case["vp_extra"]))
        if parse_vp_sat(rep2, pb2.stdout) != parse_vp_sat(rep, pb.stdout):
            raise CaseError("VP saturations change with %s" % " ".join(case["vp_extra"]))
    frames = compare_arks(a, c, "golden vs int_model")
    compare_arks(b, c, "VP vs int_model")
    compare_arks(a, b, "golden vs VP")
    if open(a, "rb").read() != open(c, "rb").read():
        raise CaseError("values equal but the ark bytes differ (golden vs int_model)")
    mine = json.load(open(sj))
    gold = parse_golden_sat(pa.stdout)
    if gold != mine:
        raise CaseError("saturations: golden %s, int_model %s" % (gold, mine))
    vp = parse_vp_sat(rep, pb.stdout)
    mine_vp = {"datapath": sum(mine[k] for k in DATAPATH_KINDS), "input": mine["input"]}
    if vp != mine_vp:
        raise CaseError("saturations: VP %s, int_model %s" % (vp, mine_vp))
    nz = {k: v for k, v in mine.items() if v}
    if case.get("must_saturate") and not (mine_vp["datapath"] > 0 and mine["input"] > 0):
        raise CaseError("expected nonzero datapath and input saturations, got %s" % mine)
    return "%d frames, saturations %s" % (frames, nz if nz else 0)


def run_accumulator_case(ctx, cwd, model_py):
    """accumulator_bits = widest - 1 must be refused (exit 2) by all three; = widest must run identically."""
    model, widths = acc_model(ctx)
    w, name = widths[0]
    top = [n for ww, n in widths if ww == w]
    if w - 1 < 32 or not all("[w_x|w_r]" in n for n in top):
        raise CaseError("test setup: widths %s: the widest must be joint [w_x|w_r] matrices only, above 32 bits"
                        % widths[:4])
    name = ", ".join(top)
    feats = bundled_subset(ctx)
    common = ["--model", model, "--features", feats]
    for bits, rc in ((w - 1, 2), (w, 0)):
        s = ["--numerics.accumulator_bits=%d" % bits]
        a, b, c = (os.path.join(cwd, "%s%d.ark" % (n, bits)) for n in "abc")
        pa = run([ctx.circa, "run", "--functional", "--out", a] + common + s, cwd, expect_rc=None)
        pb = run([ctx.circa, "run", "--out", b] + common + s, cwd, expect_rc=None)
        pc = run([sys.executable, model_py, "--out", c] + common + sets_to_args(s), cwd, expect_rc=None)
        got = (pa.returncode, pb.returncode, pc.returncode)
        if got != (rc, rc, rc):
            raise CaseError("accumulator_bits=%d (widest: %s, %d bits): exit codes golden/VP/int_model %s, "
                            "expected all %d; circa said: %s" % (bits, name, w, got, rc,
                                                                 (pa.stderr or pb.stderr).strip()[:200]))
        if rc == 0:
            compare_arks(a, c, "golden vs int_model")
            compare_arks(b, c, "VP vs int_model")
    return "widest %s needs %d bits: refused at %d, identical at %d" % (name, w, w - 1, w)


def select_cases(names, arg):
    """--only's comma-separated list; a case name may itself contain commas ("gru-2layer-k8,4"). Returns (the
    names chosen, the parts of arg that name no case)."""
    s = "," + arg + ","
    chosen = {n for n in names if "," + n + "," in s}
    for n in sorted(chosen, key=len, reverse=True):
        s = s.replace("," + n + ",", ",,")
    return chosen, [t for t in s.split(",") if t]


def main(argv):
    root = os.path.dirname(os.path.dirname(HERE))
    circa = os.environ.get("CIRCA_BIN")
    keep, only = None, None
    i = 0
    while i < len(argv):
        if argv[i] == "--root":
            root = argv[i + 1]
            i += 2
        elif argv[i] == "--keep":
            keep = argv[i + 1]
            i += 2
        elif argv[i] == "--only":
            only = argv[i + 1]
            i += 2
        elif argv[i] in ("-h", "--help"):
            print(__doc__)
            return 0
        else:
            circa = argv[i]
            i += 1
    root = os.path.abspath(root)
    circa = os.path.abspath(circa or os.path.join(root, "build", "release", "circa"))
    if not os.access(circa, os.X_OK):
        sys.stderr.write("check_intmodel: no circa binary at %s (pass it or set CIRCA_BIN)\n" % circa)
        return 2
    if only is not None:
        only, unknown = select_cases([c["name"] for c in case_list(Ctx(circa, root, None))], only)
        if unknown or not only:
            sys.stderr.write("check_intmodel: --only: %s\n" % ("no case named " + ", ".join(unknown) if unknown
                                                                 else "no case given"))
            return 2
    model_py = os.path.join(HERE, "int_model.py")
    t0 = time.time()
    passed = failed = 0
    with tempfile.TemporaryDirectory(prefix="intmodel.") as tmp:
        if keep:
            os.makedirs(keep, exist_ok=True)
            tmp = os.path.abspath(keep)
        ctx = Ctx(circa, root, tmp)
        for case in case_list(ctx):
            if only is not None and case["name"] not in only:
                continue
            t1 = time.time()
            try:
                msg = run_case(ctx, case, model_py)
                passed += 1
                print("PASS %-28s %5.1fs  %s" % (case["name"], time.time() - t1, msg), flush=True)
            except CaseError as e:
                failed += 1
                print("FAIL %-28s %5.1fs  %s" % (case["name"], time.time() - t1, e), flush=True)
    print("total %.1fs" % (time.time() - t0))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
