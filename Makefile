# Makefile — thin front end over CMake.
#   make            build inboxsync, libinboxsync and m365sim (build/)
#   make test       install deps, build with -Werror, run the whole suite,
#                   then the same suite under ASan+UBSan (build-asan/), the
#                   fuzzers briefly, cppcheck, and most unit tests under
#                   valgrind (the CI command: .ci/run)
#   make demo       install deps, build, run the demo against m365sim
#   make bench      run the benchmarks (prints one JSON line per figure)
#   make soak       serve with 200 accounts on m365sim for 10 minutes under
#                   random faults (ctest label soak; figures in
#                   build/soak-report.json)
#   make fuzz       build the libFuzzer targets with clang and run each briefly
#   make fuzz-long  run each fuzz target for FUZZ_RUNS executions (10 million),
#                   one after another, then report their coverage
#   make analyze    cppcheck, clang-tidy and scan-build over src/ and sim/
#   make valgrind   the unit tests and a few scenario tests under memcheck
#   make secret-scan  the scenario tests, then a search of all they left for
#                   every secret and token the simulator handed out
#   make deps       install the Debian packages (scripts/install-deps.sh)
#   make deb        build the Debian packages into build-deb/ (inboxsync,
#                   inboxsync-sim) with dpkg-buildpackage
# docs/testing.md says what runs where and how long it takes.
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
BUILD ?= build
CMAKE_FLAGS ?=
FUZZ_RUNS ?= 10000000

.PHONY: all build deps test test-fast test-asan demo bench soak fuzz fuzz-long \
	fuzz-coverage analyze analyze-ci valgrind valgrind-ci secret-scan deb clean

all: build

build:
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

deps:
	@bash scripts/install-deps.sh

test: deps
	@$(MAKE) --no-print-directory test-fast CMAKE_FLAGS="-DINBOXSYNC_WERROR=ON"
	@$(MAKE) --no-print-directory test-asan
	@FUZZ_SECONDS=$(CI_FUZZ_SECONDS) $(MAKE) --no-print-directory fuzz
	@$(MAKE) --no-print-directory analyze-ci
	@$(MAKE) --no-print-directory valgrind-ci

# The full soak (label soak) is `make soak`'s, not the suite's.
test-fast: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS) -LE 'soak|long'

test-asan:
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DINBOXSYNC_SANITIZE=ON -DINBOXSYNC_WERROR=ON >/dev/null
	@cmake --build build-asan -j $(JOBS)
	@cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		ctest --output-on-failure -j $(JOBS) -LE 'slow|torture'

demo: deps build
	@bash scripts/demo.sh

bench: deps
	@$(MAKE) --no-print-directory build >&2
	@bash bench/run.sh

soak: deps build
	@cd $(BUILD) && ctest --output-on-failure -L soak

fuzz: deps
	@bash tests/fuzz/run.sh

deb: deps
	@JOBS=$(JOBS) bash scripts/build-deb.sh build-deb

fuzz-long: deps
	@FUZZ_RUNS=$(FUZZ_RUNS) bash tests/fuzz/run.sh
	@bash tests/fuzz/coverage.sh

fuzz-coverage: deps
	@bash tests/fuzz/coverage.sh

analyze: deps
	@BUILD=$(BUILD) JOBS=$(JOBS) bash scripts/analyze.sh

# What `make test` (CI) runs of the fuzzers, analyzers and valgrind, to
# stay well inside its time (docs/testing.md): each fuzz target for 8 s;
# cppcheck (clang-tidy and scan-build take 4 to 8 minutes each: `make
# analyze`); valgrind over the unit tests but the two slowest (5 minutes
# together) and one scenario (`make valgrind` runs five).
CI_FUZZ_SECONDS ?= 8
CI_ANALYZERS ?= cppcheck
CI_VALGRIND_SKIP ?= test_sim_render test_sim_scale test_send_alloc_torture \
	test_imap_send_alloc_torture
CI_VALGRIND_SCENARIOS ?= test_hostile_text

analyze-ci:
	@BUILD=$(BUILD) JOBS=$(JOBS) ANALYZERS="$(CI_ANALYZERS)" bash scripts/analyze.sh

valgrind: deps
	@BUILD=$(BUILD) bash tests/valgrind.sh

valgrind-ci:
	@BUILD=$(BUILD) VALGRIND_SKIP="$(CI_VALGRIND_SKIP)" \
		VALGRIND_SCENARIOS="$(CI_VALGRIND_SCENARIOS)" bash tests/valgrind.sh

secret-scan: deps build
	@BUILD=$(BUILD) bash tests/secret_scan.sh

clean:
	rm -rf build build-asan build-fuzz build-fuzz-cov build-scan
