"""Every conformance case must be able to fail.

For each .pkt under conformance/, a copy with one expected field altered (an outbound
segment's ack or sequence number, or a "> none" turned into an expected segment) is run with
`synack run`; it must fail, and the diagnostic must name the altered line and what differed.
"""
import pathlib
import re
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
CASES = sorted((ROOT / "conformance").rglob("*.pkt"))


def _known_failures():
    """conformance/known/inproc.txt: case path relative to conformance/ -> reason."""
    known = {}
    path = ROOT / "conformance" / "known" / "inproc.txt"
    for line in path.read_text().splitlines() if path.exists() else []:
        line = line.split("#", 1)[0].strip()
        if line:
            rel, _, reason = line.partition(" ")
            known[rel] = reason.strip()
    return known


KNOWN = _known_failures()
OUTBOUND = re.compile(r"^(?P<head>\s*\S+\s+>\s+[SFPR.EWU-]+\s+)(?P<start>\d+):(?P<end>\d+)"
                      r"(?P<mid>\((?P<len>\d+)\)(?:\s+ack\s+(?P<ack>\d+))?)")


def mutate(text):
    """Returns (mutated text, 1-based line number, expected diagnostic fragment)."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        m = OUTBOUND.match(line)
        if m and m["ack"] is not None:
            new_ack = int(m["ack"]) + 1
            lines[i] = line[:m.start("ack")] + str(new_ack) + line[m.end("ack"):]
            return "\n".join(lines) + "\n", i + 1, f"ack (expected {new_ack},"
    for i, line in enumerate(lines):
        m = OUTBOUND.match(line)
        # A SYN's sequence number defines the target's ISN for the rest of the script: it is
        # right by construction, so alter a later segment's instead.
        if not m or "S" in m["head"].split()[-1]:
            continue
        start, end = int(m["start"]) + 1, int(m["end"]) + 1
        lines[i] = line[:m.start("start")] + f"{start}:{end}" + line[m.end("end"):]
        return "\n".join(lines) + "\n", i + 1, f"seq (expected {start},"
    for i, line in enumerate(lines):
        if re.match(r"^\s*\S+\s+>\s+none\s*$", line):
            lines[i] = line.replace("none", ". 0:0(0) ack 0")
            return "\n".join(lines) + "\n", i + 1, "did not arrive"
    for i, line in enumerate(lines):
        # A retransmission expected at +N seconds: expect it half a second later instead.
        t = re.match(r"^(\s*)\+(\d+(?:\.\d+)?)(\s+>\s+)", line)
        if t and float(t[2]) >= 1:
            lines[i] = f"{t[1]}+{float(t[2]) + 0.5}{t[3]}" + line[t.end():]
            return "\n".join(lines) + "\n", i + 1, "too early"
    for i, line in enumerate(lines):
        g = re.search(r"getsockopt\(.*SO_ERROR, \[(\w+)\]", line)
        if g:
            other = "ETIMEDOUT" if g[1] != "ETIMEDOUT" else "ECONNREFUSED"
            lines[i] = line[:g.start(1)] + other + line[g.end(1):]
            return "\n".join(lines) + "\n", i + 1, "getsockopt gave"
    raise AssertionError("no expectation to alter")


def test_there_are_at_least_25_cases():
    assert len(CASES) >= 25


@pytest.mark.parametrize("case", CASES, ids=[str(c.relative_to(ROOT / "conformance")) for c in CASES])
def test_case_passes_and_a_wrong_expectation_fails(synack_bin, case, tmp_path):
    rel = str(case.relative_to(ROOT / "conformance"))
    if rel in KNOWN:
        pytest.skip(f"known failure on inproc (conformance/known/inproc.txt): {KNOWN[rel]}")
    ok = subprocess.run([str(synack_bin), "run", str(case)], capture_output=True, text=True,
                        timeout=60)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    text, line, fragment = mutate(case.read_text())
    mutant = tmp_path / case.name
    mutant.write_text(text)
    bad = subprocess.run([str(synack_bin), "run", str(mutant)], capture_output=True, text=True,
                         timeout=60)
    assert bad.returncode == 1, bad.stdout
    assert f"{mutant}:{line}:" in bad.stdout, bad.stdout
    assert fragment in bad.stdout, bad.stdout
    assert bad.stdout.rstrip().endswith("0 passed, 1 failed")
