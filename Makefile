# Two commands for a fresh Debian/Ubuntu machine with Python 3.11:
#   make demo   set up .venv and review a generated practice conversation
#   make test   set up .venv (and, as root, the system packages the tests use) and run the tests
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# System packages some tests use; installed with apt only when running as root.
APT_PACKAGES := libportaudio2 espeak-ng sox chromium
# The opt-in d-vector speaker encoder ([diarization] embeddings = "dvector"): the weights that the
# Resemblyzer 0.1.4 wheel (Apache-2.0) ships, taken from the wheel without its torch dependency
# (we run the model in numpy), checked by sha256. Not needed by default; its tests skip without it.
MODELS ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/attunement
MODEL  := $(MODELS)/resemblyzer-pretrained.pt
MODEL_SHA256 := 39373b86598fa3da9fcddee6142382efe09777e8d37dc9c0561f41f0070f134e

.PHONY: demo test test-fast bench sysdeps venv models clean

demo: $(STAMP)
	$(BIN)/attune demo

# Both cores, one worker per core, each test file on one worker (its module fixtures made once).
test: sysdeps $(STAMP) models
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

# Everything but the tests marked slow (each over ~5 s: real-time replays, long reviews); CI runs `make test`.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 --dist loadfile -m "not slow"

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py   # prints the tables, writes docs/performance.md

venv: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "attunement needs Python 3.11, found " + sys.version' \
	  || { echo "Install Python 3.11 (Debian/Ubuntu: apt-get install python3.11 python3.11-venv)"; exit 1; }
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && apt-get install -y -qq python3.11-venv || apt-get install -y -qq python3-venv; \
	    $(PYTHON) -m venv $(VENV); \
	  else echo "python -m venv failed: install python3.11-venv (Debian/Ubuntu)"; exit 1; fi; }
	$(BIN)/pip install -q -e '.[test]'
	@touch $@

models: $(STAMP)
	@[ -f $(MODEL) ] || { { mkdir -p $(MODELS)/dl \
	  && $(BIN)/pip download -q Resemblyzer==0.1.4 --no-deps --only-binary=:all: -d $(MODELS)/dl 2>/dev/null \
	  && $(BIN)/python -c "import sys, zipfile; open(sys.argv[2], 'wb').write(zipfile.ZipFile(sys.argv[1]).read('resemblyzer/pretrained.pt'))" \
	       $(MODELS)/dl/Resemblyzer-0.1.4-py3-none-any.whl $(MODEL).part \
	  && echo "$(MODEL_SHA256)  $(MODEL).part" | sha256sum -c --quiet - \
	  && mv $(MODEL).part $(MODEL); } || echo "could not fetch the d-vector weights: their tests will skip"; \
	  rm -rf $(MODELS)/dl $(MODEL).part; }

sysdeps:
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	  if [ -n "$$missing" ]; then echo "apt-get install$$missing"; \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; } \
	      || echo "apt-get install failed: tests needing$$missing will skip"; fi; \
	else echo "not root: skipping apt-get install of $(APT_PACKAGES) (tests needing them will skip)"; fi

clean:
	rm -rf $(VENV) .pytest_cache native/build
