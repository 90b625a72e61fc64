# finguard — the two commands a newcomer needs:
#   make run    install dependencies if missing, build, start the server (SQLite, ./var)
#   make test   build and run every test, then the same suite under ASan+UBSan
# and: make bench (benchmarks table), make soak (the long bank test), make fuzz (libFuzzer,
# clang), make format, make clean.
BUILD       ?= build
ASAN_BUILD  ?= build-asan
BENCH_BUILD ?= build-bench
FUZZ_BUILD  ?= build-fuzz
JOBS        ?= $(shell nproc 2>/dev/null || echo 2)
DATA_DIR    ?= $(CURDIR)/var
CTEST_ARGS  ?= --output-on-failure --timeout 900

.PHONY: all deps build run test test-fast test-asan bench soak fuzz format clean

all: build

deps:
	@scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

# Starts finguard on https://127.0.0.1:8443 with its data (database, self-signed TLS
# certificate, logs, outbox) in ./var. Stop it with Ctrl-C (graceful shutdown).
run: build
	@mkdir -p $(DATA_DIR)
	$(BUILD)/finguard serve --config etc/finguard.ini --data-dir $(DATA_DIR)

test: test-fast test-asan

test-fast: build
	@cd $(BUILD) && ctest $(CTEST_ARGS) -j $(JOBS)

test-asan: deps
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DFG_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)
	@cd $(ASAN_BUILD) && ctest $(CTEST_ARGS) -j $(JOBS)

bench:
	@scripts/install-deps.sh --bench
	@cmake -S . -B $(BENCH_BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(BENCH_BUILD) -j $(JOBS) >/dev/null
	@scripts/bench.sh $(BENCH_BUILD)

# The bank test at acceptance length (issue #5): 64 customers transfer for 60 s while the
# server is SIGKILLed and restarted every 5 s (tests/e2e/test_bank_crash.c; `make test` runs
# a short version).
SOAK_CLIENTS    ?= 64
SOAK_SECONDS    ?= 60
SOAK_KILL_EVERY ?= 5

soak: build
	@cd $(BUILD) && FG_BANK_CLIENTS=$(SOAK_CLIENTS) FG_BANK_SECONDS=$(SOAK_SECONDS) \
		FG_BANK_KILL_EVERY=$(SOAK_KILL_EVERY) ctest $(CTEST_ARGS) -R '^e2e_test_bank_crash$$'

fuzz: deps
	@command -v clang >/dev/null || (echo "make fuzz needs clang (apt-get install clang libclang-rt-14-dev)"; exit 2)
	@CC=clang cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=Debug -DFG_FUZZ=ON >/dev/null
	@cmake --build $(FUZZ_BUILD) -j $(JOBS)
	@scripts/fuzz.sh $(FUZZ_BUILD)

format:
	@clang-format -i $$(git ls-files 'src/*.c' 'src/*.h' 'tests/*.c' 'tests/*.h' 'bench/*.c' 'fuzz/*.c')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(BENCH_BUILD) $(FUZZ_BUILD)
