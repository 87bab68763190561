# Makefile — the two commands of nsim's README, and a few more. Meson and ninja do the work;
# this file strings the steps together.
#   make demo      install what is missing, build, run examples/cuba.lua, say where its raster is
#   make test      install what is missing, build, run the whole suite, then the tests of the
#                  loops with an AVX-512 form again in a portable build (their plain C forms, as
#                  machines without AVX-512 run them), then the summary of both, whose last line
#                  is "N passed, N failed"; fails if anything failed
#   make sanitize  the same suite built with AddressSanitizer and UBSan, in build-asan/
#   make bench     build, then run bench/run_all.sh if there is one
#   make fuzz-build  the libFuzzer harnesses of fuzz/ (clang, ASan + UBSan), in build-fuzz/
#   make fuzz      the long campaign: every harness for FUZZ_RUNS executions (10^6), one at a time
#   make clean     remove build/, build-portable/, build-asan/, build-fuzz/ and out/

BUILD := build
ASAN  := build-asan
# A build for any x86-64 (no -march=native): the plain C forms of the loops that have an AVX-512
# one, under the tests that compare those loops with their definitions.
PORTABLE := build-portable
PORTABLE_TESTS := test_rng test_engine test_params
ASAN_OPTS := -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debugoptimized \
             -Dc_args=-fno-sanitize-recover=all
# Any sanitizer report stops the test program, which then fails (UBSan built without recovery).
SAN_ENV := ASAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
           UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

# $(call configure,DIR,OPTIONS): set DIR up the first time; again (--reconfigure, else --wipe)
# when its last set-up failed, or another meson or another source folder configured it.
configure = info=$(1)/meson-info/meson-info.json; \
  if [ ! -f $(1)/meson-private/coredata.dat ]; then meson setup $(1) $(2); \
  elif [ ! -f $(1)/build.ninja ] || ! grep -qF "{\"full\": \"$$(meson --version)\"" $$info \
       || ! grep -qF "\"source\": \"$(CURDIR)\"" $$info; then \
    meson setup --reconfigure $(1) $(2) || meson setup --wipe $(1) $(2); fi

# $(call suite,DIR,ENV,MESON-TEST-OPTIONS): every test, even after a failure, then the summary;
# fails if either says something failed.
suite = rc=0; $(2) meson test -C $(1) --no-rebuild --print-errorlogs $(3) || rc=$$?; \
  echo; sh tests/summarize.sh $(1) || rc=1; exit $$rc

.PHONY: demo test sanitize bench clean setup build build-portable build-asan fuzz-build fuzz

demo: build
	./$(BUILD)/nsim run examples/cuba.lua
	@echo "raster: out/cuba/raster.png"

test: build build-portable
	@rc=0; meson test -C $(BUILD) --no-rebuild --print-errorlogs || rc=$$?; \
	  meson test -C $(PORTABLE) --no-rebuild --print-errorlogs $(PORTABLE_TESTS) || rc=$$?; \
	  echo; sh tests/summarize.sh $(BUILD) $(PORTABLE) || rc=1; exit $$rc

sanitize: build-asan
	@$(call suite,$(ASAN),$(SAN_ENV),--timeout-multiplier 3)

bench: build
	@if [ -f bench/run_all.sh ]; then bash bench/run_all.sh; else echo "no bench/run_all.sh yet"; fi

setup:
	@sh tools/setup.sh

build: setup
	@$(call configure,$(BUILD))
	ninja -C $(BUILD)

build-portable: setup
	@$(call configure,$(PORTABLE),-Dnative=false)
	ninja -C $(PORTABLE) $(addprefix tests/,$(PORTABLE_TESTS))

build-asan: setup
	@$(call configure,$(ASAN),$(ASAN_OPTS))
	ninja -C $(ASAN)

# The harnesses: clang with libFuzzer, ASan and UBSan (no recovery), no -march=native.
FUZZ := build-fuzz
FUZZ_OPTS := -Dfuzz=true -Dnative=false -Dmpi=disabled -Db_sanitize=address,undefined -Db_lundef=false \
             -Dbuildtype=debugoptimized -Dc_args=-fno-sanitize-recover=all
FUZZ_RUNS := 1000000

fuzz-build: setup
	@export CC=clang; $(call configure,$(FUZZ),$(FUZZ_OPTS))
	ninja -C $(FUZZ) fuzz

fuzz: fuzz-build
	sh fuzz/run.sh $(FUZZ) $(FUZZ_RUNS)

clean:
	rm -rf $(BUILD) $(PORTABLE) $(ASAN) $(FUZZ) out
