#!/usr/bin/env bash
# `make notebooks`: nbval executes every chapter the way Colab opens one.
#
# Colab opens chapters/NAME.ipynb alone: no checkout beside it, only what its first cell installs
# (`%pip install "rlbook @ git+<repository.url>"`, run when google.colab is importable). So each
# .ipynb is copied alone into an empty folder and run by nbval in a fresh virtual environment
# (_build/venv-colab) that holds only what this stage assumes Colab preinstalls, torch and ipykernel,
# plus nbval itself. A stand-in `google.colab` module, imported at kernel start-up as on Colab,
# makes the install cell run; git's
# `url.<local>.insteadOf` points the repository URL at a bare copy of this checkout (the
# committed tree plus tracked changes: `git stash create`), so pip installs the package
# non-editable, with the dependency ranges of pyproject.toml resolved from PyPI, not
# requirements.txt. Every cell runs exactly once; the nbval_record plugin keeps the executed
# notebooks in RECORD_DIR for the book build (`make book-from-notebooks`).
#
#   bash tools/colab_alone.sh [RECORD_DIR] [NOTEBOOK ...]     (default: _build/nbval, every chapter)
set -euo pipefail
RECORD=$(realpath -m "${1:-$(dirname "$0")/../_build/nbval}")  # paths as the caller gave them
shift || true
NOTEBOOKS=()
for nb in "$@"; do NOTEBOOKS+=("$(realpath "$nb")"); done
cd "$(dirname "$0")/.."
ROOT=$PWD
[ ${#NOTEBOOKS[@]} -gt 0 ] || NOTEBOOKS=("$ROOT"/chapters/*.ipynb)
VENV=$ROOT/_build/venv-colab
WORK=$ROOT/_build/colab
URL=$(.venv/bin/python -c "import yaml; print(yaml.safe_load(open('_config.yml'))['repository']['url'])")

# Every chapter's install cell must name the repository URL that git is told to redirect below;
# otherwise pip would clone the real repository and this stage would test another package.
for nb in "${NOTEBOOKS[@]}"; do
  grep -q "git+$URL" "$nb" || { echo "colab_alone: $nb does not install from $URL (make set-repo-url)" >&2; exit 1; }
done

# The environment, fresh at every run (nothing left from an earlier one): torch (the local CPU
# wheel, as in the main setup) and the test tools, pinned to requirements.txt's versions.
# Nothing of rlbook's own dependencies is preinstalled.
pin() { grep -E "^$1==" requirements.txt; }
rm -rf "$VENV"
python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q torch==2.13.0
"$VENV/bin/python" -m pip install -q "$(pin nbval)" "$(pin nbclient)" "$(pin ipykernel)" "$(pin pytest)"

# The repository the install cell clones: this checkout, committed tree plus tracked changes.
rm -rf "$WORK"
mkdir -p "$WORK/run" "$WORK/shim/google/colab" "$WORK/ipython/profile_default/startup" "$WORK/plugin"
cp tools/nbval_record.py "$WORK/plugin/"  # pytest's plugin; the kernel sees nothing else of the checkout
git init -q --bare "$WORK/repo.git"
rev=$(git stash create)
git push -q "$WORK/repo.git" "${rev:-HEAD}:refs/heads/main"
git --git-dir="$WORK/repo.git" symbolic-ref HEAD refs/heads/main
if [ -n "$(git ls-files --others --exclude-standard -- code)" ]; then
  echo "colab_alone: note: untracked files under code/ are not in the installed package" >&2
fi
printf '"""Stand-in for Colab'"'"'s module: chapters test `"google.colab" in sys.modules`."""\n' \
  >"$WORK/shim/google/colab/__init__.py"
# Colab's kernel has google.colab imported before the first cell; so does this one.
echo "import google.colab" >"$WORK/ipython/profile_default/startup/00-colab.py"

# Each notebook alone in an empty folder; pytest configured by nothing of the repository.
for nb in "${NOTEBOOKS[@]}"; do
  name=$(basename "$nb" .ipynb)
  mkdir -p "$WORK/run/$name"
  cp "$nb" "$WORK/run/$name/"
done
printf '[pytest]\n' >"$WORK/run/pytest.ini"
rm -rf "$RECORD"
mkdir -p "$RECORD"
# What the recordings were made from: tools/seed_book_cache.py seeds the book only if the book's
# checkout still has the same package and project file.
printf '{"code": "%s", "pyproject": "%s"}\n' "$(git rev-parse "${rev:-HEAD}:code")" \
  "$(git rev-parse "${rev:-HEAD}:pyproject.toml")" >"$RECORD/PROVENANCE.json"
versions=$("$VENV/bin/python" -c 'import sys; from importlib.metadata import version as v; print("Python", sys.version.split()[0] + ", torch", v("torch"))')
echo "colab_alone: $versions; installing rlbook from $URL -> $WORK/repo.git"
cd "$WORK/run"
export GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0="url.file://$WORK/repo.git.insteadOf" \
  GIT_CONFIG_VALUE_0="$URL" GIT_ALLOW_PROTOCOL=file
export PYTHONPATH="$WORK/shim:$WORK/plugin" IPYTHONDIR="$WORK/ipython" RLBOOK_PROGRESS=0 PIP_DISABLE_PIP_VERSION_CHECK=1
"$VENV/bin/python" -m pytest -c pytest.ini --rootdir . -p no:cacheprovider --nbval-lax \
  --nbval-current-env --nbval-cell-timeout=900 -p nbval_record --nb-record "$RECORD" \
  --durations=10 */*.ipynb
