"""int_model's files: reading models, features and the hardware INI, and writing the log-posteriors.

Part of the independent integer model in this folder (see int_model.py and README.md), written ONLY from
docs/formats.md (safetensors, Kaldi ark/scp, .npy, the hardware INI and its defaults, the outputs of circa run
--out). No circa source was read to write it.

Contents: InputError; read_safetensors and load_model (formats.md "Models: safetensors"); read_ark, read_scp,
read_npy and read_features ("Features"); INI_KEYS, KNOWN, DEFAULTS (the documented defaults of the numerics and
activation keys), read_ini and parse_bool ("Hardware configuration (INI)"); ark_bytes, npy_bytes and write_atomic
("Outputs of circa run --out"). It imports no other module of this folder.
"""

import json
import os
import re
import struct

import numpy as np


class InputError(Exception):
    """A bad input (file, option or setting): int_model prints one line on stderr and exits with code 2."""
    pass


# ----------------------------------------------------------------------------------------------------------------
# Model file (formats.md "Models: safetensors")
# ----------------------------------------------------------------------------------------------------------------

def _no_dup_pairs(pairs):
    d = {}
    for k, v in pairs:
        if k in d:
            raise ValueError("duplicate key %r" % k)
        d[k] = v
    return d


def read_safetensors(path):
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as e:
        raise InputError("%s: %s" % (path, e.strerror))
    if len(data) < 8:
        raise InputError("%s: offset 0: shorter than 8 bytes" % path)
    (N,) = struct.unpack_from("<Q", data, 0)
    if N > 100000000 or 8 + N > len(data):
        raise InputError("%s: offset 0: bad header length %d" % (path, N))
    hb = data[8:8 + N]
    if b"\0" in hb:
        raise InputError("%s: offset 8: NUL byte in header" % path)
    try:
        hdr = json.loads(hb.decode("utf-8"), object_pairs_hook=_no_dup_pairs)
    except (ValueError, UnicodeDecodeError) as e:
        raise InputError("%s: offset 8: bad header JSON: %s" % (path, e))
    if not isinstance(hdr, dict):
        raise InputError("%s: offset 8: header is not an object" % path)
    meta = hdr.pop("__metadata__", {})
    if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
        raise InputError("%s: offset 8: __metadata__ must map strings to strings" % path)
    base = 8 + N
    area = len(data) - base
    sizes = {"F32": 4, "F64": 8, "F16": 2, "BF16": 2, "BOOL": 1, "U8": 1, "I8": 1, "U16": 2, "I16": 2, "U32": 4,
             "I32": 4, "U64": 8, "I64": 8, "F8_E4M3": 1, "F8_E5M2": 1}
    ents = []
    for name, e in hdr.items():
        if not isinstance(e, dict) or set(e.keys()) != {"dtype", "shape", "data_offsets"}:
            raise InputError("%s: offset 8: tensor %s: bad entry" % (path, name))
        dt, shape, offs = e["dtype"], e["shape"], e["data_offsets"]
        if dt not in sizes:
            raise InputError("%s: offset 8: tensor %s: bad dtype %r" % (path, name, dt))
        if not isinstance(shape, list) or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0
                                                  for d in shape):
            raise InputError("%s: offset 8: tensor %s: bad shape" % (path, name))
        if (not isinstance(offs, list) or len(offs) != 2 or
                not all(isinstance(o, int) and not isinstance(o, bool) and o >= 0 for o in offs) or
                not offs[0] <= offs[1] <= area):
            raise InputError("%s: offset 8: tensor %s: bad data_offsets" % (path, name))
        cnt = 1
        for d in shape:
            cnt *= d
        if cnt * sizes[dt] != offs[1] - offs[0]:
            raise InputError("%s: offset 8: tensor %s: size mismatch" % (path, name))
        ents.append((offs[0], offs[1], name, dt, shape))
    ents.sort()
    pos = 0
    for b, e, name, _, _ in ents:
        if b != pos:
            raise InputError("%s: offset %d: tensors do not tile the data area (at %s)" % (path, base + b, name))
        pos = e
    if pos != area:
        raise InputError("%s: offset %d: trailing bytes after the tensors" % (path, base + pos))
    tensors = {}
    for b, e, name, dt, shape in ents:
        raw = data[base + b: base + e]
        if dt == "F32":
            a = np.frombuffer(raw, dtype="<f4").astype(np.float32)
        elif dt == "F64":
            a = np.frombuffer(raw, dtype="<f8").astype(np.float32)   # round to nearest
            if not np.all(np.isfinite(a)) and np.all(np.isfinite(np.frombuffer(raw, dtype="<f8"))):
                raise InputError("%s: offset %d: tensor %s: value beyond float32" % (path, base + b, name))
        elif dt == "F16":
            a = np.frombuffer(raw, dtype="<f2").astype(np.float32)   # exact
        elif dt == "BF16":
            a = (np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16).view(np.float32)  # exact
        else:
            raise InputError("%s: offset %d: tensor %s: dtype %s is not a float dtype" % (path, base + b, name, dt))
        if not np.all(np.isfinite(a)):
            raise InputError("%s: offset %d: tensor %s: non-finite value" % (path, base + b, name))
        tensors[name] = (a.reshape(shape), base + b)
    return meta, tensors


def strict_int(meta, key, lo, hi, path):
    s = meta.get(key)
    if s is None:
        raise InputError("%s: metadata %s missing" % (path, key))
    if not re.fullmatch(r"0|[1-9][0-9]{0,17}", s):
        raise InputError("%s: metadata %s=%r is not a strict decimal" % (path, key, s))
    v = int(s)
    if not lo <= v <= hi:
        raise InputError("%s: metadata %s=%d out of range" % (path, key, v))
    return v


class Model:
    pass


def load_model(path):
    meta, tens = read_safetensors(path)
    M = Model()
    if meta.get("format") != "circa-lstmp/1":
        raise InputError("%s: metadata format must be circa-lstmp/1" % path)
    M.arch = meta.get("arch")
    if M.arch not in ("lstmp", "gru"):
        raise InputError("%s: metadata arch must be lstmp or gru" % path)
    M.layers = strict_int(meta, "layers", 1, 1024, path)
    M.input_dim = strict_int(meta, "input_dim", 1, 1 << 20, path)
    M.cell_dim = strict_int(meta, "cell_dim", 1, 1 << 20, path)
    M.proj_dim = strict_int(meta, "proj_dim", 0, 1 << 20, path)
    M.classes = strict_int(meta, "num_classes", 1, 1 << 20, path)
    if M.arch == "gru" and M.proj_dim != 0:
        raise InputError("%s: proj_dim must be 0 for a GRU" % path)
    try:
        ps = json.loads(meta.get("phone_set", ""))
    except ValueError:
        raise InputError("%s: metadata phone_set is not JSON" % path)
    if (not isinstance(ps, list) or len(ps) != M.classes or not all(isinstance(p, str) and p for p in ps)
            or len(set(ps)) != len(ps) or "sil" not in ps):
        raise InputError("%s: metadata phone_set is invalid" % path)
    M.phone_set = ps
    C, P = M.cell_dim, M.proj_dim
    rec = P if P > 0 else C
    M.rec = rec
    G = 4 if M.arch == "lstmp" else 3
    expected = set()

    def get(name, shape_fn):
        if name not in tens:
            raise InputError("%s: tensor %s missing" % (path, name))
        a, off = tens[name]
        shape = list(a.shape)
        exp = shape_fn(shape)
        if exp is None or shape != exp:
            raise InputError("%s: offset %d: tensor %s has shape %s, expected %s" % (path, off, name, shape, exp))
        expected.add(name)
        return a

    def circ(rows, cols):
        def fn(shape):
            if len(shape) != 3:
                return None
            k = shape[2]
            if k not in (1, 2, 4, 8, 16, 32, 64) or rows % k or C % k:
                return None
            if rows == P and P > 0 and P % k:
                return None
            return [rows // k, -(-cols // k), k]
        return fn

    M.L = []
    for l in range(M.layers):
        ind = M.input_dim if l == 0 else rec
        d = {"in": ind}
        d["w_x"] = get("layers.%d.w_x" % l, circ(G * C, ind))
        wr = get("layers.%d.w_r" % l, circ(G * C, rec if M.arch == "lstmp" else C))
        if (rec if M.arch == "lstmp" else C) % wr.shape[2]:
            raise InputError("%s: tensor layers.%d.w_r: rec not a multiple of k" % (path, l))
        d["w_r"] = wr
        if M.arch == "lstmp":
            d["bias"] = get("layers.%d.bias" % l, lambda s: [G * C])
            d["peep"] = get("layers.%d.peep" % l, lambda s: [3, C])
            if P > 0:
                d["w_proj"] = get("layers.%d.w_proj" % l, circ(P, C))
        else:
            d["bias_x"] = get("layers.%d.bias_x" % l, lambda s: [G * C])
            d["bias_r"] = get("layers.%d.bias_r" % l, lambda s: [G * C])
        M.L.append(d)
    M.out_w = get("output.w", lambda s: [M.classes, rec])
    M.out_b = get("output.b", lambda s: [M.classes])
    if ("input.mean" in tens) != ("input.inv_std" in tens):
        raise InputError("%s: input.mean and input.inv_std must come together" % path)
    M.mean = M.inv_std = None
    if "input.mean" in tens:
        M.mean = get("input.mean", lambda s: [M.input_dim])
        M.inv_std = get("input.inv_std", lambda s: [M.input_dim])
        if not np.all(M.inv_std > 0):
            raise InputError("%s: input.inv_std must be > 0" % path)
    extra = set(tens) - expected
    if extra:
        raise InputError("%s: unexpected tensor %s" % (path, sorted(extra)[0]))
    return M


# ----------------------------------------------------------------------------------------------------------------
# Features (formats.md "Features")
# ----------------------------------------------------------------------------------------------------------------

def _parse_matrix(data, pos, path):
    """A matrix at data[pos] ('\\0B' binary or '[' text). Returns (float32 array, end position)."""
    if data[pos:pos + 2] == b"\0B":
        p = pos + 2
        sp = data.find(b" ", p, p + 8)
        if sp < 0:
            raise InputError("%s: offset %d: bad binary token" % (path, p))
        tok = data[p:sp]
        p = sp + 1
        if tok in (b"FM", b"DM"):
            dims = []
            for _ in range(2):
                if p + 5 > len(data) or data[p] != 4:
                    raise InputError("%s: offset %d: bad size byte" % (path, p))
                dims.append(struct.unpack_from("<i", data, p + 1)[0])
                p += 5
            r, c = dims
            if r < 0 or c < 0 or (r == 0) != (c == 0):
                raise InputError("%s: offset %d: bad matrix shape %dx%d" % (path, p - 10, r, c))
            isz = 4 if tok == b"FM" else 8
            n = r * c * isz
            if p + n > len(data):
                raise InputError("%s: offset %d: truncated matrix" % (path, p))
            a = np.frombuffer(data, dtype="<f4" if tok == b"FM" else "<f8", count=r * c, offset=p)
            if tok == b"DM":
                a32 = a.astype(np.float32)
                if np.any(np.isinf(a32) & np.isfinite(a)):
                    raise InputError("%s: offset %d: value beyond float32" % (path, p))
                a = a32
            return a.astype(np.float32).reshape(r, c), p + n
        raise InputError("%s: offset %d: unsupported matrix type %r" % (path, pos + 2, tok.decode("latin1")))
    if data[pos:pos + 1] == b"[":
        end = data.find(b"]", pos)
        if end < 0:
            raise InputError("%s: offset %d: unclosed [" % (path, pos))
        body = data[pos + 1:end].decode("latin1").replace(";", "\n")
        rows = []
        for line in body.split("\n"):
            toks = line.split()
            if not toks:
                continue
            try:
                # NOTE: float() then float32 rounds twice; strtof rounds once (rarely differs; not exercised)
                rows.append([np.float32(float(t)) for t in toks])
            except ValueError:
                raise InputError("%s: offset %d: bad number" % (path, pos))
        if rows and any(len(r) != len(rows[0]) for r in rows):
            raise InputError("%s: offset %d: ragged text matrix" % (path, pos))
        a = np.array(rows, dtype=np.float32).reshape(len(rows), len(rows[0]) if rows else 0)
        return a, end + 1
    raise InputError("%s: offset %d: expected a matrix" % (path, pos))


def read_ark(path, cache=None):
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as e:
        raise InputError("%s: %s" % (path, e.strerror))
    out = []
    pos, n = 0, len(data)
    while True:
        while pos < n and data[pos] in b" \t\r\n":
            pos += 1
        if pos >= n:
            break
        s = pos
        while pos < n and data[pos] > 0x20 and data[pos] != 0x7f:
            pos += 1
        key = data[s:pos].decode("utf-8", "replace")
        if pos >= n or data[pos] not in b" \t\n":
            raise InputError("%s: offset %d: bad key separator" % (path, pos))
        pos += 1
        if data[pos:pos + 2] != b"\0B":
            while pos < n and data[pos] in b" \t\r\n":
                pos += 1
        a, pos = _parse_matrix(data, pos, path)
        out.append((key, a))
    return out


def read_scp(path):
    d = os.path.dirname(os.path.abspath(path))
    try:
        lines = open(path, "rb").read().decode("utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise InputError("%s: %s" % (path, e))
    files = {}
    out = []
    for ln, line in enumerate(lines, 1):
        if not line.strip():
            continue
        parts = line.strip().split(None, 1)
        if len(parts) != 2:
            raise InputError("%s: line %d: expected KEY FILE" % (path, ln))
        key, rest = parts[0], parts[1].strip()
        off = None
        i = rest.rfind(":")
        if i >= 0:
            suf = rest[i + 1:]
            if suf.isdigit():
                off, rest = int(suf), rest[:i]
            elif "/" not in suf:
                raise InputError("%s: line %d: bad offset" % (path, ln))
        fn = rest if os.path.isabs(rest) else os.path.join(d, rest)
        if fn not in files:
            try:
                files[fn] = open(fn, "rb").read()
            except OSError as e:
                raise InputError("%s: line %d: %s: %s" % (path, ln, fn, e.strerror))
        data = files[fn]
        if off is not None:
            if off >= len(data):
                raise InputError("%s: line %d: offset beyond the file" % (path, ln))
            a, _ = _parse_matrix(data, off, fn)
        else:
            if data[:2] == b"\0B" or data[:1] == b"[":
                a, _ = _parse_matrix(data, 0, fn)
            else:
                arr = read_ark(fn)
                if not arr:
                    raise InputError("%s: empty ark" % fn)
                a = arr[0][1]
        out.append((key, a))
    return out


def read_npy(path):
    try:
        a = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise InputError("%s: %s" % (path, e))
    if a.dtype not in (np.dtype("<f4"), np.dtype("<f8")) or a.ndim not in (1, 2):
        raise InputError("%s: expected a 1-D or 2-D <f4/<f8 array" % path)
    if a.ndim == 1:
        a = a.reshape(1, -1)
    return np.ascontiguousarray(a.astype(np.float32))


def read_features(path):
    if os.path.isdir(path):
        names = sorted((f for f in os.listdir(path) if f.endswith(".npy")
                        and os.path.isfile(os.path.join(path, f))), key=lambda s: s.encode())
        utts = [(f[:-4], read_npy(os.path.join(path, f))) for f in names]
    elif path.endswith(".scp"):
        utts = read_scp(path)
    elif path.endswith(".ark"):
        utts = read_ark(path)
    elif path.endswith(".npy"):
        utts = [(os.path.basename(path)[:-4], read_npy(path))]
    else:
        raise InputError("%s: unknown feature file type" % path)
    if not utts:
        raise InputError("%s: no utterances" % path)
    keys = [k for k, _ in utts]
    if len(set(keys)) != len(keys) or any(not k for k in keys):
        raise InputError("%s: empty or duplicate utterance key" % path)
    for k, a in utts:
        if a.ndim != 2 or a.shape[0] < 1 or a.shape[1] < 1:
            raise InputError("%s: utterance %s has no frames" % (path, k))
        if a.shape[1] != utts[0][1].shape[1]:
            raise InputError("%s: utterance %s: dimension differs" % (path, k))
        if not np.all(np.isfinite(a)):
            raise InputError("%s: utterance %s: non-finite value" % (path, k))
    return utts


# ----------------------------------------------------------------------------------------------------------------
# Hardware INI (formats.md "Hardware configuration (INI)")
# ----------------------------------------------------------------------------------------------------------------

INI_KEYS = {
    "numerics": ["weight", "activation", "cell", "accumulator_bits", "rounding", "guard_bits", "ifft_bits"],
    "activation": ["mode", "lut_entries", "lut_range", "interpolate", "pwl_segments", "lanes", "latency"],
    "clock": ["mhz"], "platform": ["quantum_ns"],
    "fft": ["lanes", "ii", "stage_latency", "io_latency"],
    "emac": ["lanes", "dsp_per_cmac", "banks", "mult_latency", "add_latency"],
    "cell": ["lanes", "latency"], "buffer": ["weight_kib"],
    "tiling": ["fft_blocks", "emac_chunks", "cells", "fifo_depth"],
    "limits": ["max_dim", "max_layers"],
    "dma": ["burst_bytes", "outstanding", "group_bursts"],
    "ddr": ["size_mib", "data_rate_mts", "bus_bytes", "burst_length", "tcl", "trcd", "trp", "banks", "page_bytes"],
}
KNOWN = {"%s.%s" % (s, k) for s, ks in INI_KEYS.items() for k in ks}
DEFAULTS = {"numerics.weight": "Q4.12", "numerics.activation": "Q8.8", "numerics.cell": "Q8.8",
            "numerics.accumulator_bits": "48", "numerics.rounding": "half_even",
            "numerics.guard_bits": "6", "numerics.ifft_bits": "40",
            "activation.mode": "lut", "activation.lut_entries": "256", "activation.lut_range": "8.0",
            "activation.interpolate": "true", "activation.pwl_segments": "20"}


def read_ini(path):
    vals = {}
    try:
        raw = open(path, "rb").read()
    except OSError as e:
        raise InputError("%s: %s" % (path, e.strerror))
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    section = None
    for ln, line in enumerate(raw.decode("utf-8", "replace").split("\n"), 1):
        line = line.rstrip("\r").strip()
        if not line or line[0] in ";#":
            continue
        if line[0] == "[":
            e = line.find("]")
            if e < 0:
                raise InputError("%s: line %d: section header without ]" % (path, ln))
            section = line[1:e].strip()
            continue
        cut = [i for i in (line.find("="), line.find(":")) if i >= 0]
        if not cut:
            raise InputError("%s: line %d: expected key = value" % (path, ln))
        i = min(cut)
        key, val = line[:i].strip(), line[i + 1:]
        mm = re.search(r"[ \t];", val)                 # inline comment: ';' preceded by a blank
        if mm:
            val = val[:mm.start()]
        val = val.strip()
        if not key:
            raise InputError("%s: line %d: empty key" % (path, ln))
        full = "%s.%s" % (section, key) if section is not None else key
        if full not in KNOWN:
            raise InputError("%s: line %d: unknown key %s" % (path, ln, full))
        if full in vals:
            raise InputError("%s: line %d: key %s given twice" % (path, ln, full))
        vals[full] = val
    return vals


def parse_bool(s):
    s = s.strip().lower()
    if s in ("", "true", "yes", "on", "1"):
        return True
    if s in ("false", "no", "off", "0"):
        return False
    raise ValueError("bad boolean %r" % s)


# ----------------------------------------------------------------------------------------------------------------
# Outputs (formats.md "Outputs of circa run --out")
# ----------------------------------------------------------------------------------------------------------------

def ark_bytes(results):
    parts = []
    for key, a in results:
        r, c = a.shape
        parts.append(key.encode("utf-8") + b" \0BFM " + b"\x04" + struct.pack("<i", r) + b"\x04" +
                     struct.pack("<i", c) + np.ascontiguousarray(a, dtype="<f4").tobytes())
    return b"".join(parts)


def npy_bytes(a):
    import io
    bio = io.BytesIO()
    np.save(bio, np.ascontiguousarray(a, dtype="<f4"))
    return bio.getvalue()


def write_atomic(path, data):
    tmp = path + ".tmp%d" % os.getpid()
    with open(tmp, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)

