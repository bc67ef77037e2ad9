# runner — two commands on a fresh machine:
#   make demo   installs what is missing, builds, runs the docs pipeline
#   make test   installs what is missing, builds, runs every test
SWIFT ?= swift
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Debian packages: libyaml for the loader; the rest are what the example pipelines' scripts
# and the tests use.
APT_PACKAGES := libyaml-dev libsqlite3-dev libgit2-dev libmicrohttpd-dev libssl-dev libcurl4-openssl-dev pkg-config sqlite3 zip unzip git faketime
RUNNER_DEBUG := .build/debug/runner
RUNNER_RELEASE := .build/release/runner

.PHONY: all deps apt-deps py-deps build release test test-swift test-schema test-scripts demo bench clean

all: build

deps: apt-deps py-deps

apt-deps:
	@missing=""; \
	for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "make: installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# check-jsonschema validates the pipeline schema against the loader; PyYAML reads the example
# pipelines in Tests/Scripts/seed-scripts.sh; openapi-spec-validator, jsonschema and
# schemathesis check the OpenAPI document the server answers (schemas/openapi.yaml and the
# pipelines' generated routes) against the live server (Tests/E2E/openapi-check.py).
PY_PACKAGES := check-jsonschema pyyaml openapi-spec-validator jsonschema referencing schemathesis
py-deps:
	@python3 -c "import check_jsonschema, yaml, openapi_spec_validator, jsonschema, referencing, schemathesis" 2>/dev/null || { \
	  echo "make: installing Python tools: $(PY_PACKAGES)"; \
	  python3 -m pip install -q $(PY_PACKAGES) 2>/dev/null || python3 -m pip install -q --break-system-packages $(PY_PACKAGES); }

build: apt-deps
	$(SWIFT) build

release: apt-deps
	$(SWIFT) build -c release --product runner --static-swift-stdlib

test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build
	SWIFT=$(SWIFT) Tests/Scripts/goldens-unchanged.sh
	Tests/Scripts/code-shape.py Sources
	Tests/Schema/check-schema.sh $(RUNNER_DEBUG)
	Tests/Scripts/seed-scripts.sh
	Tests/E2E/seed-runs.sh $(RUNNER_DEBUG)
	Tests/E2E/git-hooks.sh $(RUNNER_DEBUG)
	Tests/E2E/serve-api.py $(RUNNER_DEBUG)
	Tests/E2E/contract-001.py $(RUNNER_DEBUG)
	Tests/E2E/contract-000.py $(RUNNER_DEBUG)
	Tests/E2E/contract-002.py $(RUNNER_DEBUG)
	Tests/E2E/contract-003.py $(RUNNER_DEBUG)
	Tests/E2E/openapi-check.py $(RUNNER_DEBUG)
	Tests/Faults/run-all.sh $(RUNNER_DEBUG)
	$(SWIFT) build -c release --product runner --static-swift-stdlib
	Tests/E2E/release-smoke.sh $(RUNNER_RELEASE)
	Tests/Crash/crash-test.py $(RUNNER_DEBUG) --runs 30

# The docs pipeline for real (state in .runner/state.db, the published site under .demo/),
# then the same publish with the CDN invalidation made to fail after the switch: the run
# rolls back and the previous release is live again.
demo: deps release
	@echo "== runner validate pipelines/"
	$(RUNNER_RELEASE) validate pipelines/
	@echo "== runner graph pipelines/docs-publish.yaml"
	$(RUNNER_RELEASE) graph pipelines/docs-publish.yaml --format text
	@echo "== runner apply pipelines/docs-publish.yaml -p targetRef=HEAD"
	$(RUNNER_RELEASE) apply pipelines/docs-publish.yaml -p targetRef=HEAD -p "reason=make demo"
	@echo "== INJECT_FAIL=invalidation runner apply pipelines/docs-publish.yaml -p targetRef=HEAD -p forceInvalidate=true"
	@echo "   (the invalidation fails after the switch, the commit point: expect a rollback, exit 1)"
	@INJECT_FAIL=invalidation $(RUNNER_RELEASE) apply pipelines/docs-publish.yaml -p targetRef=HEAD -p forceInvalidate=true \
	  -p "reason=make demo: failed invalidation"; status=$$?; \
	  if [ $$status -ne 1 ]; then echo "make demo: expected exit 1 (rolled back), got $$status"; exit 1; fi
	@echo "== runner runs list"
	$(RUNNER_RELEASE) runs list --limit 5
	@echo "== live release: $$(readlink .demo/docs-publish/site/current 2>/dev/null || echo '?')"

bench: deps release
	bench/validate.sh
	bench/run.sh
	bench/hook.sh $(RUNNER_RELEASE)
	bench/serve.sh $(RUNNER_RELEASE)

clean:
	rm -rf .build .demo
