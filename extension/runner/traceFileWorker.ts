/**
 * The host's trace-file thread (entry `dist/traceFile.js`, a worker thread of the extension host, used
 * through traceFile.ts): it encodes and saves runs and restores the saved one, so none of that JSON
 * work happens on the editor's thread.
 *
 * Saving is incremental: events are encoded one by one as they arrive and appended to two files beside
 * the target, the full trace and a light one (everything but layer calls). At the end the full one
 * becomes the saved run when it is within the save limit, else the light one (with a note that the
 * tensors were too large to keep); the rename is atomic, so the saved file is always a run that ended.
 * The layout is the documented trace format with one event per line:
 *
 *   {"format":"backprop-lens-trace","version":…,"file":…,"createdAt":…,"producer":…,"events":[
 *   <event>,
 *   <event>
 *   ]}
 *
 * Restoring reads at most `maxBytes`, line by line, decodes and validates each event (a bad one is
 * skipped and counted), holds them to the trace budget, and posts them back in batches with their
 * tensors transferred. A file in another layout (one line, from the CLI) is parsed whole if small.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parentPort } from "node:worker_threads";
import { TRACE_FORMAT_VERSION, type TraceEvent, decodeEvent, encodeEvent } from "../../core/host";
import { TraceLimiter, tensorBytesOf } from "./traceBudget";
import { validateEvent } from "./validate";

export type ToTraceFile =
  | { op: "begin"; runId: number; target: string; file: string; producer: string; createdAt: string; limitBytes: number }
  | { op: "events"; runId: number; events: TraceEvent[] }
  | { op: "end"; runId: number; end: TraceEvent }
  | { op: "abort"; runId: number }
  | { op: "read"; id: number; path: string; maxBytes: number };

export interface ReadSummary {
  file: string;
  createdAt: string;
  producer: string;
  version: number;
  events: number;
  skipped: number;
  firstBad?: string;
  /** Events beyond the trace budget that were not restored. */
  dropped: number;
}

export type FromTraceFile =
  | { op: "saved"; runId: number; bytes: number; light: boolean; error?: string }
  | { op: "header"; id: number; file: string; createdAt: string; producer: string }
  | { op: "batch"; id: number; events: TraceEvent[] }
  | { op: "done"; id: number; summary: ReadSummary }
  | { op: "failed"; id: number; message: string };

const port = parentPort;
if (port === null) throw new Error("traceFileWorker.ts runs as a worker thread");

// ------------------------------------------------------------------ saving

interface Save {
  runId: number;
  target: string;
  full: Appender;
  light: Appender;
  limitBytes: number;
  fullBytes: number;
  lightBytes: number;
  tooLarge: boolean;
}

/** Appends lines to a file with a synchronous handle (this is its own thread). */
class Appender {
  private fd: number;
  private first = true;
  bytes = 0;
  constructor(readonly file: string, head: string) {
    this.fd = fs.openSync(file, "w");
    this.write(head);
  }
  private write(text: string): void {
    const b = Buffer.from(text, "utf8");
    fs.writeSync(this.fd, b);
    this.bytes += b.length;
  }
  event(json: string): void {
    this.write(`${this.first ? "" : ",\n"}${json}`);
    this.first = false;
  }
  close(): void {
    this.write("\n]}\n");
    fs.closeSync(this.fd);
    this.fd = -1;
  }
  discard(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
    fs.rmSync(this.file, { force: true });
  }
}

let save: Save | undefined;

function header(file: string, producer: string, createdAt: string): string {
  const head = JSON.stringify({ format: "backprop-lens-trace", version: TRACE_FORMAT_VERSION, file, createdAt, producer });
  return `${head.slice(0, -1)},"events":[\n`;
}

function begin(m: Extract<ToTraceFile, { op: "begin" }>): void {
  if (save) abort(save.runId);
  fs.mkdirSync(path.dirname(m.target), { recursive: true });
  const head = header(m.file, m.producer, m.createdAt);
  const base = `${m.target}.${m.runId}.${process.pid}`;
  save = { runId: m.runId, target: m.target, full: new Appender(`${base}.full.partial`, head), light: new Appender(`${base}.light.partial`, head), limitBytes: m.limitBytes, fullBytes: 0, lightBytes: 0, tooLarge: false };
}

function append(runId: number, events: TraceEvent[]): void {
  const s = save;
  if (!s || s.runId !== runId) return;
  for (const e of events) {
    const json = encodeEvent(e);
    if (e.type !== "layer/call") s.light.event(json);
    if (s.tooLarge) continue;
    if (s.full.bytes + json.length > s.limitBytes) {
      s.tooLarge = true;
      s.full.discard();
      continue;
    }
    s.full.event(json);
  }
}

function end(runId: number, endEvent: TraceEvent): void {
  const s = save;
  if (!s || s.runId !== runId) return;
  save = undefined;
  try {
    if (s.tooLarge) {
      s.light.event(
        encodeEvent({
          type: "anomaly",
          anomaly: {
            code: "truncated",
            severity: "information",
            step: 0,
            message: `this run's recorded tensors were more than the ${(s.limitBytes / 2 ** 20).toFixed(0)} MB that is kept for the next window, so they were not saved; run the model again to see them`,
          },
        }),
      );
    }
    const json = encodeEvent(endEvent);
    const chosen = s.tooLarge ? s.light : s.full;
    chosen.event(json);
    chosen.close();
    (s.tooLarge ? s.full : s.light).discard();
    fs.renameSync(chosen.file, s.target);
    post({ op: "saved", runId, bytes: chosen.bytes, light: s.tooLarge });
  } catch (e) {
    s.full.discard();
    s.light.discard();
    post({ op: "saved", runId, bytes: 0, light: false, error: e instanceof Error ? e.message : String(e) });
  }
}

function abort(runId: number): void {
  const s = save;
  if (!s || s.runId !== runId) return;
  save = undefined;
  s.full.discard();
  s.light.discard();
}

// ------------------------------------------------------------------ restoring

async function read(id: number, file: string, maxBytes: number): Promise<void> {
  const size = fs.statSync(file).size;
  if (size > maxBytes) {
    post({ op: "failed", id, message: `the saved run is ${(size / 2 ** 20).toFixed(0)} MB, more than the ${(maxBytes / 2 ** 20).toFixed(0)} MB this reader takes, so it was not restored` });
    return;
  }
  let head: Omit<ReadSummary, "events" | "skipped" | "dropped" | "firstBad"> | undefined;
  const limiter = new TraceLimiter(3);
  let batch: TraceEvent[] = [];
  let bytes = 0;
  let count = 0;
  let skipped = 0;
  let firstBad: string | undefined;
  let runEnd: TraceEvent | undefined;
  const flushBatch = (): void => {
    if (batch.length === 0) return;
    const transfer: ArrayBuffer[] = [];
    for (const e of batch) if (e.type === "layer/call") for (const t of Object.values(e.call.tensors)) transfer.push(t.data.buffer as ArrayBuffer);
    post({ op: "batch", id, events: batch }, transfer);
    batch = [];
    bytes = 0;
  };
  const takeEvent = (raw: unknown): void => {
    let e: unknown;
    let why: string | undefined;
    try {
      e = decodeEvent(raw);
      why = validateEvent(e);
    } catch (err) {
      why = err instanceof Error ? err.message : String(err);
    }
    if (why !== undefined) {
      skipped++;
      firstBad ??= why;
      return;
    }
    const ev = e as TraceEvent;
    if (ev.type === "run/end") {
      runEnd = ev;
      return;
    }
    for (const x of limiter.admit(ev)) {
      batch.push(x);
      count++;
      bytes += tensorBytesOf(x);
      if (batch.length >= 2000 || bytes >= 8 * 2 ** 20) flushBatch();
    }
  };
  const checkHeader = (h: Record<string, unknown>): string | undefined => {
    if (h.format !== "backprop-lens-trace") return `not a Backprop Lens trace (format is ${JSON.stringify(h.format)})`;
    if (typeof h.version !== "number" || h.version > TRACE_FORMAT_VERSION) return `trace format version ${String(h.version)} is newer than this reader (${TRACE_FORMAT_VERSION})`;
    if (typeof h.file !== "string") return "the trace names no model file";
    head = { file: h.file, createdAt: String(h.createdAt ?? ""), producer: String(h.producer ?? ""), version: h.version };
    post({ op: "header", id, file: head.file, createdAt: head.createdAt, producer: head.producer });
    return undefined;
  };

  const fd = fs.openSync(file, "r");
  try {
    const first = Buffer.alloc(Math.min(size, 4096));
    fs.readSync(fd, first, 0, first.length, 0);
    const nl = first.indexOf(10);
    const firstLine = nl >= 0 ? first.subarray(0, nl).toString("utf8") : "";
    if (nl >= 0 && firstLine.endsWith('"events":[')) {
      // One event per line: stream it.
      let h: Record<string, unknown>;
      try {
        h = JSON.parse(`${firstLine}]}`) as Record<string, unknown>;
      } catch {
        post({ op: "failed", id, message: "the saved run's first line is not a trace header" });
        return;
      }
      const bad = checkHeader(h);
      if (bad) return post({ op: "failed", id, message: bad });
      let lineNo = 1;
      const chunk = Buffer.alloc(1 << 20);
      let at = nl + 1;
      let rest = Buffer.alloc(0);
      const takeLine = (buf: Buffer): void => {
        lineNo++;
        let line = buf.toString("utf8").trim();
        if (line.endsWith(",")) line = line.slice(0, -1);
        if (line === "]}" || line === "") return;
        let v: unknown;
        try {
          // The last event may share its line with the closing "]}".
          v = JSON.parse(line.endsWith("]}") && !line.startsWith("]") ? tryTrim(line) : line);
        } catch (e) {
          // One bad line does not stop the rest.
          skipped++;
          firstBad ??= `line ${lineNo} is not JSON (${e instanceof Error ? e.message : String(e)})`;
          return;
        }
        takeEvent(v);
      };
      for (;;) {
        const n = fs.readSync(fd, chunk, 0, chunk.length, at);
        if (n === 0) break;
        at += n;
        const data = rest.length > 0 ? Buffer.concat([rest, chunk.subarray(0, n)]) : chunk.subarray(0, n);
        let start = 0;
        for (let i = data.indexOf(10, start); i >= 0; i = data.indexOf(10, start)) {
          takeLine(data.subarray(start, i));
          start = i + 1;
        }
        rest = Buffer.from(data.subarray(start)); // a copy: `chunk` is reused
        await new Promise((r) => setImmediate(r)); // let batches out while reading
      }
      if (rest.length > 0) takeLine(rest);
    } else {
      // Another layout (e.g. the CLI's one-line trace): parse it whole, here, off the editor's thread.
      const text = fs.readFileSync(file, "utf8");
      let raw: Record<string, unknown>;
      try {
        raw = JSON.parse(text) as Record<string, unknown>;
      } catch (e) {
        post({ op: "failed", id, message: `the saved run is not JSON (${e instanceof Error ? e.message : String(e)})` });
        return;
      }
      const bad = checkHeader(raw);
      if (bad) return post({ op: "failed", id, message: bad });
      if (!Array.isArray(raw.events)) return post({ op: "failed", id, message: "the saved run has no events" });
      for (const e of raw.events as unknown[]) takeEvent(e);
    }
  } finally {
    fs.closeSync(fd);
  }
  for (const x of limiter.finish()) batch.push(x);
  if (runEnd) batch.push(runEnd);
  flushBatch();
  const dropped = Object.values(limiter.dropped).reduce((a, b) => a + (b ?? 0), 0);
  if (!head) return post({ op: "failed", id, message: "the saved run has no header" });
  post({ op: "done", id, summary: { ...head, events: count + (runEnd ? 1 : 0), skipped, dropped, ...(firstBad !== undefined ? { firstBad } : {}) } });
}

/** `line` without a trailing `]}` when that makes it JSON, else `line`. */
function tryTrim(line: string): string {
  try {
    JSON.parse(line);
    return line;
  } catch {
    return line.slice(0, -2);
  }
}

function post(m: FromTraceFile, transfer?: ArrayBuffer[]): void {
  port?.postMessage(m, transfer ?? []);
}

port.on("message", (m: ToTraceFile) => {
  try {
    switch (m.op) {
      case "begin":
        begin(m);
        break;
      case "events":
        append(m.runId, m.events);
        break;
      case "end":
        end(m.runId, m.end);
        break;
      case "abort":
        abort(m.runId);
        break;
      case "read":
        void read(m.id, m.path, m.maxBytes).catch((e: unknown) => post({ op: "failed", id: m.id, message: e instanceof Error ? e.message : String(e) }));
        break;
    }
  } catch (e) {
    if (m.op === "read") post({ op: "failed", id: m.id, message: e instanceof Error ? e.message : String(e) });
    else if (m.op === "end") post({ op: "saved", runId: m.runId, bytes: 0, light: false, error: e instanceof Error ? e.message : String(e) });
  }
});
