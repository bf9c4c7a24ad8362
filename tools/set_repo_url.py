"""Point the book at another repository: `make set-repo-url URL=https://github.com/you/fork`.

Rewrites `repository.url` in _config.yml (launch buttons, repository links), the Colab install
cell of every chapter (both the .md source and the notebook generated from it) and the landing page's
instructions (intro.md).
"""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(url: str) -> None:
    if not re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", url):
        sys.exit(f"URL must look like https://github.com/OWNER/REPO; got {url!r}")
    config = ROOT / "_config.yml"
    text = config.read_text()
    old = re.search(r"^  url: (\S+)$", text, flags=re.M).group(1)
    config.write_text(text.replace(f"  url: {old}", f"  url: {url}"))
    for path in sorted((ROOT / "chapters").glob("*.md")) + sorted(
        (ROOT / "chapters").glob("*.ipynb")
    ):
        path.write_text(path.read_text().replace(f"git+{old}", f"git+{url}"))
    # the landing page's instructions (git clone, pip install from the repository)
    intro = ROOT / "intro.md"
    intro.write_text(intro.read_text().replace(old, url))
    print(f"repository URL: {old} -> {url}")


if __name__ == "__main__":
    if len(sys.argv) != 2 or not sys.argv[1]:
        sys.exit("usage: make set-repo-url URL=https://github.com/OWNER/REPO")
    main(sys.argv[1])
