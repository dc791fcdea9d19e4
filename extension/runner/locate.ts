/**
 * Finds where a busy worker is, without its cooperation: the parent attaches the V8 inspector to the
 * worker (`NodeWorker` domain), pauses it (`Debugger.pause` interrupts even a `while (true) {}`),
 * reads the paused call frames and maps the innermost frame of the model bundle to the user's line.
 * Best effort: any failure or a slow answer (1 s) gives `undefined`, and the caller stops the
 * worker anyway.
 */
import * as inspector from "node:inspector";
import type { Worker } from "node:worker_threads";
import { TraceMap, originalPositionFor } from "@jridgewell/trace-mapping";
import type { SourceSite } from "../../core/host";

interface PausedFrame {
  url: string;
  location: { scriptId: string; lineNumber: number; columnNumber?: number };
}

export async function locatePausedWorker(
  worker: Worker,
  mapText: string,
  bundleName: string,
  timeoutMs = 1000,
  debug: (message: string) => void = () => undefined,
): Promise<SourceSite | undefined> {
  const session = new inspector.Session();
  try {
    session.connect();
  } catch (e) {
    debug(`locate: cannot connect to the inspector: ${String(e)}`);
    return undefined; // another debugger owns the inspector
  }
  const post = (method: string, params?: object): Promise<unknown> =>
    new Promise((resolve) => session.post(method, params ?? {}, (err, res) => resolve(err ? undefined : res)));
  let workerSession: string | undefined;
  const bundleScripts = new Set<string>();
  const send = (id: number, method: string): Promise<unknown> =>
    post("NodeWorker.sendMessageToWorker", { sessionId: workerSession, message: JSON.stringify({ id, method, params: {} }) });
  try {
    return await new Promise<SourceSite | undefined>((resolve) => {
      const timer = setTimeout(() => {
        debug(`locate: no answer within ${timeoutMs} ms (attached: ${workerSession !== undefined}, bundle scripts: ${bundleScripts.size})`);
        resolve(undefined);
      }, timeoutMs);
      session.on("NodeWorker.attachedToWorker", (m: { params: { sessionId: string; workerInfo: { workerId: string; title: string } } }) => {
        // The inspector's workerId is its own counter, not the thread id; the title is "[worker <threadId>] <name>".
        // Other workers of this process (an extension host has several) must never be touched.
        if (!m.params.workerInfo.title.startsWith(`[worker ${worker.threadId}]`) || workerSession !== undefined) return;
        workerSession = m.params.sessionId;
        void send(1, "Debugger.enable").then(() => send(2, "Debugger.pause"));
      });
      session.on("NodeWorker.receivedMessageFromWorker", (m: { params: { sessionId: string; message: string } }) => {
        if (m.params.sessionId !== workerSession) return;
        let msg: { method?: string; params?: { callFrames?: PausedFrame[]; scriptId?: string; url?: string } };
        try {
          msg = JSON.parse(m.params.message) as typeof msg;
        } catch {
          return;
        }
        // Paused frames carry only a scriptId; the url comes with each script's scriptParsed event.
        if (msg.method === "Debugger.scriptParsed" && msg.params?.url === bundleName && msg.params.scriptId) bundleScripts.add(msg.params.scriptId);
        if (msg.method !== "Debugger.paused") return;
        clearTimeout(timer);
        const map = new TraceMap(mapText);
        for (const f of msg.params?.callFrames ?? []) {
          if (f.url !== bundleName && !bundleScripts.has(f.location.scriptId)) continue;
          const o = originalPositionFor(map, { line: f.location.lineNumber + 1, column: f.location.columnNumber ?? 0 });
          if (o.source !== null && o.line !== null && !o.source.startsWith("backprop-lens-engine:")) {
            resolve({ file: o.source, line: o.line, column: (o.column ?? 0) + 1 });
            return;
          }
        }
        debug(`locate: paused, but no frame is in the model (${(msg.params?.callFrames ?? []).length} frames)`);
        resolve(undefined);
      });
      void post("NodeWorker.enable", { waitForDebuggerOnStart: false });
    });
  } finally {
    // A worker paused in the debugger cannot be terminated: resume it and detach first.
    if (workerSession !== undefined) {
      await send(3, "Debugger.resume");
      await send(4, "Debugger.disable");
      await post("NodeWorker.detach", { sessionId: workerSession });
    }
    await post("NodeWorker.disable");
    session.disconnect();
  }
}
