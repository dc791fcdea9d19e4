// One build per target (the processes they run in: docs/architecture.md, "The parts" and "The processes"):
//   dist/extension.js  the VS Code extension host entry          (node, cjs, vscode external)
//   dist/server.js     the language server                      (node, cjs)
//   dist/shapesWorker.js  its static shape analysis (a worker thread; bundles typescript)
//   dist/modelProcess.js  the model's own process (supervisor)  (node, cjs)
//   dist/worker.js     the worker thread that runs a model, in that process (node, cjs)
//   dist/traceFile.js  the host's worker thread that saves and restores traces (node, cjs)
//   dist/cli.js        `backprop-lens run|check`                (node, cjs, esbuild external)
//   dist/webview/      the Gradient Inspector                   (browser, iife) + css, fonts
// Usage: node esbuild.mjs [--production] [--watch] [--only=name,name]
import * as esbuild from "esbuild";
import * as fs from "node:fs";
import * as path from "node:path";

const production = process.argv.includes("--production");
const watch = process.argv.includes("--watch");
const onlyArg = process.argv.find((a) => a.startsWith("--only="));
const only = onlyArg ? onlyArg.slice("--only=".length).split(",") : undefined;
const root = path.dirname(new URL(import.meta.url).pathname);

/** Reports build errors in the `file:line:col: error: text` form the problem matcher reads. */
const problemMatcher = {
  name: "problem-matcher",
  setup(build) {
    build.onStart(() => console.log("[watch] build started"));
    build.onEnd((result) => {
      for (const { text, location } of result.errors) {
        console.error(`✘ [ERROR] ${text}`);
        if (location) console.error(`    ${location.file}:${location.line}:${location.column}:`);
      }
      console.log("[watch] build finished");
    });
  },
};

const node = {
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  sourcemap: !production,
  minify: production,
  keepNames: true,
  logLevel: "warning",
  plugins: watch ? [problemMatcher] : [],
};

const targets = {
  // The engine as an ordinary npm package (CommonJS + the declarations built by tsc -p core/tsconfig.types.json).
  engine: { ...node, entryPoints: ["core/index.ts"], outfile: "dist/npm/backprop-lens/index.js", sourcemap: false, minify: false },
  worker: { ...node, entryPoints: ["extension/runner/worker.ts"], outfile: "dist/worker.js" },
  modelProcess: { ...node, entryPoints: ["extension/runner/modelProcess.ts"], outfile: "dist/modelProcess.js" },
  traceFile: { ...node, entryPoints: ["extension/runner/traceFileWorker.ts"], outfile: "dist/traceFile.js" },
  cli: { ...node, entryPoints: ["extension/cli/main.ts"], outfile: "dist/cli.js", external: ["esbuild"] },
};

// The extension, server and webview targets are added as those folders gain entry points.
if (fs.existsSync(path.join(root, "extension/extension.ts"))) {
  targets.extension = {
    ...node,
    entryPoints: ["extension/extension.ts"],
    outfile: "dist/extension.js",
    external: ["vscode"],
    // esbuild's own API is bundled: that require.resolve only runs without ESBUILD_BINARY_PATH, which the runner always sets.
    logOverride: { "require-resolve-not-external": "silent" },
  };
}
if (fs.existsSync(path.join(root, "extension/server/server.ts"))) {
  targets.server = { ...node, entryPoints: ["extension/server/server.ts"], outfile: "dist/server.js" };
  // The static shape analysis runs in a worker thread of the server; it bundles the TypeScript parser.
  // keepNames off: it wraps every closure the analysis makes per step in a defineProperty call (4× slower).
  targets.shapesWorker = { ...node, entryPoints: ["extension/server/shapes/worker.ts"], outfile: "dist/shapesWorker.js", keepNames: false };
}
if (fs.existsSync(path.join(root, "webview/main.ts"))) {
  targets.webview = {
    bundle: true,
    platform: "browser",
    format: "iife",
    target: "es2022",
    sourcemap: !production,
    minify: production,
    logLevel: "warning",
    entryPoints: ["webview/main.ts"],
    outfile: "dist/webview/main.js",
    loader: { ".ttf": "file", ".woff2": "file", ".woff": "file" },
    plugins: watch ? [problemMatcher] : [],
  };
}

// The WebAssembly kernels: core/ops/wasm/kernels.wat assembled into core/ops/wasm/kernels.generated.ts.
const { writeKernels } = await import("./core/ops/wasm/assemble.mjs");
await writeKernels();

const selected = Object.entries(targets).filter(([name]) => !only || only.includes(name));
// A production build starts from an empty dist/ so no development leftovers (source maps) ship.
if (production && !only) fs.rmSync(path.join(root, "dist"), { recursive: true, force: true });

/**
 * The extension bundles esbuild's JavaScript API (the VSIX has no node_modules) and runs this
 * platform's esbuild binary from dist/bin (the runner points ESBUILD_BINARY_PATH at it).
 */
function copyEsbuildBinary() {
  const exe = process.platform === "win32" ? "esbuild.exe" : "esbuild";
  const pkg = `@esbuild/${process.platform}-${process.arch}`;
  const candidates = [path.join(root, "node_modules", pkg, "bin", exe), path.join(root, "node_modules", pkg, exe)];
  const src = candidates.find((p) => fs.existsSync(p));
  if (!src) throw new Error(`esbuild binary for ${process.platform}-${process.arch} not found in node_modules/${pkg}`);
  fs.mkdirSync(path.join(root, "dist", "bin"), { recursive: true });
  fs.copyFileSync(src, path.join(root, "dist", "bin", exe));
  fs.chmodSync(path.join(root, "dist", "bin", exe), 0o755);
}
if (selected.some(([name]) => name === "extension")) copyEsbuildBinary();

/**
 * The engine package's manifest, README and declarations, and the model templates (the examples, which
 * "New Model File" copies). The declarations come from `tsc`, the one tool that writes them.
 */
async function writeEnginePackage() {
  const out = path.join(root, "dist", "npm", "backprop-lens");
  fs.mkdirSync(out, { recursive: true });
  const manifest = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
  const pkg = {
    name: "backprop-lens",
    version: manifest.version,
    description: "The Backprop Lens engine: the book's backpropagation (Dense, ReLU, softmax, cross-entropy, SGD, Adam, scalar values) in float64 TypeScript.",
    license: manifest.license,
    main: "index.js",
    types: "types/index.d.ts",
    // Marks a copy the VS Code extension put into a workspace (it refreshes only copies it made).
    backpropLens: { managedBy: "backprop-lens VS Code extension" },
  };
  fs.writeFileSync(path.join(out, "package.json"), JSON.stringify(pkg, null, 2) + "\n");
  fs.writeFileSync(
    path.join(out, "README.md"),
    "# backprop-lens\n\nThe engine of the Backprop Lens VS Code extension, for model files: `import { Dense, ReLU } from \"backprop-lens\"`.\n" +
      "This copy was put here by the extension so that VS Code's TypeScript service knows the API; see docs/writing-models.md.\n",
  );
  const { execFileSync } = await import("node:child_process");
  execFileSync(process.execPath, [path.join(root, "node_modules", "typescript", "bin", "tsc"), "-p", path.join(root, "core", "tsconfig.types.json")], { stdio: "inherit" });
  const templates = path.join(root, "dist", "templates");
  fs.mkdirSync(templates, { recursive: true });
  for (const f of fs.readdirSync(path.join(root, "examples"))) if (f.endsWith(".ts")) fs.copyFileSync(path.join(root, "examples", f), path.join(templates, f));
}
const t0 = performance.now();
if (watch) {
  for (const [, options] of selected) await (await esbuild.context(options)).watch();
} else {
  await Promise.all(selected.map(([, options]) => esbuild.build(options)));
  if (selected.some(([name]) => name === "engine")) await writeEnginePackage();
  console.log(`built ${selected.map(([n]) => n).join(", ")} in ${(performance.now() - t0).toFixed(0)} ms`);
}
