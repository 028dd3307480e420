# libFuzzer targets, built with clang apart from the main gcc build
# (libFuzzer needs clang's -fsanitize=fuzzer). Included by the top-level
# Makefile; see fuzz/README.md. Paths are relative to the repository root.
FUZZ_CC ?= clang
BUILD_FUZZ ?= build-fuzz
FUZZ_TARGETS := framing ctrl blob journal optstr

FUZZ_CFLAGS := -std=c17 -g -O1 -fno-omit-frame-pointer -D_GNU_SOURCE -Isrc -Ifuzz \
	-Wall -Wextra -Wpedantic -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wformat=2 -Wvla -Wno-unused-parameter \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all

# The parser sources each target links, and its extra libraries.
fuzz_framing_SRCS := src/server/framing.c src/proto/tpm.c src/util/buf.c
fuzz_ctrl_SRCS := src/proto/ctrl.c src/util/buf.c
fuzz_blob_SRCS := src/state/blob.c src/util/buf.c
fuzz_journal_SRCS := src/state/journal.c src/util/io.c src/util/buf.c
fuzz_journal_LIBS := -lcrypto
fuzz_optstr_SRCS := src/util/optstr.c

FUZZ_BINS := $(addprefix $(BUILD_FUZZ)/fuzz_,$(FUZZ_TARGETS))
FUZZ_HDRS := fuzz/fuzz.h $(wildcard src/*/*.h)

.PHONY: fuzz-build fuzz fuzz-smoke

fuzz-build: $(FUZZ_BINS)

.SECONDEXPANSION:
$(BUILD_FUZZ)/fuzz_%: fuzz/fuzz_%.c $$(fuzz_$$*_SRCS) $(FUZZ_HDRS)
	@mkdir -p $(BUILD_FUZZ)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(fuzz_$*_SRCS) $(fuzz_$*_LIBS)

# FUZZ_SECONDS per target (default 60), FUZZ_JOBS targets at a time (one core
# each); fails on any crash, leak, timeout or broken invariant.
FUZZ_SECONDS ?= 60
FUZZ_JOBS ?= 2
fuzz: deps fuzz-build
	@fuzz/run.sh --seconds $(FUZZ_SECONDS) --jobs $(FUZZ_JOBS) --build $(BUILD_FUZZ) $(FUZZ_TARGETS)

fuzz-smoke: deps fuzz-build
	@fuzz/run.sh --seconds 30 --jobs $(FUZZ_JOBS) --build $(BUILD_FUZZ) $(FUZZ_TARGETS)
