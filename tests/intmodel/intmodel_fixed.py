"""int_model's fixed-point arithmetic: formats, rounding, saturation counters, quantization, the FFTs, the
block-circulant matvec and the activation tables.

Part of the independent integer model in this folder (see int_model.py and README.md), written ONLY from
docs/architecture.md (sections "Fixed point", "Block-circulant matrices", "FFT", "Activations"). No circa source was
read to write it. Comments cite the doc sections.

Integers: every datapath value is a NumPy int64 (the doc's "Reproducing these numbers" bounds every intermediate
below 2^63: data and weights <= 18 bits, twiddles <= 2^16, IFFT inputs < 2^(IB-1) <= 2^39, frequency sums < 2^57;
the largest product is the IFFT's twiddle * value, < 2^16 * 2^45 = 2^61; the one left shift that could leave int64,
rs(S, nw - GUARD) with GUARD > nw, is guarded in Numerics.to_ifft). Python ints are used for scalars only.
Double-precision steps use IEEE float64 element-wise NumPy operations (one rounding per operation, no FMA) and
Python's math module (the C library) for cos, sin, exp and tanh.

Statistics hook: Numerics.stats is None (the default: nothing is recorded). Set it to a dict and Numerics.to_ifft
records, over every frequency sum it writes to the IFFT's input (the Zr and Zi of every matvec, the output layer's
included), without changing any result:
  ifft_in_max       max |Z| after the IB-bit saturation (a Python int)
  ifft_in_max_re    the same over the Zr only, ifft_in_max_im over the Zi only
  ifft_in_over31    how many Z values have |Z| > 2^31
  ifft_in_sat       how many were clamped by that saturation (they are also counted in sat["accum"])
"""

import math
import re
import sys

import numpy as np

sys.dont_write_bytecode = True   # leave no __pycache__ in the source tree
from intmodel_io import InputError  # noqa: E402

# GUARD (numerics.guard_bits, default 6) and IB (numerics.ifft_bits, default 40) are INI keys ("Fixed point");
# they live in Numerics.guard and Numerics.ib.
KINDS = ("input", "weight", "bias", "fft", "accum", "act", "cell")


# ----------------------------------------------------------------------------------------------------------------
# Fixed point ("Fixed point")
# ----------------------------------------------------------------------------------------------------------------

class QFmt:
    def __init__(self, m, n):
        self.m, self.n, self.W = m, n, m + n

    def __repr__(self):
        return "Q%d.%d" % (self.m, self.n)


def parse_q(s):
    mm = re.fullmatch(r"Q(\d{1,2})\.(\d{1,2})", s)
    if not mm:
        raise ValueError("bad Q format %r" % s)
    m, n = int(mm.group(1)), int(mm.group(2))
    if m < 1 or not (8 <= m + n <= 18):
        raise ValueError("Q format out of range %r" % s)
    return QFmt(m, n)


class Numerics:
    def __init__(self, qw, qa, qc, half_even, guard=6, ib=40):
        self.qw, self.qa, self.qc, self.half_even = qw, qa, qc, half_even
        self.guard, self.ib = guard, ib
        self.nw, self.na, self.nc = qw.n, qa.n, qc.n
        self.Ba = qa.W
        self.T = self.Ba - 2            # twiddle fractional bits
        self.F = self.na + guard        # wide gate sums
        self.sat = {k: 0 for k in KINDS}
        self.stats = None               # optional dict: statistics of the IFFT inputs (see the module's doc)

    # rs(v, s): rounding right shift, branch-free form of the doc
    def rs(self, v, s):
        if s <= 0:
            return v << (-s)
        t = ((v >> s) & 1) if self.half_even else 1
        return (v + ((1 << (s - 1)) - 1) + t) >> s

    # sat(v, b): symmetric clamp, counted by kind (kind None: not counted)
    def satc(self, v, b, kind):
        lim = (1 << (b - 1)) - 1
        out = np.clip(v, -lim, lim)
        if kind is not None:
            self.sat[kind] += int(np.count_nonzero(out != v))
        return out

    def wb(self, v, f, q, kind):
        return self.satc(self.rs(v, f - q.n), q.W, kind)

    # quant(x, Q) for a float64 array (or scalar); result int64
    def quant(self, x, q, kind):
        y = np.asarray(x, dtype=np.float64) * float(2 ** q.n)   # exact
        big = float(2 ** q.W)
        # y >= 2^W -> max code, y <= -2^W -> -max code (both counted): clamping y to +-2^W first gives a value
        # that the final sat() clamps and counts once, the same result.
        y = np.where(y >= big, big, np.where(y <= -big, -big, y))
        fl = np.floor(y)
        fr = y - fl                                              # exact
        odd = np.mod(fl, 2.0) == 1.0
        up = (fr > 0.5) | ((fr == 0.5) & ((not self.half_even) | odd))
        v = (fl + up.astype(np.float64)).astype(np.int64)        # |v| <= 2^18 + 1: exact
        return self.satc(v, q.W, kind)

    def to_ifft(self, S, part=None):
        """step 4 of MV: sat(rs(S, nw - GUARD), IB), kind accum. When GUARD > nw the rs is an exact left shift;
        |S| is first clamped to 2^IB (already beyond the IB-bit limit, so the result and the count are those of
        exact arithmetic) so that the shift cannot leave int64 (S may reach 2^(accumulator_bits - 1)).
        part ("re", "im" or None) only names the statistics (see the module's doc)."""
        sh = self.nw - self.guard
        if sh < 0:
            cap = 1 << self.ib
            S = np.clip(S, -cap, cap)
        Z = self.rs(S, sh)
        out = self.satc(Z, self.ib, "accum")
        if self.stats is not None:      # read-only statistics; the result is the same without them
            st = self.stats
            mag = np.abs(out)
            top = int(mag.max()) if mag.size else 0
            st["ifft_in_max"] = max(st.get("ifft_in_max", 0), top)
            if part is not None:
                st["ifft_in_max_" + part] = max(st.get("ifft_in_max_" + part, 0), top)
            st["ifft_in_over31"] = st.get("ifft_in_over31", 0) + int(np.count_nonzero(mag > (1 << 31)))
            st["ifft_in_sat"] = st.get("ifft_in_sat", 0) + int(np.count_nonzero(out != Z))
        return out

    def divround(self, num, den):
        """num / den rounded by the rs rule (floor division, then the tie rule on the remainder)."""
        q = num // den
        r = num - q * den
        if self.half_even:
            tie_up = (q & 1) == 1
        else:
            tie_up = np.ones_like(q, dtype=bool)
        up = (2 * r > den) | ((2 * r == den) & tie_up)
        return q + up.astype(np.int64)


# ----------------------------------------------------------------------------------------------------------------
# FFTs ("FFT")
# ----------------------------------------------------------------------------------------------------------------

TWO_PI = 2.0 * math.pi   # the double nearest 2*pi (exact doubling of the double nearest pi)


def bitrev(k):
    nb = k.bit_length() - 1
    return np.array([int(format(i, "0%db" % nb)[::-1], 2) if nb > 0 else 0 for i in range(k)], dtype=np.int64)


def stages(k):
    """Per stage h: (P, Q, twiddle index j*k/(2h)) of every butterfly; the pairs of one stage are disjoint."""
    out = []
    h = 1
    while h < k:
        P = [p for p in range(k) if p % (2 * h) < h]
        J = [(p % (2 * h)) * k // (2 * h) for p in P]
        out.append((np.array(P), np.array(P) + h, np.array(J)))
        h *= 2
    return out


_fft_cache = {}


def fft_plan(k, T):
    key = (k, T)
    if key not in _fft_cache:
        wr, wi, dwr, dwi = [], [], [], []
        for j in range(max(k // 2, 1)):
            a = (TWO_PI * j) / k
            c, s = math.cos(a), math.sin(a)
            wr.append(int(round(c * 2.0 ** T)))     # nearbyint (half-even; no ties occur)
            wi.append(int(round(-s * 2.0 ** T)))
            if 4 * j == k:
                dwr.append(0.0)
                dwi.append(-1.0)
            else:
                dwr.append(c)
                dwi.append(-s)
        _fft_cache[key] = dict(rev=bitrev(k), st=stages(k), wr=np.array(wr, dtype=np.int64),
                               wi=np.array(wi, dtype=np.int64), dwr=np.array(dwr), dwi=np.array(dwi))
    return _fft_cache[key]


def double_fft(w, T):
    """w: float64 (..., k) -> (re, im) float64 (..., k/2+1); decimation in time as in "FFT" (the double FFT)."""
    k = w.shape[-1]
    pl = fft_plan(k, T)
    re = w[..., pl["rev"]].astype(np.float64)
    im = np.zeros_like(re)
    for P, Q, J in pl["st"]:
        wr, wi = pl["dwr"][J], pl["dwi"][J]
        rq, iq, rp, ip = re[..., Q], im[..., Q], re[..., P], im[..., P]
        tr = wr * rq - wi * iq
        ti = wr * iq + wi * rq
        re[..., Q] = rp - tr
        im[..., Q] = ip - ti
        re[..., P] = rp + tr
        im[..., P] = ip + ti
    nb = k // 2 + 1
    return re[..., :nb], im[..., :nb]


def fft_fix(x, num):
    """x: int64 (..., k) raw Qa -> (out_re, out_im) int64 (..., k/2+1) in Qa, = FFT(x)/k."""
    k = x.shape[-1]
    Ba, T = num.Ba, num.T
    if k == 1:
        return num.satc(x.copy(), Ba, "fft"), np.zeros_like(x)
    pl = fft_plan(k, T)
    re = x[..., pl["rev"]].copy()
    im = np.zeros_like(re)
    for P, Q, J in pl["st"]:
        wr, wi = pl["wr"][J], pl["wi"][J]
        rq, iq = re[..., Q], im[..., Q]
        pr = wr * rq - wi * iq
        pi = wr * iq + wi * rq
        A = re[..., P] << T
        B = im[..., P] << T
        re[..., P] = num.rs(A + pr, T + 1)
        im[..., P] = num.rs(B + pi, T + 1)
        re[..., Q] = num.rs(A - pr, T + 1)
        im[..., Q] = num.rs(B - pi, T + 1)
    nb = k // 2 + 1
    out_re = num.satc(re[..., :nb], Ba, "fft")
    out_im = num.satc(im[..., :nb], Ba, "fft")
    out_im[..., 0] = 0
    out_im[..., k // 2] = 0
    return out_re, out_im


def ifft_fix(Zr, Zi, k, num):
    """Zr, Zi: int64 (..., k/2+1) -> y int64 (..., k), unscaled, no rounding other than the twiddle products."""
    if k == 1:
        return Zr[..., :1].copy()
    T = num.T
    pl = fft_plan(k, T)
    h2 = k // 2
    zr = np.empty(Zr.shape[:-1] + (k,), dtype=np.int64)
    zi = np.empty_like(zr)
    zr[..., :h2 + 1] = Zr
    zi[..., :h2 + 1] = Zi
    zi[..., 0] = 0
    zi[..., h2] = 0
    for b in range(h2 + 1, k):
        zr[..., b] = Zr[..., k - b]
        zi[..., b] = -Zi[..., k - b]
    re = zr[..., pl["rev"]]
    im = zi[..., pl["rev"]]
    for P, Q, J in pl["st"]:
        wr, wi = pl["wr"][J], pl["wi"][J]
        rq, iq = re[..., Q], im[..., Q]
        tr = num.rs(wr * rq + wi * iq, T)
        ti = num.rs(wr * iq - wi * rq, T)
        rp, ip = re[..., P], im[..., P]
        re[..., P] = rp + tr
        im[..., P] = ip + ti
        re[..., Q] = rp - tr
        im[..., Q] = ip - ti
    return re


# ----------------------------------------------------------------------------------------------------------------
# Block-circulant matrices ("Block-circulant matrices")
# ----------------------------------------------------------------------------------------------------------------

class FMatrix:
    """FFT-domain quantized weights of a p x q block matrix: Wr, Wi int64 [bins, p, q]."""

    def __init__(self, k, Wr, Wi, name):
        self.k, self.Wr, self.Wi, self.name = k, Wr, Wi, name
        self.p, self.q = Wr.shape[1], Wr.shape[2]

    @staticmethod
    def from_tensor(w, num, name):
        p, q, k = w.shape
        re, im = double_fft(w.astype(np.float64), num.T)       # [p, q, bins]
        Wr = num.quant(re, num.qw, "weight")
        Wi = np.zeros_like(Wr)
        if k // 2 >= 2:                                         # bins 1 .. k/2-1 only; 0 and k/2 set to 0
            Wi[..., 1:k // 2] = num.quant(im[..., 1:k // 2], num.qw, "weight")
        return FMatrix(k, np.ascontiguousarray(Wr.transpose(2, 0, 1)), np.ascontiguousarray(Wi.transpose(2, 0, 1)),
                       name)

    @staticmethod
    def hcat(a, b, name):
        assert a.k == b.k and a.p == b.p
        return FMatrix(a.k, np.concatenate([a.Wr, b.Wr], axis=2), np.concatenate([a.Wi, b.Wi], axis=2), name)

    def acc_width(self, num):
        """"Accumulator": smallest w with 2^(w-1) - 1 >= B."""
        s = (np.abs(self.Wr) + np.abs(self.Wi)).sum(axis=2)    # [bins, p]
        B = int(s.max()) * ((1 << (num.Ba - 1)) - 1)
        w = 1
        while (1 << (w - 1)) - 1 < B:
            w += 1
        return w

    def mv(self, segments, num):
        """MV(W, segments): segments are int64 [batch, len] raw Qa -> int64 [batch, p*k] at F fractional bits."""
        k = self.k
        blocks = []
        for s in segments:
            n = s.shape[1]
            nb = -(-n // k)
            if nb * k != n:
                s = np.concatenate([s, np.zeros((s.shape[0], nb * k - n), dtype=np.int64)], axis=1)
            blocks.append(s.reshape(s.shape[0], nb, k))
        X = np.concatenate(blocks, axis=1)                      # [batch, q, k]
        assert X.shape[1] == self.q, (self.name, X.shape, self.q)
        Xr, Xi = fft_fix(X, num)                                # [batch, q, bins]
        Xr = Xr.transpose(2, 1, 0)                              # [bins, q, batch]
        Xi = Xi.transpose(2, 1, 0)
        # step 3: exact sums (int64 matmul: no rounding, bounded below 2^57 by the accumulator check)
        Sr = np.matmul(self.Wr, Xr) - np.matmul(self.Wi, Xi)    # [bins, p, batch]
        Si = np.matmul(self.Wr, Xi) + np.matmul(self.Wi, Xr)
        Zr = num.to_ifft(Sr, "re")
        Zi = num.to_ifft(Si, "im")
        Zr = Zr.transpose(2, 1, 0)                              # [batch, p, bins]
        Zi = Zi.transpose(2, 1, 0)
        y = ifft_fix(Zr, Zi, k, num)                            # [batch, p, k]
        return y.reshape(y.shape[0], self.p * k)


# ----------------------------------------------------------------------------------------------------------------
# Activations ("Activations")
# ----------------------------------------------------------------------------------------------------------------

def f_sigma(x):
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    return 1.0 - 1.0 / (1.0 + math.exp(x))


def f_tanh(x):
    if x >= 0:
        return math.tanh(x)
    return -math.tanh(-x)


class Activation:
    def __init__(self, fname, qin, qout, acfg, num):
        self.num, self.qin, self.qout = num, qin, qout
        self.fname = fname
        f = f_sigma if fname == "sigma" else f_tanh
        rng = acfg["lut_range"]
        self.mode = acfg["mode"]
        N = acfg["lut_entries"] if self.mode == "lut" else acfg["pwl_segments"]
        Rd = rng * float(2 ** qin.n)
        if Rd != math.floor(Rd) or Rd > 2.0 ** 32:
            raise InputError("config: activation.lut_range * 2^%d = %r is not an integer <= 2^32" % (qin.n, Rd))
        R = int(Rd)
        self.R, self.N = R, N
        g = math.gcd(N, 2 * R)
        self.mul, self.den = N // g, (2 * R) // g
        q = lambda v: int(num.quant(v, qout, None))             # table clamps are not counted
        self.lo = q(0.0) if fname == "sigma" else q(-1.0)
        self.hi = q(1.0)
        if self.mode == "lut":
            E = N
            self.tab = np.array([q(f((float(2 * e - E) * rng) / E)) for e in range(E + 1)], dtype=np.int64)
            self.interp = acfg["interpolate"]
            self.pow2 = (self.den & (self.den - 1)) == 0
            self.log2den = self.den.bit_length() - 1
        else:
            S = N

            def chord(i):
                xa = (float(2 * i - S) * rng) / S
                xb = (float(2 * i + 2 - S) * rng) / S
                fa, fb = f(xa), f(xb)
                slope = (fb - fa) / (xb - xa)
                icpt = (fa * xb - fb * xa) / (xb - xa)
                return slope, icpt

            s_words, c_words = [], []
            for i in range(S):
                if 2 * i + 1 >= S:
                    slope, icpt = chord(i)
                else:
                    slope, c = chord(S - 1 - i)
                    # AMBIGUITY (reported): "intercept replaced by 1 - c (sigma) or -c (tanh)" read as the double
                    # 1.0 - c / -c, then quantized like every intercept.
                    icpt = (1.0 - c) if fname == "sigma" else -c
                s_words.append(int(num.quant(slope, QFmt(2, 16), None)))
                c_words.append(q(icpt))
            self.s = np.array(s_words, dtype=np.int64)
            self.c = np.array(c_words, dtype=np.int64)
            self.pwl_shift = 16 + qin.n - qout.n

    def __call__(self, x):
        num = self.num
        R = self.R
        xin = np.clip(x, -R, R - 1)
        v = (xin + R) * self.mul
        idx = v // self.den
        rem = v - idx * self.den
        if self.mode == "lut":
            t0 = self.tab[idx]
            if not self.interp:
                y = t0
            else:
                t1 = self.tab[idx + 1]
                numr = t0 * self.den + (t1 - t0) * rem
                if self.pow2:
                    y = num.rs(numr, self.log2den)
                else:
                    y = num.divround(numr, self.den)
        else:
            y = num.rs(self.s[idx] * xin, self.pwl_shift) + self.c[idx]
            y = num.satc(y, self.qout.W, "act")                 # PWL output clamp: counted as act
        y = np.where(x < -R, self.lo, np.where(x >= R, self.hi, y))
        return y.astype(np.int64)
