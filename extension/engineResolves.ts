/**
 * Whether `import … from "backprop-lens"` resolves from a file, the way TypeScript resolves it: a
 * `node_modules/backprop-lens` package above the file, or a tsconfig.json / jsconfig.json above it
 * whose `paths` map "backprop-lens" to a file that exists. (The repository's examples/tsconfig.json
 * maps it to ../core/index.ts; copied out of the repository, that target is gone, and the file does
 * not resolve.) Node only, no vscode: the unit tests call it.
 */
import * as fs from "node:fs/promises";
import * as path from "node:path";

async function readJson(file: string): Promise<unknown> {
  try {
    return parseJsonc(await fs.readFile(file, "utf8"));
  } catch {
    return undefined;
  }
}

/** JSON with comments and trailing commas (tsconfig.json's dialect). */
export function parseJsonc(text: string): unknown {
  let out = "";
  let i = 0;
  while (i < text.length) {
    const ch = text[i] as string;
    if (ch === '"') {
      const end = skipString(text, i);
      out += text.slice(i, end);
      i = end;
    } else if (ch === "/" && text[i + 1] === "/") {
      while (i < text.length && text[i] !== "\n") i++;
    } else if (ch === "/" && text[i + 1] === "*") {
      const end = text.indexOf("*/", i + 2);
      i = end < 0 ? text.length : end + 2;
    } else {
      out += ch;
      i++;
    }
  }
  return JSON.parse(out.replace(/,(\s*[}\]])/g, "$1"));
}

function skipString(text: string, i: number): number {
  let j = i + 1;
  while (j < text.length && text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
  return j + 1;
}

const EXTENSIONS = ["", ".ts", ".tsx", ".d.ts", ".js", ".mjs", ".cjs", "/index.ts", "/index.d.ts", "/index.js"];

async function exists(p: string): Promise<boolean> {
  return fs.stat(p).then(
    () => true,
    () => false,
  );
}

/** The targets a config maps "backprop-lens" to, resolved against its baseUrl (or its folder); undefined when it maps nothing. */
export function mappedTargets(config: unknown, configDir: string): string[] | undefined {
  const opts = (config as { compilerOptions?: { paths?: unknown; baseUrl?: unknown } } | undefined)?.compilerOptions;
  const paths = opts?.paths;
  if (typeof paths !== "object" || paths === null) return undefined;
  const targets = (paths as Record<string, unknown>)["backprop-lens"];
  if (!Array.isArray(targets)) return undefined;
  const base = typeof opts?.baseUrl === "string" ? path.resolve(configDir, opts.baseUrl) : configDir;
  return targets.filter((t): t is string => typeof t === "string").map((t) => path.resolve(base, t));
}

/** True when "backprop-lens" resolves from `file` (see the file comment). */
export async function engineResolvesFrom(file: string): Promise<boolean> {
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    const manifest = (await readJson(path.join(dir, "node_modules", "backprop-lens", "package.json"))) as { name?: unknown } | undefined;
    if (manifest?.name === "backprop-lens") return true;
    for (const name of ["tsconfig.json", "jsconfig.json"]) {
      const targets = mappedTargets(await readJson(path.join(dir, name)), dir);
      if (targets === undefined) continue;
      // A mapping counts only when one of its targets is there.
      for (const t of targets) for (const ext of EXTENSIONS) if (await exists(t + ext)) return true;
    }
    if (path.dirname(dir) === dir) return false;
  }
}
