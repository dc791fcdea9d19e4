/**
 * Pieces of a layer's summary shared by hovers, code lenses and inlay hints.
 */
import { readGradCheck } from "../../core/run/gradCheckVerdict";
import type { Anomaly, GradCheckResult } from "../../core/trace/traceTypes";
import { type LayerReport, REVEAL_LAYER_COMMAND, type RunReport } from "./lspProtocol";
import { short, shapeText } from "./text";

/** The gradient to show in one number: ‖dweights‖ when the layer has weights, else another parameter's, else ‖dinputs‖. */
export function mainGradient(layer: LayerReport): { name: string; norm: number } | undefined {
  const names = Object.keys(layer.gradNorms);
  const name = names.includes("dweights") ? "dweights" : (names.find((n) => n !== "dinputs") ?? (names.includes("dinputs") ? "dinputs" : undefined));
  return name === undefined ? undefined : { name, norm: layer.gradNorms[name] as number };
}

/** `‖dW‖` for dweights, `‖dbiases‖` and the like otherwise. */
export function gradLabel(name: string): string {
  return name === "dweights" ? "‖dW‖" : `‖${name}‖`;
}

/**
 * `grad check ok` / `grad check FAILED` / `grad check: only zeros` (it passed comparing zeros with
 * zeros, `core/run/gradCheckVerdict.ts`), or undefined when the layer was not checked. `layer` gives
 * the statistics of the checked gradients.
 */
export function checkVerdict(g: GradCheckResult | undefined, layer?: LayerReport): string | undefined {
  if (!g) return undefined;
  if (!g.ok || g.error) return "grad check FAILED";
  return layer && readGradCheck(g, (n) => layer.tensors[n]?.stats).verdict === "vacuous" ? "grad check: only zeros" : "grad check ok";
}

/** The report's anomalies about one layer, in the order they were found. */
export function layerAnomalies(report: RunReport, layer: number): Anomaly[] {
  return report.anomalies.filter((a) => a.layer === layer && a.code !== "truncated");
}

const ANOMALY_LABEL: Record<string, string> = {
  "non-finite": "non-finite values",
  "dead-relu": "dead ReLU",
  "exploding-gradient": "exploding gradient",
  "gradient-check": "gradient check failed",
  diverging: "training diverged",
  "loss-spike": "loss spike",
  "untraced-layer": "not traced",
};

/** `⚠ dead ReLU` for a layer's first anomaly (`+1` when there are more), or undefined. */
export function anomalyBadge(report: RunReport, layer: number): string | undefined {
  const list = layerAnomalies(report, layer).filter((a) => a.code !== "gradient-check");
  const first = list[0];
  if (!first) return undefined;
  return `⚠ ${ANOMALY_LABEL[first.code] ?? first.code}${list.length > 1 ? ` +${list.length - 1}` : ""}`;
}

/** The arguments of `backpropLens.revealLayer`. */
export function revealArgs(report: RunReport, layer: LayerReport): [{ layer: number; file: string }] {
  return [{ layer: layer.info.id, file: report.file }];
}

/** A `command:` link target that reveals the layer in the Gradient Inspector. */
export function revealUri(report: RunReport, layer: LayerReport): string {
  return `command:${REVEAL_LAYER_COMMAND}?${encodeURIComponent(JSON.stringify(revealArgs(report, layer)))}`;
}

/** `dense1: [300, 3] · ‖dW‖ 3.1e-4 · grad check ok` — the code lens on a construction line. */
export function lensTitle(report: RunReport, layer: LayerReport, changed: boolean): string {
  const parts: string[] = [];
  const out = layer.tensors.output;
  if (layer.step < 0) parts.push("not called in the last run");
  else if (out) parts.push(shapeText(out.shape));
  const g = mainGradient(layer);
  if (g) parts.push(`${gradLabel(g.name)} ${short(g.norm, 2)}`);
  const verdict = checkVerdict(layer.gradCheck, layer);
  if (verdict) parts.push(verdict);
  const badge = anomalyBadge(report, layer.info.id);
  if (badge) parts.push(badge);
  if (changed) parts.push("line changed since the run");
  return escapeIcons(`${layer.info.name}: ${parts.join(" · ")}`);
}

/**
 * Untrusted text (a layer's name, a message, the model's output) as Markdown that shows exactly that
 * text: every ASCII punctuation character is backslash-escaped (CommonMark allows it for all of them),
 * so no link, image, HTML tag, emphasis, table cell or autolink can form, and line breaks become spaces
 * so the text cannot start a block of its own.
 */
export function escapeMarkdown(text: string): string {
  return text.replace(/\r\n?|\n/g, " ").replace(/[!-/:-@[-`{-~]/g, (c) => `\\${c}`);
}

/** Untrusted text as an inline code span: a backtick fence longer than any run of backticks in it. */
export function codeSpan(text: string): string {
  const t = text.replace(/\r\n?|\n/g, " ");
  const longest = Math.max(0, ...(t.match(/`+/g) ?? []).map((r) => r.length));
  const fence = "`".repeat(longest + 1);
  const pad = t.startsWith("`") || t.endsWith("`") || longest > 0 ? " " : "";
  return `${fence}${pad}${t}${pad}${fence}`;
}

/** A fenced code block around untrusted text: its fence is longer than any run of backticks inside. */
export function codeBlock(text: string, info = "text"): string {
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((r) => r.length));
  const fence = "`".repeat(Math.max(3, longest + 1));
  return `${fence}${info}\n${text}\n${fence}`;
}

/** Plain text for a place that renders `$(icon)` (code lens titles, the status bar): `$(` stays literal. */
export function escapeIcons(text: string): string {
  return text.replace(/\$\(/g, "\\$(");
}

/**
 * Untrusted text for a notification (`showErrorMessage` and the like): VS Code turns `[label](link)` in
 * a notification into a live link (command links included), and has no escape for it, so a zero-width
 * space goes between `]` and `(`: the text reads the same and no link forms.
 */
export function notificationText(text: string): string {
  return text.replace(/\]\s*\(/g, (m) => `]\u200B${m.slice(1)}`);
}
