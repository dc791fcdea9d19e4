/**
 * The hover on layer code: what the last run computed at the layer a line constructs or calls.
 * One layer: its description, shapes, a statistics table, NumPy-style corners of the values, the
 * gradient check, its anomalies and a link to the Gradient Inspector. Several layers on one line
 * (a loop, a sequential helper): one compact table row each.
 */
import { isParamGradientName } from "../../core/trace/tensorNames";
import { readGradCheck } from "../../core/run/gradCheckVerdict";
import type { GradCheckResult, SourceSite } from "../../core/trace/traceTypes";
import type { LayerReport, RunReport, TensorPeek } from "./lspProtocol";
import type { LayerOnLine, ReportStore } from "./reportStore";
import { checkVerdict, codeBlock, codeSpan, escapeMarkdown, gradLabel, layerAnomalies, mainGradient, revealUri } from "./summary";
import { cornerText, short, shapeText } from "./text";

const CHANGED_NOTE = "⚠ *This line was edited after the run: the values are from the code before the edit.*";

/** The hover's Markdown for the layers on a line, or null when there are none. */
export function hoverMarkdown(items: readonly LayerOnLine[], store: ReportStore): string | null {
  if (items.length === 0) return null;
  if (items.length === 1) return layerHover(items[0] as LayerOnLine, store);
  return multiHover(items);
}

/** Tensor names whose statistics (and values) a hover shows for these roles. */
function tensorsFor(item: LayerOnLine): { stats: string[]; values: string[] } {
  const t = item.layer.tensors;
  const grads = Object.keys(t).filter(isParamGradientName);
  const has = (n: string): boolean => n in t;
  const roles = item.roles;
  if (roles.includes("construction") || (roles.includes("forward") && roles.includes("backward"))) {
    const names = ["output", "dinputs", ...grads].filter(has);
    return { stats: names, values: names };
  }
  if (roles.includes("forward")) return { stats: ["inputs", "output"].filter(has), values: ["output"].filter(has) };
  const names = ["dinputs", ...grads].filter(has);
  return { stats: ["dvalues", ...names].filter(has), values: names };
}

function layerHover(item: LayerOnLine, store: ReportStore): string {
  const { report, layer } = item;
  const info = layer.info;
  const out: string[] = [];
  const params = info.paramCount > 0 ? ` · ${info.paramCount.toLocaleString("en-US")} parameter${info.paramCount === 1 ? "" : "s"}` : "";
  const custom = info.kind === "custom" ? " · custom layer" : "";
  // Names and descriptions come from the model: text, never Markdown (see escapeMarkdown).
  out.push(`**${escapeMarkdown(info.name)}** = ${codeSpan(info.description)}${custom}${params}`);
  if (item.changed) out.push(CHANGED_NOTE);

  const lineOf = (site: SourceSite | undefined): string | undefined => {
    if (!site) return undefined;
    const now = store.now(report, site);
    return now === null ? undefined : String(now.line + 1);
  };
  const where: string[] = [];
  const built = lineOf(info.site);
  if (built) where.push(`built at line ${built}`);
  for (const phase of ["forward", "backward"] as const) {
    const lines = [...new Set(layer.callSites.filter((c) => c.phase === phase).map((c) => lineOf(c.site)).filter((l): l is string => l !== undefined))];
    if (lines.length > 0) where.push(`${phase} at line${lines.length > 1 ? "s" : ""} ${lines.slice(0, 4).join(", ")}${lines.length > 4 ? ", …" : ""}`);
  }

  if (layer.step < 0) {
    out.push([`Not called in run ${report.runId}`, ...where].join(" · "));
  } else {
    out.push([runLine(report, layer), ...where].join(" · "));
    const t = layer.tensors;
    const flow: string[] = [];
    if (t.inputs && t.output) flow.push(`inputs ${shapeText(t.inputs.shape)} → output ${shapeText(t.output.shape)}`);
    if (t.dvalues && t.dinputs) flow.push(`dvalues ${shapeText(t.dvalues.shape)} → dinputs ${shapeText(t.dinputs.shape)}`);
    if (flow.length > 0) out.push(flow.map((f) => `\`${f}\``).join(" · "));
    const { stats, values } = tensorsFor(item);
    if (stats.length > 0) out.push(statsTable(stats.map((n) => [n, t[n] as TensorPeek])));
    const blocks = values.map((n) => valueBlock(n, t[n] as TensorPeek)).filter((b) => b !== "");
    if (blocks.length > 0) out.push(codeBlock(blocks.join("\n")));
  }

  const check = checkText(layer.gradCheck, layer);
  if (check) out.push(check);
  const anomalies = layerAnomalies(report, info.id).filter((a) => a.code !== "gradient-check");
  for (const a of anomalies.slice(0, 3)) out.push(`⚠ ${escapeMarkdown(a.message)}`);
  if (anomalies.length > 3) out.push(`… and ${anomalies.length - 3} more`);
  out.push(`[Open in Gradient Inspector](${revealUri(report, layer)})`);
  return out.join("\n\n");
}

/** `Step 0 of run 1 · loss 1.0986 · accuracy 0.36` (loss and accuracy for a loss layer). */
function runLine(report: RunReport, layer: LayerReport): string {
  const fwd = layer.lastCalls?.find((c) => c.phase === "forward");
  const loss = `${fwd?.loss !== undefined ? ` · loss ${short(fwd.loss, 5)}` : ""}${fwd?.accuracy !== undefined ? ` · accuracy ${short(fwd.accuracy, 4)}` : ""}`;
  const status = report.ok ? "" : ` · the run failed${report.error ? ` (${report.error.kind})` : ""}`;
  return `Step ${layer.step} of run ${report.runId}${loss}${status}`;
}

function statsTable(rows: [string, TensorPeek][]): string {
  const lines = ["| | shape | min | max | mean | ‖·‖ |", "|:--|:--|--:|--:|--:|--:|"];
  for (const [name, p] of rows) {
    const s = p.stats;
    const bad = s.nonFinite > 0 ? ` ⚠ ${s.nonFinite} non-finite` : "";
    lines.push(`| ${escapeMarkdown(name)}${bad} | ${shapeText(p.shape)} | ${short(s.min)} | ${short(s.max)} | ${short(s.mean)} | ${short(s.norm)} |`);
  }
  return lines.join("\n");
}

function valueBlock(name: string, p: TensorPeek): string {
  const text = cornerText(p);
  return text === "" ? "" : `${name} ${shapeText(p.shape)}\n${text}`;
}

/** The gradient-check verdict for a hover, or undefined when the layer was not checked. */
export function checkText(g: GradCheckResult | undefined, layer?: LayerReport): string | undefined {
  if (!g) return undefined;
  if (g.error) return `✗ Gradient check could not run: ${escapeMarkdown(g.error)}`;
  const reading = layer ? readGradCheck(g, (n) => layer.tensors[n]?.stats) : undefined;
  if (g.ok && reading && reading.vacuous.length > 0) {
    const all = reading.verdict === "vacuous";
    return `⚠ Gradient check ${all ? "passed but checked nothing meaningful" : `of ${reading.vacuous.join(", ")} checked nothing meaningful`}: ${escapeMarkdown(Object.values(reading.reasons).join("; "))}`;
  }
  if (g.ok) {
    const worst = Math.max(0, ...g.tensors.map((t) => t.worst?.absErr ?? 0));
    return `✓ Gradient check passed (${g.tensors.map((t) => escapeMarkdown(t.name)).join(", ")}; worst \\|error\\| ${short(worst, 2)})`;
  }
  const failed = g.tensors.filter((t) => !t.ok);
  return failed
    .map((t) => {
      const w = t.worst;
      const name = escapeMarkdown(t.name);
      const at = w ? `${name}\\[${w.index.join(", ")}\\] is ${short(w.analytic)} but central differences give ${short(w.numeric)} (\\|error\\| ${short(w.absErr, 2)})` : name;
      return `✗ Gradient check failed: ${at}`;
    })
    .join("\n\n");
}

function multiHover(items: readonly LayerOnLine[]): string {
  const first = items[0] as LayerOnLine;
  const out: string[] = [`**${items.length} layers on this line** · step ${Math.max(...items.map((i) => i.layer.step))} of run ${first.report.runId}`];
  if (items.some((i) => i.changed)) out.push(CHANGED_NOTE);
  const lines = ["| layer | | output | gradient | check | |", "|:--|:--|:--|:--|:--|:--|"];
  for (const { report, layer } of items) {
    const g = mainGradient(layer);
    const out = layer.tensors.output;
    lines.push(
      `| **${escapeMarkdown(layer.info.name)}** | ${codeSpan(layer.info.description).replace(/\|/g, "\\|")} | ${out ? shapeText(out.shape) : layer.step < 0 ? "not called" : ""} | ${g ? `${gradLabel(g.name)} ${short(g.norm, 2)}` : ""} | ${checkVerdict(layer.gradCheck, layer)?.replace("grad check ", "").replace(/^: /, "") ?? ""} | [inspect](${revealUri(report, layer)}) |`,
    );
  }
  out.push(lines.join("\n"));
  return out.join("\n\n");
}
