/** The worker's one entry into the debugger: builds the worker-side debugger of a debug run. */
import type { WorkerControl } from "../../runner/control";
import type { BundleSites } from "../../runner/sites";
import { TRACE_BUDGET } from "../../runner/traceBudget";
import { methodRangeFinder } from "./methodRanges";
import { WorkerDebugger } from "./workerDebugger";

export function debuggerFor(control: WorkerControl, sites: BundleSites, code: string, keepSteps: number): WorkerDebugger {
  return new WorkerDebugger({ control, sites, keepSteps, methodRange: methodRangeFinder(code, sites), windowBytes: TRACE_BUDGET.stopWindowBytes });
}
