/**
 * The header: model file, run status (running / done in N ms / failed), the step picker (recorded
 * steps, default 0), Run again / Stop, heatmap zoom.
 */
import type { RunModel } from "../../core/run/runModel";
import type { Ctx } from "./context";
import { formatDuration } from "../../core/format";
import { baseName } from "../model";
import { h, hx, icon, iconButton, Slot } from "./dom";
import { statNumber } from "./tensorPanel";

export class Header {
  readonly el: HTMLElement;
  private readonly title = new Slot(h("div", { class: "hdr-title" }));
  private readonly status = new Slot(h("div", { class: "hdr-status", testid: "run-status-slot" }));
  private readonly steps = new Slot(h("div", { class: "hdr-steps" }));
  private readonly buttons = new Slot(h("div", { class: "hdr-buttons" }));

  constructor() {
    this.el = h("header", { class: "hdr", testid: "header" }, this.title.el, this.status.el, this.steps.el, this.buttons.el);
  }

  /** Forgets what it shows (a new run: every part is built again). */
  reset(): void {
    for (const slot of [this.title, this.status, this.steps, this.buttons]) slot.reset();
  }

  update(ctx: Ctx): void {
    const { run } = ctx;
    const status = run.status();
    // Which run the header shows (tests and the timing benchmark tell consecutive runs apart by it).
    this.el.setAttribute("data-run-id", String(run.header.runId));
    this.title.update(run.header.file, () => [icon("file-code"), h("span", { class: "hdr-file", testid: "file-name", title: run.header.file }, baseName(run.header.file))]);
    const summary = run.summaries.length;
    const { final, selected } = headerLosses(run, ctx.step);
    const paused = status === "running" ? ctx.debug : undefined;
    this.status.update(JSON.stringify([status, run.end?.durationMs, run.end?.steps, summary > 0 && status === "running" ? Math.floor(summary / 50) : 0, final, selected, run.layers.size, paused ?? null]), () => {
      // Paused in the debugger: say where (the model waits there).
      const text = paused
        ? `paused at ${paused.label} · step ${paused.step}${paused.live ? "" : " (recorded; the model waits further on)"}`
        : status === "running"
          ? `running${summary > 0 ? ` · step ${run.summaries[summary - 1]?.step ?? 0}` : ""}`
          : status === "done"
            ? `done in ${formatDuration(run.end?.durationMs ?? 0)}`
            : status === "stopped"
              ? `stopped after ${formatDuration(run.end?.durationMs ?? 0)}`
              : status === "lost"
                ? // A run whose end was never seen (the window closed during it) has no duration to tell.
                  run.end?.durationMs
                  ? `lost after ${formatDuration(run.end.durationMs)}`
                  : "lost before it ended"
                : `failed after ${formatDuration(run.end?.durationMs ?? 0)}`;
      const ic = paused ? "debug-pause" : status === "running" ? "loading codicon-modifier-spin" : status === "done" ? "pass" : status === "stopped" ? "debug-stop" : status === "lost" ? "warning" : "error";
      return [
        h("span", { class: `status ${status}`, testid: "run-status", attrs: { "data-status": status, role: "status" } }, icon(ic), ` ${text}`),
        run.end && !(status === "lost" && !run.end.durationMs) ? h("span", { class: "muted" }, ` · ${run.end.steps.toLocaleString("en-US")} step${run.end.steps === 1 ? "" : "s"}`) : null,
        run.layers.size ? h("span", { class: "muted" }, ` · ${run.layers.size} layer${run.layers.size === 1 ? "" : "s"}`) : null,
        final ? h("span", { class: "muted", testid: "final-loss", attrs: { "data-value": String(final.loss), "data-step": final.step } }, ` · ${final.label} ${statNumber(final.loss)}`) : null,
        selected ? h("span", { class: "muted", testid: "step-loss", attrs: { "data-value": String(selected.loss), "data-step": selected.step } }, ` · step ${selected.step}: loss ${statNumber(selected.loss)}`) : null,
      ];
    });
    this.steps.update(JSON.stringify([run.steps, ctx.step, run.end?.steps ?? null]), () => {
      if (run.steps.length === 0) return h("span", { class: "muted" }, "no step recorded yet");
      const select = hx("vscode-single-select", { testid: "step-picker", attrs: { "aria-label": "Step" } });
      for (const s of run.steps) select.appendChild(hx("vscode-option", { attrs: { value: String(s), selected: s === ctx.step } }, s === run.steps[run.steps.length - 1] && s > 2 && run.end ? `step ${s} (last)` : `step ${s}`));
      // Any other step: the model runs again and records it (the host asks which).
      if (run.end && run.end.steps > run.steps.length) select.appendChild(hx("vscode-option", { testid: "record-step", attrs: { value: "record" } }, "Record another step…"));
      select.addEventListener("change", () => {
        const raw = (select as HTMLElement & { value: string }).value;
        if (raw === "record") {
          ctx.actions.recordStep();
          return;
        }
        const v = Number(raw);
        if (Number.isInteger(v)) ctx.actions.selectStep(v);
      });
      return [h("label", { class: "hdr-label", attrs: { id: "step-label" } }, "Step"), select];
    });
    this.buttons.update(JSON.stringify([status, ctx.view.zoom]), () => [
      iconButton("zoom-out", "Smaller heatmaps", () => ctx.actions.setZoom(ctx.view.zoom / 1.25), "zoom-out"),
      iconButton("zoom-in", "Larger heatmaps", () => ctx.actions.setZoom(ctx.view.zoom * 1.25), "zoom-in"),
      hx("vscode-button", { testid: "run-again", attrs: { secondary: status === "running", "aria-label": "Run again" }, on: { click: () => ctx.actions.runAgain() } }, icon("debug-restart"), " Run again"),
      hx("vscode-button", { testid: "stop", attrs: { secondary: true, disabled: status !== "running", "aria-label": "Stop" }, on: { click: () => ctx.actions.stop() } }, icon("debug-stop"), " Stop"),
    ]);
  }
}

/**
 * The losses the header shows: the run's final loss (the last step with one; "loss" with its step
 * while the run goes on) and, when the shown step is another one, that step's loss, labelled with
 * its step. Never the shown step's loss as if it were the run's.
 */
export function headerLosses(run: RunModel, step: number | undefined): { final?: { label: string; step: number; loss: number }; selected?: { step: number; loss: number } } {
  const pts = run.lossSummaries();
  const last = pts[pts.length - 1];
  if (!last || last.loss === undefined) return {};
  const final = { label: run.end ? "final loss" : `loss at step ${last.step}`, step: last.step, loss: last.loss };
  const here = step !== undefined && step !== last.step ? pts.find((p) => p.step === step) : undefined;
  return { final, ...(here?.loss !== undefined ? { selected: { step: here.step, loss: here.loss } } : {}) };
}

