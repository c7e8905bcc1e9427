# Two commands set up a fresh machine: `make demo` and `make test`.
# Both create .venv in the repo root when it is missing and install the package into it.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.aliprod-installed

.PHONY: demo test venv bench clean

venv: $(STAMP)

$(STAMP): setup.cfg pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -e '.[dev,demo,deploy]'
	touch $(STAMP)

demo: $(STAMP)
	$(PY) tools/run_demo.py

# pytest-xdist: one worker process per core (2 in CI), at most 4 since the end-to-end tests
# start processes of their own; a test file stays on one worker, so its module-scoped fixtures
# (a trained checkpoint, ...) are built once
test: $(STAMP)
	$(PY) -m pytest -q -n auto --maxprocesses 4 --dist loadfile tests

# the quick benchmarks (minutes each); bench_methods.py (about an hour on 2 cores) runs apart
QUICK_BENCH := dataset sampler metric pipeline throughput train_speed resume demo_seeds
bench: $(STAMP)
	for b in $(QUICK_BENCH); do $(PY) benchmarks/bench_$$b.py || exit 1; done

clean:
	rm -rf work_dirs/demo data/digits_lt data/glyphs_lt
