# ShopSphere: the developer front. CMake builds, scripts/ do the rest.
#
#   make run        install what is missing, build, start PostgreSQL/Redis/
#                   RabbitMQ (dev profile, var/dev), migrate, seed, and run
#                   every service (`shopsphere up`) in the foreground
#   make test       the same set-up on other ports (var/test), then every suite
#   make bench      benchmarks (var/bench), writes bench/results.json
#   make chaos      the chaos drill under load (var/test; docs/resilience.md)
#   make stop       stop the dev servers that `make run` started
#
# Every target works from a fresh clone; see `make help`.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:
MAKEFLAGS += --no-print-directory

JOBS ?= 2
RELEASE_DIR := build/release
ASAN_DIR := build/asan

.PHONY: help deps build build-asan web run test bench chaos fuzz observe stop status clean distclean

help:
	@echo "ShopSphere targets:"
	@echo "  make run        build, start local servers (var/dev), migrate, seed, run the platform"
	@echo "  make test       build with sanitizers, then unit + system tests (var/test, other ports)"
	@echo "  make bench      release build + benchmarks; writes bench/results.json"
	@echo "  make chaos      faults under load, invariants checked (docs/resilience.md)"
	@echo "  make fuzz       every libFuzzer harness of tests/fuzz for FUZZ_SECONDS each (clang)"
	@echo "  make observe    Prometheus with the SLO rules against a running make run"
	@echo "  make build      release build in $(RELEASE_DIR)"
	@echo "  make build-asan debug build with AddressSanitizer/UBSan in $(ASAN_DIR)"
	@echo "  make web        build the web apps into web/dist (scripts/web-build.sh)"
	@echo "  make deps       install missing Debian packages (scripts/install-deps.sh)"
	@echo "  make status     state of the dev servers"
	@echo "  make stop       stop the dev servers (PostgreSQL, Redis, RabbitMQ)"
	@echo "  make clean      remove build/;  make distclean: also stop servers and remove var/"

deps:
	scripts/install-deps.sh
	scripts/web-deps.sh

build:
	cmake -S . -B $(RELEASE_DIR) -DCMAKE_BUILD_TYPE=Release
	cmake --build $(RELEASE_DIR) -j$(JOBS)

build-asan:
	cmake -S . -B $(ASAN_DIR) -DCMAKE_BUILD_TYPE=Debug -DSHOPSPHERE_SANITIZE=ON
	cmake --build $(ASAN_DIR) -j$(JOBS)

# The storefront and the admin dashboard (web/), built into web/dist, which
# the gateway serves; skipped when the build is newer than every source.
web:
	scripts/web-build.sh

# Steps run in order even under `make -j`: each is a sub-make.
run:
	$(MAKE) deps
	$(MAKE) build
	$(MAKE) web
	scripts/run.sh

# The release build is made too: `make run` and `make bench` use it, and
# its optimizer warns about things the sanitizer build does not see.
test:
	$(MAKE) deps
	$(MAKE) build-asan
	$(MAKE) build
	$(MAKE) web
	scripts/test.sh

bench:
	$(MAKE) deps
	$(MAKE) build
	$(MAKE) web
	scripts/bench.sh

# The chaos drill (docs/resilience.md), about 10 minutes on the test profile
# (SHOPSPHERE_TEST_PROFILE=w1..w8 for a private one); CHAOS_ARGS=--short for
# the 3-minute version.
chaos:
	$(MAKE) deps
	$(MAKE) build-asan
	scripts/chaos.sh $(CHAOS_ARGS)

# The fuzzing harnesses (docs/fuzzing.md): build/fuzz with clang, each run
# for FUZZ_SECONDS (default: ten minutes in all); findings in var/fuzz.
fuzz:
	scripts/install-deps.sh
	FUZZ_JOBS=$(JOBS) scripts/fuzz.sh

# Prometheus (Debian's package) scraping the `make run` platform with the SLO
# rules of deploy/observability; foreground, Ctrl-C stops it. Another
# profile's platform: SHOPSPHERE_PROFILE=w3 make observe.
observe:
	scripts/install-deps.sh
	scripts/observe.sh

status:
	scripts/infra.sh status --profile dev || true

stop:
	scripts/infra.sh stop all --profile dev

clean:
	rm -rf build

# Stop the servers of every profile before their data goes.
distclean: clean
	for p in dev test bench; do \
	  if [[ -d var/$$p ]]; then scripts/infra.sh stop all --profile $$p; fi; \
	done
	rm -rf var
