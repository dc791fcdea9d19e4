/**
 * The dev page's fake VS Code host. Loaded before main.js (same strict CSP as the real panel), it
 * defines `acquireVsCodeApi()` and answers the inspector exactly as the extension does: `ui/ready` →
 * `session/ready` → `run/started` and the run's events from a `RunModel` (its replay at once, or the
 * events streamed a few at a time with `?live=1`), `trace/tensor` requests answered from the model. Posted messages, CSP violations and
 * errors are collected on `window.__bpl` for the Playwright checks.
 *
 * Query: `?trace=<name>` (a trace loaded by /trace.js), `live=1`, `chunk=<events per tick>`,
 * `tensorDelay=<ms>`, `dropTensors=1` (never answer: exercises timeouts).
 */
import { PROTOCOL_VERSION, bytesOf, type Envelope, type RunEvent, type ToWebview } from "../../core/protocol";
import { RunModel } from "../../core/run/runModel";
import { decodeTrace } from "../../core/trace/encode";
import type { TraceEvent } from "../../core/trace/traceTypes";

interface Bpl {
  posted: unknown[];
  csp: string[];
  errors: string[];
  store?: RunModel;
  /** Sends any message to the webview (tests: ui/reveal, a new run …). */
  send(body: ToWebview): void;
  /** Starts a new run from a trace's events (run switching). */
  startRun(events: TraceEvent[], file: string, runId: number): void;
  /** The loaded trace's events, decoded. */
  events(): TraceEvent[];
  done: boolean;
}

declare global {
  interface Window {
    __BPL_TRACE__?: string;
    __bpl: Bpl;
    acquireVsCodeApi: () => unknown;
  }
}

const params = new URLSearchParams(location.search);
const live = params.get("live") === "1";
const chunk = Number(params.get("chunk") ?? "40");
const tensorDelay = Number(params.get("tensorDelay") ?? "0");
const dropTensors = params.get("dropTensors") === "1";

const bpl: Bpl = {
  posted: [],
  csp: [],
  errors: [],
  done: false,
  send: (body) => deliver({ kind: "event", body }),
  startRun: (events, file, runId) => run(events, file, runId),
  events: () => decoded?.events ?? [],
};
window.__bpl = bpl;

document.addEventListener("securitypolicyviolation", (e) => bpl.csp.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} (${e.sourceFile}:${e.lineNumber})`));
window.addEventListener("error", (e) => bpl.errors.push(String(e.message)));

function deliver(e: Envelope, transfer?: Transferable[]): void {
  // VS Code delivers host messages as window `message` events (structured clone, buffers transferred).
  window.postMessage(e, "*", transfer ?? []);
}

let store: RunModel | undefined;
let ready = false;

function run(events: TraceEvent[], file: string, runId: number): void {
  const start = events.find((e) => e.type === "run/start");
  store = new RunModel({ runId, file, startedAt: start && start.type === "run/start" ? start.startedAt : 0 });
  bpl.store = store;
  bpl.done = false;
  const s = store;
  deliver({ kind: "event", body: { type: "run/started", run: s.header } });
  if (!live) {
    for (const e of events) s.ingest(e);
    deliver({ kind: "event", body: { type: "run/events", runId, events: s.replay() } });
    bpl.done = true;
    return;
  }
  // Live: the same events a few at a time, as a running model streams them.
  let i = 0;
  const tick = (): void => {
    if (store !== s) return;
    const end = Math.min(events.length, i + chunk);
    const batch: RunEvent[] = [];
    for (; i < end; i++) batch.push(s.ingest(events[i] as TraceEvent));
    deliver({ kind: "event", body: { type: "run/events", runId, events: batch } });
    if (i < events.length) setTimeout(tick, 16);
    else bpl.done = true;
  };
  setTimeout(tick, 16);
}

const decoded = window.__BPL_TRACE__ ? decodeTrace(window.__BPL_TRACE__) : undefined;

let state: unknown = JSON.parse(sessionStorage.getItem("bpl-view-state") ?? "null") ?? undefined;
let acquired = false;

window.acquireVsCodeApi = () => {
  if (acquired) throw new Error("An instance of the VS Code API has already been acquired");
  acquired = true;
  return {
    postMessage(msg: unknown) {
      bpl.posted.push(msg);
      const e = msg as Envelope;
      if (e.kind === "event" && (e.body as { type?: string }).type === "ui/ready") {
        ready = true;
        const header = decoded ? { runId: 1, file: decoded.file, startedAt: 0 } : undefined;
        deliver({ kind: "event", body: { type: "session/ready", protocolVersion: PROTOCOL_VERSION, ...(header ? { run: header } : {}) } });
        if (decoded) run(decoded.events, decoded.file, 1);
        else bpl.done = true;
        return;
      }
      if (e.kind === "request" && e.method === "trace/tensor") {
        if (dropTensors) return;
        const p = e.params as { runId: number; seq: number; name: string };
        const answer = (): void => {
          const t = store && store.runId === p.runId ? store.tensor(p.seq, p.name) : undefined;
          if (!t) deliver({ kind: "reply", id: e.id, error: `no tensor ${p.name} for call ${p.seq} of run ${p.runId}` });
          else {
            const data = bytesOf(t.data.slice());
            deliver({ kind: "reply", id: e.id, result: { shape: [...t.shape], data } }, [data]);
          }
        };
        if (tensorDelay > 0) setTimeout(answer, tensorDelay);
        else answer();
      }
    },
    getState: () => state,
    setState: (s: unknown) => {
      state = s;
      sessionStorage.setItem("bpl-view-state", JSON.stringify(s));
    },
  };
};

void ready;
