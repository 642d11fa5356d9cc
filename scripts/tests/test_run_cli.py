"""`synack run`: verdict lines, exit codes, --pcap, --junit, -j, --filter, and its errors."""
import pathlib
import subprocess
import xml.etree.ElementTree as ET

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
SUITE = ROOT / "conformance"
GOOD = SUITE / "handshake" / "passive-open-three-way-handshake.pkt"


def run(binary, *args):
    return subprocess.run([str(binary), "run", *map(str, args)], capture_output=True, text=True,
                          timeout=120)


def test_suite_passes_with_one_line_per_case_and_a_summary(synack_bin):
    r = run(synack_bin, SUITE)
    assert r.returncode == 0, r.stdout
    verdicts = [l for l in r.stdout.splitlines() if not l.startswith("    ")]
    cases = sorted(SUITE.rglob("*.pkt"))
    known = [l for l in (SUITE / "known" / "inproc.txt").read_text().splitlines()
             if l.split("#", 1)[0].strip()]
    assert len(verdicts) == len(cases) + 1
    assert sum(l.startswith("PASS ") for l in verdicts) == len(cases) - len(known)
    assert sum(l.startswith("KNOWN ") for l in verdicts) == len(known)
    summary = f"{len(cases) - len(known)} passed, 0 failed"
    if known:
        summary += f", {len(known)} known failures"
    assert verdicts[-1] == summary


def test_failure_and_script_error_exit_1(synack_bin, tmp_path):
    bad = tmp_path / "bad.pkt"
    bad.write_text(GOOD.read_text().replace("> S. 0:0(0) ack 1 <mss 1460,nop,nop,sackOK,nop,wscale 7>",
                                            "> S. 0:0(0) ack 9 <mss 1460,nop,nop,sackOK,nop,wscale 7>"))
    broken = tmp_path / "broken.pkt"
    broken.write_text("0 < S 0:0(0)\n")
    r = run(synack_bin, bad, broken)
    assert r.returncode == 1
    assert f"FAIL {bad}" in r.stdout and "ack (expected 9, actual 1)" in r.stdout
    assert f"ERROR {broken}" in r.stdout
    assert f"{broken}:1:13: error: inbound packets need 'win N'" in r.stdout
    assert r.stdout.splitlines()[-1] == "0 passed, 2 failed"


def test_pcap_per_case_reads_cleanly_in_tshark(synack_bin, tshark, tmp_path):
    out = tmp_path / "pcaps"
    r = run(synack_bin, "--pcap", out, SUITE / "time-wait")
    assert r.returncode == 0, r.stdout
    pcaps = sorted(out.glob("*.pcap"))
    assert len(pcaps) == len(list((SUITE / "time-wait").glob("*.pkt")))
    for p in pcaps:
        t = subprocess.run([tshark, "-n", "-r", str(p), "-T", "fields", "-e", "frame.number",
                            "-e", "_ws.malformed"], capture_output=True, text=True, timeout=60)
        assert t.returncode == 0, t.stderr
        rows = [l.split("\t") for l in t.stdout.splitlines()]
        assert len(rows) >= 4, p  # handshake both ways and more
        assert all(len(row) < 2 or row[1] == "" for row in rows), p


def test_junit_report_is_valid_xml_with_failures(synack_bin, tmp_path):
    bad = tmp_path / "bad.pkt"
    bad.write_text(GOOD.read_text().replace("ack 1 <mss 1460,nop", "ack 3 <mss 1460,nop"))
    report = tmp_path / "junit.xml"
    r = run(synack_bin, "--junit", report, GOOD, bad)
    assert r.returncode == 1
    suite = ET.parse(report).getroot().find("testsuite")
    assert suite.get("tests") == "2" and suite.get("failures") == "1"
    failure = [c for c in suite.iter("testcase") if c.find("failure") is not None]
    assert len(failure) == 1 and "ack (expected 3, actual 1)" in failure[0].find("failure").text


def test_parallel_jobs_give_the_same_verdicts(synack_bin):
    one = run(synack_bin, SUITE)
    four = run(synack_bin, "-j", "4", SUITE)
    strip = lambda out: [l.split(" (")[0] for l in out.splitlines()]
    assert strip(one.stdout) == strip(four.stdout)


def test_filter_selects_cases(synack_bin):
    r = run(synack_bin, "--filter", "*time-wait*", SUITE)
    assert r.returncode == 0
    assert all("time-wait" in l for l in r.stdout.splitlines()[:-1])
    expected = [c for c in SUITE.rglob("*.pkt") if "time-wait" in str(c)]
    assert len(expected) >= 3
    # conformance/known/inproc.txt lists no case, so the summary has no known-failure count.
    assert r.stdout.splitlines()[-1] == f"{len(expected)} passed, 0 failed"
    none = run(synack_bin, "--filter", "*nothing-matches*", SUITE)
    assert none.returncode == 1 and "no .pkt cases found matching the filter" in none.stderr


def test_verbose_traces_lines_and_segments(synack_bin):
    r = run(synack_bin, "-v", GOOD)
    assert "0.000000 < 192.168.0.2.40000 > 192.168.0.1.8080: Flags [S]" in r.stdout
    assert "0.000000 > 192.168.0.1.8080 > 192.168.0.2.40000: Flags [S.], seq 0, ack 1" in r.stdout


def test_usage_errors(synack_bin, tmp_path):
    assert run(synack_bin).returncode == 2
    assert "unknown target 'bsd'" in run(synack_bin, "--target", "bsd", SUITE).stderr
    assert "unknown option '--bogus'" in run(synack_bin, "--bogus", SUITE).stderr
    assert "-j needs" in run(synack_bin, "-j", "x", SUITE).stderr
    missing = run(synack_bin, tmp_path / "nope")
    assert missing.returncode == 1 and "no such file or directory" in missing.stderr
    assert run(synack_bin, "--help").stdout.startswith("Usage: synack run")


def test_known_failures_list(synack_bin, tmp_path):
    """A directory's known/<target>.txt: a listed failure is KNOWN and does not fail the run; a
    listed case that passes fails the run (the list must stay true); bad entries are errors."""
    suite = tmp_path / "suite"
    (suite / "known").mkdir(parents=True)
    (suite / "good.pkt").write_text(GOOD.read_text())
    (suite / "wrong.pkt").write_text(
        GOOD.read_text().replace("> S. 0:0(0) ack 1", "> S. 0:0(0) ack 9"))
    known = suite / "known" / "inproc.txt"

    known.write_text("# cases expected to fail on inproc\nwrong.pkt   on purpose: ack 9\n")
    r = run(synack_bin, suite)
    assert r.returncode == 0, r.stdout
    assert f"KNOWN {suite / 'wrong.pkt'}" in r.stdout
    assert f"known failure ({known}:2): on purpose: ack 9" in r.stdout
    assert "ack (expected 9, actual 1)" in r.stdout  # the failure itself is still shown
    assert r.stdout.splitlines()[-1] == "1 passed, 0 failed, 1 known failures"

    known.write_text("wrong.pkt on purpose\ngood.pkt stale entry\n")
    r = run(synack_bin, suite)
    assert r.returncode == 1
    assert f"FAIL {suite / 'good.pkt'}" in r.stdout
    assert "but it passed: remove it from the list" in r.stdout
    assert r.stdout.splitlines()[-1] == "0 passed, 1 failed, 1 known failures"

    r = run(synack_bin, "--no-known", suite)
    assert r.returncode == 1 and r.stdout.splitlines()[-1] == "1 passed, 1 failed"

    known.write_text("missing.pkt some reason\n")
    r = run(synack_bin, suite)
    assert r.returncode == 1
    assert f"{known}:1: no case 'missing.pkt' under {suite}" in r.stderr

    known.write_text("wrong.pkt\n")
    r = run(synack_bin, suite)
    assert r.returncode == 1
    assert f"{known}:1: 'wrong.pkt' needs a reason after the path" in r.stderr
