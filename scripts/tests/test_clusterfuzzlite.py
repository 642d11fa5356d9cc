""".clusterfuzzlite/: build.sh run as ClusterFuzzLite runs it (its compilers, flags, engine and
$OUT; a temporary $WORK), then every target it built runs on its own seed corpus.

Docker is not needed: the build runs here with clang-14. It takes a minute or two: it runs when
SYNACK_FUZZ_SLOW=1 (CTest `clusterfuzzlite_build` under the fuzz preset sets it).
"""
import os
import pathlib
import re
import shutil
import subprocess
import zipfile

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
CFL = ROOT / ".clusterfuzzlite"


def fuzz_targets():
    text = (ROOT / "fuzz/CMakeLists.txt").read_text()
    return re.findall(r"^\s*synack_fuzz_target\(NAME (\w+)", text, re.M)


def test_project_and_dockerfile_say_what_clusterfuzzlite_needs():
    assert re.search(r"^language: c\+\+$", (CFL / "project.yaml").read_text(), re.M)
    docker = (CFL / "Dockerfile").read_text()
    assert re.search(r"^FROM gcr\.io/oss-fuzz-base/base-builder\b", docker, re.M)
    for package in ("cmake", "ninja-build", "libpcap-dev", "libboost-dev", "pkg-config"):
        assert package in docker, package
    assert "COPY . $SRC/synack" in docker and "WORKDIR $SRC/synack" in docker
    assert "COPY .clusterfuzzlite/build.sh $SRC/" in docker
    assert os.access(CFL / "build.sh", os.X_OK)


def test_build_sh_needs_out_and_an_engine(tmp_path):
    env = {"PATH": os.environ["PATH"], "CXX": "clang++-14"}
    r = subprocess.run([str(CFL / "build.sh")], env=env, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode != 0 and "set OUT" in r.stderr


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    if os.environ.get("SYNACK_FUZZ_SLOW") != "1":
        pytest.skip("slow (a clang build): set SYNACK_FUZZ_SLOW=1, or run "
                    "ctest --preset fuzz -R clusterfuzzlite_build")
    if not shutil.which("clang++-14"):
        pytest.skip("clang++-14 not found: scripts/bootstrap.sh")
    base = tmp_path_factory.mktemp("cfl")
    out, work = base / "out", base / "work"
    flags = "-fsanitize=address,fuzzer-no-link -g -O1"
    env = dict(os.environ, CC="clang-14", CXX="clang++-14", CFLAGS=flags, CXXFLAGS=flags,
               LIB_FUZZING_ENGINE="-fsanitize=fuzzer", OUT=str(out), WORK=str(work))
    r = subprocess.run([str(CFL / "build.sh")], env=env, capture_output=True, text=True,
                       timeout=1200)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-4000:]
    return base, out, work


def test_every_target_is_built_with_its_seeds_dictionary_and_options(built):
    _, out, work = built
    targets = fuzz_targets()
    assert "wire_fuzzer" in targets and "script_fuzzer" in targets
    for t in targets:
        assert os.access(out / t, os.X_OK), t
        assert "max_len = " in (out / f"{t}.options").read_text()
        if (ROOT / f"fuzz/{t}.dict").is_file():
            assert (out / f"{t}.dict").read_bytes() == (ROOT / f"fuzz/{t}.dict").read_bytes()
    # The build stayed under $WORK, out of the source tree.
    assert (work / "synack-build/CMakeCache.txt").is_file()
    cache = (work / "synack-build/CMakeCache.txt").read_text()
    assert "SYNACK_TESTS:BOOL=OFF" in cache and "SYNACK_FUZZ:BOOL=ON" in cache
    assert "-fsanitize=address,fuzzer-no-link -g -O1" in cache


@pytest.mark.parametrize("target", fuzz_targets())
def test_seed_zip_is_the_corpus_and_the_target_runs_on_it(built, target):
    base, out, _ = built
    seeds = out / f"{target}_seed_corpus.zip"
    with zipfile.ZipFile(seeds) as z:
        assert z.testzip() is None
        assert sorted(z.namelist()) == sorted(p.name for p in (ROOT / "corpus" / target).iterdir())
        unzipped = base / f"{target}-seeds"
        z.extractall(unzipped)
    r = subprocess.run([str(out / target), "-runs=200", str(unzipped)], capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-4000:]
    assert "INITED" in r.stderr and re.search(r"Done \d+ runs", r.stderr), r.stderr[-2000:]
