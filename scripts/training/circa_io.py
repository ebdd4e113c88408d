"""Running circa on a model and reading what it prints and writes."""
import os
import re
import subprocess
import tempfile

import numpy as np
import torch

import kaldi
import st


def default_circa():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))
    return os.path.join(root, "build", "release", "circa")


def run(circa, model, features, labels=None, functional=False, precision=None, overrides=(), out=None):
    """Runs `circa run`; returns (stdout, PER printed or None, {utt: log-posteriors} if out was asked)."""
    cmd = [circa, "run", "--model", model, "--features", features]
    if labels:
        cmd += ["--labels", labels]
    if functional:
        cmd.append("--functional")
    if precision:
        cmd += ["--precision", precision]
    cmd += list(overrides)
    with tempfile.TemporaryDirectory() as tmp:
        ark = os.path.join(tmp, "out.ark") if out else None
        if ark:
            cmd += ["--out", ark]
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)}: exit {p.returncode}: {p.stderr.strip()}")
        outs = {k: m for k, m, _, _ in kaldi.read_ark(ark)} if ark else None
    m = re.search(r"^PER: ([0-9.]+)%", p.stdout, re.M)
    return p.stdout, (float(m.group(1)) if m else None), outs


@torch.no_grad()
def torch_logp(model_path, utts):
    """The exported model, reloaded from its safetensors, on [(key, raw features)] -> {key: log-posteriors}."""
    model, _, cmvn, _ = st.load(model_path)
    model.eval()
    out = {}
    for key, mat in utts:
        x = mat.astype(np.float64)
        if cmvn is not None:
            x = (x - cmvn[0]) * cmvn[1]
        logits, _ = model.double()(torch.from_numpy(x)[:, None, :])
        out[key] = torch.log_softmax(logits[:, 0], dim=-1).numpy()
    return out


def compare_float(circa, model_path, features, max_utts=3):
    """Max |log p| difference between circa --functional --precision float and PyTorch on the first utterances."""
    utts = kaldi.read_features(features)[:max_utts]
    with tempfile.TemporaryDirectory() as tmp:
        ark, scp = os.path.join(tmp, "f.ark"), os.path.join(tmp, "f.scp")
        kaldi.write_ark_scp(ark, scp, utts)
        _, _, outs = run(circa, model_path, scp, functional=True, precision="float", out=True)
    ref = torch_logp(model_path, utts)
    diff = max(float(np.abs(outs[k].astype(np.float64) - ref[k]).max()) for k, _ in utts)
    agree = np.mean(np.concatenate([outs[k].argmax(1) == ref[k].argmax(1) for k, _ in utts]))
    frames = sum(len(m) for _, m in utts)
    return diff, float(agree), frames
