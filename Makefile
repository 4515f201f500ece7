# Anchorage: `make demo` and `make test` each do the whole set-up on a fresh
# Debian 12 machine (packages, configure, build) and then run.
BUILD ?= build
JOBS ?= 2
CMAKE_FLAGS ?=

.PHONY: all deps build demo test lint fuzz bench bench-peer clean

all: build

deps:
	@scripts/install-deps

$(BUILD)/build.ninja: CMakeLists.txt | deps
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j$(JOBS)

# The demo needs the one executable, not the tests and benchmarks.
demo: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j$(JOBS) --target anchorage
	$(BUILD)/anchorage demo $(ARGS)

test: build
	ctest --test-dir $(BUILD) -j$(JOBS) --output-on-failure --timeout 600

# clang-tidy with the repository's .clang-tidy over every translation unit
# (scripts/lint says which checks; LINT_CHECKS= adds the static analyzer).
lint: build
	JOBS=$(JOBS) scripts/lint $(BUILD)

# libFuzzer targets under ASan and UBSan, built by clang in their own tree,
# each run for FUZZ_RUNS inputs from the seed corpus fuzz_corpus writes.
FUZZ_BUILD ?= build-fuzz
FUZZ_RUNS ?= 1000000
FUZZ_TARGETS = envelope codec_decode checkpoint
fuzz: deps
	CXX=clang++ cmake -S . -B $(FUZZ_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DANCHORAGE_FUZZ=ON -DANCHORAGE_SANITIZE=address,undefined \
	  -DANCHORAGE_BUILD_TESTS=OFF -DANCHORAGE_BUILD_BENCHMARKS=OFF -DANCHORAGE_NATIVE=OFF
	cmake --build $(FUZZ_BUILD) -j$(JOBS) --target fuzz_corpus $(addprefix fuzz_,$(FUZZ_TARGETS))
	rm -rf $(FUZZ_BUILD)/corpus && $(FUZZ_BUILD)/fuzz/fuzz_corpus $(FUZZ_BUILD)/corpus
	for t in $(FUZZ_TARGETS); do \
	  $(FUZZ_BUILD)/fuzz/fuzz_$$t -runs=$(FUZZ_RUNS) -max_len=4096 \
	    -artifact_prefix=$(FUZZ_BUILD)/crash-$$t- $(FUZZ_BUILD)/corpus/$$t || exit 1; \
	done

bench: build
	$(BUILD)/tests/bench/anchorage_bench

# The race against PyTorch (gloo Local SGD and DDP) on this machine's cores;
# installs Debian's python3-torch when it is missing. Not part of `make test`.
bench-peer: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j$(JOBS) --target anchorage
	@scripts/install-deps --peer
	/usr/bin/python3 scripts/bench_peer.py --anchorage $(BUILD)/anchorage $(ARGS)

clean:
	rm -rf $(BUILD)
