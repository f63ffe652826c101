// Build the partial plotly.js bundle of the portal (called by scripts/build_plotly_bundle.sh).
// Usage: node scripts/build_plotly_bundle.mjs <outfile> <trace> [<trace>…]
import { createRequire } from "node:module";
import { writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

const require = createRequire(import.meta.url);
const esbuild = require("esbuild");
const [outfile, ...traces] = process.argv.slice(2);
const version = require("plotly.js/package.json").version;

// Components of plotly's core that no Pilotis figure uses (no update menus, sliders, range
// sliders or selectors, layout images, 3D annotations): registered as empty components, so
// that plotly's calls to them are no-ops, and left out of the bundle.
const UNUSED = ["annotations3d", "images", "updatemenus", "sliders", "rangeslider", "rangeselector"];
const stubs = {
  name: "pilotis-unused-components",
  setup(build) {
    const filter = new RegExp(`components[\\\\/](${UNUSED.join("|")})$`);
    build.onResolve({ filter }, (args) => ({ path: args.path.split(/[\\/]/).pop(), namespace: "unused" }));
    build.onLoad({ filter: /.*/, namespace: "unused" }, (args) => ({
      contents: `module.exports = {moduleType: "component", name: ${JSON.stringify(args.path)}};`,
      loader: "js",
    }));
  },
};

const dir = mkdtempSync(path.join(tmpdir(), "plotly-"));
const entry = path.join(dir, "entry.js");
writeFileSync(
  entry,
  [
    "'use strict';",
    "var Plotly = require('plotly.js/lib/core');",
    `Plotly.register([${traces.map((t) => `require('plotly.js/lib/${t}')`).join(", ")}]);`,
    "module.exports = Plotly;",
  ].join("\n"),
);
await esbuild.build({
  entryPoints: [entry],
  nodePaths: [path.resolve("node_modules")],
  bundle: true,
  minify: true,
  format: "iife",
  globalName: "Plotly",
  target: "es2016",
  define: { global: "window", "define.amd": "false" },
  alias: { stream: "stream-browserify" },
  loader: { ".css": "empty" }, // maplibre-gl.css: map traces are not in this bundle
  legalComments: "none",
  banner: { js: `/* plotly.js ${version} (MIT, see plotly-pilotis.LICENSE), partial bundle for Pilotis: ${traces.join(" ")} */` },
  plugins: [stubs],
  outfile,
  logLevel: "warning",
});
