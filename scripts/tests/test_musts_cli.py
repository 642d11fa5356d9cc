"""`synack musts`: the MUST table is written from the cases' citations, --check notices a stale
table, and every way the traceability can break is an error naming what and where."""
import pathlib
import shutil
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
GOOD = ROOT / "conformance" / "handshake" / "passive-open-three-way-handshake.pkt"
BODY = "\n".join(l for l in GOOD.read_text().splitlines() if not l.startswith("//")) + "\n"
TSV = ("# id\tlevel\tsections\trequirement\n"
       "MUST-1\tMUST\t3.1\tWindow: Treat as unsigned number\n"
       "MUST-2\tMUST\t3.1\tTCP Checksums: Sender compute checksum\n"
       "SHLD-1\tSHOULD\t3.4.1\tISN Selection: Secure ISN generator\n")


def musts(binary, *args):
    return subprocess.run([str(binary), "musts", *map(str, args)], capture_output=True,
                          text=True, timeout=60)


@pytest.fixture
def suite(tmp_path):
    """A two-MUST suite: MUST-1 has a passing case, MUST-2 a reason in unchecked.txt."""
    (tmp_path / "requirements").mkdir()
    (tmp_path / "requirements" / "rfc9293.tsv").write_text(TSV)
    (tmp_path / "requirements" / "unchecked.txt").write_text("MUST-2 not observable here\n")
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "ok.pkt").write_text("// RFC 9293 3.5, MUST-1 and SHLD-1: a case.\n" + BODY)
    return tmp_path


def test_writes_the_table_and_check_accepts_it(synack_bin, suite):
    r = musts(synack_bin, suite)
    assert r.returncode == 0, r.stderr
    table = (suite / "MUSTS.md").read_text()
    assert "| MUST-1 | MUST | 3.1 | Window: Treat as unsigned number | [a/ok.pkt](a/ok.pkt) (pass) |" in table
    assert "| MUST-2 | MUST | 3.1 | TCP Checksums: Sender compute checksum | no case: not observable here |" in table
    assert "| SHLD-1 | SHOULD | 3.4.1 |" in table
    assert "| RFC 9293 | 1: [ok](a/ok.pkt) |" in table
    assert musts(synack_bin, "--check", suite).returncode == 0


def test_linux_verdicts_come_from_its_known_list_and_the_real_time_cut(synack_bin, suite):
    (suite / "a" / "long.pkt").write_text(
        "// RFC 9293 3.5, MUST-1: a case that lasts 200 s.\n" + BODY + "+200 > none\n")
    (suite / "a" / "other.pkt").write_text("// RFC 9293 3.5, MUST-1: another case.\n" + BODY)
    (suite / "known").mkdir()
    (suite / "known" / "linux.txt").write_text("a/other.pkt  Linux does otherwise\n")
    r = musts(synack_bin, suite)
    assert r.returncode == 0, r.stderr
    table = (suite / "MUSTS.md").read_text()
    assert "[a/ok.pkt](a/ok.pkt) (inproc pass, linux pass)" in table
    assert "[a/other.pkt](a/other.pkt) (inproc pass, linux known)" in table
    assert "[a/long.pkt](a/long.pkt) (inproc pass, linux not run, 200 s)" in table


def test_check_fails_when_the_table_is_stale(synack_bin, suite):
    assert musts(synack_bin, suite).returncode == 0
    (suite / "a" / "ok.pkt").write_text((suite / "a" / "ok.pkt").read_text().replace("MUST-1", "MUST-2"))
    (suite / "requirements" / "unchecked.txt").write_text("MUST-1 not observable here\n")
    r = musts(synack_bin, "--check", suite)
    assert r.returncode == 1
    assert "MUSTS.md is stale" in r.stderr


def test_a_must_with_neither_case_nor_reason_is_an_error(synack_bin, suite):
    (suite / "requirements" / "unchecked.txt").write_text("")
    r = musts(synack_bin, suite)
    assert r.returncode == 1
    assert "MUST-2 (TCP Checksums: Sender compute checksum) has no case" in r.stderr
    assert "**not covered**" in (suite / "MUSTS.md").read_text()


def test_a_must_with_both_case_and_reason_is_an_error(synack_bin, suite):
    (suite / "requirements" / "unchecked.txt").write_text("MUST-1 but it has a case\nMUST-2 x\n")
    r = musts(synack_bin, suite)
    assert r.returncode == 1
    assert "MUST-1 has cases and an unchecked.txt entry" in r.stderr


def test_an_unknown_id_or_no_rfc_names_the_file_and_line(synack_bin, suite):
    (suite / "a" / "bad.pkt").write_text("// RFC 9293, MUST-99\n" + BODY)
    (suite / "a" / "bare.pkt").write_text("// a case that names nothing\n" + BODY)
    r = musts(synack_bin, suite)
    assert r.returncode == 1
    assert f"{suite / 'a' / 'bad.pkt'}:1: MUST-99 is not a requirement id of RFC 9293" in r.stderr
    assert f"{suite / 'a' / 'bare.pkt'}:1: the opening comment names no RFC" in r.stderr


def test_a_failing_case_fails_unless_known(synack_bin, suite):
    text = (suite / "a" / "ok.pkt").read_text().replace("ack 1 <mss 1460,nop,nop,sackOK", "ack 2 <mss 1460,nop,nop,sackOK")
    (suite / "a" / "ok.pkt").write_text(text)
    r = musts(synack_bin, suite)
    assert r.returncode == 1 and "FAIL on inproc" in r.stderr
    (suite / "known").mkdir()
    (suite / "known" / "inproc.txt").write_text("a/ok.pkt  a reason\n")
    r = musts(synack_bin, suite)
    assert r.returncode == 0, r.stderr
    assert "[a/ok.pkt](a/ok.pkt) (known)" in (suite / "MUSTS.md").read_text()


def test_usage_errors_exit_2(synack_bin, tmp_path):
    assert musts(synack_bin).returncode == 2
    assert musts(synack_bin, "--bogus", tmp_path).returncode == 2
    r = musts(synack_bin, tmp_path)
    assert r.returncode == 1 and "rfc9293.tsv: cannot read" in r.stderr
