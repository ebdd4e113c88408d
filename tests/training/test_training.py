#!/usr/bin/python3
"""Unit tests of the training code (scripts/training): circulant expansion and projection, the frequency-domain
product, the model's two parametrizations, the safetensors export, PER, and (with circa built) the conventions
check against circa's float golden model on random models. Run: tests/training/test_training.py [-v]"""
import itertools
import json
import math
import os
import struct
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "scripts", "training"))

import numpy as np  # noqa: E402
import torch  # noqa: E402

import circa_io  # noqa: E402
import circulant as circ  # noqa: E402
import kaldi  # noqa: E402
import nets  # noqa: E402
import per  # noqa: E402
import quant  # noqa: E402
import st  # noqa: E402
import trainer  # noqa: E402

torch.set_num_threads(1)
CIRCA = os.environ.get("CIRCA_BIN", circa_io.default_circa())
# CTest always names circa, so there a missing binary fails instead of skipping the checks against it.
RUN_AGAINST_CIRCA = "CIRCA_BIN" in os.environ or os.access(CIRCA, os.X_OK)


def dense_by_definition(w, cols):
    """W[i k + r, j k + c] = w[i, j, (r - c) mod k], element by element."""
    p, q, k = w.shape
    W = np.zeros((p * k, q * k))
    for i, j, r, c in itertools.product(range(p), range(q), range(k), range(k)):
        W[i * k + r, j * k + c] = w[i, j, (r - c) % k]
    return W[:, :cols]


def least_squares_projection(M, k):
    """Brute force: the first columns minimising ||expand(w) - M||_F over the p*q*k parameters, by lstsq on the
    linear map w -> expand(w) restricted to M's real columns."""
    rows, cols = M.shape
    p, q = rows // k, math.ceil(cols / k)
    n = p * q * k
    A = np.zeros((rows * cols, n))
    for t in range(n):
        e = np.zeros(n)
        e[t] = 1.0
        A[:, t] = dense_by_definition(e.reshape(p, q, k), cols).reshape(-1)
    w, *_ = np.linalg.lstsq(A, M.reshape(-1), rcond=None)
    return w.reshape(p, q, k)


class Circulant(unittest.TestCase):
    def setUp(self):
        self.rng = np.random.default_rng(7)

    def test_expand_matches_definition(self):
        for k, cols in [(1, 5), (2, 6), (4, 7), (8, 16), (8, 13), (16, 20)]:
            w = self.rng.standard_normal((3, math.ceil(cols / k), k))
            got = circ.expand(torch.from_numpy(w), cols).numpy()
            np.testing.assert_array_equal(got, dense_by_definition(w, cols), err_msg=f"k={k} cols={cols}")

    def test_projection_of_circulant_is_identity(self):
        for k, cols in [(2, 4), (4, 8), (8, 16), (8, 13), (16, 32), (4, 153)]:
            w = torch.from_numpy(self.rng.standard_normal((2, math.ceil(cols / k), k)))
            z = circ.project(circ.expand(w, cols), k)
            torch.testing.assert_close(z, w, rtol=0, atol=1e-12, msg=f"k={k} cols={cols}")

    def test_projection_is_least_squares_fit(self):
        for k in (2, 4, 8):
            for cols in (2 * k, 2 * k - 1, k + 1):  # whole blocks, and a last block cut by the zero padding
                M = self.rng.standard_normal((2 * k, cols))
                z = circ.project(torch.from_numpy(M), k).numpy()
                np.testing.assert_allclose(z, least_squares_projection(M, k), atol=1e-10,
                                           err_msg=f"k={k} cols={cols}")

    def test_projection_is_mean_of_wrapped_diagonals(self):
        k = 4
        M = np.arange(16.0).reshape(4, 4)
        want = [np.mean([M[(c + d) % k, c] for c in range(k)]) for d in range(k)]
        np.testing.assert_allclose(circ.project(torch.from_numpy(M), k).numpy()[0, 0], want)

    def test_fft_product_equals_dense(self):
        for k, cols in [(2, 10), (4, 153), (8, 153), (16, 128), (8, 8)]:
            w = torch.from_numpy(self.rng.standard_normal((5, math.ceil(cols / k), k)))
            x = torch.from_numpy(self.rng.standard_normal((3, cols)))
            torch.testing.assert_close(circ.matvec_fft(w, x), x @ circ.expand(w, cols).t(), rtol=0, atol=1e-11)


def random_model(arch, blocks, proj=16, cell=32, layers=2, input_dim=21, classes=39, seed=3):
    torch.manual_seed(seed)
    names = nets.matrix_names(arch, layers, proj if arch == "lstmp" else 0)
    model = nets.AcousticModel(arch, input_dim, cell, proj, layers, classes, {n: blocks.get(n, 8) for n in names},
                               circulant=True)
    with torch.no_grad():
        for p in model.parameters():
            p.uniform_(-0.5, 0.5)  # peepholes and biases too, which training starts at zero or small
    return model


class Model(unittest.TestCase):
    def test_circulant_and_dense_parametrizations_agree(self):
        for arch in ("lstmp", "gru"):
            m = random_model(arch, {"layers.0.w_x": 4, "layers.1.w_r": 16})
            x = torch.randn(7, 2, 21)
            y_circ, _ = m(x)
            names = [n for n, _ in m.named_matrices()]
            dense = nets.AcousticModel(arch, 21, 32, 16, 2, 39, {n: 1 for n in names}, circulant=False)
            sd = {}
            for key, v in m.state_dict().items():
                if key.endswith(".w"):
                    cols = dict(m.named_modules())[key[:-2]].cols
                    sd[key[:-2] + ".weight"] = circ.expand(v, cols)
                else:
                    sd[key] = v
            dense.load_state_dict(sd)
            y_dense, _ = dense(x)
            torch.testing.assert_close(y_circ, y_dense, rtol=0, atol=1e-5)

    def test_chunked_state_carry_equals_whole_sequence(self):
        m = random_model("lstmp", {})
        x = torch.randn(10, 3, 21)
        whole, _ = m(x)
        a, s = m(x[:4])
        b, _ = m(x[4:], s)
        torch.testing.assert_close(torch.cat([a, b]), whole, rtol=0, atol=1e-6)

    def test_hard_projection_keeps_a_circulant_matrix(self):
        names = nets.matrix_names("lstmp", 1, 16)
        m = nets.AcousticModel("lstmp", 21, 32, 16, 1, 39, {n: 8 for n in names}, circulant=False)
        with torch.no_grad():
            W = circ.expand(torch.randn(32 * 4 // 8, 3, 8), 21)
            m.layers[0].w_x.weight.copy_(W)
        m.make_circulant()
        torch.testing.assert_close(m.layers[0].w_x.matrix(), W, rtol=0, atol=1e-6)

    def test_fake_quant_rounds_half_to_even_and_saturates(self):
        x = torch.tensor([0.5 / 256, 1.5 / 256, -0.5 / 256, 200.0, -200.0], requires_grad=True)
        y = quant.fake_quant(x, (8, 8))
        # Symmetric saturation, as the hardware's: -200 clamps to -(128 - 1/256), not to -128.
        torch.testing.assert_close(y, torch.tensor([0.0, 2 / 256, 0.0, 128 - 1 / 256, -(128 - 1 / 256)]))
        y.sum().backward()
        torch.testing.assert_close(x.grad, torch.ones(5))  # straight through


class Distillation(unittest.TestCase):
    """scripts/train --teacher: the loss is (1 - a) CE + a T^2 KL(teacher_T || student_T) over labelled frames."""

    def setup(self, labels_seed):
        rng = np.random.default_rng(3)
        lens = [37, 45, 29, 50]
        feats = [rng.standard_normal((n, 21)).astype(np.float32) for n in lens]
        lab = np.random.default_rng(labels_seed)
        labels = [lab.integers(0, 39, n) for n in lens]
        split = trainer.Split([f"u{i}" for i in range(4)], feats, labels)
        torch.manual_seed(5)
        teacher = random_model("lstmp", {})
        student = random_model("lstmp", {n: 4 for n in nets.matrix_names("lstmp", 2, 16)})
        args = type("A", (), dict(batch=2, chunk=16, clip=5.0, kd_weight=1.0, kd_temp=2.0, log_every=0))()
        return split, teacher, student, args

    def kl(self, split, teacher, student, T):
        """Mean over frames of KL(teacher_T || student_T), whole utterances, computed here from the logits."""
        tot, n = 0.0, 0
        with torch.no_grad():
            for f in split.feats:
                x = torch.from_numpy(f)[:, None]
                pt = torch.softmax(teacher(x)[0][:, 0].double() / T, -1)
                ps = torch.softmax(student(x)[0][:, 0].double() / T, -1)
                tot += float((pt * (pt.log() - ps.log())).sum())
                n += len(f)
        return tot / n

    def train(self, labels_seed):
        split, teacher, student, args = self.setup(labels_seed)
        before = self.kl(split, teacher, student, args.kd_temp)
        opt = torch.optim.Adam(student.parameters(), lr=1e-2)
        for ep in range(6):
            trainer.run_epoch(student, split, opt, args, np.random.default_rng(ep), teacher=teacher)
        return before, self.kl(split, teacher, student, args.kd_temp), student

    def test_pulls_the_student_towards_the_teacher(self):
        before, after, _ = self.train(labels_seed=1)
        self.assertGreater(before, 0.05)
        self.assertLess(after, 0.5 * before)

    def assert_same_weights(self, a, b):
        for (n, p), (_, q) in zip(a.state_dict().items(), b.state_dict().items()):
            torch.testing.assert_close(p, q, rtol=0, atol=0, msg=n)

    def test_weight_one_ignores_the_labels(self):
        _, _, a = self.train(labels_seed=1)
        _, _, b = self.train(labels_seed=2)
        self.assert_same_weights(a, b)

    def test_the_teachers_outputs_computed_once_give_what_running_it_per_chunk_gives(self):
        # The distilled phases (train_plain) compute the teacher's outputs once per split (TeacherCache); an epoch
        # with them must train the student as running the teacher along the chunks does, up to float rounding.
        split, teacher, student, args = self.setup(labels_seed=1)
        args.kd_weight = 0.5
        twin = random_model("lstmp", {n: 4 for n in nets.matrix_names("lstmp", 2, 16)})
        twin.load_state_dict(student.state_dict())
        cache = trainer.TeacherCache(teacher, split, args.kd_temp)
        self.assertEqual(len(cache.logp), 4)
        self.assertEqual(tuple(cache.logp[1].shape), (45, 39))
        for model, t in ((student, teacher), (twin, cache)):
            opt = torch.optim.Adam(model.parameters(), lr=1e-2)
            for ep in range(2):
                trainer.run_epoch(model, split, opt, args, np.random.default_rng(ep), teacher=t)
        for (n, p), (_, q) in zip(student.state_dict().items(), twin.state_dict().items()):
            torch.testing.assert_close(p, q, rtol=0, atol=1e-4, msg=n)
        # ...and the students did move (the comparison is not between two untrained copies).
        self.assertGreater(max(float((p - q).abs().max()) for p, q in zip(
            student.state_dict().values(), random_model("lstmp", {n: 4 for n in nets.matrix_names(
                "lstmp", 2, 16)}).state_dict().values())), 1e-3)

    def test_the_dev_objective_of_a_distilled_phase_is_its_loss_on_dev(self):
        # evaluate() with a teacher gives (1 - a) CE + a T^2 KL per frame, what newbob judges a distilled phase by;
        # here against the CE and KL computed from the logits (self.kl), with a and T away from 0, 1.
        split, teacher, student, args = self.setup(labels_seed=1)
        plain = trainer.evaluate(student, split, 38)
        self.assertEqual(plain["objective"], plain["ce"])
        a, T = 0.3, 2.0
        r = trainer.evaluate(student, split, 38, teacher=trainer.TeacherCache(teacher, split, T), kd_weight=a,
                             kd_temp=T)
        kl = self.kl(split, teacher, student, T)
        self.assertGreater(kl, 0.05)
        self.assertAlmostEqual(r["ce"], plain["ce"], places=12)
        self.assertAlmostEqual(r["objective"], (1 - a) * plain["ce"] + a * T * T * kl, places=5)

    def test_newbob_judges_a_distilled_phase_by_its_objective(self):
        # At weight 1 the labels do not enter the loss: on random labels the dev CE may go either way while the
        # distance to the teacher falls, and the phase must keep its epochs (no roll-back) as long as it falls.
        split, teacher, student, args = self.setup(labels_seed=1)
        for k, v in dict(seed=0, halve_below=0.0, stop_below=0.0, min_epochs=1).items():
            setattr(args, k, v)
        lines = []
        best = trainer.train_plain(student, split, split, 38, args, lines.append, 4, 1e-2, "kd", teacher=teacher)
        epochs = [line for line in lines if " epoch " in line]
        self.assertEqual(len(epochs), 4)
        self.assertTrue(all("distillation objective" in line for line in epochs), epochs)
        self.assertFalse(any("rolled back" in line for line in epochs), epochs)
        self.assertAlmostEqual(best["objective"], 4.0 * self.kl(split, teacher, student, 2.0), places=5)

    def admm(self, labels_seed, with_teacher):
        """ADMM's W-steps (scripts/train --kd-admm) on a dense student, then the hard projection."""
        split, teacher, _, args = self.setup(labels_seed)
        torch.manual_seed(6)
        student = nets.AcousticModel("lstmp", 21, 32, 16, 2, 39, {n: 4 for n in nets.matrix_names("lstmp", 2, 16)},
                                     circulant=False)
        for k, v in dict(seed=0, admm_iters=3, admm_iter_epochs=None, admm_lr=1e-2, admm_penalty="decoupled",
                         rho=0.5, rho_mult=2.0, rho_max=1e9, admm_eval=False).items():
            setattr(args, k, v)
        trainer.admm(student, split, None, 38, args, lambda msg: None, teacher if with_teacher else None)
        return student

    def test_admm_w_steps_distil_when_given_a_teacher(self):
        # Weight 1: the W-steps see only the teacher, so the labels cannot matter...
        self.assert_same_weights(self.admm(1, True), self.admm(2, True))
        # ...and without the teacher they do (so the first comparison is not vacuous).
        c, d = self.admm(1, False), self.admm(2, False)
        self.assertTrue(any(not torch.equal(p, q) for p, q in zip(c.state_dict().values(), d.state_dict().values())))


class TrainArguments(unittest.TestCase):
    """scripts/train rejects contradictory options with one line and exit code 2, before it writes anything."""

    def check(self, extra, message):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "run")
            p = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "train"), "--out", out] + extra,
                               capture_output=True, text=True)
            self.assertEqual(p.returncode, 2, p.stderr)
            self.assertIn(message, p.stderr.strip().splitlines()[-1])
            self.assertFalse(os.path.exists(out))

    def test_kd_admm_needs_admm_and_a_teacher(self):
        self.check(["--kd-admm"], "--kd-admm needs --method admm and --teacher")
        self.check(["--kd-admm", "--method", "admm"], "--kd-admm needs --method admm and --teacher")
        self.check(["--kd-admm", "--method", "dense", "--teacher", "t.pt"], "--kd-admm needs --method admm")

    def test_early_stopping_options_out_of_range(self):
        self.check(["--stop-below", "-0.1"], "--stop-below takes a value >= 0 and --min-epochs one >= 1")
        self.check(["--min-epochs", "0"], "--stop-below takes a value >= 0 and --min-epochs one >= 1")

    def test_kd_weight_out_of_range(self):
        self.check(["--kd-weight", "1.5"], "--kd-weight takes a value in [0, 1]")

    def test_missing_or_malformed_corpus(self):
        with tempfile.TemporaryDirectory() as corpus:
            self.check(["--corpus", corpus], f"scripts/train: corpus {corpus}: ")
            self.check(["--corpus", corpus], "phones.txt")
            with open(os.path.join(corpus, "phones.txt"), "w") as f:
                f.write("sil 0\naa one\n")
            self.check(["--corpus", corpus], "phones.txt:2: expected 'phone index', got 'aa one'")
            with open(os.path.join(corpus, "phones.txt"), "w") as f:
                f.write("aa 0\nb 1\n")
            self.check(["--corpus", corpus], "phones.txt: no phone 'sil'")
            with open(os.path.join(corpus, "phones.txt"), "w") as f:
                f.writelines(f"{p} {i}\n" for i, p in enumerate(["sil", "aa", "b"]))
            with open(os.path.join(corpus, "cmvn.npy"), "w") as f:
                f.write("not numpy\n")
            self.check(["--corpus", corpus], "cmvn.npy: not a .npy array")
            np.save(os.path.join(corpus, "cmvn.npy"), np.zeros((3, 4)))
            self.check(["--corpus", corpus], "cmvn.npy: float64 (3, 4) is not a 2 x dims float array")
            np.save(os.path.join(corpus, "cmvn.npy"), np.zeros((2, 4), np.float32))
            self.check(["--corpus", corpus], "train.scp")
            kaldi.write_ark_scp(os.path.join(corpus, "train.ark"), os.path.join(corpus, "train.scp"),
                                [("u1", np.zeros((3, 5), np.float32))])
            with open(os.path.join(corpus, "train.ali"), "w") as f:
                f.write("u1 sil aa sil\n")
            self.check(["--corpus", corpus], "train.scp: utterance u1 has 5 dims, cmvn.npy 4")


class EvalArguments(unittest.TestCase):
    def test_missing_or_malformed_corpus(self):
        """scripts/eval on a corpus without its files: one line naming the file, exit code 2, no table written."""
        with tempfile.TemporaryDirectory() as corpus:
            out = os.path.join(corpus, "table.md")
            for phones, message in ((None, "phones.txt"), ("sil 0\naa\n", "phones.txt:2: expected 'phone index'"),
                                    ("sil 0\naa 1\n", "test.scp")):
                if phones is not None:
                    with open(os.path.join(corpus, "phones.txt"), "w") as f:
                        f.write(phones)
                p = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "eval"), "--corpus", corpus,
                                    "--out", out], capture_output=True, text=True)
                self.assertEqual(p.returncode, 2, p.stderr)
                lines = p.stderr.strip().splitlines()
                self.assertEqual(len(lines), 1, p.stderr)
                self.assertIn(f"scripts/eval: corpus {corpus}: ", lines[0])
                self.assertIn(message, lines[0])
                self.assertFalse(os.path.exists(out))


def script_tree(tree, real, stubs):
    """Makes tree/scripts: copies of the project's scripts named in `real` (with the Python modules they import) and
    the stubs {name: text} they call instead of the real ones, all executable."""
    os.makedirs(os.path.join(tree, "scripts"))
    os.symlink(os.path.join(ROOT, "scripts", "training"), os.path.join(tree, "scripts", "training"))
    scripts = dict(stubs)
    for name in real:
        with open(os.path.join(ROOT, "scripts", name)) as f:
            scripts[name] = f.read()
    for name, text in scripts.items():
        path = os.path.join(tree, "scripts", name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o755)


class TrainAll(unittest.TestCase):
    """scripts/train-all's order and its failures, with scripts/train and scripts/eval replaced by stubs that log
    their calls (and fail for the run named in FAIL, or sleep a second first for the one in SLOW): the real runs take
    hours. scripts/make-default is the real one, which gives train-all its recipes."""

    def run_train_all(self, fail=None, slow=None):
        with tempfile.TemporaryDirectory() as tree:
            calls = os.path.join(tree, "calls")
            script_tree(tree, ("train-all", "make-default"),
                        {"train": f'#!/bin/sh\ncase "$* " in *"/${{SLOW:-none}} "*) sleep 1;; esac\n'
                                  f'echo "train $*" >> {calls}\n'
                                  'case "$* " in *"/${FAIL:-none} "*) exit 1;; esac\n',
                         "eval": f'#!/bin/sh\necho "eval $*" >> {calls}\n'})
            env = dict(os.environ, FAIL=fail or "none", SLOW=slow or "none")
            p = subprocess.run([os.path.join(tree, "scripts", "train-all")], env=env, capture_output=True, text=True)
            with open(calls) as f:
                lines = f.read().splitlines()
            outs = [line.split("--out ")[1].split()[0] if "--out" in line else line.split()[0] for line in lines]
            self.args = {o.split("/")[-1]: line.split()[1:] for o, line in zip(outs, lines)}
            return p.returncode, outs

    def test_runs_every_model_then_tabulates(self):
        rc, outs = self.run_train_all()
        self.assertEqual(rc, 0)
        runs = [o.split("/")[-1] for o in outs[:-1]]
        self.assertEqual(runs[:3], ["dense", "admm-b8", "admm-b8-kd"])
        self.assertEqual(sorted(runs), sorted(["dense", "admm-b8", "admm-b8-kd", "direct-b8", "admm-b4", "admm-b16", "admm-b8-kdr", "admm-b8-x1",
                                               "admm-b8-x1-kd", "admm-b8-x4", "admm-b8-x4-kd", "dense-512",
                                               "admm512-b8", "admm512-b8-kd"]))
        self.assertLess(runs.index("admm-b8-x1"), runs.index("admm-b8-x1-kd"))
        self.assertLess(runs.index("admm-b8-x4"), runs.index("admm-b8-x4-kd"))
        self.assertLess(runs.index("dense-512"), runs.index("admm512-b8"))
        self.assertLess(runs.index("admm512-b8"), runs.index("admm512-b8-kd"))
        self.assertEqual(outs[-1], "eval")
        # Each run names its shape once (no option overriding another), and the right one.
        for run in runs:
            args = self.args[run]
            cells = [args[i + 1] for i, a in enumerate(args) if a == "--cell"]
            want = ["512"] if "512" in run else ["256"] if run != "direct-b8" else []  # direct-b8: the default, 256
            self.assertEqual(cells, want, run)
        # The recipes are make-default's, the one the bundled model was made with.
        recipe = {r: subprocess.run([os.path.join(ROOT, "scripts", "make-default"), "--print-recipe", r],
                                    capture_output=True, text=True, check=True).stdout.split()
                  for r in ("dense", "admm", "kd")}
        self.assertIn("--kd-weight", recipe["kd"])
        for run in runs:
            kind = ("kd" if run.endswith("-kd") else "dense" if run.startswith("dense") else
                    None if run == "direct-b8" else "admm")
            if kind:
                args = " ".join(self.args[run])
                self.assertIn(" ".join(recipe[kind]), args, run)

    def test_a_failed_run_in_the_background_stops_it(self):
        for run, skipped in (("direct-b8", "admm-b16"), ("admm-b16", "admm-b8-x1"), ("admm-b8-x1", "admm-b8-x1-kd")):
            rc, outs = self.run_train_all(fail=run)
            self.assertNotEqual(rc, 0, run)
            self.assertNotIn("eval", outs, run)
            self.assertNotIn(f"train-runs/{skipped}", outs, run)
        # The runs beside a failed one end before train-all does: here the x4 chain, slowed, beside the failed x1 run.
        rc, outs = self.run_train_all(fail="admm-b8-x1", slow="admm-b8-x4")
        self.assertNotEqual(rc, 0)
        self.assertIn("train-runs/admm-b8-x4-kd", outs)


class MakeDefault(unittest.TestCase):
    """scripts/make-default on a clean clone (no corpus/), with scripts/make-corpus and scripts/train replaced by
    stubs that log their calls: it makes the corpus first, then trains, and a failed step stops it with one line
    and installs nothing."""

    def run_make_default(self, *args, corpus_rc=0, train_rc=1):
        with tempfile.TemporaryDirectory() as tree:
            os.makedirs(os.path.join(tree, "models"))
            calls = os.path.join(tree, "calls")
            open(calls, "w").close()
            # The stub corpus has the file make-default checks for; the training stub fails by default so that the
            # run stops before it would need real models.
            script_tree(tree, ("make-default",),
                        {"make-corpus": f'#!/bin/sh\necho "make-corpus $*" >> {calls}\n'
                                        f'[ {corpus_rc} = 0 ] || exit {corpus_rc}\n'
                                        'mkdir -p "$2" && touch "$2/test.scp"\n',
                         "train": f'#!/bin/sh\necho "train $*" >> {calls}\nexit {train_rc}\n'})
            p = subprocess.run([os.path.join(tree, "scripts", "make-default"), "--runs", os.path.join(tree, "r")]
                               + list(args), capture_output=True, text=True)
            with open(calls) as f:
                lines = [line.replace(tree, "TREE") for line in f.read().splitlines()]
            self.installed = os.listdir(os.path.join(tree, "models"))
            return p, lines

    def test_makes_the_corpus_when_it_is_missing_then_trains_on_it(self):
        p, calls = self.run_make_default()
        self.assertEqual(calls[0], "make-corpus --out TREE/corpus")
        self.assertTrue(calls[1].startswith("train --out TREE/r/default-s1/dense "), calls)
        self.assertIn("--corpus TREE/corpus", calls[1])
        self.assertEqual(len(calls), 2, calls)  # the failed dense run stops it
        self.assertEqual(p.returncode, 1)
        self.assertEqual(p.stderr.strip().splitlines(),
                         ["scripts/make-default: train failed (exit 1); nothing installed"])
        self.assertEqual(self.installed, [])

    def test_a_rerun_skips_the_steps_that_finished_with_the_same_options(self):
        with tempfile.TemporaryDirectory() as tree:
            calls = os.path.join(tree, "calls")
            open(calls, "w").close()
            script_tree(tree, ("make-default",),
                        {"make-corpus": "#!/bin/sh\nexit 1\n",
                         "train": f'#!/bin/sh\necho "train $*" >> {calls}\n'})
            os.makedirs(os.path.join(tree, "corpus"))
            open(os.path.join(tree, "corpus", "test.scp"), "w").close()
            md = [os.path.join(tree, "scripts", "make-default"), "--runs", os.path.join(tree, "r"), "--train-only"]
            first = subprocess.run(md, capture_output=True, text=True)
            self.assertEqual(first.returncode, 0, first.stderr)
            with open(calls) as f:
                self.assertEqual([c.split()[2] for c in f.read().splitlines()],
                                 [os.path.join(tree, "r", "default-s1", r) for r in ("dense", "admm-b8", "admm-b8-kd")])
            second = subprocess.run(md, capture_output=True, text=True)
            self.assertEqual(second.returncode, 0, second.stderr)
            self.assertEqual(second.stdout.count(": done before ("), 3, second.stdout)
            # Another seed is another set of runs.
            third = subprocess.run(md + ["--seed", "2"], capture_output=True, text=True)
            self.assertEqual(third.returncode, 0, third.stderr)
            with open(calls) as f:
                lines = f.read().splitlines()
            self.assertEqual(len(lines), 6)
            self.assertTrue(all("--seed 2" in c and "/default-s2/" in c for c in lines[3:]), lines)

    def test_a_failed_corpus_stops_it_before_training(self):
        p, calls = self.run_make_default(corpus_rc=3)
        self.assertEqual(calls, ["make-corpus --out TREE/corpus"])
        self.assertEqual(p.returncode, 1)
        self.assertEqual(p.stderr.strip().splitlines(),
                         ["scripts/make-default: make-corpus failed (exit 3); nothing installed"])
        self.assertEqual(self.installed, [])

    def test_installing_from_existing_runs_needs_a_corpus(self):
        p, calls = self.run_make_default("--skip-train")
        self.assertEqual(calls, [])
        self.assertEqual(p.returncode, 2)
        lines = p.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, p.stderr)
        self.assertIn("no corpus in ", lines[0])

    def test_an_unknown_recipe_is_refused(self):
        p, calls = self.run_make_default("--print-recipe", "admm-b8")
        self.assertEqual(calls, [])
        self.assertEqual(p.returncode, 2)
        self.assertEqual(p.stdout, "")
        self.assertIn("--print-recipe: invalid choice: 'admm-b8'", p.stderr.strip().splitlines()[-1])


class BundledUtterances(unittest.TestCase):
    """make-default's rule for the bundled utterances: one per test speaker, spread over lengths (the i-th of n
    speakers by name gives its utterance at length quantile (i + 1/2) / n, ties by key), in scp order; it reads
    speakers and lengths only."""

    def test_one_per_speaker_spread_over_lengths(self):
        import importlib.machinery
        import importlib.util
        loader = importlib.machinery.SourceFileLoader("make_default", os.path.join(ROOT, "scripts", "make-default"))
        spec = importlib.util.spec_from_loader("make_default", loader)
        md = importlib.util.module_from_spec(spec)
        loader.exec_module(md)
        # Three speakers: a is the first (quantile 1/6), b the second (1/2), c the third (5/6). Speaker a: lengths
        # 5, 3, 9, 7 -> sorted 3 5 7 9, position floor(4 / 6) = 0: 3 (a_1). Speaker b: 4, 4, 2, 4 -> 2 4 4 4
        # (b_0, b_1, b_3 by key), position floor(3 * 4 / 6) = 2: b_1. Speaker c: 6, 1 -> 1 6, position
        # floor(5 * 2 / 6) = 1: 6 (c_0).
        lengths = {"a_0": 5, "a_1": 3, "b_0": 4, "a_2": 9, "c_0": 6, "b_1": 4, "a_3": 7, "b_2": 2, "c_1": 1,
                   "b_3": 4}
        with tempfile.TemporaryDirectory() as corpus:
            with open(os.path.join(corpus, "test.scp"), "w") as f:
                f.writelines(f"{k} test.ark:{i}\n" for i, k in enumerate(lengths))
            with open(os.path.join(corpus, "test.utt2spk"), "w") as f:
                f.writelines(f"{k} {k.split('_')[0]}\n" for k in lengths)
            with open(os.path.join(corpus, "test.ali"), "w") as f:
                f.writelines(f"{k} " + " ".join(["sil"] * n) + "\n" for k, n in lengths.items())
            picked = [list(lengths)[i] for i in md.pick_utterances(corpus)]
        self.assertEqual(picked, ["a_1", "c_0", "b_1"])


class Export(unittest.TestCase):
    def test_layout(self):
        m = random_model("lstmp", {"layers.0.w_x": 4, "layers.0.w_r": 2, "layers.1.w_proj": 16})
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "m.safetensors")
            phones = [f"p{i}" for i in range(38)] + ["sil"]
            st.export(m, path, phones, np.stack([np.zeros(21), np.ones(21)]))
            with open(path, "rb") as f:
                raw = f.read()
            (n,) = struct.unpack_from("<Q", raw)
            self.assertEqual(n % 8, 0)
            header = json.loads(raw[8:8 + n])
            meta = header.pop("__metadata__")
            self.assertEqual(meta["format"], "circa-lstmp/1")
            self.assertEqual(json.loads(meta["phone_set"]), phones)
            self.assertEqual((meta["cell_dim"], meta["proj_dim"], meta["input_dim"]), ("32", "16", "21"))
            shapes = {k: v["shape"] for k, v in header.items()}
            self.assertEqual(shapes["layers.0.w_x"], [4 * 32 // 4, math.ceil(21 / 4), 4])
            self.assertEqual(shapes["layers.0.w_r"], [4 * 32 // 2, 16 // 2, 2])
            self.assertEqual(shapes["layers.1.w_x"], [4 * 32 // 8, 16 // 8, 8])
            self.assertEqual(shapes["layers.1.w_proj"], [16 // 16, 32 // 16, 16])
            self.assertEqual(shapes["layers.0.peep"], [3, 32])
            self.assertEqual(shapes["output.w"], [39, 16])
            spans = sorted(v["data_offsets"] for v in header.values())
            self.assertEqual(spans[0][0], 0)
            for (_, e), (b, _) in zip(spans, spans[1:]):
                self.assertEqual(e, b)  # no holes
            self.assertEqual(8 + n + spans[-1][1], len(raw))
            m2, phones2, cmvn, _ = st.load(path)
            self.assertEqual(phones2, phones)
            x = torch.randn(5, 1, 21)
            torch.testing.assert_close(m2(x)[0], m(x)[0], rtol=0, atol=0)


class Per(unittest.TestCase):
    def test_collapse_then_drop_sil(self):
        self.assertEqual(per.collapse([1, 1, 0, 0, 1, 2, 2, 0, 2], 0), [1, 1, 2, 2])
        self.assertEqual(per.collapse([0, 0], 0), [])

    def test_levenshtein(self):
        self.assertEqual(per.levenshtein([1, 2, 3], [1, 3]), 1)
        self.assertEqual(per.levenshtein([1, 2, 3], [1, 4, 2, 3]), 1)
        self.assertEqual(per.levenshtein([1, 2, 3], [3, 2, 1]), 2)
        self.assertEqual(per.levenshtein([], [1, 2]), 2)

    def test_utterance(self):
        hyp = [1, 1, 2, 2, 0, 2]
        lp = np.full((6, 3), -3.0)
        lp[np.arange(6), hyp] = -0.1
        self.assertEqual(per.utterance_counts(lp, np.array([1, 1, 1, 2, 0, 0]), 0), (1, 2, 2, 6))


@unittest.skipUnless(RUN_AGAINST_CIRCA, f"circa not built ({CIRCA}); set CIRCA_BIN")
class AgainstCirca(unittest.TestCase):
    """Random models (peepholes and biases far from their training init) through circa's float golden model."""

    def check(self, model, input_dim=21):
        rng = np.random.default_rng(5)
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "m.safetensors")
            cmvn = np.stack([rng.standard_normal(input_dim), rng.uniform(0.5, 2, input_dim)]).astype(np.float32)
            st.export(model, path, kaldi_phones(), cmvn)
            utts = [(f"u{i}", rng.standard_normal((n, input_dim)).astype(np.float32)) for i, n in enumerate((9, 30))]
            ark, scp = os.path.join(tmp, "f.ark"), os.path.join(tmp, "f.scp")
            kaldi.write_ark_scp(ark, scp, utts)
            diff, agree, _ = circa_io.compare_float(CIRCA, path, scp, 2)
            self.assertLess(diff, 1e-4)

    def test_lstmp_mixed_blocks(self):
        self.check(random_model("lstmp", {"layers.0.w_x": 4, "layers.0.w_r": 2, "layers.1.w_proj": 16}))

    def test_lstm_without_projection(self):
        self.check(random_model("lstmp", {}, proj=0))

    def test_gru(self):
        self.check(random_model("gru", {"layers.1.w_x": 16}))

    def test_dense(self):
        self.check(random_model("lstmp", {n: 1 for n in nets.matrix_names("lstmp", 2, 16)}))


@unittest.skipUnless(RUN_AGAINST_CIRCA, f"circa not built ({CIRCA}); set CIRCA_BIN")
class BundledDefault(unittest.TestCase):
    """The embedded default (models/default.safetensors, data/test.*, from scripts/make-default): a trained model
    that the 16-bit datapath of platform/configs/default.ini runs as the float model does, frame by frame."""

    def test_fixed_agrees_with_float_on_the_bundled_utterances(self):
        model = os.path.join(ROOT, "models", "default.safetensors")
        scp, ali = (os.path.join(ROOT, "data", "test." + e) for e in ("scp", "ali"))
        _, per_float, lp_float = circa_io.run(CIRCA, model, scp, labels=ali, functional=True, precision="float",
                                              out=True)
        _, per_fixed, lp_fixed = circa_io.run(CIRCA, model, scp, labels=ali, functional=True, precision="fixed",
                                              out=True)
        self.assertEqual(sorted(lp_float), sorted(lp_fixed))
        agree = np.concatenate([lp_fixed[k].argmax(1) == lp_float[k].argmax(1) for k in lp_float])
        self.assertGreater(len(agree), 1000)
        self.assertGreaterEqual(100.0 * agree.mean(), 99.0)
        # A trained model: far better than chance on its own test utterances.
        self.assertLess(per_float, 50.0)
        self.assertLess(per_fixed, 50.0)

    def test_run_without_arguments_prints_per(self):
        # On the virtual platform, from another folder: circa finds the embedded default and its alignment.
        with tempfile.TemporaryDirectory() as tmp:
            p = subprocess.run([CIRCA, "run"], capture_output=True, text=True, cwd=tmp)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertRegex(p.stdout, r"(?m)^PER: [0-9.]+%$")


def kaldi_phones():
    return ["sil"] + [f"p{i}" for i in range(1, 39)]


if __name__ == "__main__":
    unittest.main()
