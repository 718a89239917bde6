# Makefile — thin front end over CMake.
#   make            build inboxsync, libinboxsync and m365sim (build/)
#   make test       install deps, build with -Werror, run the whole suite,
#                   then the same suite under ASan+UBSan (build-asan/)
#   make demo       install deps, build, run the demo against m365sim
#   make bench      run the benchmarks (prints one JSON line per figure)
#   make fuzz       build the libFuzzer targets with clang and run each briefly
#   make deps       install the Debian packages (scripts/install-deps.sh)
#   make deb        build the Debian packages into build-deb/ (inboxsync,
#                   inboxsync-sim) with dpkg-buildpackage
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
BUILD ?= build
CMAKE_FLAGS ?=

.PHONY: all build deps test test-fast test-asan demo bench fuzz deb clean

all: build

build:
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

deps:
	@bash scripts/install-deps.sh

test: deps
	@$(MAKE) --no-print-directory test-fast CMAKE_FLAGS="-DINBOXSYNC_WERROR=ON"
	@$(MAKE) --no-print-directory test-asan
	@$(MAKE) --no-print-directory fuzz

test-fast: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-asan:
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DINBOXSYNC_SANITIZE=ON -DINBOXSYNC_WERROR=ON >/dev/null
	@cmake --build build-asan -j $(JOBS)
	@cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		ctest --output-on-failure -j $(JOBS) -LE slow

demo: deps build
	@bash scripts/demo.sh

bench: deps
	@$(MAKE) --no-print-directory build >&2
	@bash bench/run.sh

fuzz: deps
	@bash tests/fuzz/run.sh

deb: deps
	@JOBS=$(JOBS) bash scripts/build-deb.sh build-deb

clean:
	rm -rf build build-asan build-fuzz build-deb
