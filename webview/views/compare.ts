/**
 * Compare two steps: one tensor of one layer (`dense1.weights`, `dense2.dweights`, …) at any kept step
 * against another (by default step 0 against the last), as two heatmaps side by side and their
 * difference (B − A) on a diverging scale, with the largest change and where it is.
 */
import type { CallSummary, RunModel } from "../../core/run/runModel";
import { shortNumber } from "../../core/format";
import type { TensorData } from "../../core/trace/traceTypes";
import type { Ctx } from "./context";
import { h, icon } from "./dom";
import { shapeText, tensorPanel } from "./tensorPanel";
import { chooseScale, symmetricMax, matrixShape } from "../heatmapCore";

/** What is compared: a layer's tensor of a phase, at steps a and b. */
export interface CompareChoice {
  layer: number;
  phase: "forward" | "backward";
  tensor: string;
  a: number;
  b: number;
}

/** The tensors that can be compared: per layer and phase, the names present in at least two kept steps. */
export function comparable(run: RunModel): { layer: number; phase: "forward" | "backward"; tensor: string; steps: number[] }[] {
  const out: { layer: number; phase: "forward" | "backward"; tensor: string; steps: number[] }[] = [];
  for (const l of run.layerOrder({ topLevelOnly: true })) {
    for (const phase of ["forward", "backward"] as const) {
      const names = new Map<string, number[]>();
      for (const step of run.stepsOf(l.id)) {
        const call = callOf(run, l.id, step, phase);
        if (!call) continue;
        for (const n of Object.keys(call.tensors)) {
          if (n === "targets") continue;
          const list = names.get(n) ?? [];
          list.push(step);
          names.set(n, list);
        }
      }
      for (const [tensor, steps] of names) if (steps.length >= 2) out.push({ layer: l.id, phase, tensor, steps });
    }
  }
  return out;
}

function callOf(run: RunModel, layer: number, step: number, phase: "forward" | "backward"): CallSummary | undefined {
  const calls = run.callsIn(layer, step).filter((c) => c.phase === phase && c.parent === undefined);
  return phase === "forward" ? calls[0] : calls[calls.length - 1];
}

/** The default: the first layer with parameters, its weights, step 0 against the last kept step. */
export function defaultChoice(run: RunModel, current?: Partial<CompareChoice>): CompareChoice | undefined {
  const all = comparable(run);
  const ok = (c: Partial<CompareChoice>): boolean => all.some((x) => x.layer === c.layer && x.phase === c.phase && x.tensor === c.tensor && x.steps.includes(c.a ?? -1) && x.steps.includes(c.b ?? -1));
  if (current && ok(current)) return current as CompareChoice;
  const pick = all.find((x) => x.tensor === "weights") ?? all.find((x) => x.tensor === "dweights") ?? all[0];
  if (!pick) return undefined;
  return { layer: pick.layer, phase: pick.phase, tensor: pick.tensor, a: pick.steps[0] as number, b: pick.steps[pick.steps.length - 1] as number };
}

/** B − A, element by element (same shape). */
export function difference(a: TensorData, b: TensorData): TensorData {
  const d = new Float64Array(a.data.length);
  for (let i = 0; i < d.length; i++) d[i] = (b.data[i] as number) - (a.data[i] as number);
  return { shape: [...a.shape], data: d };
}

export function compareSection(ctx: Ctx, choice: Partial<CompareChoice> | undefined, onChoose: (c: CompareChoice) => void): HTMLElement | null {
  const run = ctx.run;
  const c = defaultChoice(run, choice);
  if (!c) return null;
  const all = comparable(run);
  const entry = all.find((x) => x.layer === c.layer && x.phase === c.phase && x.tensor === c.tensor);
  const name = (id: number): string => run.layers.get(id)?.name ?? `layer ${id}`;
  const select = (label: string, testid: string, options: [string, string][], value: string, onChange: (v: string) => void): HTMLElement => {
    const sel = h("select", { class: "cmp-select", testid, attrs: { "aria-label": label } }, ...options.map(([v, t]) => h("option", { attrs: { value: v, selected: v === value } }, t)));
    sel.addEventListener("change", () => onChange(sel.value));
    return h("label", { class: "cmp-field" }, h("span", { class: "muted" }, label), sel);
  };
  const tensorKey = (x: { layer: number; phase: string; tensor: string }): string => `${x.layer}|${x.phase}|${x.tensor}`;
  const steps = entry?.steps ?? [];
  const controls = h(
    "div",
    { class: "cmp-controls" },
    select("tensor", "compare-tensor", all.map((x) => [tensorKey(x), `${name(x.layer)}.${x.tensor}${x.phase === "backward" && !/^d/.test(x.tensor) ? " (backward)" : ""}`]), tensorKey(c), (v) => {
      const [layer, phase, tensor] = v.split("|") as [string, "forward" | "backward", string];
      const x = all.find((y) => tensorKey(y) === v);
      onChoose({ layer: Number(layer), phase, tensor, a: x?.steps[0] ?? c.a, b: x?.steps[x.steps.length - 1] ?? c.b });
    }),
    select("step A", "compare-a", steps.map((s) => [String(s), `step ${s}`]), String(c.a), (v) => onChoose({ ...c, a: Number(v) })),
    select("step B", "compare-b", steps.map((s) => [String(s), `step ${s}`]), String(c.b), (v) => onChoose({ ...c, b: Number(v) })),
  );
  const body = h("div", { class: "cmp-body" }, h("p", { class: "muted" }, icon("loading codicon-modifier-spin"), " loading…"));
  const label = `${name(c.layer)}.${c.tensor}`;
  const el = h(
    "section",
    { class: "compare", testid: "compare", attrs: { "aria-label": "Compare two steps", "data-a": c.a, "data-b": c.b, "data-tensor": label } },
    h("div", { class: "section-title" }, icon("diff"), " Compare two steps"),
    controls,
    body,
  );
  const callA = callOf(run, c.layer, c.a, c.phase);
  const callB = callOf(run, c.layer, c.b, c.phase);
  if (!callA || !callB) {
    body.replaceChildren(h("p", { class: "muted" }, "Those steps were not recorded."));
    return el;
  }
  const width = Math.max(160, Math.floor((ctx.contentWidth - 60) / 3));
  ctx.whenVisible(el, () => {
    void Promise.all([ctx.tensor(callA.seq, c.tensor), ctx.tensor(callB.seq, c.tensor)]).then(
      ([a, b]) => {
        if (a.shape.join() !== b.shape.join()) {
          body.replaceChildren(h("p", { class: "tensor-error" }, `the shapes differ: ${shapeText(a.shape)} at step ${c.a}, ${shapeText(b.shape)} at step ${c.b}`));
          return;
        }
        const d = difference(a, b);
        let worst = 0;
        for (let i = 1; i < d.data.length; i++) if (Math.abs(d.data[i] as number) > Math.abs(d.data[worst] as number)) worst = i;
        const [, cols] = matrixShape(d.shape);
        const at: [number, number] = [Math.floor(worst / cols), worst % cols];
        // A and B on one scale, so that their colours compare.
        const sa = chooseScale(c.tensor, a.data, cols);
        const sb = chooseScale(c.tensor, b.data, cols);
        const shared = sa.kind === "diverging" || sb.kind === "diverging" ? { kind: "diverging" as const, lo: -Math.max(symmetricMax(a.data), symmetricMax(b.data)), hi: Math.max(symmetricMax(a.data), symmetricMax(b.data)) } : { ...sa, lo: Math.min(sa.lo, sb.lo), hi: Math.max(sa.hi, sb.hi) };
        const m = symmetricMax(d.data);
        const panel = (t: TensorData, title: string, testid: string, scale = shared) =>
          tensorPanel({ ctx: { ...ctx, contentWidth: width + 40 }, source: { data: t }, name: c.tensor, label: `${label} ${title}`, shape: t.shape, note: title, testid, scale, maxHeight: 220, zoomKey: `compare:${testid}`, marked: at });
        body.replaceChildren(
          h("div", { class: "cmp-row" }, panel(a, `step ${c.a}`, "compare-a-map"), panel(b, `step ${c.b}`, "compare-b-map"), panel(d, `step ${c.b} − step ${c.a}`, "compare-diff-map", { kind: "diverging", lo: -m, hi: m })),
          h(
            "p",
            { class: "cmp-summary", testid: "compare-summary", attrs: { "data-max-change": String(d.data[worst] ?? 0), "data-at": at.join(",") } },
            `Largest change: ${label}[${at.join("][")}] went from ${shortNumber(a.data[worst] as number, 6)} to ${shortNumber(b.data[worst] as number, 6)} (${(d.data[worst] as number) >= 0 ? "+" : ""}${shortNumber(d.data[worst] as number, 6)}), marked on the maps.`,
          ),
        );
      },
      (err: unknown) => body.replaceChildren(h("p", { class: "tensor-error" }, err instanceof Error ? err.message : String(err))),
    );
  });
  return el;
}
