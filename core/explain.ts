/**
 * Chain-rule explanations: one element of a gradient written out as the sum of products of local
 * derivatives, with the real numbers of a recorded call. Pure (no DOM): the Gradient Inspector
 * renders `latex` with KaTeX and `text` for screen readers and tests.
 *
 * ```
 * dweights[i][j] = Σₙ inputs[n][i] · dvalues[n][j]        (Dense, dweights = Xᵀ · dvalues)
 * dbiases[0][j]  = Σₙ dvalues[n][j]                        (Dense, dbiases = Σ dvalues)
 * dinputs[n][i]  = Σⱼ dvalues[n][j] · weights[i][j]        (Dense, dinputs = dvalues · Wᵀ)
 * dinputs[n][i]  = dvalues[n][i] · 1[inputs[n][i] > 0]     (ReLU)
 * dinputs[n][i]  = Σⱼ J_n[i][j] · dvalues[n][j]            (Softmax, J_n = diag(s_n) − s_n·s_nᵀ)
 * dinputs[n][i]  = (ŷ[n][i] − y[n][i]) / N                 (softmax + categorical cross-entropy)
 * dinputs[n][i]  = −y[n][i] / ŷ[n][i] / N                  (categorical cross-entropy)
 * ```
 * and, for the scalar single neuron, each `name = upstream · local` step and the product of local
 * derivatives along the path from the output to any value (`scalarChain`).
 *
 * No user string ever goes into a LaTeX string except through `latexText`, which escapes it.
 */
import { shortNumber } from "./format";
import { isGradientName } from "./trace/tensorNames";
import type { LayerKind } from "./trace/traceTypes";
import type { Tensor } from "./tensor";
import type { ChainStep, GradCheckTensor, ScalarBackward, ScalarNode, SourceSite } from "./trace/traceTypes";

/** The recorded tensors an explanation reads, by call. */
export interface ExplainNeeds {
  forward: string[];
  backward: string[];
}

/**
 * Which tensors of the backward call and of the matching forward call (the last forward of the
 * same layer before it, in the same step) the explanation of `kind`'s `tensor` needs. The element
 * itself (`backward[tensor]`) is always included.
 */
export function explainNeeds(kind: LayerKind, tensor: string): ExplainNeeds {
  const rule = RULES[kind][tensor];
  return rule ? { forward: [...rule.forward], backward: [tensor, ...rule.backward] } : { forward: [], backward: [tensor] };
}

/** Whether a tensor of a call is a gradient the inspector can explain (`d…` of a backward call). */
export function isExplainable(tensor: string): boolean {
  return isGradientName(tensor);
}

/** One term of the sum: the product of `factors` (one factor for a plain sum). */
export interface ExplainTerm {
  /** Symbolic names of the factors, e.g. `["inputs[0][1]", "dvalues[0][0]"]`. */
  labels: string[];
  factors: number[];
  /** The product of the factors (for softmax+CCE and CCE: the whole expression). */
  value: number;
}

export interface ExplainRequest {
  kind: LayerKind;
  /** The gradient explained, e.g. `dweights`. */
  tensor: string;
  /** Its element: `[row, col]` (a 1-D tensor takes `[i]`). */
  index: readonly number[];
  /** Tensors of the matching forward call (`inputs`, `output`, `weights`, …). */
  forward?: Record<string, Tensor | undefined>;
  /** Tensors of the backward call (`dvalues`, `dinputs`, `dweights`, `targets`, …). */
  backward: Record<string, Tensor | undefined>;
  forwardSite?: SourceSite;
  backwardSite?: SourceSite;
  /** The gradient check of this tensor, when one ran. */
  gradCheck?: GradCheckTensor;
  /** All terms are listed up to this many; beyond, the first 3 and last 2 and the count (default 8). */
  maxTerms?: number;
}

/** An element's derivative, written out. */
export interface Explanation {
  /** `dweights[1][0]`. */
  target: string;
  /** The general rule in words, e.g. `dweights[i][j] = Σₙ inputs[n][i] · dvalues[n][j]`; empty for custom layers. */
  rule: string;
  /** The same rule in LaTeX (empty for custom layers). */
  ruleLatex: string;
  /** Every term of the sum, in order. */
  terms: ExplainTerm[];
  /** Indices into `terms` that are written out; `omitted` terms sit between the first and last few. */
  shown: number[];
  omitted: number;
  /** The value the terms add up to (NaN when a needed tensor is missing). */
  value: number;
  /** The element as the layer's backward recorded it. */
  recorded?: number;
  /** `|value − recorded|`, when both are known. */
  difference?: number;
  /** The equation with numbers, e.g. `dweights[1][0] = 2·1 + 5·2 + 2.7·3 = 20.1`. */
  text: string;
  /** The same in LaTeX, for KaTeX. */
  latex: string;
  /** Why there is no formula, or what is missing. */
  note?: string;
  forwardSite?: SourceSite;
  backwardSite?: SourceSite;
  gradCheck?: GradCheckTensor;
}

/** A number for an equation: `shortNumber` (core/format.ts) at 6 significant digits (`2`, `2.7`, `0.0333333`, `2.82718e−5`). */
export function eqNumber(v: number): string {
  return shortNumber(v, 6);
}

/** `eqNumber` as LaTeX (`2.82718 \times 10^{-5}`, `-3`). */
export function latexNumber(v: number): string {
  const s = eqNumber(v);
  if (s === "NaN") return "\\mathrm{NaN}";
  if (s === "∞") return "\\infty";
  if (s === "−∞") return "-\\infty";
  const m = /^(−?)([0-9.]+)e(−?)([0-9]+)$/.exec(s);
  if (m) return `${m[1] ? "-" : ""}${m[2]} \\times 10^{${m[3] ? "-" : ""}${m[4]}}`;
  return s.replace("−", "-");
}

/** A number as a factor: negative ones in parentheses (`2·(−1)`). */
function factor(v: number): string {
  const s = eqNumber(v);
  return v < 0 ? `(${s})` : s;
}

function latexFactor(v: number): string {
  const s = latexNumber(v);
  return v < 0 ? `(${s})` : s;
}

/** User text for LaTeX: inside `\text{…}` with every special character escaped. */
export function latexText(s: string): string {
  const map: Record<string, string> = {
    "\\": "\\textbackslash{}",
    "{": "\\{",
    "}": "\\}",
    $: "\\$",
    "&": "\\&",
    "#": "\\#",
    "%": "\\%",
    _: "\\_",
    "^": "\\textasciicircum{}",
    "~": "\\textasciitilde{}",
  };
  return `\\text{${s.replace(/[\\{}$&#%_^~]/g, (c) => map[c] as string)}}`;
}

/** Element [r][c] of a 2-D tensor (a 1-D tensor is one column). */
function el(t: Tensor | undefined, r: number, c: number): number {
  if (!t) return NaN;
  const cols = t.shape.length >= 2 ? (t.shape[t.shape.length - 1] as number) : 1;
  return t.data[r * cols + c] ?? NaN;
}

function rows(t: Tensor | undefined): number {
  return t ? (t.shape[0] ?? 1) : 0;
}

function colsOf(t: Tensor | undefined): number {
  if (!t) return 0;
  return t.shape.length >= 2 ? (t.shape[t.shape.length - 1] as number) : (t.shape[0] ?? 1);
}

/** `name[i][j]`. */
function ref(name: string, index: readonly number[]): string {
  return `${name}${index.map((i) => `[${i}]`).join("")}`;
}

/** The target value of the one-hot or sparse `targets` for sample n, class i. */
function targetOf(targets: Tensor | undefined, n: number, i: number): number {
  if (!targets) return NaN;
  if (targets.shape.length === 1 || (targets.shape.length === 2 && targets.shape[1] === 1)) return targets.data[n] === i ? 1 : 0;
  return el(targets, n, i);
}

function pickShown(count: number, maxTerms: number): number[] {
  if (count <= maxTerms) return Array.from({ length: count }, (_, i) => i);
  return [0, 1, 2, count - 2, count - 1];
}

/** Explains one element of a layer's gradient with the numbers of the recorded calls. */
export function explainElement(req: ExplainRequest): Explanation {
  const { kind, tensor, index } = req;
  const fw = req.forward ?? {};
  const bw = req.backward;
  const own = bw[tensor];
  const r = index.length >= 2 ? (index[0] as number) : 0;
  const c = index.length >= 2 ? (index[1] as number) : (index[0] ?? 0);
  const recorded = own ? (own.shape.length >= 2 ? el(own, r, c) : (own.data[c] ?? NaN)) : undefined;
  const target = ref(tensor, own && own.shape.length < 2 ? [c] : [r, c]);
  const base = {
    target,
    ...(recorded !== undefined ? { recorded } : {}),
    ...(req.forwardSite ? { forwardSite: req.forwardSite } : {}),
    ...(req.backwardSite ? { backwardSite: req.backwardSite } : {}),
    ...(req.gradCheck ? { gradCheck: req.gradCheck } : {}),
  };
  const maxTerms = req.maxTerms ?? 8;
  const dv = bw.dvalues;
  const sumOf = (terms: ExplainTerm[], rule: string, ruleLatex: string, joinTerm: (t: ExplainTerm) => [string, string], missing?: string): Explanation => {
    const shown = pickShown(terms.length, maxTerms);
    const omitted = terms.length - shown.length;
    let value = 0;
    for (const t of terms) value += t.value;
    if (terms.length === 0) value = NaN;
    const partsText: string[] = [];
    const partsLatex: string[] = [];
    shown.forEach((k, pos) => {
      if (omitted > 0 && pos === 3) {
        partsText.push("…");
        partsLatex.push("\\cdots");
      }
      const [tx, lx] = joinTerm(terms[k] as ExplainTerm);
      partsText.push(tx);
      partsLatex.push(lx);
    });
    const count = omitted > 0 ? ` (${terms.length} terms)` : "";
    const countLatex = omitted > 0 ? `\\quad(${terms.length}\\ \\text{terms})` : "";
    const text = missing ? `${target}: ${missing}` : `${target} = ${partsText.join(" + ")} = ${eqNumber(value)}${count}`;
    const latex = missing ? "" : `${texRef(tensor, own && own.shape.length < 2 ? [c] : [r, c])} = ${partsLatex.join(" + ")} = ${latexNumber(value)}${countLatex}`;
    const difference = recorded !== undefined && Number.isFinite(value) ? Math.abs(value - recorded) : undefined;
    return { ...base, rule, ruleLatex, terms, shown, omitted, value, text, latex, ...(difference !== undefined ? { difference } : {}), ...(missing ? { note: missing } : {}) };
  };
  const need = (names: [string, Tensor | undefined][]): string | undefined => {
    const gone = names.filter(([, t]) => !t).map(([n]) => n);
    return gone.length ? `needs ${gone.join(", ")}, which this step did not record` : undefined;
  };
  const product = (t: ExplainTerm): [string, string] => [t.factors.map(factor).join("·"), t.factors.map(latexFactor).join(" \\cdot ")];

  const rule = RULES[kind][tensor];
  if (rule) return rule.explain({ tensor, r, c, fw, bw, dv, sumOf, need, product });
  // Custom layers (and gradients without a known rule): the value and the gradient check.
  const check = req.gradCheck;
  const checkText = check
    ? `gradient check ${check.ok ? "ok" : "FAILED"} (${check.checked}/${check.total} elements${check.worst ? `, worst at [${check.worst.index.join(", ")}]: analytic ${eqNumber(check.worst.analytic)} vs numeric ${eqNumber(check.worst.numeric)}` : ""})`
    : "no gradient check ran for this tensor";
  const value = recorded ?? NaN;
  return {
    ...base,
    rule: "",
    ruleLatex: "",
    terms: [],
    shown: [],
    omitted: 0,
    value,
    text: `${target} = ${eqNumber(value)}`,
    latex: `${texRef(tensor.replace(/[^A-Za-z0-9]/g, ""), own && own.shape.length < 2 ? [c] : [r, c])} = ${latexNumber(value)}`,
    note: `${kind === "custom" ? "a custom layer: its backward is your code (its values, the numeric derivative and their ratio are below)" : `no rule for ${tensor} of a ${kind} layer`}; ${checkText}`,
  };
}

/** What a rule's `explain` gets: the element, the calls' tensors, and the helpers that write the sum. */
interface RuleContext {
  tensor: string;
  r: number;
  c: number;
  fw: Record<string, Tensor | undefined>;
  bw: Record<string, Tensor | undefined>;
  dv: Tensor | undefined;
  sumOf(terms: ExplainTerm[], rule: string, ruleLatex: string, joinTerm: (t: ExplainTerm) => [string, string], missing?: string): Explanation;
  need(names: [string, Tensor | undefined][]): string | undefined;
  product(t: ExplainTerm): [string, string];
}

/** How one gradient of one layer kind is explained: the tensors it reads and the written-out sum. */
interface Rule {
  /** Tensors of the matching forward call it reads. */
  forward: readonly string[];
  /** Tensors of the backward call it reads besides the element's own tensor. */
  backward: readonly string[];
  explain(x: RuleContext): Explanation;
}

/**
 * One entry per layer kind: its gradients' rules. A gradient without an entry (and every gradient of a
 * custom layer) gets the value and the gradient check instead. A new layer kind adds its entry here.
 */
const RULES: Record<LayerKind, Partial<Record<string, Rule>>> = {
  dense: {
    dweights: {
      forward: ["inputs"],
      backward: ["dvalues"],
      explain: ({ r, c, fw, dv, sumOf, need, product }) => {
        const x = fw.inputs;
        const n = rows(dv);
        const terms: ExplainTerm[] = [];
        if (x && dv) for (let k = 0; k < n; k++) terms.push(term([`inputs[${k}][${r}]`, `dvalues[${k}][${c}]`], [el(x, k, r), el(dv, k, c)]));
        return sumOf(
          terms,
          "dweights[i][j] = Σₙ inputs[n][i] · dvalues[n][j]",
          "\\mathrm{dweights}_{i,j} = \\sum_{n} \\mathrm{inputs}_{n,i} \\cdot \\mathrm{dvalues}_{n,j}",
          product,
          need([["inputs", x], ["dvalues", dv]]),
        );
      },
    },
    dbiases: {
      forward: [],
      backward: ["dvalues"],
      explain: ({ c, dv, sumOf, need }) => {
        const n = rows(dv);
        const terms: ExplainTerm[] = [];
        if (dv) for (let k = 0; k < n; k++) terms.push(term([`dvalues[${k}][${c}]`], [el(dv, k, c)]));
        return sumOf(
          terms,
          "dbiases[0][j] = Σₙ dvalues[n][j]",
          "\\mathrm{dbiases}_{0,j} = \\sum_{n} \\mathrm{dvalues}_{n,j}",
          (t) => [eqNumber(t.value), latexNumber(t.value)],
          need([["dvalues", dv]]),
        );
      },
    },
    dinputs: {
      forward: ["weights"],
      backward: ["dvalues"],
      explain: ({ r, c, fw, dv, sumOf, need, product }) => {
        const w = fw.weights;
        const m = colsOf(dv);
        const terms: ExplainTerm[] = [];
        if (w && dv) for (let j = 0; j < m; j++) terms.push(term([`dvalues[${r}][${j}]`, `weights[${c}][${j}]`], [el(dv, r, j), el(w, c, j)]));
        return sumOf(
          terms,
          "dinputs[n][i] = Σⱼ dvalues[n][j] · weights[i][j]",
          "\\mathrm{dinputs}_{n,i} = \\sum_{j} \\mathrm{dvalues}_{n,j} \\cdot \\mathrm{weights}_{i,j}",
          product,
          need([["weights", w], ["dvalues", dv]]),
        );
      },
    },
  },
  relu: {
    dinputs: {
      forward: ["inputs"],
      backward: ["dvalues"],
      explain: ({ r, c, fw, dv, sumOf, need }) => {
        const x = fw.inputs;
        const xi = el(x, r, c);
        const mask = xi > 0 ? 1 : 0;
        const terms = x && dv ? [term([`dvalues[${r}][${c}]`, `1[inputs[${r}][${c}] > 0]`], [el(dv, r, c), mask])] : [];
        return sumOf(
          terms,
          "dinputs[n][i] = dvalues[n][i] · 1[inputs[n][i] > 0]",
          "\\mathrm{dinputs}_{n,i} = \\mathrm{dvalues}_{n,i} \\cdot \\mathbb{1}[\\mathrm{inputs}_{n,i} > 0]",
          (t) => [
            `${factor(t.factors[0] as number)}·1[${eqNumber(xi)} > 0]`,
            `${latexFactor(t.factors[0] as number)} \\cdot \\mathbb{1}[${latexNumber(xi)} > 0]`,
          ],
          need([["inputs", x], ["dvalues", dv]]),
        );
      },
    },
  },
  softmax: {
    dinputs: {
      forward: ["output"],
      backward: ["dvalues"],
      explain: ({ r, c, fw, dv, sumOf, need, product }) => {
        const s = fw.output;
        const m = colsOf(dv);
        const terms: ExplainTerm[] = [];
        if (s && dv) {
          const si = el(s, r, c);
          for (let j = 0; j < m; j++) {
            const J = si * ((c === j ? 1 : 0) - el(s, r, j));
            terms.push(term([`J_${r}[${c}][${j}]`, `dvalues[${r}][${j}]`], [J, el(dv, r, j)]));
          }
        }
        return sumOf(
          terms,
          "dinputs[n][i] = Σⱼ J_n[i][j] · dvalues[n][j],  J_n = diag(s_n) − s_n·s_nᵀ",
          "\\mathrm{dinputs}_{n,i} = \\sum_{j} J^{(n)}_{i,j} \\cdot \\mathrm{dvalues}_{n,j},\\quad J^{(n)} = \\operatorname{diag}(s_n) - s_n s_n^{\\top}",
          product,
          need([["output", s], ["dvalues", dv]]),
        );
      },
    },
  },
  "softmax-cce": {
    dinputs: {
      forward: [],
      backward: ["dvalues", "targets"],
      explain: ({ r, c, fw, bw, dv, sumOf, need }) => {
        // The book passes the softmax output as dvalues; the forward output is the same matrix.
        const p = dv ?? fw.output;
        const y = bw.targets ?? fw.targets;
        const n = rows(p);
        const yhat = el(p, r, c);
        const yv = targetOf(y, r, c);
        const v = (yhat - yv) / n;
        const terms = p && y ? [{ labels: [`ŷ[${r}][${c}]`, `y[${r}][${c}]`, "N"], factors: [yhat, yv, n], value: v }] : [];
        return sumOf(
          terms,
          "dinputs[n][i] = (ŷ[n][i] − y[n][i]) / N",
          "\\mathrm{dinputs}_{n,i} = \\frac{\\hat{y}_{n,i} - y_{n,i}}{N}",
          () => [`(${eqNumber(yhat)} − ${eqNumber(yv)}) / ${n}`, `\\frac{${latexNumber(yhat)} - ${latexNumber(yv)}}{${n}}`],
          need([["ŷ (dvalues)", p], ["targets", y]]),
        );
      },
    },
  },
  cce: {
    dinputs: {
      forward: [],
      backward: ["dvalues", "targets"],
      explain: ({ r, c, fw, bw, dv, sumOf, need }) => {
        const p = dv;
        const y = bw.targets ?? fw.targets;
        const n = rows(p);
        const yhat = el(p, r, c);
        const yv = targetOf(y, r, c);
        const v = -yv / yhat / n;
        const terms = p && y ? [{ labels: [`y[${r}][${c}]`, `ŷ[${r}][${c}]`, "N"], factors: [yv, yhat, n], value: v }] : [];
        return sumOf(
          terms,
          "dinputs[n][i] = −y[n][i] / ŷ[n][i] / N",
          "\\mathrm{dinputs}_{n,i} = -\\frac{y_{n,i}}{\\hat{y}_{n,i}\\, N}",
          () => [`−${factor(yv)} / ${eqNumber(yhat)} / ${n}`, `-\\frac{${latexNumber(yv)}}{${latexNumber(yhat)} \\cdot ${n}}`],
          need([["ŷ (dvalues)", p], ["targets", y]]),
        );
      },
    },
  },
  custom: {},
};

function term(labels: string[], factors: number[]): ExplainTerm {
  let v = 1;
  for (const f of factors) v *= f;
  return { labels, factors, value: v };
}

/** `\mathrm{name}_{i,j}` for a tensor name made of letters and digits. */
function texRef(name: string, index: readonly number[]): string {
  return `\\mathrm{${name.replace(/[^A-Za-z0-9]/g, "")}}_{${index.join(",")}}`;
}

/** `drelu_dz = dvalue · ∂relu/∂z = 1 · 1 = 1`: one application of the chain rule, as the book prints it. */
export function scalarStepText(s: ChainStep): string {
  return `${s.name} = ${s.upstream.name} · ${s.local.name} = ${eqNumber(s.upstream.value)} · ${eqNumber(s.local.value)} = ${eqNumber(s.value)}${s.accumulated ? " (added)" : ""}`;
}

/** `scalarStepText` in LaTeX (names escaped). */
export function scalarStepLatex(s: ChainStep): string {
  return `${latexText(s.name)} = ${latexText(s.upstream.name)} \\cdot ${latexText(s.local.name)} = ${latexNumber(s.upstream.value)} \\cdot ${latexNumber(s.local.value)} = ${latexNumber(s.value)}${s.accumulated ? "\\quad(+=)" : ""}`;
}

/** A path of local derivatives from the output back to one value. */
export interface ScalarPath {
  /** The chain steps from the output's side to the value. */
  steps: ChainStep[];
  /** The factors multiplied: the first step's product, then each later step's local derivative. */
  factors: { name: string; value: number }[];
  value: number;
}

/** The gradient of one scalar value as the product of local derivatives along every path to it. */
export interface ScalarChain {
  target: number;
  /** `∂y/∂w0`. */
  derivative: string;
  paths: ScalarPath[];
  /** Sum over the paths (equals the recorded gradient). */
  value: number;
  /** The recorded gradient, when the backward recorded one. */
  recorded?: number;
  /** `∂y/∂w0 = drelu_dz · dsum_dxw0 · dmul_dw0 = 1 · 1 · 1 = 1`. */
  text: string;
  latex: string;
  /** Ids of every step and value on the paths (for highlighting). */
  stepIndices: number[];
  nodeIds: number[];
}

/** The chain `∂root/∂target` from a scalar backward (every path, for values used more than once). */
export function scalarChain(backward: ScalarBackward, nodes: readonly ScalarNode[], target: number): ScalarChain {
  const label = (id: number): string => nodes.find((n) => n.id === id)?.label ?? `v${id}`;
  const derivative = `∂${label(backward.root)}/∂${label(target)}`;
  const recorded = backward.grads.find((g) => g.id === target)?.grad;
  const stepIdx = new Set<number>();
  const nodeIds = new Set<number>([target]);
  const paths: ScalarPath[] = [];
  const walk = (id: number, below: number[], depth: number): void => {
    if (id === backward.root || depth > nodes.length + 2) {
      const steps = below.map((i) => backward.steps[i] as ChainStep);
      paths.push(pathOf(steps, backward.dvalue));
      for (const i of below) stepIdx.add(i);
      return;
    }
    backward.steps.forEach((s, i) => {
      if (s.target !== id) return;
      nodeIds.add(s.node);
      walk(s.node, [i, ...below], depth + 1);
    });
  };
  walk(target, [], 0);
  nodeIds.add(backward.root);
  let value = 0;
  for (const p of paths) value += p.value;
  const pathText = (p: ScalarPath): [string, string] => [p.factors.map((f) => f.name).join(" · "), p.factors.map((f) => eqNumber(f.value)).join(" · ")];
  const pathLatex = (p: ScalarPath): [string, string] => [p.factors.map((f) => latexText(f.name)).join(" \\cdot "), p.factors.map((f) => latexNumber(f.value)).join(" \\cdot ")];
  const dTex = `\\frac{\\partial ${latexText(label(backward.root))}}{\\partial ${latexText(label(target))}}`;
  let text: string;
  let latex: string;
  if (paths.length === 1) {
    const [names, nums] = pathText(paths[0] as ScalarPath);
    const [ln, lv] = pathLatex(paths[0] as ScalarPath);
    text = `${derivative} = ${names} = ${nums} = ${eqNumber(value)}`;
    latex = `${dTex} = ${ln} = ${lv} = ${latexNumber(value)}`;
  } else {
    text = `${derivative} = ${paths.map((p) => pathText(p)[0]).join(" + ")} = ${paths.map((p) => pathText(p)[1]).join(" + ")} = ${eqNumber(value)}`;
    latex = `${dTex} = ${paths.map((p) => pathLatex(p)[0]).join(" + ")} = ${paths.map((p) => pathLatex(p)[1]).join(" + ")} = ${latexNumber(value)}`;
  }
  return {
    target,
    derivative,
    paths,
    value,
    ...(recorded !== undefined ? { recorded } : {}),
    text,
    latex,
    stepIndices: [...stepIdx].sort((a, b) => a - b),
    nodeIds: [...nodeIds],
  };
}

function pathOf(steps: ChainStep[], dvalue: number): ScalarPath {
  if (steps.length === 0) return { steps, factors: [{ name: "dvalue", value: dvalue }], value: dvalue };
  const first = steps[0] as ChainStep;
  const factors = [{ name: first.name, value: first.value }, ...steps.slice(1).map((s) => ({ name: s.local.name, value: s.local.value }))];
  let value = 1;
  for (const f of factors) value *= f.value;
  return { steps, factors, value };
}
