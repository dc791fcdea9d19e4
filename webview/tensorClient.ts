/**
 * Pulls tensors from the host with `trace/tensor` requests: one request per tensor at a time (callers
 * of an in-flight tensor share it), every request with a timeout, replies answered exactly once, and
 * an LRU cache keyed by `tensorKey(runId, seq, name)` bounded in bytes.
 */
import { tensorKey, type Envelope } from "../core/protocol";
import type { TensorData } from "../core/trace/traceTypes";
import type { Host } from "./host";
import { LruCache } from "./lru";

export interface TensorClientOptions {
  /** Milliseconds before a request fails (default 15 s). */
  timeoutMs?: number;
  /** Cache bound in bytes (default 96 MB). */
  cacheBytes?: number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

interface Pending {
  key: string;
  resolve: (t: TensorData) => void;
  reject: (e: Error) => void;
  timer: unknown;
}

export class TensorClient {
  readonly cache: LruCache<string, TensorData>;
  private readonly pending = new Map<number, Pending>();
  private readonly inflight = new Map<string, Promise<TensorData>>();
  private nextId = 1;
  private readonly timeoutMs: number;
  private readonly setTimer: (fn: () => void, ms: number) => unknown;
  private readonly clearTimer: (handle: unknown) => void;

  constructor(
    private readonly host: Host,
    options: TensorClientOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 15000;
    this.cache = new LruCache<string, TensorData>(options.cacheBytes ?? 96 * 1024 * 1024, (t) => t.data.byteLength + 64);
    this.setTimer = options.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    this.clearTimer = options.clearTimer ?? ((h) => clearTimeout(h as ReturnType<typeof setTimeout>));
  }

  /** A cached tensor, without asking the host. */
  peek(runId: number, seq: number, name: string): TensorData | undefined {
    return this.cache.get(tensorKey(runId, seq, name));
  }

  /** The tensor `name` of call `seq` of run `runId`: from the cache, an in-flight request, or a new one. */
  get(runId: number, seq: number, name: string): Promise<TensorData> {
    const key = tensorKey(runId, seq, name);
    const hit = this.cache.get(key);
    if (hit) return Promise.resolve(hit);
    const running = this.inflight.get(key);
    if (running) return running;
    const id = this.nextId++;
    const p = new Promise<TensorData>((resolve, reject) => {
      const timer = this.setTimer(() => {
        if (!this.pending.delete(id)) return;
        this.inflight.delete(key);
        reject(new Error(`no answer for ${name} of call ${seq} after ${this.timeoutMs >= 1000 ? `${Math.round(this.timeoutMs / 1000)} s` : `${this.timeoutMs} ms`}`));
      }, this.timeoutMs);
      this.pending.set(id, { key, resolve, reject, timer });
    });
    this.inflight.set(key, p);
    try {
      this.host.post({ kind: "request", id, method: "trace/tensor", params: { runId, seq, name } });
    } catch (err) {
      // Posting failed: settle now (the caller gets the rejection, no timer is left behind).
      const pending = this.pending.get(id);
      this.pending.delete(id);
      this.inflight.delete(key);
      if (pending) {
        this.clearTimer(pending.timer);
        pending.reject(err instanceof Error ? err : new Error(String(err)));
      }
    }
    return p;
  }

  /** Handles a reply envelope; returns false for replies this client did not ask for (or already settled). */
  handleReply(e: Envelope): boolean {
    if (e.kind !== "reply") return false;
    const p = this.pending.get(e.id);
    if (!p) return false;
    this.pending.delete(e.id);
    this.inflight.delete(p.key);
    this.clearTimer(p.timer);
    if (e.error !== undefined) {
      p.reject(new Error(e.error));
      return true;
    }
    const t = toTensor(e.result);
    if (typeof t === "string") {
      p.reject(new Error(t));
      return true;
    }
    this.cache.set(p.key, t);
    p.resolve(t);
    return true;
  }

  /** Forgets a run: rejects its pending requests and drops its cached tensors. */
  dropRun(runId: number): void {
    const prefix = `${runId}:`;
    for (const [id, p] of [...this.pending]) {
      if (!p.key.startsWith(prefix)) continue;
      this.pending.delete(id);
      this.inflight.delete(p.key);
      this.clearTimer(p.timer);
      p.reject(new Error("the run was replaced"));
    }
    this.cache.deleteWhere((k) => k.startsWith(prefix));
  }

  /** Requests still waiting for a reply. */
  get pendingCount(): number {
    return this.pending.size;
  }
}

/** Checks a `trace/tensor` result: shape of non-negative integers and exactly size · 8 bytes. */
export function toTensor(result: unknown): TensorData | string {
  if (typeof result !== "object" || result === null) return "the tensor reply has no result";
  const r = result as { shape?: unknown; data?: unknown };
  if (!Array.isArray(r.shape) || !r.shape.every((d) => typeof d === "number" && Number.isInteger(d) && d >= 0)) return "the tensor reply has no valid shape";
  const shape = r.shape as number[];
  const size = shape.reduce((a, b) => a * b, 1);
  let data: Float64Array;
  if (r.data instanceof ArrayBuffer) {
    if (r.data.byteLength !== size * 8) return `the tensor reply has ${r.data.byteLength} bytes, expected ${size * 8} for shape [${shape.join(", ")}]`;
    data = new Float64Array(r.data);
  } else if (r.data instanceof Float64Array) {
    if (r.data.length !== size) return `the tensor reply has ${r.data.length} values, expected ${size}`;
    data = r.data;
  } else return "the tensor reply has no data";
  return { shape, data };
}
