/** Anomalies (NaN origin, dead ReLU, exploding gradient, gradient-check failure) in the strip at the top and on their cards. */
import type { Anomaly } from "../../core/trace/traceTypes";
import { siteLabel } from "../model";
import type { Ctx } from "./context";
import { h, icon, linkButton, siteLink } from "./dom";

const ICON = { error: "error", warning: "warning", information: "info" } as const;

export function anomalyItem(ctx: Ctx, a: Anomaly, withLayer: boolean): HTMLElement {
  const layer = a.layer !== undefined ? ctx.run.layers.get(a.layer) : undefined;
  return h(
    "li",
    { class: `anomaly ${a.severity}`, testid: "anomaly", attrs: { "data-code": a.code, "data-severity": a.severity } },
    icon(ICON[a.severity], a.severity),
    " ",
    withLayer && layer && a.layer !== undefined
      ? linkButton(layer.name, `Show the card of ${layer.name}`, () => ctx.actions.reveal(a.layer as number, ctx.run.steps.includes(a.step) ? a.step : undefined), "anomaly-layer")
      : null,
    withLayer && layer ? ": " : null,
    h("span", { class: "anomaly-message" }, a.message),
    // Where, after the sentence (which ends with its own advice, "try 5"): "— step 3 · model.ts:9".
    h("span", { class: "muted anomaly-where" }, ` — step ${a.step}${a.site ? " · " : ""}`),
    a.site ? siteLink(a.site, siteLabel(a.site), ctx.actions.openSource, "anomaly-source") : null,
  );
}

export function problemsStrip(ctx: Ctx): HTMLElement | null {
  const list = ctx.run.problems();
  if (list.length === 0) return null;
  const counts = { error: 0, warning: 0, information: 0 };
  for (const p of list) counts[p.severity]++;
  const summary = [counts.error ? `${counts.error} error${counts.error > 1 ? "s" : ""}` : "", counts.warning ? `${counts.warning} warning${counts.warning > 1 ? "s" : ""}` : "", counts.information ? `${counts.information} note${counts.information > 1 ? "s" : ""}` : ""]
    .filter(Boolean)
    .join(", ");
  return h(
    "section",
    { class: "problems", testid: "problems", attrs: { "aria-label": `Problems: ${summary}` } },
    h("div", { class: "section-title" }, icon("warning"), ` Problems (${summary})`),
    h("ul", {}, ...list.map((a) => anomalyItem(ctx, a, true))),
  );
}
