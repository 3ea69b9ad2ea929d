# GridBus — the two commands of README.md are `make run` and `make test`; both install what they need.
SHELL := /bin/bash
SWIFT ?= swift
DEBUG_BIN = .build/debug
RELEASE_BIN = .build/release
APT_PACKAGES = libzmq3-dev libsqlite3-dev libpq-dev
# What the tests need besides: promtool (prometheus) checks /metrics and the alert rules, chromium loads
# the dashboard, faketime moves the servers' clock in the fault suite, logrotate and systemd-analyze check deploy/,
# postgresql's server binaries run the PostgreSQL journal's tests (each test run makes its own cluster with initdb).
# haproxy fronts the two instances of each worker in the fault suite, as deploy/cluster/haproxy.cfg does.
TEST_APT_PACKAGES = prometheus chromium faketime logrotate systemd postgresql iproute2 haproxy
PYTHON ?= python3

.PHONY: deps test-deps build run test test-swift test-interop bench schemas lint clean

## Install system libraries (Debian) and the Python test clients, when missing.
deps:
	@dpkg -s $(APT_PACKAGES) >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_PACKAGES); }
	@$(PYTHON) -m pip install -q --disable-pip-version-check -r Tests/interop/requirements.txt

test-deps: deps
	@dpkg -s $(TEST_APT_PACKAGES) >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(TEST_APT_PACKAGES); }

build: deps
	$(SWIFT) build

## Run gridbusd on the embedded defaults (SQLite journal in ./var, loopback ports 7600-7602, HTTP 7680) in
## development mode (no CURVE), with the plugins of plugins/ (grid-intake on :8080 with development API keys,
## grid-dispatcher on :8081).
run: build
	$(DEBUG_BIN)/gridbusd --security-mode none --plugins-dir plugins $(ARGS)

## Every test: the style check (.swift-format), Swift unit and integration tests (real binaries, real sockets), then the
## pyzmq/CloudEvents interop suite.
test: test-deps lint
	$(SWIFT) build --build-tests
	$(MAKE) --no-print-directory test-swift test-interop

test-swift:
	$(SWIFT) test --skip-build

test-interop:
	GRIDBUS_BIN_DIR=$(DEBUG_BIN) $(PYTHON) -m pytest -q Tests/interop

## Benchmarks (release build): results go to bench-results/, summarised in docs/benchmarks.md.
bench: deps
	$(SWIFT) build -c release --product gridbusd
	$(SWIFT) build -c release --product gridbench
	$(SWIFT) build -c release --product zmq-proxy-baseline
	$(SWIFT) build -c release --product grid-intake
	$(SWIFT) build -c release --product grid-dispatcher
	$(SWIFT) build -c release --product grid-notifier
	$(SWIFT) build -c release --product grid-stats
	@dpkg -s nats-server redis-server mosquitto postgresql >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nats-server redis-server mosquitto postgresql; }
	$(RELEASE_BIN)/gridbench all --bin $(RELEASE_BIN) $(ARGS)

## Regenerate docs/schemas from the Swift types (a test fails when they drift).
schemas:
	$(SWIFT) run gridctl schemas docs/schemas

## Any warning fails: `swift format -i -r Sources Tests` fixes nearly all of them.
lint:
	$(SWIFT) format lint --strict -r Sources Tests

clean:
	rm -rf .build var bench-results
