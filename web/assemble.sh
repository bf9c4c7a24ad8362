#!/usr/bin/env bash
# Copies the pinned JavaScript the book serves locally (see web/package-lock.json) into web/dist,
# which _config.yml lists in html_static_path. web/dist and web/node_modules are not committed.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund --loglevel=error
rm -rf dist && mkdir -p dist/widgets
cp -r node_modules/mathjax/es5 dist/mathjax
cp node_modules/requirejs/require.js dist/require.js
cp -r node_modules/@jupyter-widgets/html-manager/dist/. dist/widgets/
# The embed manager asks for its icon fonts relative to the page, under two paths
# (@jupyter-widgets/html-manager/dist/NAME and, for the controls' FontAwesome icons,
# @jupyter-widgets/NAME): serve them at the site root and under chapters/ (html_extra_path copies
# this tree as is).
rm -rf extra
for prefix in extra extra/chapters; do
  for dir in "$prefix/@jupyter-widgets/html-manager/dist" "$prefix/@jupyter-widgets"; do
    mkdir -p "$dir"
    cp node_modules/@jupyter-widgets/html-manager/dist/*.{woff,woff2,ttf,eot,svg} "$dir/"
  done
done
echo "web/dist assembled: $(du -sh dist | cut -f1)"
