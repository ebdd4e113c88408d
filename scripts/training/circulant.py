"""Block-circulant matrices in circa's convention: block (i, j) is defined by its first column w[i, j] and
W_ij[r][c] = w[i, j, (r - c) mod k]. Inputs whose width is not a multiple of k are zero-padded at the end, so a
matrix of `cols` columns is stored as ceil(cols / k) block columns."""
import math

import torch

_index_cache = {}


def _circ_index(k, device):
    key = (k, device)
    if key not in _index_cache:
        r = torch.arange(k, device=device)
        _index_cache[key] = (r[:, None] - r[None, :]) % k
    return _index_cache[key]


def expand(w, cols=None):
    """First columns [p, q, k] -> dense [p*k, cols] (cols defaults to q*k; padded columns are dropped)."""
    p, q, k = w.shape
    if k == 1:
        dense = w[:, :, 0]
    else:
        # A gather, so autograd's backward is a scatter-add into the k first-column entries.
        dense = w[:, :, _circ_index(k, w.device)].permute(0, 2, 1, 3).reshape(p * k, q * k)
    return dense if cols is None or cols == q * k else dense[:, :cols]


def project(W, k):
    """Euclidean projection of a dense [rows, cols] matrix onto block-circulant matrices with k x k blocks:
    the mean along each wrapped diagonal of each block, which is that block's first column. Columns beyond `cols`
    in the last block (the zero padding of the input) are not part of the matrix, so they are left out of the mean
    rather than counted as zeros. Returns first columns [rows/k, ceil(cols/k), k]."""
    rows, cols = W.shape
    if rows % k:
        raise ValueError(f"rows {rows} is not a multiple of k={k}")
    if k == 1:
        return W[:, :, None].clone()
    p, q = rows // k, math.ceil(cols / k)
    Wp = W.new_zeros(rows, q * k)
    Wp[:, :cols] = W
    blocks = Wp.reshape(p, k, q, k).permute(0, 2, 1, 3)  # [p, q, r, c]
    c = torch.arange(k, device=W.device)
    d = torch.arange(k, device=W.device)
    r_of = (c[None, :] + d[:, None]) % k  # [d, c]: the row on diagonal d in column c
    diag = blocks[:, :, r_of, c[None, :].expand(k, k)]  # [p, q, d, c]
    valid = torch.clamp(cols - torch.arange(q, device=W.device) * k, max=k).to(W.dtype)  # real columns per block col
    return diag.sum(-1) / valid[None, :, None]


def matvec_fft(w, x, cols=None):
    """y = W x for x [batch, cols] with frequency-domain accumulation, y_i = IFFT(sum_j FFT(w_ij) . FFT(x_j))."""
    p, q, k = w.shape
    n = x.shape[-1]
    if n < q * k:
        x = torch.nn.functional.pad(x, (0, q * k - n))
    X = torch.fft.rfft(x.reshape(-1, q, k), dim=-1)  # [B, q, bins]
    Wf = torch.fft.rfft(w, dim=-1)  # [p, q, bins]
    Y = torch.einsum("bjf,ijf->bif", X, Wf)
    return torch.fft.irfft(Y, n=k, dim=-1).reshape(x.shape[0], p * k)
