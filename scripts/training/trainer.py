"""Data, truncated-BPTT training, ADMM (E-RNN) and evaluation."""
import math
import os
import time

import numpy as np
import torch
import torch.nn.functional as F

import circulant as circ
import kaldi
import per as per_mod


class Split:
    def __init__(self, keys, feats, labels):
        self.keys, self.feats, self.labels = keys, feats, labels

    @property
    def frames(self):
        return sum(len(f) for f in self.feats)


def read_cmvn(path):
    """A corpus's cmvn.npy: row 0 the mean, row 1 the inverse standard deviation, of the train frames."""
    try:
        cmvn = np.load(path)
    except ValueError as e:
        raise ValueError(f"{path}: not a .npy array ({e})") from None
    if cmvn.ndim != 2 or cmvn.shape[0] != 2 or not np.issubdtype(cmvn.dtype, np.floating):
        raise ValueError(f"{path}: {cmvn.dtype} {cmvn.shape} is not a 2 x dims float array (mean, 1/std)")
    return cmvn


def load_split(corpus, split, phones, cmvn, max_utts=None):
    """Features with CMVN applied and integer labels. max_utts takes utterances evenly spread over the split, so
    that a subset still covers its speakers."""
    scp = os.path.join(corpus, split + ".scp")
    n = kaldi.scp_size(scp)
    pick = None
    if max_utts and max_utts < n:
        pick = np.linspace(0, n - 1, max_utts).round().astype(int)
    utts = kaldi.read_scp(scp, pick)
    ali = kaldi.read_alignment(os.path.join(corpus, split + ".ali"), phones)
    keys, feats, labels = [], [], []
    mean, inv_std = cmvn[0].astype(np.float32), cmvn[1].astype(np.float32)
    for key, mat in utts:
        if key not in ali:
            raise ValueError(f"{split}: utterance {key} has no alignment")
        if len(ali[key]) != len(mat):
            raise ValueError(f"{split}: utterance {key} has {len(mat)} frames and {len(ali[key])} labels")
        if mat.shape[1] != len(mean):
            raise ValueError(f"{scp}: utterance {key} has {mat.shape[1]} dims, cmvn.npy {len(mean)}")
        keys.append(key)
        feats.append((mat - mean) * inv_std)
        labels.append(ali[key])
    return Split(keys, feats, labels)


def make_batches(split, batch, rng):
    """Utterances of similar length together (little padding), in a fresh random order every epoch."""
    n = len(split.feats)
    order = rng.permutation(n)
    window = batch * 16
    batches = []
    for s in range(0, n, window):
        w = order[s:s + window]
        w = w[np.argsort([len(split.feats[i]) for i in w], kind="stable")]
        batches += [w[i:i + batch] for i in range(0, len(w), batch)]
    rng.shuffle(batches)
    return batches


def pad_batch(split, idx):
    T = max(len(split.feats[i]) for i in idx)
    D = split.feats[idx[0]].shape[1]
    x = np.zeros((T, len(idx), D), dtype=np.float32)
    y = np.full((T, len(idx)), -100, dtype=np.int64)
    for b, i in enumerate(idx):
        n = len(split.feats[i])
        x[:n, b] = split.feats[i]
        y[:n, b] = split.labels[i]
    return torch.from_numpy(x), torch.from_numpy(y)


class TeacherCache:
    """A fixed teacher's log-probabilities at temperature `temp` for every utterance of a split, computed once, so
    that each distilled epoch reads them instead of running the teacher again (on the 512-cell model, about a
    quarter of a distilled epoch). Whole utterances give what the chunks with their carried state gave."""

    @torch.no_grad()
    def __init__(self, teacher, split, temp, batch=32):
        teacher.eval()
        self.logp = [None] * len(split.feats)
        order = np.argsort([len(f) for f in split.feats], kind="stable")
        for s in range(0, len(order), batch):
            idx = order[s:s + batch]
            x, _ = pad_batch(split, idx)
            logits, _ = teacher(x)
            tl = torch.log_softmax(logits / temp, dim=-1)
            for b, i in enumerate(idx):
                self.logp[i] = tl[:len(split.feats[i]), b].clone()
        self.classes = self.logp[0].shape[1] if self.logp else 0

    def chunk(self, idx, start, frames):
        """[frames, len(idx), classes] for frames start.. of the batch's utterances (zeros past an utterance's end,
        where the loss is masked)."""
        out = torch.zeros(frames, len(idx), self.classes)
        for b, i in enumerate(idx):
            part = self.logp[i][start:start + frames]
            out[:len(part), b] = part
        return out


def detach_state(state):
    return [tuple(s.detach() for s in layer) for layer in state]


class Log:
    """Lines with a time stamp, to stdout and (once open) to a file. With hold=True the file and its folder are
    only created by open(), which writes the lines logged so far: a run that stops on a usage error before it
    starts leaves nothing behind."""

    def __init__(self, path=None, hold=False):
        self.path, self.held, self.f = path, [], None
        if path and not hold:
            self.open()

    def open(self):
        if self.f is None and self.path:
            folder = os.path.dirname(self.path)
            if folder:
                os.makedirs(folder, exist_ok=True)
            self.f = open(self.path, "a")
            self.f.writelines(line + "\n" for line in self.held)
            self.f.flush()
        self.held = []

    def __call__(self, msg):
        line = time.strftime("%H:%M:%S ") + msg
        print(line, flush=True)
        if self.f:
            self.f.write(line + "\n")
            self.f.flush()
        elif self.path:
            self.held.append(line)


def run_epoch(model, split, opt, args, rng, penalty=None, max_steps=None, log=None, after_step=None, teacher=None):
    """One pass (or max_steps optimizer steps) of truncated BPTT: a batch of utterances is cut into chunks of
    args.chunk frames; each chunk is one optimizer step, and the state carries over (detached) to the next.
    With a teacher (knowledge distillation), the loss is (1 - a) CE + a T^2 KL(teacher_T || model_T), a =
    args.kd_weight, T = args.kd_temp, the teacher's state carried along the same chunks."""
    model.train()
    if teacher is not None and not isinstance(teacher, TeacherCache):
        teacher.eval()
    kd_a, kd_t = getattr(args, "kd_weight", 0.0), getattr(args, "kd_temp", 1.0)
    tot_loss, tot_frames, steps = 0.0, 0, 0
    t0 = time.time()
    batches = make_batches(split, args.batch, rng)
    for bi, idx in enumerate(batches):
        x, y = pad_batch(split, idx)
        state = tstate = None
        for s in range(0, x.shape[0], args.chunk):
            xs, ys = x[s:s + args.chunk], y[s:s + args.chunk]
            valid = int((ys >= 0).sum())
            if valid == 0:
                break
            logits, state = model(xs, state)
            ce = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), ys.reshape(-1), ignore_index=-100)
            loss = ce
            if teacher is not None:
                mask = (ys.reshape(-1) >= 0)
                sl = F.log_softmax(logits.reshape(-1, logits.shape[-1])[mask] / kd_t, dim=-1)
                if isinstance(teacher, TeacherCache):
                    tl = teacher.chunk(idx, s, xs.shape[0]).reshape(-1, teacher.classes)[mask]
                else:
                    with torch.no_grad():
                        tlogits, tstate = teacher(xs, tstate)
                    tl = F.log_softmax(tlogits.reshape(-1, tlogits.shape[-1])[mask] / kd_t, dim=-1)
                kd = F.kl_div(sl, tl, log_target=True, reduction="batchmean") * kd_t * kd_t
                loss = (1.0 - kd_a) * ce + kd_a * kd
            if penalty is not None:
                loss = loss + penalty()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
            opt.step()
            if after_step is not None:
                after_step()
            state = detach_state(state)
            tot_loss += ce.item() * valid
            tot_frames += valid
            steps += 1
            if max_steps is not None and steps >= max_steps:
                return tot_loss / max(tot_frames, 1), steps
        if log and args.log_every and (bi + 1) % args.log_every == 0:
            log(f"  batch {bi + 1}/{len(batches)}: train CE {tot_loss / max(tot_frames, 1):.4f}, "
                f"{tot_frames / (time.time() - t0):.0f} frames/s")
    return tot_loss / max(tot_frames, 1), steps


@torch.no_grad()
def posteriors(model, split, batch=64, temp=None):
    """Log-posteriors per utterance, whole utterances (no truncation), in split order. With temp, also the
    log-posteriors at that temperature (a pair per utterance)."""
    model.eval()
    out = [None] * len(split.feats)
    order = np.argsort([len(f) for f in split.feats], kind="stable")
    for s in range(0, len(order), batch):
        idx = order[s:s + batch]
        x, _ = pad_batch(split, idx)
        logits, _ = model(x)
        logp = torch.log_softmax(logits.double(), dim=-1).numpy()
        logp_t = torch.log_softmax(logits.double() / temp, dim=-1).numpy() if temp is not None else None
        for b, i in enumerate(idx):
            n = len(split.feats[i])
            out[i] = logp[:n, b] if temp is None else (logp[:n, b], logp_t[:n, b])
    return out


def evaluate(model, split, sil, teacher=None, kd_weight=0.0, kd_temp=1.0):
    """CE per frame, frame accuracy, PER and the per-utterance counts (for a bootstrap), and `objective`, what the
    phase minimises, per frame: the CE, or with a teacher (a TeacherCache of this split at kd_temp) the distillation
    loss (1 - a) CE + a T^2 KL(teacher_T || model_T) of run_epoch."""
    logps = posteriors(model, split, temp=kd_temp if teacher is not None else None)
    ce, kl, counts = 0.0, 0.0, []
    for i, (lp, ref) in enumerate(zip(logps, split.labels)):
        if teacher is not None:
            lp, lp_t = lp
            tl = teacher.logp[i].double().numpy()
            kl += float((np.exp(tl) * (tl - lp_t)).sum())
        ce -= lp[np.arange(len(ref)), ref].sum()
        counts.append(per_mod.utterance_counts(lp, ref, sil))
    c = np.asarray(counts)
    frames = c[:, 3].sum()
    objective = ce / frames if teacher is None else \
        ((1.0 - kd_weight) * ce + kd_weight * kd_temp * kd_temp * kl) / frames
    return dict(ce=ce / frames, objective=objective, frame_acc=100.0 * (1 - c[:, 2].sum() / frames),
                per=per_mod.per_of(counts), counts=counts)


def objective_note(r, kd):
    """The distillation objective beside the dev CE in a log line, when it is what newbob judges."""
    return f" (distillation objective {r['objective']:.4f})" if kd else ""


def make_opt(model, lr):
    return torch.optim.Adam(model.parameters(), lr=lr)


def train_plain(model, train, dev, sil, args, log, epochs, lr, tag, checkpoint=None, teacher=None, resume=None):
    """At most `epochs` epochs of Adam with newbob (Kaldi's nnet1 schedule): once the phase's objective on dev improves
    by less than args.halve_below (relative), the learning rate halves every epoch, and a worse epoch is rolled back;
    once halving, an epoch that improves by less than args.stop_below (a rolled-back one improves by nothing) ends
    the phase early, after at least args.min_epochs epochs (args.stop_below 0: never early). The objective is the
    one the epochs minimise: the dev CE, or with a teacher the distillation loss on dev (evaluate()), since
    distilling may raise the CE on the hard labels while it brings the model towards the teacher.

    After every epoch `checkpoint(state)` gets what continuing needs: the best weights (which the model holds then),
    the optimizer's moments, the learning rate, the schedule's flags and the batch order's RNG state. Given such a
    state as `resume`, the phase goes on exactly as if it had never stopped (same batches, same arithmetic)."""
    rng = np.random.default_rng(args.seed)
    opt = make_opt(model, lr)
    kd = {}
    if teacher is not None:
        t0 = time.time()
        kd_temp = getattr(args, "kd_temp", 1.0)
        if dev is not None:
            kd = dict(teacher=TeacherCache(teacher, dev, kd_temp), kd_weight=getattr(args, "kd_weight", 0.0),
                      kd_temp=kd_temp)
        teacher = TeacherCache(teacher, train, kd_temp)
        log(f"{tag}: the teacher's outputs on the train and dev splits, computed once in {time.time() - t0:.0f} s")
    stop_below, min_epochs = getattr(args, "stop_below", 0.0), getattr(args, "min_epochs", 1)
    if resume is not None:
        model.load_state_dict(resume["state"])
        opt.load_state_dict(resume["opt"])
        lr, halving, best, first = resume["lr"], resume["halving"], resume["best"], resume["epoch"]
        rng.bit_generator.state = resume["rng"]
        if dev is not None and "objective" not in best:  # a checkpoint from before the objective was kept
            best = evaluate(model, dev, sil, **kd)
        log(f"{tag} resumed after epoch {first}/{epochs}" + (" (it had stopped early)" if resume["stopped"] else ""))
        if resume["stopped"]:
            return best
    else:
        best = evaluate(model, dev, sil, **kd) if dev is not None else None
        halving, first = False, 0
        if best:
            log(f"{tag} start: dev CE {best['ce']:.4f}{objective_note(best, kd)}, frame acc {best['frame_acc']:.2f}%, "
                f"PER {best['per']:.2f}%")
    best_state = {k: v.clone() for k, v in model.state_dict().items()}
    for ep in range(first, epochs):
        t0 = time.time()
        tr, steps = run_epoch(model, train, opt, args, rng, log=log, teacher=teacher)
        msg = f"{tag} epoch {ep + 1}/{epochs}: lr {lr:.2e}, train CE {tr:.4f}, {steps} steps, {time.time() - t0:.0f} s"
        stopped = False
        if dev is None:
            log(msg)
            best_state = {k: v.clone() for k, v in model.state_dict().items()}
        else:
            r = evaluate(model, dev, sil, **kd)
            gain = (best["objective"] - r["objective"]) / best["objective"]
            was_halving = halving
            if r["objective"] < best["objective"]:
                if gain < args.halve_below:
                    halving = True
                best = r
                best_state = {k: v.clone() for k, v in model.state_dict().items()}
                verdict = ""
            else:
                model.load_state_dict(best_state)
                halving = True
                verdict = "; rolled back"
            stopped = stop_below > 0 and was_halving and gain < stop_below and ep + 1 >= min_epochs
            log(msg + f"; dev CE {r['ce']:.4f}{objective_note(r, kd)}, frame acc {r['frame_acc']:.2f}%, PER {r['per']:.2f}%{verdict}"
                + (f"; stopped early (gain {gain:+.4f} < {stop_below})" if stopped else ""))
        if halving and not stopped:
            lr *= 0.5
            for g in opt.param_groups:
                g["lr"] = lr
        if checkpoint:
            checkpoint(dict(state=best_state, epoch=ep + 1, opt=opt.state_dict(), lr=lr, halving=halving, best=best,
                            rng=rng.bit_generator.state, stopped=stopped))
        if stopped:
            break
    model.load_state_dict(best_state)
    return best


def admm(model, train, dev, sil, args, log, teacher=None):
    """E-RNN's ADMM. Every matrix with k > 1 is dense (W) during the W-steps, which minimise
    CE + rho/2 ||W - Z + U||^2 (Adam on the CE; the penalty inside Adam's gradient with --admm-penalty coupled, or
    as a separate gradient step after each Adam step, the default); the Z-step projects W + U onto block-circulant
    matrices (diagonal means) and U += W - Z. rho grows by args.rho_mult per iteration. With a teacher, the W-steps'
    CE is the distillation loss of run_epoch."""
    mats = [(n, m) for n, m in model.named_matrices() if m.k > 1 and not m.circulant]
    Z = {n: circ.project(m.weight.detach(), m.k) for n, m in mats}
    U = {n: torch.zeros_like(m.weight) for n, m in mats}
    Zd = {n: circ.expand(Z[n], m.cols) for n, m in mats}
    rho = args.rho
    rng = np.random.default_rng(args.seed + 1)
    opt = make_opt(model, args.admm_lr)
    steps_per_iter = None
    if args.admm_iter_epochs:
        # Optimizer steps in one epoch, from the batches' lengths.
        batches = make_batches(train, args.batch, np.random.default_rng(0))
        per_epoch = sum(math.ceil(max(len(train.feats[i]) for i in b) / args.chunk) for b in batches)
        steps_per_iter = max(1, int(round(args.admm_iter_epochs * per_epoch)))
    for it in range(args.admm_iters):
        t0 = time.time()

        if args.admm_penalty == "coupled":
            def penalty(rho=rho):
                return 0.5 * rho * sum(((m.weight - Zd[n] + U[n]) ** 2).sum() for n, m in mats)
            after_step = None
        else:
            penalty = None
            # A gradient step of lr * rho on rho/2 ||W - Z + U||^2 after each Adam step on the CE, as AdamW
            # decouples weight decay: inside Adam, the penalty's large gradient would fill Adam's second-moment
            # estimate and shrink the CE steps with it.
            gamma = min(1.0, args.admm_lr * rho)

            @torch.no_grad()
            def after_step(gamma=gamma):
                for n, m in mats:
                    m.weight.sub_(gamma * (m.weight - Zd[n] + U[n]))

        tr, steps = run_epoch(model, train, opt, args, rng, penalty=penalty, max_steps=steps_per_iter,
                              after_step=after_step, teacher=teacher)
        with torch.no_grad():
            gap_num = gap_den = 0.0
            for n, m in mats:
                Z[n] = circ.project(m.weight + U[n], m.k)
                Zd[n] = circ.expand(Z[n], m.cols)
                U[n] += m.weight - Zd[n]
                gap_num += float(((m.weight - Zd[n]) ** 2).sum())
                gap_den += float((m.weight ** 2).sum())
        msg = (f"admm iter {it + 1}/{args.admm_iters}: rho {rho:.3g}, train CE {tr:.4f}, {steps} steps, "
               f"||W-Z||/||W|| {math.sqrt(gap_num / gap_den):.4f}, {time.time() - t0:.0f} s")
        if dev is not None and args.admm_eval:
            r = evaluate_projected(model, dev, sil)
            msg += f"; projected: dev frame acc {r['frame_acc']:.2f}%, PER {r['per']:.2f}%"
        log(msg)
        new_rho = min(rho * args.rho_mult, args.rho_max)
        # U is the scaled dual (y / rho): it must scale with 1 / rho, or a growing rho multiplies the pull twice.
        for n in U:
            U[n] *= rho / new_rho
        rho = new_rho
    model.make_circulant()


def evaluate_projected(model, dev, sil):
    """Dev figures of the hard-projected model, leaving the model itself as it is."""
    import copy
    m2 = copy.deepcopy(model)
    m2.make_circulant()
    return evaluate(m2, dev, sil)
