/** A failed run: the error message, prominent and readable, with file:line links. Never a blank panel. */
import type { RunError } from "../../core/trace/traceTypes";
import { siteLabel } from "../model";
import type { Ctx } from "./context";
import { h, icon, linkButton, siteLink } from "./dom";

const TITLES: Record<RunError["kind"], string> = {
  syntax: "Syntax error",
  import: "Import failed",
  throw: "The model threw an error",
  shape: "Shape mismatch",
  "non-finite": "A value became NaN or infinite",
  timeout: "The run took too long and was stopped",
  memory: "The run ran out of memory",
  "too-large": "A tensor is too large",
  cancelled: "The run was stopped",
  lost: "The run was lost",
  internal: "Internal error",
};

export function errorBanner(ctx: Ctx, err: RunError): HTMLElement {
  const layer = err.layer;
  const layerId = layer?.id;
  const frames = (err.frames ?? []).filter((f) => !(err.site && f.file === err.site.file && f.line === err.site.line));
  return h(
    "section",
    { class: `error-banner${err.kind === "cancelled" ? " info" : ""}`, testid: "error-banner", attrs: { role: "alert", "data-kind": err.kind } },
    h("div", { class: "error-title" }, icon(err.kind === "cancelled" ? "debug-stop" : "error"), ` ${TITLES[err.kind] ?? "The run failed"}`, err.site ? " at " : "", err.site ? siteLink(err.site, siteLabel(err.site), ctx.actions.openSource, "error-site") : null),
    h("p", { class: "error-message", testid: "error-message" }, err.message),
    layer
      ? h(
          "p",
          { class: "error-layer" },
          "In layer ",
          layerId !== undefined && ctx.run.layers.has(layerId) ? linkButton(layer.name, `Show ${layer.name}`, () => ctx.actions.reveal(layerId)) : h("span", { class: "mono" }, layer.name),
          ` (${layer.className})`,
        )
      : null,
    frames.length ? h("details", { class: "error-frames" }, h("summary", {}, `Stack (${frames.length} frame${frames.length > 1 ? "s" : ""})`), h("ol", {}, ...frames.map((f) => h("li", {}, siteLink(f, `${siteLabel(f)}:${f.column}`, ctx.actions.openSource, "error-frame"))))) : null,
  );
}
