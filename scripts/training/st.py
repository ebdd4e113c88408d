"""safetensors read/write and circa's model layout (docs/formats.md, format circa-lstmp/1)."""
import json
import math
import os
import struct

import numpy as np
import torch

import nets

FORMAT = "circa-lstmp/1"


def write_safetensors(path, tensors, metadata):
    """tensors: ordered [(name, float32 array)]; written back to back in that order, with no gaps."""
    header = {"__metadata__": {k: str(v) for k, v in metadata.items()}}
    blobs = []
    off = 0
    for name, arr in tensors:
        a = np.ascontiguousarray(arr, dtype="<f4")
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [off, off + a.nbytes]}
        blobs.append(a.tobytes())
        off += a.nbytes
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def read_safetensors(path):
    with open(path, "rb") as f:
        buf = f.read()
    (n,) = struct.unpack_from("<Q", buf, 0)
    header = json.loads(buf[8:8 + n])
    meta = header.pop("__metadata__", {})
    base = 8 + n
    tensors = {}
    for name, e in header.items():
        if e["dtype"] != "F32":
            raise ValueError(f"{path}: {name} is {e['dtype']}, only F32 is read here")
        b, end = e["data_offsets"]
        tensors[name] = np.frombuffer(buf, dtype="<f4", count=(end - b) // 4, offset=base + b).reshape(e["shape"])
    return tensors, meta


def export(model, path, phones, cmvn=None, extra=None):
    """Writes an AcousticModel in circa's layout: circulant first columns [rows/k, ceil(cols/k), k], k = 1 for a
    dense matrix."""
    cfg = model.config
    t = []
    for l, layer in enumerate(model.layers):
        t.append((f"layers.{l}.w_x", layer.w_x.first_columns().numpy()))
        t.append((f"layers.{l}.w_r", layer.w_r.first_columns().numpy()))
        if cfg["arch"] == "lstmp":
            t.append((f"layers.{l}.bias", layer.bias.detach().numpy()))
            t.append((f"layers.{l}.peep", layer.peep.detach().numpy()))
            if layer.w_proj is not None:
                t.append((f"layers.{l}.w_proj", layer.w_proj.first_columns().numpy()))
        else:
            t.append((f"layers.{l}.bias_x", layer.bias_x.detach().numpy()))
            t.append((f"layers.{l}.bias_r", layer.bias_r.detach().numpy()))
    t.append(("output.w", model.out_w.detach().numpy()))
    t.append(("output.b", model.out_b.detach().numpy()))
    if cmvn is not None:
        t.append(("input.mean", np.asarray(cmvn[0], dtype=np.float32)))
        t.append(("input.inv_std", np.asarray(cmvn[1], dtype=np.float32)))
    meta = dict(extra or {})
    meta.update({
        "format": FORMAT,
        "arch": cfg["arch"],
        "layers": str(cfg["layers"]),
        "input_dim": str(cfg["input_dim"]),
        "cell_dim": str(cfg["cell"]),
        "proj_dim": str(cfg["proj"]),
        "num_classes": str(cfg["classes"]),
        "phone_set": json.dumps(list(phones)),
    })
    write_safetensors(path, t, meta)


def load(path):
    """An exported model back as an AcousticModel (float), with its phone set and CMVN (or None)."""
    t, meta = read_safetensors(path)
    if meta.get("format") != FORMAT:
        raise ValueError(f"{path}: format {meta.get('format')!r} is not {FORMAT}")
    arch = meta["arch"]
    layers, proj = int(meta["layers"]), int(meta["proj_dim"])
    names = nets.matrix_names(arch, layers, proj)
    blocks = {n: int(t[n].shape[-1]) for n in names}
    model = nets.AcousticModel(arch, int(meta["input_dim"]), int(meta["cell_dim"]), proj, layers,
                               int(meta["num_classes"]), blocks, circulant=True)
    with torch.no_grad():
        for l, layer in enumerate(model.layers):
            layer.w_x.set_first_columns(t[f"layers.{l}.w_x"])
            layer.w_r.set_first_columns(t[f"layers.{l}.w_r"])
            if arch == "lstmp":
                layer.bias.copy_(torch.from_numpy(t[f"layers.{l}.bias"].copy()))
                layer.peep.copy_(torch.from_numpy(t[f"layers.{l}.peep"].copy()))
                if proj:
                    layer.w_proj.set_first_columns(t[f"layers.{l}.w_proj"])
            else:
                layer.bias_x.copy_(torch.from_numpy(t[f"layers.{l}.bias_x"].copy()))
                layer.bias_r.copy_(torch.from_numpy(t[f"layers.{l}.bias_r"].copy()))
        model.out_w.copy_(torch.from_numpy(t["output.w"].copy()))
        model.out_b.copy_(torch.from_numpy(t["output.b"].copy()))
    cmvn = None
    if "input.mean" in t:
        cmvn = np.stack([t["input.mean"], t["input.inv_std"]])
    return model, json.loads(meta["phone_set"]), cmvn, meta
