/**
 * Texts of the shape analysis: the hover Markdown of a layer call with the shapes of its formulas
 * (`dweights = inputsᵀ · dvalues  [2, 300] · [300, 3] → [2, 3]`), of a value and of a layer, and
 * the inlay hint labels. Names come from the model's source (identifiers); everything that is not
 * an identifier is escaped.
 */
import { escapeMarkdown } from "../summary";
import { type Dim, type TensorV, shapeText } from "./values";

/** The line every static hover ends with. */
export const STATIC_NOTE = "_Shapes before running: static analysis of the current text._";

export type LayerKindName = "dense" | "relu" | "softmax" | "softmax-cce" | "cce" | "custom";

/** A layer as texts show it. */
export interface LayerLabel {
  name: string;
  description: string;
  kind: LayerKindName;
}

export type Shape = Dim[] | undefined;

const t = shapeText;

/** `[300, 3]ᵀ`-free transpose of a 2-D shape: `[3, 300]`. */
function tr(s: Shape): Shape {
  return s && s.length === 2 ? [s[1], s[0]] : undefined;
}

function pad(rows: [string, string][]): string {
  const w = Math.max(...rows.map(([f]) => f.length));
  return rows.map(([f, s]) => `${f.padEnd(w)}   ${s}`).join("\n");
}

/** The formula lines of a forward call. */
export function forwardFormulas(kind: LayerKindName, s: { inputs: Shape; output: Shape; weights?: Shape; biases?: Shape; targets?: Shape; classes?: number }): string {
  switch (kind) {
    case "dense":
      return pad([["output = inputs · weights + biases", `${t(s.inputs)} · ${t(s.weights)} + ${t(s.biases)} → ${t(s.output)}`]]);
    case "relu":
      return pad([["output = max(inputs, 0)", `${t(s.inputs)} → ${t(s.output)}`]]);
    case "softmax":
      return pad([["output = softmax(inputs), per row", `${t(s.inputs)} → ${t(s.output)}`]]);
    case "softmax-cce":
      return pad([
        ["output = softmax(inputs), per row", `${t(s.inputs)} → ${t(s.output)}`],
        ["loss = mean(−log output[n, y[n]])", `y ${t(s.targets)}${s.classes !== undefined ? ` (classes 0..${s.classes - 1})` : ""} → a number`],
      ]);
    case "cce":
      return pad([["output[n] = −log(ŷ[n, y[n]])", `${t(s.inputs)}, y ${t(s.targets)} → ${t(s.output)}`]]);
    default:
      return pad([["output = forward(inputs)", `${t(s.inputs)} → ${t(s.output)}`]]);
  }
}

/** The formula lines of a backward call. */
export function backwardFormulas(
  kind: LayerKindName,
  s: { dvalues: Shape; dinputs: Shape; inputs?: Shape; weights?: Shape; grads: [string, Shape][]; targets?: Shape },
): string {
  const rows: [string, string][] = [];
  switch (kind) {
    case "dense": {
      const dw = s.grads.find(([n]) => n === "dweights")?.[1];
      const db = s.grads.find(([n]) => n === "dbiases")?.[1];
      rows.push(["dweights = inputsᵀ · dvalues", `${t(tr(s.inputs))} · ${t(s.dvalues)} → ${t(dw)}`]);
      rows.push(["dbiases  = Σ dvalues (over samples)", `${t(s.dvalues)} → ${t(db)}`]);
      rows.push(["dinputs  = dvalues · weightsᵀ", `${t(s.dvalues)} · ${t(tr(s.weights))} → ${t(s.dinputs)}`]);
      break;
    }
    case "relu":
      rows.push(["dinputs = dvalues ⊙ [inputs > 0]", `${t(s.dvalues)} ⊙ ${t(s.inputs)} → ${t(s.dinputs)}`]);
      break;
    case "softmax": {
      const k = s.dvalues?.[1];
      rows.push(["dinputs[n] = (diag(s) − s·sᵀ) · dvalues[n]", `${t([k, k])} · ${t([k])} per sample → ${t(s.dinputs)}`]);
      break;
    }
    case "softmax-cce":
      rows.push(["dinputs = (dvalues − y one-hot) / n", `${t(s.dvalues)}, y ${t(s.targets)} → ${t(s.dinputs)}`]);
      break;
    case "cce":
      rows.push(["dinputs = −y / dvalues / n", `${t(s.dvalues)}, y ${t(s.targets)} → ${t(s.dinputs)}`]);
      break;
    default:
      rows.push(["dinputs = backward(dvalues)", `${t(s.dvalues)} → ${t(s.dinputs)}`]);
      for (const [n, g] of s.grads) if (n !== "dinputs") rows.push([n, t(g)]);
  }
  return pad(rows);
}

/** `**dense1** = \`Dense(2, 3)\`` */
export function layerTitle(l: LayerLabel): string {
  return `**${escapeMarkdown(l.name)}** = \`${l.description.replace(/`/g, "'")}\``;
}

/** Said under a call that comes after a shape error on its path: its shapes may not add up. */
export const UNREACHED_NOTE = "_A shape error above stops the run before this call: these shapes follow the code as written and need not fit._";

/** The hover of one or more layer calls at one place (a loop or `Sequential` calls several). */
export function callMarkdown(entries: { layer: LayerLabel; phase: "forward" | "backward"; flow: string; formulas: string; unreached?: boolean }[]): string {
  const out: string[] = [];
  for (const e of entries) {
    out.push(`${layerTitle(e.layer)} · ${e.phase} · \`${e.flow}\``);
    out.push("```text\n" + e.formulas + "\n```");
  }
  if (entries.some((e) => e.unreached)) out.push(UNREACHED_NOTE);
  out.push(STATIC_NOTE);
  return out.join("\n\n");
}

/** The hover of an expression holding a tensor: `` `X` · `[300, 2]` ``. */
export function valueText(label: string, v: TensorV, from?: string): string {
  const parts = [`\`${label.length > 60 ? `${label.slice(0, 57)}…` : label.replace(/`/g, "'")}\`: \`${t(v.shape)}\``];
  if (v.arr) parts.push("a JavaScript array");
  if (v.maxLabel !== undefined && v.shape?.length === 1) parts.push(`class indices up to ${v.maxLabel}`);
  if (from) parts.push(`from ${from}`);
  const out = [parts.join(" · ")];
  if (v.guess) out.push("_Inferred by the rule that a gradient has the shape of what it is the gradient of (the code that computes it could not be followed)._");
  out.push(STATIC_NOTE);
  return out.join("\n\n");
}

/** An inlay hint's shape: `[300, 2]`, `≈[300, 2]` for an inferred one. */
export function hintShape(v: TensorV): string {
  return `${v.guess ? "≈" : ""}${t(v.shape)}`;
}
