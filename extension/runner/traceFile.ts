/**
 * Saving and restoring runs off the host's thread: the host side of traceFileWorker.ts. One worker
 * thread, started on first use and never keeping a process alive.
 *
 * - `begin` / `add` / `end`: a run's events are handed over in batches as they arrive (one message per
 *   turn of the event loop) and encoded and appended there; `end` writes the run's `run/end` and makes
 *   the file the saved run (atomically), within `limitBytes` or else without its tensors.
 * - `read`: the saved run, validated event by event, arrives in batches (tensors transferred).
 */
import { Worker } from "node:worker_threads";
import type { TraceEvent } from "../../core/host";
import type { FromTraceFile, ReadSummary, ToTraceFile } from "./traceFileWorker";

export type { ReadSummary } from "./traceFileWorker";

export interface TraceHeader {
  file: string;
  createdAt: string;
  producer: string;
}

export interface SaveResult {
  bytes: number;
  /** Saved without its tensors (the full trace was over the limit). */
  light: boolean;
  error?: string;
}

export class TraceFiles {
  private worker: Worker | undefined;
  private pending: TraceEvent[] = [];
  private pendingRun = -1;
  private scheduled = false;
  private readonly saves = new Map<number, (r: SaveResult) => void>();
  private readonly reads = new Map<number, { onHeader: (h: TraceHeader) => void; onBatch: (events: TraceEvent[]) => void; resolve: (s: ReadSummary) => void; reject: (e: Error) => void }>();
  private nextRead = 1;

  constructor(private readonly script: string) {}

  private get thread(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(this.script, { name: "backprop-lens trace files" });
    w.unref();
    w.on("message", (m: FromTraceFile) => this.onMessage(m));
    const fail = (why: string): void => {
      this.worker = undefined;
      for (const [, s] of this.saves) s({ bytes: 0, light: false, error: why });
      this.saves.clear();
      for (const [, r] of this.reads) r.reject(new Error(why));
      this.reads.clear();
    };
    w.on("error", (e) => fail(`the trace-file thread failed: ${e.message}`));
    w.on("exit", (code) => fail(`the trace-file thread exited (code ${code})`));
    this.worker = w;
    return w;
  }

  private post(m: ToTraceFile): void {
    this.thread.postMessage(m);
  }

  begin(runId: number, target: string, file: string, producer: string, createdAt: Date, limitBytes: number): void {
    this.flush();
    this.post({ op: "begin", runId, target, file, producer, createdAt: createdAt.toISOString(), limitBytes });
  }

  /** Queues events of run `runId` (sent in one message per turn of the event loop). */
  add(runId: number, e: TraceEvent): void {
    if (this.pendingRun !== runId) this.flush();
    this.pendingRun = runId;
    this.pending.push(e);
    if (this.pending.length >= 2000) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.scheduled = false;
    if (this.pending.length === 0) return;
    const events = this.pending;
    this.pending = [];
    this.post({ op: "events", runId: this.pendingRun, events });
  }

  /** Ends run `runId` with its run/end and saves it; resolves when the file is in place. */
  end(runId: number, end: TraceEvent): Promise<SaveResult> {
    this.flush();
    return new Promise((resolve) => {
      this.saves.set(runId, resolve);
      this.post({ op: "end", runId, end });
    });
  }

  /** Forgets run `runId` (superseded): its partial files are removed, the saved run stays. */
  abort(runId: number): void {
    if (this.pendingRun === runId) this.pending = [];
    this.post({ op: "abort", runId });
  }

  /**
   * Reads a saved run: `onHeader` once (before any event), then `onBatch` with its events in order,
   * each batch in its own turn of the event loop.
   */
  read(path: string, maxBytes: number, onHeader: (h: TraceHeader) => void, onBatch: (events: TraceEvent[]) => void): Promise<ReadSummary> {
    const id = this.nextRead++;
    return new Promise((resolve, reject) => {
      this.reads.set(id, { onHeader, onBatch, resolve, reject });
      this.post({ op: "read", id, path, maxBytes });
    });
  }

  private onMessage(m: FromTraceFile): void {
    switch (m.op) {
      case "saved": {
        const s = this.saves.get(m.runId);
        this.saves.delete(m.runId);
        s?.({ bytes: m.bytes, light: m.light, ...(m.error !== undefined ? { error: m.error } : {}) });
        break;
      }
      case "header":
        this.reads.get(m.id)?.onHeader({ file: m.file, createdAt: m.createdAt, producer: m.producer });
        break;
      case "batch":
        this.reads.get(m.id)?.onBatch(m.events);
        break;
      case "done":
        this.reads.get(m.id)?.resolve(m.summary);
        this.reads.delete(m.id);
        break;
      case "failed":
        this.reads.get(m.id)?.reject(new Error(m.message));
        this.reads.delete(m.id);
        break;
    }
  }

  dispose(): void {
    void this.worker?.terminate();
    this.worker = undefined;
  }
}
