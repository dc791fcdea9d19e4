import * as assert from "node:assert/strict";
import { type BreakpointWhere, type MethodRange, compileBreakpoint, hitSatisfied, logParts, matchesLocation, parseFunctionName, parseHitCondition, samePath } from "../../core/debug/breakpoints";
import { deadUnits, defaultFilters, filtersFrom, firstNonFinitePosition, lossWentUp } from "../../core/debug/filters";
import { type Position, positionLabel, stepRanges, stepRangesText } from "../../core/debug/positions";
import { gapText, planStep, satisfies, stopRule } from "../../core/debug/stepping";

const FILE = "/ws/model.ts";
const layers = [
  { name: "dense1", className: "Dense" },
  { name: "block", className: "Block" },
  { name: "dense2", className: "Dense" },
];
const byId = (id: number): { name: string; className: string } | undefined => layers[id];
const noCallLines = (): boolean => false;

function pos(id: number, step: number, layer: number, phase: "forward" | "backward" | "update", line: number, depth = 0, kind: Position["kind"] = phase === "update" ? "update" : "layer"): Position {
  return {
    id,
    kind,
    step,
    layer,
    phase,
    site: { file: FILE, line, column: 1 },
    open: Array.from({ length: depth }, () => ({ kind: "layer" as const, layer: 1, phase: "forward" as const })),
  };
}

describe("debug breakpoints", () => {
  it("parses hit conditions", () => {
    assert.deepEqual(parseHitCondition("5"), { op: "==", n: 5 });
    assert.deepEqual(parseHitCondition(" >= 100 "), { op: ">=", n: 100 });
    assert.deepEqual(parseHitCondition("%10"), { op: "%", n: 10 });
    assert.deepEqual(parseHitCondition("===3"), { op: "==", n: 3 });
    assert.throws(() => parseHitCondition("often"), /hit count 'often': expected a whole number/);
    assert.throws(() => parseHitCondition("% 0"), /every 0th hit never comes/);
    const h = parseHitCondition("% 3");
    assert.deepEqual([1, 2, 3, 4, 5, 6].map((n) => hitSatisfied(h, n)), [false, false, true, false, false, true]);
    assert.deepEqual([4, 5, 6].map((n) => hitSatisfied({ op: ">", n: 5 }, n)), [false, false, true]);
    assert.deepEqual([4, 5, 6].map((n) => hitSatisfied({ op: "==", n: 5 }, n)), [false, true, false]);
  });

  it("parses function breakpoint names", () => {
    assert.deepEqual(parseFunctionName("dense2.backward"), { name: "dense2", phase: "backward" });
    assert.deepEqual(parseFunctionName("LeakyReLU.backward()"), { name: "LeakyReLU", phase: "backward" });
    assert.deepEqual(parseFunctionName("dense1"), { name: "dense1" });
    assert.deepEqual(parseFunctionName("*.forward"), { name: "*", phase: "forward" });
    assert.throws(() => parseFunctionName("dense2.backwards"), /the phase must be forward, backward or update, not 'backwards'/);
    assert.throws(() => parseFunctionName("dense 2"), /expected a layer and a phase, e.g. dense2.backward/);
  });

  it("compiles conditions, or says why not", () => {
    const where: BreakpointWhere = { kind: "line", file: FILE, line: 3 };
    const ok = compileBreakpoint({ id: 1, where, condition: "step == 500", hitCondition: ">= 2" });
    assert.ok(ok.ok);
    assert.equal(ok.spec.condition?.k, "binary");
    assert.deepEqual(ok.spec.hit, { op: ">=", n: 2 });
    const bad = compileBreakpoint({ id: 2, where, condition: "dweights.norm >" });
    assert.deepEqual(bad, { ok: false, id: 2, message: "condition 'dweights.norm >': expected a number or a name after '>' at the end" });
    const badHit = compileBreakpoint({ id: 3, where, hitCondition: "x" });
    assert.equal(badHit.ok, false);
    const log = compileBreakpoint({ id: 4, where, logMessage: "step {step}: loss {loss >}" });
    assert.deepEqual(log, { ok: false, id: 4, message: "log message part {loss >}: expected a number or a name after '>' at the end" });
    assert.deepEqual(logParts("step {step}: ‖dW‖ {dweights.norm}"), ["step ", { expr: "step" }, ": ‖dW‖ ", { expr: "dweights.norm" }]);
  });

  it("matches line breakpoints to calls on the line, in any step", () => {
    const where: BreakpointWhere = { kind: "line", file: FILE, line: 19 };
    assert.equal(matchesLocation(where, pos(7, 0, 2, "backward", 19), byId, [], noCallLines), true);
    assert.equal(matchesLocation(where, pos(70, 9, 2, "backward", 19), byId, [], noCallLines), true);
    assert.equal(matchesLocation(where, pos(8, 0, 0, "backward", 20), byId, [], noCallLines), false);
    assert.equal(matchesLocation({ kind: "line", file: "/other.ts", line: 19 }, pos(7, 0, 2, "backward", 19), byId, [], noCallLines), false);
    assert.ok(samePath("C:\\ws\\model.ts", "c:/ws/model.ts"));
  });

  it("a line inside a layer's method stops when that method's call completes, unless the line makes a call itself", () => {
    const ranges: MethodRange[] = [{ className: "Block", phase: "backward", file: FILE, startLine: 10, endLine: 14 }];
    const inBody: BreakpointWhere = { kind: "line", file: FILE, line: 12 };
    assert.equal(matchesLocation(inBody, pos(5, 0, 1, "backward", 30), byId, ranges, noCallLines), true);
    assert.equal(matchesLocation(inBody, pos(4, 0, 1, "forward", 29), byId, ranges, noCallLines), false);
    assert.equal(matchesLocation(inBody, pos(3, 0, 0, "backward", 31), byId, ranges, noCallLines), false);
    // line 12 calls this.inner.backward(...): the breakpoint stops at that inner call only
    assert.equal(matchesLocation(inBody, pos(5, 0, 1, "backward", 30), byId, ranges, (f, l) => f === FILE && l === 12), false);
  });

  it("matches function breakpoints by layer name or class, and phase", () => {
    const m = (name: string, p: Position): boolean => matchesLocation({ kind: "function", ...parseFunctionName(name) }, p, byId, [], noCallLines);
    assert.equal(m("dense2.backward", pos(1, 0, 2, "backward", 19)), true);
    assert.equal(m("dense2.backward", pos(1, 0, 2, "forward", 12)), false);
    assert.equal(m("dense2.backward", pos(1, 0, 0, "backward", 21)), false);
    assert.equal(m("Dense.backward", pos(1, 0, 0, "backward", 21)), true);
    assert.equal(m("dense1", pos(1, 0, 0, "forward", 11)), true);
    assert.equal(m("dense1", pos(1, 0, 0, "update", 25)), false);
    assert.equal(m("dense1.update", pos(1, 0, 0, "update", 25)), true);
    assert.equal(m("*.backward", pos(1, 0, 1, "backward", 25)), true);
    assert.equal(m("backward", { id: 1, kind: "scalar-backward", step: 0, open: [] }), true);
  });
});

describe("debug stepping", () => {
  // step 0: dense1.forward, [block.forward: dense2.forward (nested)], loss..., backward; step 1: …
  const t: Position[] = [
    pos(0, 0, 0, "forward", 11),
    pos(1, 0, 2, "forward", 5, 1), // inside block.forward
    pos(2, 0, 1, "forward", 12),
    pos(3, 0, 1, "backward", 20),
    pos(4, 0, 0, "backward", 21),
    pos(5, 0, 0, "update", 25),
    pos(6, 1, 0, "forward", 11),
    pos(7, 1, 2, "forward", 5, 1),
    pos(8, 1, 1, "forward", 12),
  ];
  const none = (): boolean => false;

  it("Step Over goes to the next position at this depth or shallower", () => {
    assert.deepEqual(planStep("next", t, 0, none, true), { to: 2, reason: "step" });
    assert.deepEqual(planStep("next", t, 1, none, true), { to: 2, reason: "step" });
  });
  it("Step Into goes to the next position, nested or not", () => {
    assert.deepEqual(planStep("stepIn", t, 0, none, true), { to: 1, reason: "step" });
  });
  it("Step Out goes to the next shallower position; from depth 0, to the next training step", () => {
    assert.deepEqual(planStep("stepOut", t, 1, none, true), { to: 2, reason: "step" });
    assert.deepEqual(planStep("stepOut", t, 2, none, true), { to: 6, reason: "step" });
    assert.deepEqual(stopRule("stepOut", t[8] as Position), { minStep: 2 });
  });
  it("Continue stops at the next breakpoint hit; past the known positions it goes on live", () => {
    const hit = (p: Position): boolean => p.id === 4;
    assert.deepEqual(planStep("continue", t, 0, hit, true), { to: 4, reason: "breakpoint" });
    assert.deepEqual(planStep("continue", t, 5, hit, true), { live: null });
    assert.deepEqual(planStep("next", t, 8, none, true), { live: { maxDepth: 0 } });
    assert.deepEqual(planStep("next", t, 8, none, false), { end: true });
  });
  it("Step Back mirrors Step Over across a training step; Reverse Continue finds the previous hit or the start", () => {
    assert.deepEqual(planStep("stepBack", t, 6, none, true), { to: 5, reason: "step" });
    assert.deepEqual(planStep("stepBack", t, 2, none, true), { to: 0, reason: "step" });
    assert.deepEqual(planStep("stepBack", t, 0, none, true), { start: 0 });
    assert.deepEqual(planStep("reverseContinue", t, 8, (p) => p.id === 3, true), { to: 3, reason: "breakpoint" });
    assert.deepEqual(planStep("reverseContinue", t, 8, none, true), { start: 0 });
  });
  it("rules", () => {
    assert.equal(satisfies({ maxDepth: 0 }, t[1] as Position), false);
    assert.equal(satisfies({ minStep: 1 }, t[6] as Position), true);
  });
  it("says what a jump skipped", () => {
    assert.equal(gapText(pos(30, 2, 0, "update", 25), pos(49990, 4998, 0, "forward", 11)), "steps 3–4997 were not kept: jumped between step 2 and step 4998 (49959 positions in between)");
    assert.equal(gapText(pos(5, 0, 0, "update", 25), pos(6, 1, 0, "forward", 11)), undefined);
    assert.equal(stepRangesText(stepRanges([0, 1, 2, 4998, 4999, 1])), "steps 0–2 and 4998–4999");
    assert.equal(stepRangesText(stepRanges([7])), "step 7");
  });
  it("labels positions", () => {
    const name = (id: number): string => layers[id]?.name ?? "?";
    assert.equal(positionLabel(t[4] as Position, name), "dense1.backward");
    assert.equal(positionLabel({ ...pos(9, 0, 0, "update", 25), optimizer: { kind: "SGD", iterations: 0 } }, name), "SGD update dense1");
    assert.equal(positionLabel({ ...pos(9, 0, 0, "update", 25, 1), kind: "param", param: "weights" }, name), "update dense1.weights");
  });
});

describe("debug exception filters", () => {
  it("DAP filter settings, with the loss factor as the condition", () => {
    assert.deepEqual(defaultFilters(), { nonFinite: true, gradCheck: true, exploding: true, deadRelu: false, lossUp: false, error: true });
    assert.deepEqual(filtersFrom(["nonFinite"], [{ filterId: "lossUp", condition: "1.5" }]).settings, { nonFinite: true, gradCheck: false, exploding: false, deadRelu: false, lossUp: 1.5, error: false });
    const bad = filtersFrom([], [{ filterId: "lossUp", condition: "a lot" }]);
    assert.equal(bad.settings.lossUp, 2);
    assert.match(bad.problems[0] ?? "", /the factor 'a lot' is not a positive number/);
  });
  it("loss went up by more than a factor", () => {
    assert.equal(lossWentUp(1, 2.5, 2), true);
    assert.equal(lossWentUp(1, 1.9, 2), false);
    assert.equal(lossWentUp(undefined, 5, 2), false);
    assert.equal(lossWentUp(1, NaN, 2), false);
  });
  it("dead ReLU units", () => {
    assert.equal(deadUnits({ shape: [3, 3], data: [0, 1, 0, 0, 2, 0, 0, 0, 0] }), 2);
    assert.equal(deadUnits({ shape: [1, 3], data: [0, 0, 0] }), 0);
  });
  it("the first non-finite value, in the order the tensors came to be", () => {
    const ps: { id: number; phase: string; tensors: Record<string, { shape: number[]; data: number[] }> }[] = [
      { id: 0, phase: "forward", tensors: { inputs: { shape: [2], data: [1, 2] }, output: { shape: [2], data: [1, 2] } } },
      { id: 1, phase: "backward", tensors: { dinputs: { shape: [2], data: [NaN, 1] }, dvalues: { shape: [2], data: [1, 1] }, dweights: { shape: [2], data: [1, Infinity] } } },
    ];
    const f = firstNonFinitePosition(ps);
    assert.equal(f?.position.id, 1);
    assert.equal(f?.tensor, "dweights"); // dvalues were fine, dweights came before dinputs
    assert.equal(f?.index, 1);
  });
});
