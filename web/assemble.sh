#!/usr/bin/env bash
# Copies the pinned JavaScript the book serves locally (see web/package-lock.json) into web/dist,
# which _config.yml lists in html_static_path. web/dist and web/node_modules are not committed.
#
# Only what the pages load is copied (tests/browser fails on any request that is not answered):
# - MathJax: the one component the pages name (mathjax_path in _config.yml), the TeX extensions
#   it loads when a formula needs them (\boldsymbol and the like), the CHTML fonts in WOFF2, and,
#   for its right-click menu's accessibility options, the a11y modules with the English speech
#   rules. Not copied: MathJax's other components (SVG output, other combinations), its other
#   font formats, the other languages' speech rules.
# - No widget manager: the book's knobs are HTML with a short script of their own
#   (rlbook.widgets.static_knob_html); ipywidgets' embed.js and its fonts (2.0 MB) are gone.
# - No source maps.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund --loglevel=error
MJ=node_modules/mathjax/es5
rm -rf dist && mkdir -p dist/mathjax/input/tex dist/mathjax/output/chtml/fonts \
  dist/mathjax/sre/mathmaps
cp "$MJ/tex-mml-chtml.js" dist/mathjax/
cp -r "$MJ/input/tex/extensions" dist/mathjax/input/tex/
cp -r "$MJ/output/chtml/fonts/woff-v2" dist/mathjax/output/chtml/fonts/
cp -r "$MJ/a11y" dist/mathjax/
cp "$MJ"/sre/mathmaps/{base,en,nemeth}.json dist/mathjax/sre/mathmaps/
rm -rf extra  # where embed-amd.js's fonts were served from (relative to the page), no longer used
if find dist -name '*.map' | grep -q .; then
  echo "source maps left in web/dist" >&2
  exit 1
fi
echo "web/dist assembled: $(du -sh dist | cut -f1)"
