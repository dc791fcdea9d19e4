/**
 * Source positions for the trace: V8's structured stack frames of the running bundle, mapped back
 * through esbuild's source map to the user's file, line and column (`@jridgewell/trace-mapping`).
 */
import { TraceMap, originalPositionFor } from "@jridgewell/trace-mapping";
import type { SiteProvider, SourceSite } from "../../core/host";

type CallSite = NodeJS.CallSite;

/** Structured frames of errors thrown while the model runs, recorded by the worker's `prepareStackTrace`. */
const framesOfError = new WeakMap<object, CallSite[]>();

export class BundleSites implements SiteProvider {
  private readonly map: TraceMap;
  private readonly cache = new Map<number, SourceSite | null>();
  private readonly lines = new Map<string, string[]>();

  constructor(
    /** The file name the bundle was compiled under (what V8 reports for its frames). */
    readonly bundleName: string,
    mapText: string,
    /** Source texts by absolute path, for naming layers after the variable they are assigned to. */
    private readonly sources: Readonly<Record<string, string>>,
  ) {
    this.map = new TraceMap(mapText);
  }

  /** Maps a generated position (1-based line and column) to the user's source, or null for engine glue. */
  mapPosition(line: number, column: number): SourceSite | null {
    const key = line * 1_000_003 + column;
    const hit = this.cache.get(key);
    if (hit !== undefined) return hit;
    const o = originalPositionFor(this.map, { line, column: column - 1 });
    const site = o.source === null || o.line === null || o.source.startsWith("backprop-lens-engine:") ? null : { file: o.source, line: o.line, column: (o.column ?? 0) + 1 };
    this.cache.set(key, site);
    return site;
  }

  /** The user's frames among `frames`, innermost first, mapped. */
  userFrames(frames: readonly CallSite[], skipConstructorsOf?: readonly string[]): SourceSite[] {
    const out: SourceSite[] = [];
    for (const f of frames) {
      if (f.getFileName() !== this.bundleName) continue;
      if (skipConstructorsOf !== undefined && f.isConstructor()) {
        const name = (f.getFunctionName() ?? "").replace(/^_+/, "");
        if (skipConstructorsOf.includes(name)) continue;
      }
      // The field initializers of the layer's own class (where a plain class is adopted as a layer).
      if (skipConstructorsOf !== undefined && f.getFunctionName() === "<instance_members_initializer>" && skipConstructorsOf.includes((f.getTypeName() ?? "").replace(/^_+/, ""))) continue;
      const line = f.getLineNumber();
      const col = f.getColumnNumber();
      if (line === null || col === null) continue;
      const site = this.mapPosition(line, col);
      if (site !== null) out.push(site);
    }
    return out;
  }

  capture(kind: "construct" | "call", classNames?: readonly string[]): SourceSite | undefined {
    const frames = captureFrames(this.capture);
    return this.userFrames(frames, kind === "construct" ? (classNames ?? []) : undefined)[0];
  }

  nameAt(site: SourceSite): string | undefined {
    let lines = this.lines.get(site.file);
    if (lines === undefined) {
      lines = (this.sources[site.file] ?? "").split(/\r?\n/);
      this.lines.set(site.file, lines);
    }
    const text = lines[site.line - 1];
    if (text === undefined) return undefined;
    // `const dense1 = new Dense(…)`, `this.dense1 = new …`, `dense1 = new …`, `dense1: new …` (object literal)
    const before = text.slice(0, Math.max(0, site.column - 1) + 4);
    const m = /(?:^|[\s,({;])(?:(?:const|let|var)\s+)?(?:this\.)?([A-Za-z_$][\w$]*)\s*(?::\s*[\w.<>[\], ]+)?\s*[=:]\s*new\b[^=]*$/.exec(before);
    return m?.[1];
  }
}

/** Stack frames above `above` as V8 CallSites, without formatting a string. */
export function captureFrames(above: (...a: never[]) => unknown): CallSite[] {
  const prevPrepare = Error.prepareStackTrace;
  const prevLimit = Error.stackTraceLimit;
  Error.prepareStackTrace = (_e, frames) => frames;
  Error.stackTraceLimit = 40;
  const holder: { stack?: unknown } = {};
  Error.captureStackTrace(holder, above);
  const frames = holder.stack as CallSite[];
  Error.prepareStackTrace = prevPrepare;
  Error.stackTraceLimit = prevLimit;
  return frames;
}

/**
 * Installs a `prepareStackTrace` that keeps each error's structured frames (for `framesOf`) and
 * writes its `stack` with the user's files and lines instead of the bundle's.
 */
export function installStackMapping(sites: BundleSites): void {
  Error.stackTraceLimit = 40;
  Error.prepareStackTrace = (err, frames) => {
    framesOfError.set(err, frames);
    const lines = frames.map((f) => {
      const file = f.getFileName();
      const line = f.getLineNumber();
      const col = f.getColumnNumber();
      const fn = f.getFunctionName();
      let where = `${file ?? "<anonymous>"}:${line ?? 0}:${col ?? 0}`;
      if (file === sites.bundleName && line !== null && col !== null) {
        const s = sites.mapPosition(line, col);
        where = s ? `${s.file}:${s.line}:${s.column}` : "backprop-lens";
      }
      return `    at ${fn ? `${f.isConstructor() ? "new " : ""}${fn} (${where})` : where}`;
    });
    return `${err.name}: ${err.message}\n${lines.join("\n")}`;
  };
}

/** The structured frames of an error thrown while the model ran (forces V8 to prepare its stack). */
export function framesOf(e: unknown): CallSite[] {
  if (typeof e !== "object" || e === null) return [];
  void (e as { stack?: unknown }).stack;
  return framesOfError.get(e) ?? [];
}

/** The innermost engine constructor in an error's frames (`Dense` for a failure inside `new Dense(…)`). */
export function engineConstructorOf(e: unknown, bundleName: string): string | undefined {
  // The outermost engine constructor below the user's first frame is the one the user called.
  let found: string | undefined;
  for (const f of framesOf(e)) {
    if (f.getFileName() === bundleName) return found;
    if (f.isConstructor()) found = (f.getFunctionName() ?? "").replace(/^_+/, "") || found;
  }
  return found;
}
