"""Kaldi binary ark/scp (float matrices), text alignments and phones.txt, as circa and circa-corpus write them."""
import mmap
import os
import struct

import numpy as np


def _read_matrix(buf, pos, where):
    if buf[pos:pos + 2] != b"\0B":
        raise ValueError(f"{where}: not a binary Kaldi matrix at byte {pos}")
    tok = buf[pos + 2:pos + 5]
    if tok == b"FM ":
        dtype = np.float32
    elif tok == b"DM ":
        dtype = np.float64
    else:
        raise ValueError(f"{where}: matrix type {tok!r} at byte {pos + 2} is not FM or DM")
    p = pos + 5
    if buf[p] != 4 or buf[p + 5] != 4:
        raise ValueError(f"{where}: bad int32 size markers at byte {p}")
    rows = struct.unpack_from("<i", buf, p + 1)[0]
    cols = struct.unpack_from("<i", buf, p + 6)[0]
    p += 10
    n = rows * cols * np.dtype(dtype).itemsize
    if rows < 0 or cols < 0 or p + n > len(buf):
        raise ValueError(f"{where}: matrix {rows}x{cols} at byte {pos} runs past the end")
    mat = np.frombuffer(buf, dtype=dtype, count=rows * cols, offset=p).reshape(rows, cols)
    return np.array(mat, dtype=np.float32), p + n


def read_ark(path):
    """Yields (key, matrix, start, end) for every matrix of a binary ark; start..end spans 'key ' and the matrix."""
    with open(path, "rb") as f:
        buf = f.read()
    pos = 0
    while pos < len(buf):
        sp = buf.index(b" ", pos)
        key = buf[pos:sp].decode()
        mat, end = _read_matrix(buf, sp + 1, f"{path}: {key}")
        yield key, mat, pos, end
        pos = end


def read_scp(path, pick=None):
    """[(key, matrix)] in scp order (only the entries at the indices `pick`, if given); ark paths are relative to
    the scp's folder unless absolute."""
    base = os.path.dirname(os.path.abspath(path))
    with open(path) as f:
        entries = [line.split(None, 1) for line in f if line.strip()]
    if pick is not None:
        entries = [entries[i] for i in pick]
    maps = {}
    out = []
    try:
        for key, loc in entries:
            ark, off = loc.strip().rsplit(":", 1)
            ark = ark if os.path.isabs(ark) else os.path.join(base, ark)
            if ark not in maps:
                with open(ark, "rb") as a:
                    maps[ark] = mmap.mmap(a.fileno(), 0, access=mmap.ACCESS_READ)
            mat, _ = _read_matrix(maps[ark], int(off), f"{ark}: {key}")
            out.append((key, mat))
    finally:
        for m in maps.values():
            m.close()
    return out


def scp_size(path):
    with open(path) as f:
        return sum(1 for line in f if line.strip())


def read_features(path):
    """Features from an .scp or a binary .ark, as [(key, matrix)]."""
    if path.endswith(".scp"):
        return read_scp(path)
    return [(k, m) for k, m, _, _ in read_ark(path)]


def matrix_bytes(mat):
    mat = np.ascontiguousarray(mat, dtype="<f4")
    return b"\0BFM " + b"\4" + struct.pack("<i", mat.shape[0]) + b"\4" + struct.pack("<i", mat.shape[1]) + mat.tobytes()


def write_ark_scp(ark_path, scp_path, utts):
    """Writes [(key, matrix)] as a binary ark and an scp that names the ark relative to the scp's folder."""
    rel = os.path.relpath(os.path.abspath(ark_path), os.path.dirname(os.path.abspath(scp_path)))
    lines = []
    with open(ark_path + ".tmp", "wb") as f:
        for key, mat in utts:
            f.write(key.encode() + b" ")
            lines.append(f"{key} {rel}:{f.tell()}\n")
            f.write(matrix_bytes(mat))
    with open(scp_path + ".tmp", "w") as f:
        f.writelines(lines)
    os.replace(ark_path + ".tmp", ark_path)
    os.replace(scp_path + ".tmp", scp_path)


def read_phones(path):
    """phones.txt ('name index' per line) -> names in class order."""
    pairs = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                fields = line.split()
                if len(fields) != 2 or not fields[1].isdigit():
                    raise ValueError(f"{path}:{n}: expected 'phone index', got {line.strip()[:40]!r}")
                pairs.append((int(fields[1]), fields[0]))
    pairs.sort()
    if [i for i, _ in pairs] != list(range(len(pairs))):
        raise ValueError(f"{path}: class indices are not 0..{len(pairs) - 1}")
    if "sil" not in (n for _, n in pairs):
        raise ValueError(f"{path}: no phone 'sil' (PER scoring needs it)")
    return [n for _, n in pairs]


def one_line(e):
    """An exception's message cut to its first line (its type's name if it has none), for one-line errors."""
    return (str(e).strip().splitlines() or [type(e).__name__])[0]


def read_alignment(path, phones):
    """Text alignment 'utt phone phone ...' -> {utt: int array of class indices}."""
    index = {p: i for i, p in enumerate(phones)}
    out = {}
    with open(path) as f:
        for n, line in enumerate(f, 1):
            parts = line.split()
            if not parts:
                continue
            try:
                out[parts[0]] = np.array([index[p] for p in parts[1:]], dtype=np.int64)
            except KeyError as e:
                raise ValueError(f"{path}:{n}: phone {e} is not in the phone set") from None
    return out
