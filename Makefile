# Two entry points do all the set-up: `make check` (the main job) and `make test`.
# Both create .venv and install the package; `make test` also installs Graphviz and
# Chromium with apt when running as root (otherwise it says what to install).
# `make check` needs neither: the check and its report draw no Graphviz diagram.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: check test bench lint diagrams docs mutation setup system-graphviz system-browser system-valgrind clean

setup: $(STAMP)

$(STAMP): pyproject.toml setup.py lifecycle/engine/_fingerprint.c lifecycle/engine/_claims.c
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || { echo "error: cannot create a venv: install python3-venv (apt-get install python3-venv)"; exit 1; }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,distributed]'
	@touch $(STAMP)

# $(call system-package,commands,Debian package,what needs it): when none of the commands
# is found, install the package with apt-get as root; otherwise say what to install.
define system-package
@for c in $(1); do command -v $$c >/dev/null 2>&1 && exit 0; done; \
if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
  echo "installing $(2) with apt-get"; \
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(2) >/dev/null; \
else \
  echo "error: $(firstword $(1)) is missing ($(3)); install it: sudo apt-get install $(2)"; exit 1; \
fi
endef

system-graphviz:
	$(call system-package,dot,graphviz,diagrams need Graphviz)

system-browser:
	$(call system-package,chromium chromium-browser,chromium,the browser tests need it)

system-valgrind:
	$(call system-package,valgrind,valgrind,the instruction-count benchmark needs it)

## check: model-check the reference unenrollment design at the default scope
check: setup
	$(VENV)/bin/lifecycle check

## test: the whole test suite (unit, property, differential, browser)
test: setup system-graphviz system-browser
	PYTHONHASHSEED=0 $(PY) -m pytest -q -n 2

lint: setup
	$(VENV)/bin/ruff check lifecycle tests benchmarks
	$(VENV)/bin/ruff format --check lifecycle tests benchmarks
	$(VENV)/bin/mypy

bench: setup system-graphviz system-valgrind
	$(PY) -m benchmarks

## mutation: check every mutant of the reference tables (about 10 minutes, every CPU) and
## regenerate docs/mutation.md (written only when the run ends: no half-written page)
mutation: setup
	$(VENV)/bin/lifecycle mutate --format markdown --no-progress > docs/mutation.md.new; \
	rc=$$?; if [ $$rc -le 3 ]; then mv docs/mutation.md.new docs/mutation.md; else rm -f docs/mutation.md.new; exit $$rc; fi

diagrams: setup system-graphviz
	$(VENV)/bin/lifecycle diagrams --out diagrams/
	$(VENV)/bin/lifecycle diagrams --out diagrams/ --format mermaid
	$(VENV)/bin/lifecycle docs --out docs/

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
