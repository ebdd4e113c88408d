"""PER as docs/architecture.md defines it (and core/per.cpp computes it): per utterance, argmax per frame, collapse
repeats, then drop sil without collapsing again; Levenshtein distance over reference length, summed."""
import numpy as np


def collapse(frames, sil):
    out = []
    prev = None
    for p in frames:
        if p != prev and p != sil:
            out.append(p)
        prev = p
    return out


def levenshtein(a, b):
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        ai = a[i - 1]
        for j in range(1, len(b) + 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ai != b[j - 1]))
        prev = cur
    return prev[len(b)]


def utterance_counts(logp, ref, sil):
    """(edits, reference phones, frame errors, frames) of one utterance."""
    if len(logp) != len(ref):
        raise ValueError(f"{len(logp)} frames of output against {len(ref)} of alignment")
    hyp = np.argmax(logp, axis=1)  # first maximum, as std::max_element
    r = collapse(ref.tolist(), sil)
    h = collapse(hyp.tolist(), sil)
    return levenshtein(r, h), len(r), int((hyp != ref).sum()), len(ref)


def per_of(counts):
    c = np.asarray(counts, dtype=np.float64)
    return 100.0 * c[:, 0].sum() / c[:, 1].sum()


def bootstrap_ci(counts, n=2000, seed=0, level=0.95):
    """Percentile bootstrap over utterances of the pooled PER."""
    c = np.asarray(counts, dtype=np.float64)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(c), size=(n, len(c)))
    pers = 100.0 * c[idx, 0].sum(1) / c[idx, 1].sum(1)
    a = (1 - level) / 2
    return float(np.quantile(pers, a)), float(np.quantile(pers, 1 - a))
