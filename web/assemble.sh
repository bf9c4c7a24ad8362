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
# - require.js, and the widget embed manager embed-amd.js with its icon fonts in WOFF2 only (every
#   browser the theme supports reads WOFF2; the EOT, TTF, SVG and WOFF copies were unused weight).
# - No source maps.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund --loglevel=error
MJ=node_modules/mathjax/es5
HM=node_modules/@jupyter-widgets/html-manager/dist
rm -rf dist && mkdir -p dist/mathjax/input/tex dist/mathjax/output/chtml/fonts \
  dist/mathjax/sre/mathmaps dist/widgets
cp "$MJ/tex-mml-chtml.js" dist/mathjax/
cp -r "$MJ/input/tex/extensions" dist/mathjax/input/tex/
cp -r "$MJ/output/chtml/fonts/woff-v2" dist/mathjax/output/chtml/fonts/
cp -r "$MJ/a11y" dist/mathjax/
cp "$MJ"/sre/mathmaps/{base,en,nemeth}.json dist/mathjax/sre/mathmaps/
cp node_modules/requirejs/require.js dist/require.js
cp "$HM/embed-amd.js" dist/widgets/
# The embed manager asks for its icon fonts relative to the page, under two paths
# (@jupyter-widgets/html-manager/dist/NAME and, for the controls' FontAwesome icons,
# @jupyter-widgets/NAME): serve them at the site root and under chapters/ (html_extra_path copies
# this tree as is).
rm -rf extra
for prefix in extra extra/chapters; do
  for dir in "$prefix/@jupyter-widgets/html-manager/dist" "$prefix/@jupyter-widgets"; do
    mkdir -p "$dir"
    cp "$HM"/*.woff2 "$dir/"
  done
done
if find dist extra -name '*.map' | grep -q .; then
  echo "source maps left in web/dist" >&2
  exit 1
fi
echo "web/dist assembled: $(du -sh dist | cut -f1), web/extra: $(du -sh extra | cut -f1)"
