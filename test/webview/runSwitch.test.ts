/**
 * Issue 13, "wrong or stale numbers", in the whole inspector (jsdom, fake Host): nothing of an earlier
 * run shows in a later one (output, cards, problems, step picker), a new run opens at its own first
 * step, the header names the final loss and the chosen step's loss apart, statistics of NaN and ±∞
 * are shown as they are.
 */
import * as assert from "node:assert/strict";
import { TRACE_FORMAT_VERSION, type TraceEvent } from "../../core/trace/traceTypes";
import { tensorStats } from "../../core/trace/stats";
import { recordRun, train } from "../helpers/record";
import { Inspector } from "./inspectorHarness";

/** A run that printed `lines` console lines. */
function withConsole(events: TraceEvent[], lines: number): TraceEvent[] {
  const end = events[events.length - 1] as TraceEvent;
  const out = events.slice(0, -1);
  for (let i = 0; i < lines; i++) out.push({ type: "console", level: "log", text: `epoch ${i}`, site: { file: "/m.ts", line: 3, column: 1 } });
  out.push(end);
  return out;
}

/** A run that failed at once (a syntax error): no layers, no output. */
const failedEarly: TraceEvent[] = [
  { type: "run/start", version: TRACE_FORMAT_VERSION, file: "/m.ts", startedAt: 0 },
  { type: "run/end", ok: false, steps: 0, durationMs: 3, keptSteps: [], error: { kind: "syntax", message: "m.ts:4: Expected \";\" but found \"dense1\"", site: { file: "/m.ts", line: 4, column: 7 } } },
];

describe("inspector: one run at a time (jsdom)", function () {
  this.timeout(30000);
  let ui: Inspector;
  afterEach(() => ui?.close());

  it("a run that fails early shows no output of the previous run (it read OUTPUT (0 LINES) over 18 old lines)", async () => {
    ui = new Inspector({ v: 1, zoom: 1, collapsed: [], samples: {}, outputOpen: true });
    ui.openRun(withConsole(recordRun(train(2), 2), 18), { runId: 1 });
    await ui.settle();
    assert.equal(ui.$("[data-testid=output]")?.getAttribute("heading"), "Output (18 lines)");
    assert.ok(ui.$$("[data-testid=output-lines] .out-line").length > 0, "the first run's lines are shown");
    ui.openRun(failedEarly, { runId: 2 });
    await ui.settle();
    assert.equal(ui.$("[data-testid=output]")?.getAttribute("heading"), "Output (0 lines)");
    assert.deepEqual(
      ui.$$("[data-testid=output-lines] .out-line").map((e) => e.textContent),
      [],
      "no line of run 1 may stay",
    );
    assert.equal(ui.$$("[data-testid=layer-card]").length, 0, "no card of run 1");
    assert.equal(ui.$("[data-testid=problems]"), null, "no problem of run 1");
    assert.equal(ui.$("[data-testid=step-picker]"), null, "no step of run 1 in the picker");
    assert.equal(ui.$("[data-testid=error-banner]")?.getAttribute("data-kind"), "syntax");
  });

  it("a new run opens at its first step, not at the step chosen in the previous run", async () => {
    ui = new Inspector();
    ui.openRun(recordRun(train(3), 3), { runId: 1 });
    await ui.settle();
    ui.selectStep(2);
    await ui.settle();
    assert.equal((ui.$("[data-testid=step-picker]") as HTMLElement & { value?: string }).querySelector("vscode-option[selected]")?.getAttribute("value"), "2");
    assert.ok(ui.$$("[data-testid=call]").length > 0);
    const stepOfCalls = (): string[] => [...new Set(ui.$$("[data-testid=layer-card][data-layer] [data-testid=call]").map((c) => c.getAttribute("data-seq") ?? ""))];
    const run1Step2 = stepOfCalls();
    // The same file run again: its step 0.
    const run2 = ui.openRun(recordRun(train(3), 3), { runId: 2 });
    await ui.settle();
    assert.equal(ui.$("[data-testid=step-picker] vscode-option[selected]")?.getAttribute("value"), "0");
    const step0Seqs = run2.callsInStep(0).map((c) => String(c.seq));
    assert.deepEqual(new Set(stepOfCalls()), new Set(step0Seqs), "the cards show step 0's calls");
    assert.notDeepEqual(stepOfCalls(), run1Step2);
    // Another file: step 0 as well, and the saved view names the new run.
    ui.selectStep(1);
    await ui.settle();
    ui.openRun(recordRun(train(3), 3), { runId: 3, file: "/other.ts" });
    await ui.settle();
    assert.equal(ui.$("[data-testid=step-picker] vscode-option[selected]")?.getAttribute("value"), "0");
    assert.equal((ui.host.stored as { selectedStep?: number }).selectedStep, undefined);
  });

  it("the same run replayed (the panel shown again) keeps the chosen step", async () => {
    ui = new Inspector();
    const events = recordRun(train(3), 3);
    ui.openRun(events, { runId: 5, startedAt: 77 });
    await ui.settle();
    ui.selectStep(1);
    await ui.settle();
    ui.openRun(events, { runId: 5, startedAt: 77 });
    await ui.settle();
    assert.equal(ui.$("[data-testid=step-picker] vscode-option[selected]")?.getAttribute("value"), "1");
  });

  it("the header shows the final loss, and the chosen step's loss labelled with its step (it read the step-0 loss as the run's)", async () => {
    ui = new Inspector();
    const events = recordRun(train(40, 0.05), 2);
    const losses = events.flatMap((e) => (e.type === "step/summary" && e.summary.loss !== undefined ? [e.summary.loss] : []));
    ui.openRun(events, { runId: 1 });
    await ui.settle();
    const final = ui.$("[data-testid=final-loss]");
    assert.equal(Number(final?.getAttribute("data-value")), losses[losses.length - 1]);
    assert.equal(final?.getAttribute("data-step"), "39");
    assert.match(final?.textContent ?? "", /final loss/);
    const chosen = ui.$("[data-testid=step-loss]");
    assert.equal(chosen?.getAttribute("data-step"), "0");
    assert.equal(Number(chosen?.getAttribute("data-value")), losses[0]);
    assert.match(chosen?.textContent ?? "", /step 0: loss/);
    assert.notEqual(losses[0], losses[losses.length - 1]);
  });

  it("statistics of NaN and ±∞ are shown as they are: no min of an all-NaN tensor, counts of NaN, +∞, −∞, a NaN loss as NaN", async () => {
    ui = new Inspector();
    const nanOut = { shape: [2, 3], data: new Float64Array([NaN, NaN, NaN, NaN, NaN, NaN]) };
    const mixed = { shape: [2, 3], data: new Float64Array([Infinity, -Infinity, 1e200, 3e200, NaN, 0]) };
    const events: TraceEvent[] = [
      { type: "run/start", version: TRACE_FORMAT_VERSION, file: "/m.ts", startedAt: 0 },
      { type: "layer/new", layer: { id: 0, name: "dense1", kind: "dense", className: "Dense", description: "Dense(2, 3)", params: [], paramCount: 0 } },
      { type: "layer/call", call: { step: 0, seq: 0, layer: 0, phase: "forward", tensors: { inputs: mixed, output: nanOut }, stats: { inputs: tensorStats(mixed), output: tensorStats(nanOut) } } },
      { type: "step/summary", summary: { step: 0, loss: NaN } },
      { type: "run/end", ok: false, steps: 1, durationMs: 2, keptSteps: [0], error: { kind: "non-finite", message: "NaN first appeared in dense1.output[0][0]" } },
    ];
    ui.openRun(events, { runId: 1 });
    await ui.settle();
    const stat = (tensor: string, k: string): string => ui.text(`figure[data-testid=tensor][data-tensor=${tensor}] [data-stat="${k}"] .stat-v`);
    assert.equal(stat("output", "min"), "–");
    assert.equal(stat("output", "max"), "–");
    assert.equal(stat("output", "norm"), "NaN", "the norm of NaNs is NaN, not 0");
    assert.equal(stat("output", "non-finite"), "6 (6 NaN)");
    assert.equal(stat("inputs", "min"), "−∞");
    assert.equal(stat("inputs", "max"), "∞");
    assert.equal(stat("inputs", "non-finite"), "3 (1 NaN, 1 +∞, 1 −∞)");
    assert.equal(stat("inputs", "mean"), "1.333e200", "mean of the finite values 1e200, 3e200, 0");
    assert.match(ui.text("figure[data-testid=tensor][data-tensor=inputs] [data-stat=mean] .stat-k"), /of 3 finite/);
    assert.equal(ui.$("[data-testid=final-loss]")?.textContent?.trim(), "· final loss NaN");
  });
  it("a run the window lost before it ended says so, and invents no duration or step count (it read 'lost after 0.0 ms · 0 steps')", async () => {
    ui = new Inspector();
    ui.openRun(
      [
        { type: "run/start", version: TRACE_FORMAT_VERSION, file: "/loop.ts", startedAt: 0 },
        { type: "run/end", ok: false, steps: 0, durationMs: 0, keptSteps: [], error: { kind: "lost", message: "loop.ts: the last run was interrupted before it ended" } },
      ],
      { runId: 1 },
    );
    await ui.settle();
    const status = ui.$("[data-testid=run-status]");
    assert.equal(status?.getAttribute("data-status"), "lost");
    assert.equal(status?.textContent?.trim(), "lost before it ended");
    assert.doesNotMatch(ui.$("[data-testid=run-status]")?.parentElement?.textContent ?? "", /0 steps|0\.0 ms/);
    // A process that died after a while keeps its duration.
    ui.openRun(
      [
        { type: "run/start", version: TRACE_FORMAT_VERSION, file: "/oom.ts", startedAt: 0 },
        { type: "run/end", ok: false, steps: 3, durationMs: 1234.5, keptSteps: [], error: { kind: "lost", message: "oom.ts: the model's process died: killed by signal 9" } },
      ],
      { runId: 2 },
    );
    await ui.settle();
    assert.equal(ui.$("[data-testid=run-status]")?.textContent?.trim(), "lost after 1235 ms");
    assert.match(ui.$("[data-testid=run-status]")?.parentElement?.textContent ?? "", /3 steps/);
  });
});
