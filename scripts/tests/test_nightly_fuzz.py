"""scripts/nightly-fuzz.sh: its usage and errors, a short run over the real targets (from a copy
of the corpus, never the checkout's), and the crash path through the test-only crash_fuzzer.

The runs need the fuzz build and take a minute or more: they run when SYNACK_FUZZ_SLOW=1 (CTest
`nightly_fuzz` under the fuzz preset sets it) and skip with the reason otherwise.
"""
import os
import pathlib
import re
import shutil
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
SCRIPT = ROOT / "scripts/nightly-fuzz.sh"


def run(*args, timeout=900):
    return subprocess.run([str(SCRIPT), *map(str, args)], capture_output=True, text=True,
                          timeout=timeout)


def needs_fuzz_build():
    if os.environ.get("SYNACK_FUZZ_SLOW") != "1":
        pytest.skip("slow (fuzzing runs): set SYNACK_FUZZ_SLOW=1, or run "
                    "ctest --preset fuzz -R nightly_fuzz")
    if not (ROOT / "build/fuzz/CMakeCache.txt").is_file():
        pytest.skip("no fuzz build: cmake --preset fuzz && cmake --build --preset fuzz")


def files(d):
    return sorted(p.name for p in pathlib.Path(d).iterdir())


def test_help_lists_every_option_and_exits_0():
    r = run("--help")
    assert r.returncode == 0, r.stderr
    for option in ("--time SECONDS", "--jobs N", "--targets", "--out DIR", "--no-merge",
                   "--corpus-dir DIR", "--target-binary", "--minimize-time", "Exit status"):
        assert option in r.stdout, option
    assert run("-h").stdout == r.stdout


@pytest.mark.parametrize("args, message", [
    ((), "--time SECONDS is required"),
    (("--time", "0"), "--time wants a positive whole number, got '0'"),
    (("--time", "ten"), "--time wants a positive whole number, got 'ten'"),
    (("--time", "5", "--jobs", "-1"), "--jobs wants a positive whole number"),
    (("--time", "5", "--targets", "wire_fuzzer,nope"), "unknown target 'nope' (known: "),
    (("--time", "5", "--frobnicate"), "unknown argument '--frobnicate'"),
    (("--time", "5", "--out"), "--out needs a value"),
    (("--time", "5", "--corpus-dir", "/nonexistent"), "no such directory: /nonexistent"),
    (("--time", "5", "--target-binary", "/nonexistent/x_fuzzer"), "not an executable file"),
])
def test_usage_errors_exit_2_and_say_what(args, message):
    r = run(*args)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert message in r.stderr
    assert "--help" in r.stderr
    assert r.stdout == ""


def test_unknown_target_lists_the_targets_from_fuzz_cmakelists():
    r = run("--time", "5", "--targets", "nope")
    assert "wire_fuzzer" in r.stderr and "script_fuzzer" in r.stderr


def test_short_run_merges_into_the_given_corpus_and_reports_coverage(tmp_path):
    needs_fuzz_build()
    corpus = tmp_path / "corpus"
    # A few seeds each (the first 20 by name): from the whole corpus, which nightly runs have
    # saturated, 10 s may find nothing new to merge.
    for t in ("wire_fuzzer", "script_fuzzer"):
        (corpus / t).mkdir(parents=True)
        for seed in sorted((ROOT / "corpus" / t).iterdir())[:20]:
            shutil.copy(seed, corpus / t / seed.name)
    checkout_before = {t: files(ROOT / "corpus" / t) for t in ("wire_fuzzer", "script_fuzzer")}
    seeds_before = {t: set(files(corpus / t)) for t in ("wire_fuzzer", "script_fuzzer")}
    out = tmp_path / "out"
    r = run("--time", 20, "--targets", "wire_fuzzer,script_fuzzer", "--out", out,
            "--corpus-dir", corpus)
    assert r.returncode == 0, r.stdout + r.stderr
    # Progress while it runs, per target.
    # (A loaded machine prints the 10 s mark a second or two late: the count is not checked.)
    for t in ("wire_fuzzer", "script_fuzzer"):
        assert re.search(rf"\[nightly-fuzz\] {t}: 1\d/10 s, execs \d+", r.stdout), r.stdout
        assert f"[nightly-fuzz] {t}: done after" in r.stdout
    seeds = len(seeds_before["script_fuzzer"])
    assert f"from {seeds} seeds and fuzz/script_fuzzer.dict" in r.stdout, r.stdout
    lines = [l for l in r.stdout.splitlines() if l.startswith("coverage stack/: lines ")]
    assert len(lines) == 1, r.stdout
    assert "; stack/tcp/: lines " in lines[0] and "branches" in lines[0]
    assert (out / "coverage/html/index.html").is_file()
    assert r.stdout.rstrip().endswith("no crashes")
    # New inputs merged into the given corpus, the seeds kept; the checkout's corpus untouched.
    for t in ("wire_fuzzer", "script_fuzzer"):
        after = set(files(corpus / t))
        assert seeds_before[t] < after, t
        assert files(ROOT / "corpus" / t) == checkout_before[t]
    assert not (out / "crashes").exists()


def test_a_crash_exits_1_with_a_minimized_input_and_how_to_reproduce_it(tmp_path):
    needs_fuzz_build()
    binary = pathlib.Path(os.environ.get("SYNACK_CRASH_FUZZER",
                                         ROOT / "build/fuzz/scripts/crash_fuzzer"))
    if not binary.is_file():
        pytest.skip(f"{binary} not built: cmake --build --preset fuzz --target crash_fuzzer")
    corpus = tmp_path / "corpus"
    (corpus / "crash_fuzzer").mkdir(parents=True)
    (corpus / "crash_fuzzer/seed").write_bytes(b"CRAXX plus a tail to minimize away")
    out = tmp_path / "out"
    r = run("--time", 10, "--target-binary", binary, "--out", out, "--corpus-dir", corpus,
            "--no-merge", "--minimize-time", 10)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "1 new crash(es):" in r.stdout, r.stdout
    # Grouped by what the target printed and where it aborted.
    assert "input starts with CRASH at LLVMFuzzerTestOneInput fuzz/testdata/crash_fuzzer.cc" in r.stdout
    assert "coverage: skipped" in r.stdout
    # --no-merge: the corpus is as it was.
    assert files(corpus / "crash_fuzzer") == ["seed"]
    crashes = out / "crashes/crash_fuzzer"
    minimized = sorted(crashes.glob("crash-*.min"))
    notes = sorted(crashes.glob("crash-*.txt"))
    assert len(notes) == 1, files(crashes)
    name = notes[0].name[:-len(".txt")]
    assert (crashes / (name + ".min")).read_bytes() == b"CRASH"
    assert "input starts with CRASH" in (crashes / (name + ".log")).read_text()
    assert name in (crashes / "README.md").read_text()
    # The note's command reproduces it.
    note = notes[0].read_text()
    command = next(l for l in note.splitlines() if l.startswith("reproduce:"))
    argv = command.split(":", 1)[1].split()
    assert argv == [str(binary), str(crashes / (name + ".min"))]
    again = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert again.returncode != 0
    assert "input starts with CRASH" in again.stderr
    assert len(minimized) >= 1
