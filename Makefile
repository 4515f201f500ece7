# Anchorage: `make demo` and `make test` each do the whole set-up on a fresh
# Debian 12 machine (packages, configure, build) and then run.
BUILD ?= build
JOBS ?= 2
CMAKE_FLAGS ?=

.PHONY: all deps build demo test lint bench clean

all: build

deps:
	@scripts/install-deps

$(BUILD)/build.ninja: CMakeLists.txt | deps
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j$(JOBS)

demo: build
	$(BUILD)/anchorage demo $(ARGS)

test: build
	ctest --test-dir $(BUILD) -j$(JOBS) --output-on-failure --timeout 600

# clang-tidy with the repository's .clang-tidy over every translation unit
# (scripts/lint says which checks; LINT_CHECKS= adds the static analyzer).
lint: build
	JOBS=$(JOBS) scripts/lint $(BUILD)

bench: build
	$(BUILD)/tests/bench/anchorage_bench

clean:
	rm -rf $(BUILD)
