/**
 * Compiles a user's model file in memory with esbuild: one CommonJS bundle of the file and the
 * workspace files it imports, with a source map, and `"backprop-lens"` resolved to the engine the
 * runner ships (a virtual module whose named exports are the engine's, so a misspelled import is a
 * compile error at the user's line, not an `undefined` at run time).
 *
 * Used by the CLI and the extension alike; imports nothing from vscode.
 */
import { readFile } from "node:fs/promises";
import * as path from "node:path";
import type * as Esbuild from "esbuild";
import type { RunError } from "../../core/host";

import { closeNames } from "../../core/suggest";
import { adoptPlainLayers } from "./duckLayers";
import { type CompiledBundle, ENGINE_MODULE, ENGINE_RUNTIME_ID } from "./workerProtocol";

export interface CompileOptions {
  /** Absolute path of the model file. */
  file: string;
  /** The file's text, when it differs from the disk (an unsaved editor). */
  source?: string;
  /** Other files' unsaved texts, by absolute path. */
  overlays?: ReadonlyMap<string, string>;
  /** The engine's runtime export names (`Object.keys(require("core/index"))`). */
  engineExports: readonly string[];
  /** Path of the esbuild binary when the esbuild package is bundled (the extension); undefined in the CLI. */
  esbuildBinary?: string;
}

export interface Compiled extends CompiledBundle {
  durationMs: number;
}

/** A compile error as a run error (syntax or import), with the user's file and line. */
export class CompileError extends Error {
  override name = "CompileError";
  constructor(readonly error: RunError) {
    super(error.message);
  }
}

let esbuild: typeof Esbuild | undefined;

function loadEsbuild(binary: string | undefined): typeof Esbuild {
  if (esbuild !== undefined) return esbuild;
  // esbuild reads ESBUILD_BINARY_PATH once, when its module initialises; set it only for that
  // moment so other extensions sharing this process never see it.
  const prev = process.env.ESBUILD_BINARY_PATH;
  if (binary !== undefined) process.env.ESBUILD_BINARY_PATH = binary;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    esbuild = require("esbuild") as typeof Esbuild;
  } finally {
    if (prev === undefined) delete process.env.ESBUILD_BINARY_PATH;
    else process.env.ESBUILD_BINARY_PATH = prev;
  }
  return esbuild;
}

/** Compiles `options.file`; throws `CompileError` for syntax and import errors. */
export async function compileModel(options: CompileOptions): Promise<Compiled> {
  const started = performance.now();
  const esb = loadEsbuild(options.esbuildBinary);
  const file = path.resolve(options.file);
  const dir = path.dirname(file);
  const overlays = new Map(options.overlays ?? []);
  if (options.source !== undefined) overlays.set(file, options.source);
  const sources: Record<string, string> = {};
  const loaderFor = (p: string): Esbuild.Loader => (/\.[cm]?tsx?$/.test(p) ? (p.endsWith("x") ? "tsx" : "ts") : p.endsWith(".json") ? "json" : p.endsWith("x") ? "jsx" : "js");
  const names = options.engineExports.filter((n) => /^[A-Za-z_$][\w$]*$/.test(n));
  const plugin: Esbuild.Plugin = {
    name: "backprop-lens",
    setup(build) {
      build.onResolve({ filter: /^backprop-lens$/ }, () => ({ path: ENGINE_MODULE, namespace: "backprop-lens-engine" }));
      build.onLoad({ filter: /.*/, namespace: "backprop-lens-engine" }, () => ({
        contents: `const engine = require(${JSON.stringify(ENGINE_RUNTIME_ID)});\nexport const { ${names.join(", ")} } = engine;\n`,
        loader: "js",
      }));
      // Read workspace files ourselves: unsaved editor texts win over the disk.
      build.onLoad({ filter: /\.(?:[cm]?[jt]sx?|json)$/ }, async (args) => {
        if (args.path.includes(`${path.sep}node_modules${path.sep}`)) return undefined;
        const contents = overlays.get(args.path) ?? (await readFile(args.path, "utf8"));
        sources[args.path] = contents;
        return { contents, loader: loaderFor(args.path) };
      });
    },
  };
  let result: Esbuild.BuildResult<{ write: false }>;
  try {
    result = await esb.build({
      entryPoints: [file],
      bundle: true,
      write: false,
      format: "cjs",
      platform: "node",
      target: "node20",
      sourcemap: "external",
      sourcesContent: false,
      keepNames: true, // class names become layer names in the inspector
      outfile: path.join(dir, "__backprop_lens_bundle__.js"),
      absWorkingDir: dir,
      external: [ENGINE_RUNTIME_ID],
      packages: "external", // npm packages load from the workspace's node_modules at run time
      logLevel: "silent",
      plugins: [plugin],
    });
  } catch (e) {
    throw new CompileError(toRunError(e, file, names));
  }
  const js = result.outputFiles.find((f) => f.path.endsWith(".js"));
  const map = result.outputFiles.find((f) => f.path.endsWith(".js.map"));
  if (js === undefined || map === undefined) throw new CompileError({ kind: "internal", message: `esbuild produced no output for ${file}` });
  // Make the map's sources absolute so stack frames map straight to the user's files.
  const m = JSON.parse(map.text) as { sources: string[]; sourceRoot?: string };
  m.sources = m.sources.map((s) => (s.startsWith("backprop-lens-engine:") ? s : path.resolve(dir, s)));
  delete m.sourceRoot;
  return { file, code: adoptPlainLayers(js.text), map: JSON.stringify(m), sources, durationMs: performance.now() - started };
}

/**
 * Turns an esbuild failure into a run error naming the file, line and what was wrong. Imports the
 * engine does not have are named all at once, each with the engine's closest names (the book's
 * `Layer_Dense` → `Dense`), so one run tells the user every name to fix.
 */
function toRunError(e: unknown, file: string, engineNames: readonly string[]): RunError {
  const failure = e as { errors?: Esbuild.Message[] };
  const errors = failure.errors ?? [];
  const first = errors[0];
  if (first === undefined) return { kind: "internal", message: `could not compile ${file}: ${e instanceof Error ? e.message : String(e)}` };
  const loc = first.location;
  const abs = loc ? path.resolve(path.dirname(file), loc.file) : file;
  const isImport = /Could not resolve|No matching export|does not provide an export|is not exported/i.test(first.text);
  const missingName = (m: Esbuild.Message): string | undefined => (/No matching export in "backprop-lens-engine:backprop-lens"/.test(m.text) ? (/for import "([^"]+)"/.exec(m.text)?.[1] ?? undefined) : undefined);
  let text = first.text.replace(/"backprop-lens-engine:backprop-lens"/g, '"backprop-lens"');
  let rest = errors.length - 1;
  const missing = missingName(first) !== undefined ? errors.filter((m) => missingName(m) !== undefined) : [];
  if (missing.length > 0) {
    const named = missing.map((m) => {
      const name = missingName(m) as string;
      const close = closeNames(name, engineNames);
      const line = m.location && m.location.line !== loc?.line ? ` (line ${m.location.line})` : "";
      return `"${name}"${line}${close.length ? ` (did you mean ${close.map((c) => `"${c}"`).join(" or ")}?)` : ""}`;
    });
    text = `"backprop-lens" has no export named ${named.join(", ")}`;
    rest = errors.length - missing.length;
  }
  const more = rest > 0 ? ` (and ${rest} more)` : "";
  const where = loc ? `${path.basename(abs)}:${loc.line}:${loc.column + 1}: ` : "";
  return {
    kind: isImport ? "import" : "syntax",
    message: `${where}${isImport ? "import error" : "syntax error"}: ${text}${more}`,
    ...(loc ? { site: { file: abs, line: loc.line, column: loc.column + 1 } } : {}),
  };
}
