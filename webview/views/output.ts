/**
 * The model's console output in a collapsible "Output" section. Long outputs are virtualised: entries
 * print without wrapping (white-space: pre), so each one's height is its line count × line height and
 * only the entries in view are in the DOM.
 */
import type { ConsoleLine } from "../../core/run/runModel";
import { siteLabel } from "../model";
import type { Ctx } from "./context";
import { h, hx, siteLink } from "./dom";

export const LINE_PX = 18;
const PAD_PX = 4;
const VIEW_PX = 280;

/** Cumulative tops of entries of the given line counts (prefix sums; last = total height). */
export function entryTops(lineCounts: readonly number[]): number[] {
  const tops = new Array<number>(lineCounts.length + 1);
  tops[0] = 0;
  for (let i = 0; i < lineCounts.length; i++) tops[i + 1] = (tops[i] as number) + (lineCounts[i] as number) * LINE_PX + PAD_PX;
  return tops;
}

/** The entries [first, last) that intersect the window [scrollTop, scrollTop + height), plus `overscan` each side. */
export function visibleRange(tops: readonly number[], scrollTop: number, height: number, overscan = 5): [number, number] {
  const n = tops.length - 1;
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((tops[mid + 1] as number) <= scrollTop) lo = mid + 1;
    else hi = mid;
  }
  let end = lo;
  while (end < n && (tops[end] as number) < scrollTop + height) end++;
  return [Math.max(0, lo - overscan), Math.min(n, end + overscan)];
}

export class OutputPanel {
  readonly el: HTMLElement;
  private readonly scroller: HTMLDivElement;
  private readonly spacer: HTMLDivElement;
  private readonly win: HTMLDivElement;
  private entries: ConsoleLine[] = [];
  private tops: number[] = [0];
  private counted = 0;
  private ctx: Ctx | undefined;
  private range: [number, number] = [0, 0];
  private follow = true;

  constructor(onToggle: (open: boolean) => void) {
    this.win = h("div", { class: "out-window" });
    this.spacer = h("div", { class: "out-spacer" }, this.win);
    this.scroller = h("div", { class: "out-scroll", testid: "output-lines", attrs: { tabindex: 0, role: "log", "aria-label": "Model output" } }, this.spacer);
    this.el = hx("vscode-collapsible", { class: "output", testid: "output", attrs: { heading: "Output" } }, this.scroller);
    this.el.addEventListener("vsc-collapsible-toggle", (e) => {
      onToggle(Boolean((e as CustomEvent<{ open: boolean }>).detail?.open));
      this.paint(true);
    });
    this.scroller.addEventListener("scroll", () => {
      this.follow = this.scroller.scrollTop + this.scroller.clientHeight >= this.scroller.scrollHeight - LINE_PX;
      this.paint(false);
    });
  }

  update(ctx: Ctx): void {
    this.ctx = ctx;
    const entries = ctx.run.console;
    let replaced = false;
    if (entries !== this.entries) {
      // Another run: nothing of the previous run's output may stay on screen, even when this run has none.
      this.entries = entries;
      this.tops = [0];
      this.counted = 0;
      this.range = [0, 0];
      this.follow = true;
      replaced = true;
    }
    const open = ctx.view.outputOpen;
    if ((this.el as HTMLElement & { open?: boolean }).open !== open) (this.el as HTMLElement & { open: boolean }).open = open;
    const warn = entries.filter((e) => e.level === "error" || e.level === "warn").length;
    this.el.setAttribute("heading", `Output (${entries.length} line${entries.length === 1 ? "" : "s"}${warn ? `, ${warn} warnings/errors` : ""})`);
    if (this.counted === entries.length) {
      if (replaced) {
        this.spacer.style.height = "0px";
        this.paint(true);
      }
      return;
    }
    for (let i = this.counted; i < entries.length; i++) {
      const lines = (entries[i] as ConsoleLine).text.split("\n").length;
      this.tops.push((this.tops[i] as number) + lines * LINE_PX + PAD_PX);
    }
    this.counted = entries.length;
    this.spacer.style.height = `${this.tops[this.tops.length - 1]}px`;
    this.scroller.style.maxHeight = `${VIEW_PX}px`;
    this.paint(true);
    if (this.follow) this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  private paint(force: boolean): void {
    const ctx = this.ctx;
    if (!ctx) return;
    const height = this.scroller.clientHeight || VIEW_PX;
    const r = visibleRange(this.tops, this.scroller.scrollTop, height);
    if (!force && r[0] === this.range[0] && r[1] === this.range[1]) return;
    this.range = r;
    this.win.style.transform = `translateY(${this.tops[r[0]]}px)`;
    const rows: HTMLElement[] = [];
    for (let i = r[0]; i < r[1]; i++) {
      const e = this.entries[i] as ConsoleLine;
      rows.push(h("div", { class: `out-line ${e.level}`, attrs: { "data-index": i } }, h("span", { class: "out-text" }, e.text), e.site ? siteLink(e.site, siteLabel(e.site), ctx.actions.openSource, "output-source") : null));
    }
    this.win.replaceChildren(...rows);
  }
}
