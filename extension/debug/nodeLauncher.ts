/**
 * A debug launcher for plain Node (the adapter tests, and any host without VS Code): `runModel` with
 * the control channel open, and a run store fed with its events.
 */
import { RunModel, type TraceEvent } from "../../core/host";
import { runModel } from "../runner/runModel";
import type { PythonRunOptions } from "../runner/python/runPython";
import type { DebugLauncher, DebugRunOptions } from "./runtime";

let runIds = 0;

export function nodeLauncher(options: { workerScript: string; esbuildBinary?: string; gradCheck?: boolean; defaults?: DebugRunOptions; python?: PythonRunOptions }): DebugLauncher {
  return {
    async start(file: string, o: DebugRunOptions, onEvent: (e: TraceEvent) => void) {
      const run = { ...options.defaults, ...o };
      const store = new RunModel({ runId: ++runIds, file, startedAt: Date.now() });
      const handle = runModel({
        file,
        workerScript: options.workerScript,
        ...(options.esbuildBinary ? { esbuildBinary: options.esbuildBinary } : {}),
        ...(run.timeLimitSeconds !== undefined ? { timeLimitMs: run.timeLimitSeconds * 1000 } : {}),
        ...(run.memoryLimitMb !== undefined ? { memoryLimitMb: run.memoryLimitMb } : {}),
        ...(run.keepSteps !== undefined ? { keepSteps: run.keepSteps } : {}),
        ...(run.recordSteps !== undefined ? { recordSteps: run.recordSteps } : {}),
        gradCheck: options.gradCheck === false ? false : { maxElements: 64, budgetMs: 1000 },
        control: true,
        ...(options.python ? { python: options.python } : {}),
        onEvent: (e) => {
          store.ingest(e);
          onEvent(e);
        },
      });
      return { handle, store };
    },
  };
}
