/**
 * The analysis worker (entry of dist/shapesWorker.js): a worker thread of the language server that
 * parses and analyses model files, so that the server's main thread (hovers, run reports) never
 * waits on the TypeScript parser. One request at a time; see service.ts for the other side.
 */
import { parentPort } from "node:worker_threads";
import { analyzeModel } from "./analyze";
import type { WorkerReply, WorkerRequest } from "./service";

const port = parentPort;
if (!port) throw new Error("shapesWorker.js runs as a worker thread of the language server");

port.on("message", (m: WorkerRequest) => {
  let reply: WorkerReply;
  try {
    reply = { id: m.id, result: analyzeModel(m.text, m.file) };
  } catch (e) {
    reply = { id: m.id, error: e instanceof Error ? (e.stack ?? e.message) : String(e) };
  }
  port.postMessage(reply);
});
