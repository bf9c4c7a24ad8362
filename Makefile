# The two commands of the README:
#   make book   set everything up, then build the HTML book into _build/html
#   make test   set everything up, then run every test (unit tests, notebooks, lint, the -W build)
SHELL := /bin/bash
PY := .venv/bin/python
VENV_STAMP := .venv/.stamp-setup
WEB_STAMP := web/dist/.stamp-assets
JB := .venv/bin/jupyter-book

.PHONY: setup book test lint unit unit-cpu2 unit-emulated qemu-deps notebooks \
	book-from-notebooks browser browser-deps jupyterlab build sync set-repo-url clean benchmarks \
	mutation

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

# The download button hands out each chapter's notebook for readers, with the build's outputs.
# RLBOOK_BOOK=1: the build fills the prose's numbers in, so rlbook.prose.glue shows no echo line.
book: setup
	RLBOOK_BOOK=1 RLBOOK_PROGRESS=0 $(JB) build . -W -n --keep-going
	$(PY) tools/reader_notebooks.py --downloads _build/html

build: book

lint: setup
	.venv/bin/ruff check code tests benchmarks tools chapters/*.ipynb
	.venv/bin/ruff format --check code tests benchmarks tools chapters/*.ipynb
	.venv/bin/basedpyright

unit: setup
	.venv/bin/pytest tests --ignore=tests/browser --ignore=tests/jupyterlab

# The tests marked `heavy` (pyproject.toml) again, with the vector code paths that differ between
# machines switched off: torch's ATen kernels, MKL's and oneDNN's instruction sets, numpy's SIMD
# dispatch. Training runs amplify rounding differences, so their tolerances are the ones most
# likely to hold on one CPU only, and they are too slow for the emulated CPUs of unit-emulated;
# these variables do move them (NFQCA's learned gain differs in the 7th digit with
# ATEN_CPU_CAPABILITY=default). OpenBLAS and MINPACK keep their own paths: another CPU in part only.
CPU2 := ATEN_CPU_CAPABILITY=default MKL_ENABLE_INSTRUCTIONS=AVX2 ONEDNN_MAX_CPU_ISA=AVX2 \
	NPY_DISABLE_CPU_FEATURES="X86_V3 X86_V4 AVX512_ICL AVX512_SPR"
CPU2_TESTS := tests/test_lqr_ground_truth.py tests/test_pcl.py tests/test_fqi.py tests/test_dqn.py \
	tests/test_targets_noise.py tests/test_identities.py
unit-cpu2: setup
	$(CPU2) .venv/bin/pytest -p no:cacheprovider -m heavy $(CPU2_TESTS)

# Two other x86-64 CPUs, emulated by qemu-user (tools/emulated_cpu.sh): an AMD EPYC-Rome (AVX2,
# no AVX-512) and an Intel Nehalem (SSE4.2, no AVX), each running the numerically sensitive tests,
# with torch, MKL, oneDNN, numpy and OpenBLAS all choosing their code paths from the emulated CPU.
# Each pytest header prints what it got. Tests marked `heavy` (training runs, long Monte Carlo
# loops: 20 s to minutes each under emulation) run natively only (unit, unit-cpu2); the checks of
# invalid settings in test_properties.py (no arithmetic to differ) run in unit only.
# EMULATED_CPUS pairs each qemu CPU model with the torch CPU capability it must give: the stage
# refuses to run if it got the host's kernels.
EMULATED_CPUS := EPYC-Rome=AVX2 Nehalem-v1=DEFAULT
EMULATED_TESTS := tests/test_euler.py tests/test_lqr_ground_truth.py tests/test_pcl.py \
	tests/test_fqi.py tests/test_checks.py tests/test_dqn.py tests/test_targets_noise.py \
	tests/test_networks.py tests/test_identities.py tests/test_pendulum_optimum.py \
	tests/test_seed_batch.py::test_a_short_batch_does_not_depend_on_the_other_runs \
	tests/test_properties.py::test_ema_update_weights_the_online_parameters_by_tau \
	tests/test_properties.py::test_episode_replay_priorities_are_a_stable_softmax_and_removal_is_oldest_first
unit-emulated: setup qemu-deps
	bash tools/emulated_cpu.sh "$(EMULATED_CPUS)" -m "not heavy" $(EMULATED_TESTS)

# Debian's qemu-user for unit-emulated (its qemu-x86_64 runs one program on an emulated CPU).
qemu-deps:
	command -v qemu-x86_64 >/dev/null || (apt-get update -qq && apt-get install -y -qq qemu-user)

# nbval executes every cell of every chapter, each .ipynb copied alone into an empty folder and
# run in a fresh Colab-like environment that installs the package through the chapter's own first
# cell (tools/colab_alone.sh says what it assumes); the nbval_record plugin (tools/) keeps what
# it executed (outputs, widget state) in $(NB_RECORD) for book-from-notebooks, which keeps a
# knob's HTML and drops its widget view and state (tools/seed_book_cache.py).
NB_RECORD := _build/nbval
notebooks: setup
	bash tools/colab_alone.sh $(NB_RECORD)

# The book from what `make notebooks` executed, so `make test` executes each chapter once: the
# recordings go into a fresh execution cache and the build runs with execute_notebooks: cache.
# A chapter not recorded (or changed since) is executed by the build itself.
book-from-notebooks: setup
	$(PY) tools/seed_book_cache.py $(NB_RECORD) _build/.nbval_cache _build/config-nbval.yml
	RLBOOK_BOOK=1 RLBOOK_PROGRESS=0 $(JB) build . --config _build/config-nbval.yml -W -n --keep-going
	$(PY) tools/reader_notebooks.py --downloads _build/html

# Debian's Chromium for the browser tests (Playwright's own browser download is not used).
browser-deps:
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)

# Open every page of the built book in headless Chromium, offline; check links and anchors.
browser: setup browser-deps
	test -f _build/html/index.html || $(MAKE) book
	.venv/bin/pytest tests/browser

# Each knob and an exercise in JupyterLab itself (a local server, headless Chromium): small notebooks
# with the cells each knob needs, run, their live panels moved and Run pressed (about 1-2 minutes).
jupyterlab: setup browser-deps
	.venv/bin/pytest -p no:cacheprovider tests/jupyterlab

# Every stage in turn, each timed (the table is printed at the end and kept in _build/).
test: setup
	bash tools/timed_stages.sh lint unit unit-cpu2 unit-emulated notebooks book-from-notebooks browser jupyterlab

# After editing a chapter's .md (the one source): format its code cells with ruff, in the .md
# itself, then write every chapter's notebook for readers, chapters/NAME.ipynb (what Colab, the
# download button, JupyterLab and nbval open: the book's markup rendered as plain Markdown, the
# code cells the .md's; tools/reader_notebooks.py says how). A test fails when one is stale.
sync: setup
	.venv/bin/jupytext --pipe ".venv/bin/ruff format --line-length 88 -" chapters/*.md
	$(PY) tools/reader_notebooks.py

# The committed benchmark results the Benchmarks and PCL chapters plot (hours on a laptop, not part
# of `make test`; see benchmarks/README.md), written straight into the package, where the chapters
# read them (rlbook.results.load) and the wheel ships them. JOBS runs that many at once.
JOBS ?= 2
benchmarks: setup
	$(PY) -m pip install -q -e ".[bench]"
	$(PY) benchmarks/pendulum.py --seeds 5 --jobs $(JOBS) --threads 1 \
		--out code/rlbook/results/pendulum
	$(PY) benchmarks/pendulum.py --algos ddpg sb3-ddpg td3 sb3-td3 sac sb3-sac \
		--precision bfloat16 --seeds 5 --jobs $(JOBS) --threads 1 \
		--out code/rlbook/results/pendulum-bf16
	$(PY) benchmarks/chapter_seeds.py

# Mutation testing of the modules whose mistakes a reader would not see (issue 26): mutmut mutates
# the functions tools/mutation.py lists and runs the fast tests that cover them, one worker at a
# time (13 to 33 minutes on the shared 2-core EPYC, so not part of `make test`); the report, with the
# reason each surviving mutant is equivalent, goes to tests/mutation-report.md. ARGS passes
# options (--survivors: only the mutants the last run left alive; --report-only).
mutation: setup
	$(PY) tools/mutation.py $(ARGS)

# Point launch buttons and every chapter's Colab install cell at another repository.
set-repo-url: setup
	$(PY) tools/set_repo_url.py "$(URL)"

clean:
	rm -rf _build
