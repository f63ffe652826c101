#!/usr/bin/env bash
# Rebuild assets/vendor/plotly/plotly-pilotis.min.js: plotly.js (the version pinned in
# package.json, the same major version as the one Dash ships) with only the trace types the
# portal draws (layouts/: scatter, bar, pie, choropleth, scattergeo).
#
#   npm ci && scripts/build_plotly_bundle.sh
#
# The built file is committed: CI and deployments never run this script. Run it again after
# changing plotly.js's version in package.json or when a widget starts using another trace type
# (and add the type below). What is left out, and why: scripts/build_plotly_bundle.mjs.
set -euo pipefail
cd "$(dirname "$0")/.."
TRACES="scatter bar pie choropleth scattergeo"
OUT=assets/vendor/plotly/plotly-pilotis.min.js
mkdir -p "$(dirname "$OUT")"
# shellcheck disable=SC2086
node scripts/build_plotly_bundle.mjs "$OUT" $TRACES
cp node_modules/plotly.js/LICENSE assets/vendor/plotly/plotly-pilotis.LICENSE
ls -l "$OUT"
# Precompressed copy served by pilotis/static_cache.py (brotli 11: 387 kB instead of 425 kB at
# the quality affordable per request); used only while it holds the bundle's exact bytes.
node -e '
const fs = require("fs"), zlib = require("zlib");
const file = process.argv[1];
const data = fs.readFileSync(file);
fs.writeFileSync(file + ".br", zlib.brotliCompressSync(data, {params: {
  [zlib.constants.BROTLI_PARAM_QUALITY]: 11, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: data.length}}));
' "$OUT"
ls -l "$OUT" "$OUT.br"
