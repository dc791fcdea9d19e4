/**
 * Code lenses (▶ Run Backward Pass at the top of a model file; a summary on each layer's
 * construction line that reveals it in the inspector) and inlay hints (a short summary at the end
 * of each layer line). Pure: they take the store and the document's text.
 */
import { type CodeLens, type InlayHint, InlayHintKind, type Range } from "vscode-languageserver";
import { DEBUG_COMMAND, REVEAL_LAYER_COMMAND, RUN_COMMAND } from "./lspProtocol";
import { looksLikePythonModel } from "../runner/python/modelFile";
import { importsBackpropLens } from "./modelFile";
import type { LayerOnLine, ReportStore } from "./reportStore";
import { lensTitle, mainGradient, revealArgs } from "./summary";
import { short, shapeText } from "./text";

export const RUN_LENS_TITLE = "▶ Run Backward Pass";
export const DEBUG_LENS_TITLE = "Debug Backward Pass";

/** The code lenses of a document: the run lens when it imports "backprop-lens", then one per layer built in it. */
export function codeLenses(store: ReportStore, file: string, uri: string, text: string): CodeLens[] {
  const lenses: CodeLens[] = [];
  if (importsBackpropLens(text) || (/\.pyw?$/i.test(file) && looksLikePythonModel(text))) {
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
  return lenses;
}

function lineRange(line: number): Range {
  return { start: { line, character: 0 }, end: { line, character: 0 } };
}

/** `‖dweights‖ = 3.1e-4, out [300, 3]` for a construction line. */
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

/** `→ out [300, 3]` for a forward call, `← dinputs [300, 2], ‖dweights‖ = 3.1e-4` for a backward call. */
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
    if (items.length === 1) {
      const item = items[0] as LayerOnLine;
      label = item.roles.includes("construction") ? constructionHint(item) : callHint(item);
    } else {
      const names = [...new Set(items.map((i) => i.layer.info.name))];
      label = `${names.length} layers: ${names.slice(0, 4).join(", ")}${names.length > 4 ? ", …" : ""}`;
    }
    if (!label) continue;
    const first = items[0] as LayerOnLine;
    hints.push({
      position: { line, character: (lines[line] as string).length },
      label,
      kind: InlayHintKind.Type,
      paddingLeft: true,
      tooltip: `Backprop Lens: step ${first.layer.step} of run ${first.report.runId}`,
    });
  }
  return hints;
}
