/**
 * The analysis worker (entry of dist/shapesWorker.js): a worker thread of the language server that
 * parses and analyses model files, so that the server's main thread (hovers, run reports) never
 * waits on the TypeScript parser. It keeps each file's latest analysis and renders a hover's text
 * only when one is asked for. Messages are handled in order; see service.ts for the other side.
 */
import { parentPort } from "node:worker_threads";
import { type LazyFact, analyzeModelLazy } from "./analyze";
import { factAt } from "./features";
import type { WorkerReply, WorkerRequest } from "./service";

const port = parentPort;
if (!port) throw new Error("shapesWorker.js runs as a worker thread of the language server");

const latest = new Map<string, { version: number; facts: LazyFact[] }>();

// Loading the TypeScript parser takes a while (seconds on a busy machine): the service starts its
// clock for an analysis only from here.
const ready: WorkerReply = { id: 0, ready: true };
port.postMessage(ready);

port.on("message", (m: WorkerRequest) => {
  if (m.type === "forget") {
    latest.delete(m.uri);
    return;
  }
  let reply: WorkerReply;
  try {
    if (m.type === "hover") {
      const a = latest.get(m.uri);
      const f = a && a.version === m.version ? factAt(a.facts, m.position) : undefined;
      reply = { id: m.id, hover: f ? { range: f.range, kind: f.kind, markdown: f.markdown() } : null };
    } else {
      const a = analyzeModelLazy(m.text, m.file);
      latest.set(m.uri, { version: m.version, facts: a.facts });
      reply = { id: m.id, result: a.result };
    }
  } catch (e) {
    reply = { id: m.id, error: e instanceof Error ? (e.stack ?? e.message) : String(e) };
  }
  port.postMessage(reply);
});
