# Each target bootstraps what it needs, so that on a fresh machine it is the
# only command to type.  The venv lives in .venv; Debian packages for the real
# Open vSwitch (used only as a test peer and benchmark baseline) are installed
# when missing and when we are root.

PY      ?= python3
VENV    := .venv
VPY     := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
DEBS    := openvswitch-switch openvswitch-common ovn-central ovn-host iperf3 ethtool iputils-ping

.PHONY: demo test unit bench lint venv debs clean

$(STAMP): pyproject.toml
	test -x $(VPY) || $(PY) -m venv $(VENV)
	$(VPY) -m pip install -q --upgrade pip
	$(VPY) -m pip install -q -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

# Idempotent: installs only what is missing, and only as root.
debs:
	@missing=0; for c in ovsdb-server ovs-vswitchd ovn-nbctl iperf3 ethtool ping; do \
	  command -v $$c >/dev/null 2>&1 || missing=1; done; \
	if [ $$missing = 1 ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(DEBS) >/dev/null || \
	    { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(DEBS) >/dev/null; }; \
	  else echo "not root: real Open vSwitch not installed; interop tests will skip"; fi; \
	fi

demo: venv
	$(VPY) -m pyovs.demo

test: venv debs
	$(VPY) -m pytest -q -p no:cacheprovider -n auto tests

unit: venv
	$(VPY) -m pytest -q tests/unit

bench: venv debs
	$(VPY) -m tests.bench.run

lint: venv
	$(VENV)/bin/ruff check src tests
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info
