#!/usr/bin/env python3
"""Every document the repository's text names must be in the repository.

Walks the source tree (code comments, docs, README, scripts, CMake files, configs) and checks two kinds of reference:

- a Markdown document, by path or by bare name ("docs/formats.md", "ARCHITECTURE.md's equations", "perf.md"): a path
  resolves from the repository root or from the referencing file's folder; a bare name resolves to a file of exactly
  that name (case included) at the root, in docs/, or beside the referencing file;
- a path into one of the repository's own folders ("core/fixed.hpp", "platform/configs/default.ini",
  "sc_models/accel_controller", "scripts/setup"): it must exist, from the root or from the referencing file's folder;
  without an extension, as a file, a folder, or a file stem (sc_models/accel_controller.*).

Not references: addresses (anything after "://"), patterns (*, <, {, $, or a placeholder in capitals such as
platform/devices/NAME.ini), a path inside another (DIR/models/x.safetensors), and in code a string literal that is
just a file name ("table.md", "/docs/formats.md": names a program builds, not documents the text points at). Prints one line per unresolved
reference, "file:line: 'ref' names no file in the repository", and exits 1 if there is any.

    check_references.py [ROOT]      # default: the repository this script is in
    check_references.py --self-test # the checker on a small tree it makes, with and without a broken reference
"""
import glob
import os
import re
import sys
import tempfile

# Folders that are not the project's text: build trees, generated corpora and training runs, fuzz seeds (binary).
SKIP_DIRS = {".git", "build", "corpus", "train-runs", "__pycache__", "node_modules", "reports", "out"}
SKIP_PATHS = {os.path.join("tests", "fuzz", "corpus"), os.path.join("traces", "out")}
TEXT_EXT = {".md", ".cpp", ".hpp", ".h", ".c", ".py", ".txt", ".ini", ".json", ".cmake", ".sh", ".in"}
# The repository's own top-level folders: a path starting with one of these is a reference into the repository.
OWN_DIRS = ("core", "sc_models", "platform", "sw_driver", "traces", "tests", "scripts", "docs", "models", "data",
            ".ci")
FILE_EXT = ("md", "cpp", "hpp", "h", "c", "py", "ini", "txt", "json", "safetensors", "ark", "scp", "ali", "npy",
            "cmake", "sh")

# Any path into the repository's folders, extension or not; those with one are PATH_REF's.
ANY_PATH_REF = re.compile(r"(?<![\w./-])(?:%s)/[A-Za-z0-9_.\-/]*[A-Za-z0-9_]" % "|".join(re.escape(d) for d in OWN_DIRS))
MD_REF = re.compile(r"[A-Za-z0-9_.\-/]*[A-Za-z0-9_\-]\.md\b")
PATH_REF = re.compile(r"(?<![\w./-])(?:%s)/[A-Za-z0-9_.\-/]+\.(?:%s)\b" % (
    "|".join(re.escape(d) for d in OWN_DIRS), "|".join(FILE_EXT)))


def text_files(root):
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        dirnames[:] = sorted(d for d in dirnames
                             if d not in SKIP_DIRS and os.path.normpath(os.path.join(rel_dir, d)) not in SKIP_PATHS)
        for name in sorted(filenames):
            path = os.path.join(dirpath, name)
            ext = os.path.splitext(name)[1]
            if ext in TEXT_EXT or name == "CMakeLists.txt":
                yield path
            elif ext == "" and os.path.isfile(path):
                try:
                    with open(path, "rb") as f:
                        if f.read(2) == b"#!":
                            yield path  # scripts
                except OSError:
                    pass


def is_address_or_pattern(line, start, end):
    before = line[max(0, start - 200):start]
    token_start = max(before.rfind(" "), before.rfind("("), before.rfind("<"), before.rfind("\""), before.rfind("'"))
    word = before[token_start + 1:] + line[start:end]
    return "://" in word or any(c in word for c in "*<{$")


CODE_EXT = {".cpp", ".hpp", ".h", ".c", ".py"}


def is_literal(line, start, end):
    return 0 < start and end < len(line) and line[start - 1] in "\"'" and line[end] == line[start - 1]


def is_placeholder(ref):
    return any(re.fullmatch(r"[A-Z]+", os.path.splitext(part)[0]) for part in ref.split("/"))


def resolves(root, referrer_dir, ref, bare_ok, stem_ok=False):
    ref = ref.lstrip("/")
    candidates = [os.path.join(root, ref), os.path.join(referrer_dir, ref)]
    if bare_ok and "/" not in ref:
        candidates.append(os.path.join(root, "docs", ref))
    if any(os.path.exists(c) for c in candidates):
        return True
    return stem_ok and any(glob.glob(glob.escape(c) + ".*") for c in candidates)


def unresolved(root):
    found = []
    for path in text_files(root):
        try:
            with open(path, encoding="utf-8") as f:
                lines = f.read().split("\n")
        except (UnicodeDecodeError, OSError):
            continue
        rel = os.path.relpath(path, root)
        if rel == os.path.join("tests", "docs", "check_references.py"):
            continue  # its self-test names missing files on purpose
        here = os.path.dirname(path)
        code = os.path.splitext(path)[1] in CODE_EXT
        for n, line in enumerate(lines, 1):
            for pattern, bare_ok in ((MD_REF, True), (PATH_REF, False), (ANY_PATH_REF, False)):
                for m in pattern.finditer(line):
                    ref = m.group(0).lstrip("./") if m.group(0).startswith("./") else m.group(0)
                    extensionless = pattern is ANY_PATH_REF
                    if extensionless and "." in os.path.basename(ref):
                        continue  # PATH_REF's, or a name with a dot that is not an extension we know
                    if is_address_or_pattern(line, m.start(), m.end()) or line[m.end():m.end() + 1] == "*":
                        continue
                    if code and is_literal(line, m.start(), m.end()):
                        continue
                    if not bare_ok and is_placeholder(ref):
                        continue
                    if not resolves(root, here, ref, bare_ok, stem_ok=extensionless):
                        found.append("%s:%d: '%s' names no file in the repository" % (rel, n, ref))
    return sorted(set(found))


def self_test():
    with tempfile.TemporaryDirectory() as d:
        os.makedirs(os.path.join(d, "docs"))
        os.makedirs(os.path.join(d, "core"))
        with open(os.path.join(d, "docs", "architecture.md"), "w") as f:
            f.write("# x\nSee core/fixed.hpp and README.md.\n")
        with open(os.path.join(d, "README.md"), "w") as f:
            f.write("docs/architecture.md, architecture.md, https://example.org/ELSEWHERE.md, docs/*.md\n")
        with open(os.path.join(d, "core", "fixed.hpp"), "w") as f:
            f.write("// circa: fixed point (docs/architecture.md, \"Fixed point\").\n")
        good = unresolved(d)
        with open(os.path.join(d, "core", "fixed.hpp"), "a") as f:
            f.write("// as ARCHITECTURE.md's equations say; see docs/missing.md and core/gone.cpp, core/fixed and core/nothing\n")
        bad = unresolved(d)
    want = ["core/fixed.hpp:2: '%s' names no file in the repository" % r
            for r in ("ARCHITECTURE.md", "core/gone.cpp", "core/nothing", "docs/missing.md")]
    if good or bad != want:
        print("check_references self-test failed:\n  clean tree gave %r\n  broken tree gave %r\n  expected %r"
              % (good, bad, want))
        return 1
    print("check_references self-test: a clean tree passes; a missing document, a wrong-case name and a missing "
          "source path are each reported")
    return 0


def main(argv):
    if argv[1:] == ["--self-test"]:
        return self_test()
    root = argv[1] if len(argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    root = os.path.abspath(root)
    bad = unresolved(root)
    for line in bad:
        print(line)
    if bad:
        print("%d reference(s) to files the repository does not contain" % len(bad))
        return 1
    print("every document and repository path named in the tree exists")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
