# Build-wide instrumentation chosen by the presets. Applied with add_compile_options so that
# every target, including the gtest and benchmark mains we compile, is instrumented alike.
if(SYNACK_SANITIZE)
  # -fno-sanitize-recover: a UBSan finding fails the test instead of printing and carrying on.
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=all
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined -fno-sanitize-recover=all)
endif()

# Off (preset fuzz-nosan): libFuzzer alone, to measure what the sanitizers cost in exec/s.
option(SYNACK_FUZZ_SANITIZE "Build the fuzz targets with ASan + UBSan (standalone builds)" ON)

if(SYNACK_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "SYNACK_FUZZ needs clang (libFuzzer); configure with the 'fuzz' preset")
  endif()
  # Coverage feedback from the code under test only (fuzz/coverage-allowlist.txt says why). Also
  # under OSS-Fuzz / ClusterFuzzLite, where it narrows the -fsanitize=fuzzer-no-link of CXXFLAGS.
  # The compiler does not report the list as a dependency: its hash in the flags rebuilds
  # everything when it changes (and CMake re-runs when it does).
  set(allowlist ${PROJECT_SOURCE_DIR}/fuzz/coverage-allowlist.txt)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${allowlist})
  file(MD5 ${allowlist} allowlist_md5)
  add_compile_options(-fsanitize-coverage-allowlist=${allowlist}
                      -DSYNACK_COVERAGE_ALLOWLIST=${allowlist_md5})
  # The parsers' own fuzzers (wire_fuzzer, script_fuzzer) link copies of the codec and the
  # script parser built with a second list added (clang takes the union of the lists): the
  # libraries synack_wire_fuzzcov and synack_script_fuzzcov (harness/). Everything else links
  # the uninstrumented ones.
  set(parsers_allowlist ${PROJECT_SOURCE_DIR}/fuzz/coverage-allowlist-parsers.txt)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${parsers_allowlist})
  file(MD5 ${parsers_allowlist} parsers_allowlist_md5)
  set(SYNACK_PARSER_COVERAGE -fsanitize-coverage-allowlist=${parsers_allowlist}
                             -DSYNACK_COVERAGE_PARSERS=${parsers_allowlist_md5})
  # The stack's comparisons are not traced (-fsanitize-coverage=trace-cmp, on by default): they
  # feed libFuzzer's table of compared values, which only its own byte mutations read, and the
  # stack's two fuzzers mutate typed inputs (session_fuzzer never asks for a byte mutation,
  # pair_fuzzer for one mutation in eight). Tracing them cost about a fifth of session_fuzzer's
  # time under ASan (perf). Edge coverage stays. Applied to the stack's sources by
  # SYNACK_NO_TRACE_CMP (stack/CMakeLists.txt, fuzz/CMakeLists.txt), and to the harness
  # codec's checksum loop (harness/CMakeLists.txt).
  set(SYNACK_NO_TRACE_CMP -fno-sanitize-coverage=trace-cmp)
  # OSS-Fuzz and ClusterFuzzLite pass their own engine and sanitizer flags through CXXFLAGS and
  # LIB_FUZZING_ENGINE; only add ours when building standalone.
  if(DEFINED ENV{LIB_FUZZING_ENGINE})
    # May hold several flags (or a library path): one link argument each.
    separate_arguments(SYNACK_FUZZ_ENGINE UNIX_COMMAND "$ENV{LIB_FUZZING_ENGINE}")
  elseif(SYNACK_FUZZ_SANITIZE)
    add_compile_options(-fsanitize=fuzzer-no-link,address,undefined
                        -fno-sanitize-recover=all -fno-omit-frame-pointer)
    add_link_options(-fsanitize=address,undefined)
    set(SYNACK_FUZZ_ENGINE "-fsanitize=fuzzer")
  else()
    add_compile_options(-fsanitize=fuzzer-no-link)
    # The programs that are not fuzz targets (the CLI, the tests) need the coverage callbacks'
    # definitions too; with ASan the sanitizer runtime brings them.
    add_link_options(-fsanitize=fuzzer-no-link)
    set(SYNACK_FUZZ_ENGINE "-fsanitize=fuzzer")
  endif()
endif()

if(SYNACK_COVERAGE)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "SYNACK_COVERAGE needs clang; configure with the 'coverage' preset")
  endif()
  add_compile_options(-fprofile-instr-generate -fcoverage-mapping)
  add_link_options(-fprofile-instr-generate)
endif()
