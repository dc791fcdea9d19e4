/**
 * Code lenses (▶ Run Backward Pass at the top of a model file; a summary on each layer's
 * construction line that reveals it in the inspector) and inlay hints (a short summary at the end
 * of each layer line). Pure: they take the store and the document's text.
 */
import { type CodeLens, type InlayHint, InlayHintKind, type Range } from "vscode-languageserver";
import { DEBUG_COMMAND, REVEAL_LAYER_COMMAND, RUN_COMMAND } from "./lspProtocol";
import { findMethod } from "./methods";
import { importsBackpropLens, isModelFile } from "./modelFile";
import type { LayerOnLine, ReportStore } from "./reportStore";
import { gradLabel, lensTitle, mainGradient, revealArgs } from "./summary";
import { short, shapeText } from "./text";

export const RUN_LENS_TITLE = "▶ Run Backward Pass";
export const DEBUG_LENS_TITLE = "Debug Backward Pass";

/** The code lenses of a document: the run lens when it is a model file (`modelFile.ts`), then one per layer built in it. */
export function codeLenses(store: ReportStore, file: string, uri: string, text: string): CodeLens[] {
  const lenses: CodeLens[] = [];
  if (isModelFile(file, text)) {
    lenses.push({ range: lineRange(0), command: { title: RUN_LENS_TITLE, command: RUN_COMMAND, arguments: [uri] } });
    // The debugger drives TypeScript/JavaScript models (the Python tracer does not speak its control messages yet).
    if (importsBackpropLens(text)) lenses.push({ range: lineRange(0), command: { title: DEBUG_LENS_TITLE, command: DEBUG_COMMAND, arguments: [uri] } });
  }
  for (const item of store.layersInFile(file)) {
    if (!item.roles.includes("construction")) continue;
    lenses.push({
      range: lineRange(item.line),
      command: { title: lensTitle(item.report, item.layer, item.changed), command: REVEAL_LAYER_COMMAND, arguments: revealArgs(item.report, item.layer) },
    });
  }
  // A failed gradient check of a layer class written in this file: a lens on its backward method too.
  const lines = text.split(/\r\n|\r|\n/);
  const done = new Set<string>();
  for (const report of store.reports) {
    for (const layer of report.layers) {
      const g = layer.gradCheck;
      if (!g || g.ok || layer.info.kind !== "custom" || done.has(layer.info.className)) continue;
      const m = findMethod(lines, layer.info.className, "backward");
      if (!m) continue;
      done.add(layer.info.className);
      const bad = g.tensors.find((t) => !t.ok);
      const w = bad?.worst;
      const ratio = w && w.numeric !== 0 ? w.analytic / w.numeric : undefined;
      const detail = g.error ? `the check could not run: ${g.error}` : w && bad ? `${bad.name}[${w.index.join(", ")}] is ${short(w.analytic, 3)}, central differences give ${short(w.numeric, 3)}${ratio !== undefined && Number.isFinite(ratio) ? ` (×${short(ratio, 3)})` : ""}` : "failed";
      lenses.push({ range: lineRange(m.line), command: { title: `✗ gradient check of ${layer.info.name}: ${detail}`, command: REVEAL_LAYER_COMMAND, arguments: revealArgs(report, layer) } });
    }
  }
  return lenses;
}

function lineRange(line: number): Range {
  return { start: { line, character: 0 }, end: { line, character: 0 } };
}

/** `‖dweights‖ = 3.1e-4, out [300, 3]` for a construction line (the hint's full text, in its tooltip). */
export function constructionHint(item: LayerOnLine): string | undefined {
  const { layer } = item;
  if (layer.step < 0) return "not called";
  const parts: string[] = [];
  const g = mainGradient(layer);
  if (g) parts.push(`‖${g.name}‖ = ${short(g.norm, 2)}`);
  const out = layer.tensors.output;
  if (out) parts.push(`out ${shapeText(out.shape)}`);
  return parts.length > 0 ? parts.join(", ") : undefined;
}

/** `→ out [300, 3]` for a forward call, `← dinputs [300, 2], ‖dweights‖ = 3.1e-4` for a backward call (full text). */
export function callHint(item: LayerOnLine): string | undefined {
  const { layer, roles } = item;
  const parts: string[] = [];
  const t = layer.tensors;
  const loss = layer.lastCalls?.find((c) => c.phase === "forward")?.loss;
  if (roles.includes("forward") && loss !== undefined) parts.push(`→ loss ${short(loss, 5)}`);
  else if (roles.includes("forward") && t.output) parts.push(`→ out ${shapeText(t.output.shape)}`);
  if (roles.includes("backward")) {
    const back: string[] = [];
    if (t.dinputs) back.push(`← dinputs ${shapeText(t.dinputs.shape)}`);
    const g = mainGradient(layer);
    if (g && g.name !== "dinputs") back.push(`‖${g.name}‖ = ${short(g.norm, 2)}`);
    else if (g) back.push(`‖dinputs‖ = ${short(g.norm, 2)}`);
    if (back.length > 0) parts.push(back.join(", "));
  }
  return parts.length > 0 ? parts.join("  ") : undefined;
}

/** Hints longer than this are cut (a narrow editor must not scroll sideways for them). */
export const MAX_HINT_CHARS = 24;

/**
 * The short label at the end of a layer line: one number or shape, no more (issue 13: the full
 * summaries made a narrow editor scroll sideways). `‖dW‖ 40` at a construction, `→ [3, 3]` at a
 * forward call, `→ loss 1.0986` at a loss, `← ‖dW‖ 40` at a backward call. The full text is the
 * hint's tooltip, and the hover has everything.
 */
export function shortHint(item: LayerOnLine): string | undefined {
  const { layer, roles } = item;
  if (layer.step < 0) return "not called";
  const g = mainGradient(layer);
  const grad = g ? `${gradLabel(g.name)} ${short(g.norm, 2)}` : undefined;
  let label: string | undefined;
  if (roles.includes("construction")) label = grad ?? (layer.tensors.output ? `→ ${shapeText(layer.tensors.output.shape)}` : undefined);
  else {
    const loss = layer.lastCalls?.find((c) => c.phase === "forward")?.loss;
    const fwd = roles.includes("forward") ? (loss !== undefined ? `→ loss ${short(loss, 5)}` : layer.tensors.output ? `→ ${shapeText(layer.tensors.output.shape)}` : undefined) : undefined;
    const back = roles.includes("backward") ? (grad ? `← ${grad}` : layer.tensors.dinputs ? `← ${shapeText(layer.tensors.dinputs.shape)}` : undefined) : undefined;
    label = [fwd, back].filter(Boolean).join(" ") || undefined;
  }
  return label === undefined ? undefined : cut(label);
}

function cut(s: string): string {
  return s.length <= MAX_HINT_CHARS ? s : `${s.slice(0, MAX_HINT_CHARS - 1)}…`;
}

/**
 * Inlay hints at the end of each layer line of `lines` (the document's current lines) within
 * [fromLine, toLine]: construction lines and call lines. A line with several layers gets one hint
 * listing their names; lines edited since the run get none (their values may no longer apply).
 */
export function inlayHints(store: ReportStore, file: string, lines: readonly string[], fromLine = 0, toLine = Number.MAX_SAFE_INTEGER): InlayHint[] {
  const byLine = new Map<number, LayerOnLine[]>();
  for (const item of store.layersInFile(file)) {
    if (item.line < fromLine || item.line > toLine || item.line >= lines.length) continue;
    let list = byLine.get(item.line);
    if (!list) byLine.set(item.line, (list = []));
    list.push(item);
  }
  const hints: InlayHint[] = [];
  for (const [line, items] of [...byLine].sort((a, b) => a[0] - b[0])) {
    if (items.some((i) => i.changed)) continue;
    let label: string | undefined;
    let full: string | undefined;
    if (items.length === 1) {
      const item = items[0] as LayerOnLine;
      label = shortHint(item);
      full = item.roles.includes("construction") ? constructionHint(item) : callHint(item);
    } else {
      const names = [...new Set(items.map((i) => i.layer.info.name))];
      full = `${names.length} layers: ${names.slice(0, 8).join(", ")}${names.length > 8 ? ", …" : ""}`;
      label = cut(`${names.length} layers: ${names.join(", ")}`);
    }
    if (!label) continue;
    const first = items[0] as LayerOnLine;
    hints.push({
      position: { line, character: (lines[line] as string).length },
      label,
      kind: InlayHintKind.Type,
      paddingLeft: true,
      tooltip: `${first.layer.info.name}: ${full ?? label} (Backprop Lens, step ${first.layer.step} of run ${first.report.runId}; hover the line for everything)`,
    });
  }
  return hints;
}
