# Thin wrapper: Meson + Ninja do the building. `make run` and `make test`
# install what is missing first (Debian packages, see scripts/install-deps.sh).
BUILD ?= build
BUILD_ASAN ?= build-asan

.PHONY: all deps build run test unit asan system bench clean

all: build

deps:
	@scripts/install-deps.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD)

build: deps $(BUILD)/build.ninja
	@ninja -C $(BUILD)

$(BUILD_ASAN)/build.ninja:
	meson setup $(BUILD_ASAN) -Db_sanitize=address,undefined -Db_lundef=false

run: build
	@scripts/run.sh

# Unit tests, the same under ASan+UBSan, then system tests; the last line
# is "N passed, N failed".
test: build $(BUILD_ASAN)/build.ninja
	@ninja -C $(BUILD_ASAN) >/dev/null
	@scripts/test.sh $(BUILD) $(BUILD_ASAN)

unit: build
	meson test -C $(BUILD) --print-errorlogs

system: build
	/usr/bin/python3 -m pytest -q tests/system

bench: build
	$(BUILD)/bench/vtpm-bench

clean:
	rm -rf $(BUILD) $(BUILD_ASAN)

# libFuzzer targets (clang, separate build dir build-fuzz/): `make fuzz`
# runs each for FUZZ_SECONDS (default 60), `make fuzz-smoke` for 30 s.
include fuzz/fuzz.mk
