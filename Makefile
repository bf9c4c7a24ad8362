# The two commands of the README:
#   make book   set everything up, then build the HTML book into _build/html
#   make test   set everything up, then run every test (unit tests, notebooks, lint, the -W build)
SHELL := /bin/bash
PY := .venv/bin/python
VENV_STAMP := .venv/.stamp-setup
WEB_STAMP := web/dist/.stamp-assets
JB := .venv/bin/jupyter-book

.PHONY: setup book test lint unit notebooks browser browser-deps build sync set-repo-url clean \
	benchmarks

setup: $(VENV_STAMP) $(WEB_STAMP)

$(VENV_STAMP): requirements.txt pyproject.toml
	test -x $(PY) || python3 -m venv .venv
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -r requirements.txt
	$(PY) -m pip install -q -e . --no-deps
	touch $@

$(WEB_STAMP): web/package.json web/package-lock.json web/assemble.sh
	bash web/assemble.sh
	touch $@

book: setup
	RLBOOK_PROGRESS=0 $(JB) build . -W -n --keep-going

build: book

lint: setup
	.venv/bin/ruff check code tests benchmarks tools chapters/*.ipynb
	.venv/bin/ruff format --check code tests benchmarks tools chapters/*.ipynb

unit: setup
	.venv/bin/pytest tests --ignore=tests/browser

notebooks: setup
	RLBOOK_PROGRESS=0 .venv/bin/pytest --nbval-lax -p no:cacheprovider chapters/*.ipynb

# Debian's Chromium for the browser tests (Playwright's own browser download is not used).
browser-deps:
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)

# Open every page of the built book in headless Chromium, offline; check links and anchors.
browser: setup browser-deps
	test -f _build/html/index.html || $(MAKE) book
	.venv/bin/pytest tests/browser

test: setup lint unit notebooks book browser

# After editing a chapter's .md, regenerate its paired .ipynb (the .md is the source), format the
# notebook's code with ruff, and carry the formatting back into the .md.
sync: setup
	.venv/bin/jupytext --sync chapters/*.md
	.venv/bin/ruff format chapters/*.ipynb
	.venv/bin/jupytext --sync chapters/*.ipynb

# The committed benchmark results the Benchmarks chapter plots (hours on a laptop, not part of
# `make test`; see benchmarks/README.md). JOBS runs that many at once (local processes).
JOBS ?= 2
benchmarks: setup
	$(PY) -m pip install -q -e ".[bench]"
	$(PY) benchmarks/pendulum.py --seeds 5 --jobs $(JOBS) --threads 1 \
		--out benchmarks/results/pendulum
	$(PY) benchmarks/pendulum.py --algos ddpg sb3-ddpg td3 sb3-td3 sac sb3-sac \
		--precision bfloat16 --seeds 5 --jobs $(JOBS) --threads 1 \
		--out benchmarks/results/pendulum-bf16

# Point launch buttons and every chapter's Colab install cell at another repository.
set-repo-url: setup
	$(PY) tools/set_repo_url.py "$(URL)"

clean:
	rm -rf _build
