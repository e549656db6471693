// Build the front end into server/ganlab/static (served by the Python package at "/").
//   node build.mjs           one production build
//   node build.mjs --watch   rebuild on change (for development next to `ganlab serve`)
import * as esbuild from "esbuild";
import { cpSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "server", "ganlab", "static");
const watch = process.argv.includes("--watch");

// Start clean, but keep the tracked placeholder that keeps the folder in git.
mkdirSync(out, { recursive: true });
for (const name of readdirSync(out)) if (name !== ".gitkeep") rmSync(join(out, name), { recursive: true });

cpSync(join(here, "src", "index.html"), join(out, "index.html"));
cpSync(join(here, "public"), out, { recursive: true });

const options = {
  entryPoints: { app: join(here, "src", "main.js"), "render-worker": join(here, "src", "render-worker.js") },
  bundle: true,
  format: "esm",
  target: ["es2020"],
  minify: !watch,
  sourcemap: true,
  outdir: out,
  loader: { ".css": "css" },
  logLevel: watch ? "info" : "warning",
  legalComments: "linked",
};

if (watch) {
  const ctx = await esbuild.context(options);
  await ctx.watch();
} else {
  const result = await esbuild.build({ ...options, metafile: true });
  writeFileSync(join(out, "build.json"), JSON.stringify({ built: new Date().toISOString() }));
  const outputs = Object.entries(result.metafile.outputs)
    .filter(([f]) => !f.endsWith(".map"))
    .map(([f, o]) => `${f.split("/").pop()} ${(o.bytes / 1024).toFixed(1)} KB`);
  console.log(`built: ${outputs.join(", ")}`);
}
