/**
 * The language server's side of the shape analysis: keeps the latest analysis of each open model
 * file, re-analyses a file a short pause after the user stops typing (debounced), and runs the
 * analysis in a worker thread (dist/shapesWorker.js), one file at a time, so the server's main
 * thread stays free for hovers and run reports. A worker that takes too long or dies is replaced;
 * that version of the file just has no static shapes.
 */
import { Worker } from "node:worker_threads";
import type { Position } from "vscode-languageserver";
import type { LazyAnalysis, LazyFact } from "./analyze";
import { factAt } from "./features";
import type { ShapeFact, ShapeResult } from "./types";

/**
 * The analysis worker's heap: old space for a few files' analyses; a large young generation because the
 * analysis makes many short-lived objects (with the default, scavenges made it 3× slower in a worker).
 */
export const WORKER_LIMITS = { maxOldGenerationSizeMb: 512, maxYoungGenerationSizeMb: 64 };

export type WorkerRequest =
  | { type: "analyze"; id: number; uri: string; version: number; file: string; text: string }
  | { type: "hover"; id: number; uri: string; version: number; position: Position }
  | { type: "forget"; uri: string };
export type WorkerReply = { id: number; result: ShapeResult } | { id: number; error: string } | { id: number; hover: ShapeFact | null } | { id: 0; ready: true };

/** An analysis and the document version it is of. */
export interface Analysis {
  version: number;
  result: ShapeResult;
}

export interface ShapeServiceOptions {
  /** dist/shapesWorker.js. */
  workerScript?: string;
  /** Instead of a worker: analyse on this thread with this function (tests; it is analyzeModelLazy). */
  analyzeInline?: (text: string, file: string) => LazyAnalysis;
  /** Pause after the last change before analysing, ms. */
  debounceMs?: number;
  /** An analysis that takes longer than this is abandoned (the worker is replaced), ms. */
  timeoutMs?: number;
  /** A new analysis of `uri` is available. */
  onResult(uri: string): void;
  log(message: string): void;
}

interface Doc {
  uri: string;
  file: string;
  version: number;
  text: string;
  dirty: boolean;
  timer?: NodeJS.Timeout;
  latest?: Analysis;
  waiters: { version: number; resolve: (a: Analysis | undefined) => void }[];
}

export class ShapeService {
  private readonly docs = new Map<string, Doc>();
  private readonly queue: string[] = [];
  private worker: Worker | undefined;
  /** The worker has loaded (its first message); the time limit of an analysis counts from then. */
  private workerReady = false;
  private inflight: { uri: string; version: number; id: number; watchdog: NodeJS.Timeout | undefined; file: string } | undefined;
  private nextId = 1;
  private disposed = false;
  /** Hover requests sent to the worker, by id. */
  private readonly hovers = new Map<number, { resolve: (f: ShapeFact | undefined) => void; timer: NodeJS.Timeout }>();
  /** The analyses made on this thread (inline mode), for their hovers. */
  private readonly inlineFacts = new Map<string, { version: number; facts: LazyFact[] }>();
  private readonly debounceMs: number;
  private readonly timeoutMs: number;

  constructor(private readonly opts: ShapeServiceOptions) {
    this.debounceMs = opts.debounceMs ?? 200;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
  }

  /** A model file was opened or changed: analyse it after the pause (at once when first opened). */
  set(uri: string, file: string, version: number, text: string): void {
    if (this.disposed) return;
    let d = this.docs.get(uri);
    const first = !d;
    if (!d) this.docs.set(uri, (d = { uri, file, version, text, dirty: true, waiters: [] }));
    d.file = file;
    d.version = version;
    d.text = text;
    d.dirty = true;
    if (d.timer) clearTimeout(d.timer);
    d.timer = setTimeout(() => this.enqueue(uri), first ? 0 : this.debounceMs);
  }

  /** The file is no longer open (or no longer a model file). */
  close(uri: string): void {
    const d = this.docs.get(uri);
    if (!d) return;
    if (d.timer) clearTimeout(d.timer);
    for (const w of d.waiters) w.resolve(undefined);
    this.docs.delete(uri);
    this.inlineFacts.delete(uri);
    const forget: WorkerRequest = { type: "forget", uri };
    this.worker?.postMessage(forget);
  }

  /**
   * The hover at a position of `version` of a file (its text is made in the worker, only now), or
   * undefined when there is none or that version's analysis is not the latest.
   */
  hover(uri: string, version: number, position: Position, timeoutMs = 3000): Promise<ShapeFact | undefined> {
    const d = this.docs.get(uri);
    if (!d || d.latest?.version !== version) return Promise.resolve(undefined);
    if (this.opts.analyzeInline) {
      const a = this.inlineFacts.get(uri);
      const f = a && a.version === version ? factAt(a.facts, position) : undefined;
      return Promise.resolve(f ? { range: f.range, kind: f.kind, markdown: f.markdown() } : undefined);
    }
    if (!this.worker) return Promise.resolve(undefined);
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.hovers.delete(id);
        resolve(undefined);
      }, timeoutMs);
      this.hovers.set(id, { resolve, timer });
      const msg: WorkerRequest = { type: "hover", id, uri, version, position };
      this.worker?.postMessage(msg);
    });
  }

  has(uri: string): boolean {
    return this.docs.has(uri);
  }

  /** The latest analysis of a file (maybe of an older version). */
  latest(uri: string): Analysis | undefined {
    return this.docs.get(uri)?.latest;
  }

  /** The analyses of every open file. */
  all(): { uri: string; file: string; version: number; analysis: Analysis }[] {
    const out: { uri: string; file: string; version: number; analysis: Analysis }[] = [];
    for (const d of this.docs.values()) if (d.latest) out.push({ uri: d.uri, file: d.file, version: d.version, analysis: d.latest });
    return out;
  }

  /** The analysis of exactly `version`, waiting for it at most `waitMs`; undefined when it does not come in time. */
  current(uri: string, version: number, waitMs: number): Promise<Analysis | undefined> {
    const d = this.docs.get(uri);
    if (!d) return Promise.resolve(undefined);
    if (d.latest?.version === version) return Promise.resolve(d.latest);
    const pending = d.version === version && (d.dirty || this.inflight?.uri === uri);
    if (!pending || waitMs <= 0) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const w = { version, resolve: (a: Analysis | undefined): void => resolve(a) };
      d.waiters.push(w);
      setTimeout(() => {
        const i = d.waiters.indexOf(w);
        if (i >= 0) d.waiters.splice(i, 1);
        resolve(undefined);
      }, waitMs);
    });
  }

  dispose(): void {
    this.disposed = true;
    for (const uri of [...this.docs.keys()]) this.close(uri);
    if (this.inflight?.watchdog) clearTimeout(this.inflight.watchdog);
    this.dropHovers();
    void this.worker?.terminate();
    this.worker = undefined;
  }

  private dropHovers(): void {
    for (const h of this.hovers.values()) {
      clearTimeout(h.timer);
      h.resolve(undefined);
    }
    this.hovers.clear();
  }

  private enqueue(uri: string): void {
    const d = this.docs.get(uri);
    if (!d) return;
    delete d.timer;
    if (!this.queue.includes(uri)) this.queue.push(uri);
    this.pump();
  }

  private pump(): void {
    if (this.inflight || this.disposed) return;
    for (;;) {
      const uri = this.queue.shift();
      if (uri === undefined) return;
      const d = this.docs.get(uri);
      if (!d || !d.dirty || d.timer) continue;
      d.dirty = false;
      const id = this.nextId++;
      const version = d.version;
      const inline = this.opts.analyzeInline;
      if (inline) {
        // In-process (tests): the same analysis, on the next turn of the event loop.
        this.inflight = { uri, version, id, watchdog: undefined, file: d.file };
        const text = d.text;
        const file = d.file;
        setImmediate(() => {
          let reply: WorkerReply;
          try {
            const a = inline(text, file);
            this.inlineFacts.set(uri, { version, facts: a.facts });
            reply = { id, result: a.result };
          } catch (e) {
            reply = { id, error: e instanceof Error ? (e.stack ?? e.message) : String(e) };
          }
          this.reply(reply);
        });
        return;
      }
      const worker = this.ensureWorker();
      this.inflight = { uri, version, id, watchdog: this.workerReady ? this.watchdog(d.file) : undefined, file: d.file };
      const msg: WorkerRequest = { type: "analyze", id, uri, version, file: d.file, text: d.text };
      worker.postMessage(msg);
      return;
    }
  }

  private watchdog(file: string): NodeJS.Timeout {
    return setTimeout(() => this.fail(`the shape analysis of ${file} took over ${this.timeoutMs} ms; abandoned`, true), this.timeoutMs);
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    this.workerReady = false;
    const w = new Worker(this.opts.workerScript as string, { resourceLimits: WORKER_LIMITS });
    // A worker that does not even load in a minute is replaced (and its file waits for the next change).
    const startLimit = setTimeout(() => {
      if (this.worker === w && !this.workerReady) this.fail("the shape analysis worker did not start within 60 s", true);
    }, 60_000);
    startLimit.unref();
    w.on("message", (m: WorkerReply) => this.reply(m));
    w.on("error", (e) => {
      if (this.worker === w) this.worker = undefined;
      this.fail(`the shape analysis worker failed: ${e instanceof Error ? e.message : String(e)}`, false);
    });
    w.on("exit", (code) => {
      if (this.worker === w) {
        this.worker = undefined;
        if (this.inflight && !this.disposed) this.fail(`the shape analysis worker exited (code ${code})`, false);
      }
    });
    w.unref();
    this.worker = w;
    return w;
  }

  private reply(m: WorkerReply): void {
    if ("ready" in m) {
      this.workerReady = true;
      if (this.inflight && !this.inflight.watchdog) this.inflight.watchdog = this.watchdog(this.inflight.file);
      return;
    }
    if ("hover" in m) {
      const h = this.hovers.get(m.id);
      if (h) {
        this.hovers.delete(m.id);
        clearTimeout(h.timer);
        h.resolve(m.hover ?? undefined);
      }
      return;
    }
    const f = this.inflight;
    if (!f || f.id !== m.id) return;
    if (f.watchdog) clearTimeout(f.watchdog);
    this.inflight = undefined;
    const d = this.docs.get(f.uri);
    if ("error" in m) {
      this.opts.log(`shape analysis of ${d?.file ?? f.uri} failed: ${m.error}`);
      this.settle(d, undefined);
    } else if (d) {
      d.latest = { version: f.version, result: m.result };
      this.settle(d, d.latest);
      this.opts.onResult(f.uri);
    }
    this.pump();
  }

  /** Hands waiters the analysis of their version, and tells waiters for older versions there is none. */
  private settle(d: Doc | undefined, a: Analysis | undefined): void {
    if (!d) return;
    const keep: Doc["waiters"] = [];
    for (const w of d.waiters) {
      if (a && w.version === a.version) w.resolve(a);
      else if (!a || w.version < a.version || (!d.dirty && w.version !== d.version)) w.resolve(undefined);
      else keep.push(w);
    }
    d.waiters = keep;
  }

  private fail(message: string, terminate: boolean): void {
    this.opts.log(message);
    const f = this.inflight;
    if (f) {
      if (f.watchdog) clearTimeout(f.watchdog);
      this.inflight = undefined;
      this.settle(this.docs.get(f.uri), undefined);
    }
    if (terminate && this.worker) {
      const w = this.worker;
      this.worker = undefined;
      this.dropHovers();
      void w.terminate();
    }
    this.pump();
  }
}
