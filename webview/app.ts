/**
 * The inspector app: one store (state + view state + tensor client), one message handler, one render
 * per animation frame. Created once in main.ts with the Host; nothing lives at module level.
 */
import { PROTOCOL_VERSION, isToWebview, type DebugPositionInfo, type Envelope, type ToWebview } from "../core/protocol";
import { cssColorToRgb, scaleTables } from "./colors";
import type { Host } from "./host";
import { effectiveStep, reduce, type AppState } from "./model";
import { TensorClient } from "./tensorClient";
import { defaultViewState, MAX_ZOOM, MIN_ZOOM, viewForRun, type SelectedElement, type ViewState } from "./viewState";
import { LayerCard } from "./views/card";
import type { HeatZoom } from "./views/heatmap";
import { gaps, lineChart, paletteColor } from "./views/charts";
import type { Actions, Ctx } from "./views/context";
import { h, icon, Slot } from "./views/dom";
import { errorBanner } from "./views/errorBanner";
import { Header } from "./views/header";
import { OutputPanel } from "./views/output";
import { problemsStrip } from "./views/problems";
import { compareSection } from "./views/compare";
import { gradFlowSection } from "./views/gradFlow";
import { networkSection } from "./views/network";
import { scalarSection } from "./views/scalar";

export interface AppOptions {
  /** Tensor request timeout (ms). */
  timeoutMs?: number;
}

export class App {
  private state: AppState = { kind: "connecting" };
  private view: ViewState;
  private readonly client: TensorClient;
  private readonly tables = scaleTables();
  /** The one zoomed heatmap (persisted with the view, so a re-render or reload keeps it). */
  private readonly heatZoom: HeatZoom = {
    active: undefined,
    claim: (key, region, reset) => {
      const prev = this.zoomReset;
      if (prev && prev.key !== key) prev.reset();
      this.zoomReset = region ? { key, reset } : undefined;
      (this.heatZoom as { active: HeatZoom["active"] }).active = region ? { key, region } : undefined;
      if (region) this.view.heatZoom = { key, ...region };
      else delete this.view.heatZoom;
      this.save();
    },
  };
  private zoomReset: { key: string; reset: () => void } | undefined;
  private special: [number, number, number] = [255, 0, 255];
  private theme = 0;
  private frame = 0;
  private pendingReveal: { layer: number; step?: number } | undefined;
  /** The debugger's position in the shown run, and the card to bring into view for it. */
  private debugPos: DebugPositionInfo | undefined;
  /** The run whose debug session the inspector followed (it goes back to that run's last step when the session ends). */
  private debugFollowed: number | undefined;
  private pendingFollow: number | undefined;
  private readonly cards = new Map<number, LayerCard>();
  private readonly visibleCallbacks = new Map<Element, () => void>();
  private readonly io: IntersectionObserver | undefined;
  private readonly root: HTMLElement;
  private readonly header = new Header();
  private readonly banner = new Slot(h("div", { class: "banner-slot" }));
  private readonly problems = new Slot(h("div", { class: "problems-slot" }));
  private readonly curves = new Slot(h("div", { class: "curves-slot" }));
  private readonly scalar = new Slot(h("div", { class: "scalar-slot" }));
  private readonly network = new Slot(h("div", { class: "network-slot" }));
  private readonly flow = new Slot(h("div", { class: "flow-slot" }));
  private readonly compare = new Slot(h("div", { class: "compare-slot" }));
  private readonly cardList = h("div", { class: "cards", testid: "cards" });
  private readonly output: OutputPanel;
  private readonly message = new Slot(h("div", { class: "message-slot" }));
  private curveChart: ReturnType<typeof lineChart> | undefined;
  private width = 800;
  private runId: number | undefined;
  /** The last heatmap draw times (ms), newest last. */
  readonly drawTimes: { key: string; ms: number }[] = [];

  constructor(
    private readonly mount: HTMLElement,
    private readonly host: Host,
    options: AppOptions = {},
  ) {
    this.view = host.loadViewState() ?? defaultViewState();
    const z = this.view.heatZoom;
    if (z) (this.heatZoom as { active: HeatZoom["active"] }).active = { key: z.key, region: { r0: z.r0, c0: z.c0, rows: z.rows, cols: z.cols } };
    this.client = new TensorClient(host, { timeoutMs: options.timeoutMs ?? 15000 });
    this.output = new OutputPanel((open) => {
      if (this.view.outputOpen === open) return;
      this.view.outputOpen = open;
      this.save();
    });
    this.root = h("main", { class: "inspector", attrs: { "aria-label": "Gradient Inspector" } });
    this.io =
      typeof IntersectionObserver === "function"
        ? new IntersectionObserver(
            (entries) => {
              for (const e of entries) {
                if (!e.isIntersecting) continue;
                const cb = this.visibleCallbacks.get(e.target);
                this.visibleCallbacks.delete(e.target);
                this.io?.unobserve(e.target);
                cb?.();
              }
            },
            { rootMargin: "300px 0px" },
          )
        : undefined;
  }

  start(): void {
    this.mount.replaceChildren(this.root);
    this.readTheme();
    new MutationObserver(() => {
      this.theme++;
      this.readTheme();
      this.schedule();
    }).observe(document.body, { attributes: true, attributeFilter: ["class", "data-vscode-theme-kind"] });
    if (typeof ResizeObserver === "function") {
      new ResizeObserver(() => {
        const w = this.root.clientWidth;
        if (Math.abs(w - this.width) >= 40) this.schedule();
      }).observe(this.root);
    }
    this.host.onMessage((e) => this.handle(e));
    this.host.post({ kind: "event", body: { type: "ui/ready", protocolVersion: PROTOCOL_VERSION } });
    this.render();
  }

  /** One envelope from the host. */
  handle(e: Envelope): void {
    if (e.kind === "reply") {
      this.client.handleReply(e);
      return;
    }
    if (e.kind !== "event" || !isToWebview(e.body)) return;
    const msg: ToWebview = e.body;
    if (msg.type === "debug/position") {
      const same = this.state.kind === "run" && this.state.run.header.runId === msg.runId;
      this.debugPos = same ? msg.position : undefined;
      if (this.debugPos) {
        this.view.selectedStep = this.debugPos.step;
        this.pendingFollow = this.debugPos.layer;
        this.debugFollowed = msg.runId;
      } else if (same && msg.ended && this.debugFollowed === msg.runId && this.state.kind === "run") {
        this.debugFollowed = undefined;
        // The debug session is over: back to the run's last step, as the editor's hovers and hints are.
        const last = this.state.run.steps[this.state.run.steps.length - 1];
        if (last !== undefined) this.view.selectedStep = last;
      }
      this.schedule();
      return;
    }
    if (msg.type === "ui/reveal") {
      this.pendingReveal = { layer: msg.layer, ...(msg.step !== undefined ? { step: msg.step } : {}) };
      if (msg.step !== undefined) this.view.selectedStep = msg.step;
      if (msg.element) {
        this.view.selectedElement = { layer: msg.layer, seq: msg.element.seq, tensor: msg.element.tensor, index: [...msg.element.index] };
        this.view.selectedLayer = msg.layer;
      }
      if (this.view.collapsed.includes(msg.layer)) this.view.collapsed = this.view.collapsed.filter((x) => x !== msg.layer);
      this.save();
      this.schedule();
      return;
    }
    const before = this.state;
    this.state = reduce(this.state, msg);
    const runId = this.state.kind === "run" ? this.state.run.header.runId : undefined;
    if (this.state !== before && before.kind === "run" && (this.state.kind !== "run" || this.state.run !== before.run)) {
      // A new run (or the replay of this one) replaces the shown one: its cards and tensors go.
      if (this.runId !== undefined && this.runId !== runId) this.client.dropRun(this.runId);
      this.resetRunViews();
    }
    this.runId = runId;
    if (this.state.kind === "run") {
      // A new run (or another file) starts at its own defaults, not at the previous run's step or element.
      const view = viewForRun(this.view, this.state.run.header);
      if (view !== this.view) {
        if (view.heatZoom === undefined) {
          (this.heatZoom as { active: HeatZoom["active"] }).active = undefined;
          this.zoomReset = undefined;
        }
        this.view = view;
        this.save();
      }
    }
    this.schedule();
  }

  private resetRunViews(): void {
    this.cards.clear();
    this.cardList.replaceChildren();
    for (const el of this.visibleCallbacks.keys()) this.io?.unobserve(el);
    this.visibleCallbacks.clear();
    for (const slot of [this.banner, this.problems, this.curves, this.network, this.flow, this.compare, this.scalar]) slot.reset();
    this.header.reset();
    this.curveChart = undefined;
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  private save(): void {
    this.host.saveViewState(this.view);
  }

  private readTheme(): void {
    const cs = getComputedStyle(document.body);
    const err = cs.getPropertyValue("--vscode-editorError-foreground").trim() || cs.getPropertyValue("--vscode-errorForeground").trim();
    if (err) {
      // Resolve any CSS colour syntax to rgb() through a probe element.
      const probe = h("span");
      probe.style.color = err;
      document.body.appendChild(probe);
      this.special = cssColorToRgb(getComputedStyle(probe).color);
      probe.remove();
    }
  }

  private readonly actions: Actions = {
    openSource: (site) => this.host.post({ kind: "event", body: { type: "ui/openSource", site } }),
    selectStep: (step) => {
      this.view.selectedStep = step;
      this.save();
      this.schedule();
    },
    selectElement: (e: SelectedElement | undefined) => {
      if (e) {
        this.view.selectedElement = e;
        this.view.selectedLayer = e.layer;
      } else delete this.view.selectedElement;
      this.save();
      this.schedule();
    },
    selectScalar: (id) => {
      if (id === undefined) delete this.view.selectedScalar;
      else this.view.selectedScalar = id;
      this.save();
      this.schedule();
    },
    toggleCard: (layer) => {
      const c = this.view.collapsed;
      this.view.collapsed = c.includes(layer) ? c.filter((x) => x !== layer) : [...c, layer];
      this.view.selectedLayer = layer;
      this.save();
      this.schedule();
    },
    setSample: (layer, sample) => {
      this.view.samples = { ...this.view.samples, [String(layer)]: sample };
      this.save();
      this.schedule();
    },
    reveal: (layer, step) => {
      this.pendingReveal = { layer, ...(step !== undefined ? { step } : {}) };
      if (step !== undefined) this.view.selectedStep = step;
      this.view.collapsed = this.view.collapsed.filter((x) => x !== layer);
      this.save();
      this.schedule();
    },
    setZoom: (zoom) => {
      this.view.zoom = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, Math.round(zoom * 100) / 100));
      this.save();
      this.schedule();
    },
    setOutputOpen: (open) => {
      this.view.outputOpen = open;
      this.save();
      this.schedule();
    },
    runAgain: () => this.host.post({ kind: "event", body: { type: "ui/runAgain" } }),
    stop: () => this.host.post({ kind: "event", body: { type: "ui/stop" } }),
    recordStep: (step) => this.host.post({ kind: "event", body: { type: "ui/recordStep", ...(step !== undefined ? { step } : {}) } }),
  };

  private ctx(): Ctx | undefined {
    if (this.state.kind !== "run") return undefined;
    const run = this.state.run;
    const runId = run.header.runId;
    const rootStyle = getComputedStyle(document.body);
    return {
      run,
      view: this.view,
      step: effectiveStep(run, this.view.selectedStep),
      actions: this.actions,
      // References lead to the call that holds the data, so a tensor shared by two calls is fetched once.
      tensor: (seq, name) => {
        const at = run.resolve(seq, name);
        return this.client.get(runId, at.seq, at.name);
      },
      peekTensor: (seq, name) => {
        const at = run.resolve(seq, name);
        return this.client.peek(runId, at.seq, at.name);
      },
      whenVisible: (el, cb) => {
        if (!this.io) return cb();
        this.visibleCallbacks.set(el, cb);
        this.io.observe(el);
      },
      tables: this.tables,
      heatZoom: this.heatZoom,
      special: this.special,
      cssVar: (name, fallback = "") => rootStyle.getPropertyValue(name).trim() || fallback,
      theme: this.theme,
      contentWidth: this.width,
      recordDraw: (key, ms) => {
        this.drawTimes.push({ key, ms });
        if (this.drawTimes.length > 200) this.drawTimes.shift();
      },
      ...(this.debugPos ? { debug: this.debugPos } : {}),
    };
  }

  private render(): void {
    this.width = Math.max(320, this.root.clientWidth || 800);
    const st = this.state;
    switch (st.kind) {
      case "connecting":
        this.showMessage("connecting", "loading codicon-modifier-spin", "Connecting to Backprop Lens…");
        return;
      case "empty":
        if (st.cleared) {
          this.showMessage("empty", "clear-all", "Results cleared. Run Backprop Lens: Run Backward Pass (▶ in the editor's title bar) on a model file to see its layers, gradients and chain-rule steps here again.");
          return;
        }
        this.showMessage("empty", "debug-start", "No run yet. Open a model file and run Backprop Lens: Run Backward Pass (▶ in the editor's title bar): its layers, gradients and chain-rule steps appear here while it runs.");
        return;
      case "incompatible":
        this.showMessage("incompatible", "warning", st.message);
        return;
      case "run":
        this.renderRun();
        return;
    }
  }

  private showMessage(kind: string, ic: string, text: string): void {
    this.message.update(kind + text, () => h("div", { class: `message ${kind}`, testid: `state-${kind}`, attrs: { role: "status" } }, icon(ic), h("p", {}, text)));
    this.root.replaceChildren(this.message.el);
  }

  private renderRun(): void {
    const ctx = this.ctx();
    if (!ctx) return;
    const { run } = ctx;
    if (this.root.firstChild !== this.header.el) {
      this.message.reset();
      this.root.replaceChildren(this.header.el, this.banner.el, this.problems.el, this.curves.el, this.network.el, this.flow.el, this.compare.el, this.scalar.el, this.cardList, this.output.el);
    }
    this.header.update(ctx);
    const err = run.end?.error;
    this.banner.update(JSON.stringify([err ?? null, run.layers.size]), () => (err ? errorBanner(ctx, err) : null));
    this.problems.update(JSON.stringify([run.anomalies.length, run.gradChecks.length, run.layers.size, run.steps]), () => problemsStrip(ctx));
    this.renderCurves(ctx);
    const live = run.end ? run.summaries.length : Math.floor(run.summaries.length / 100);
    this.flow.update(JSON.stringify([live, ctx.step, ctx.theme, Math.round(this.width / 80), run.layers.size]), () => gradFlowSection(ctx));
    this.compare.update(JSON.stringify([run.steps, run.calls.length, this.view.compare ?? null, ctx.theme, Math.round(this.width / 80), this.view.zoom]), () =>
      run.steps.length >= 2
        ? compareSection(ctx, this.view.compare, (c) => {
            this.view.compare = c;
            this.save();
            this.schedule();
          })
        : null,
    );
    this.network.update(JSON.stringify([ctx.step, run.callsInStep(ctx.step).length, run.layers.size, ctx.theme, Math.round(this.width / 80)]), () => networkSection(ctx));
    this.scalar.update(JSON.stringify([ctx.step, run.scalarNodes.length, run.scalarBackwards.length, ctx.view.selectedScalar ?? null, ctx.theme]), () => scalarSection(ctx));

    const order = run.layerOrder();
    let prev: Element | null = null;
    for (const info of order) {
      let card = this.cards.get(info.id);
      if (!card) this.cards.set(info.id, (card = new LayerCard(info.id)));
      card.update(ctx, info);
      const want: ChildNode | null = prev ? prev.nextSibling : this.cardList.firstChild;
      if (want !== card.el) this.cardList.insertBefore(card.el, want);
      prev = card.el;
    }
    if (order.length === 0 && !run.end?.error && run.scalarNodes.length === 0) {
      if (!this.cardList.querySelector(".waiting")) this.cardList.replaceChildren(h("p", { class: "muted waiting" }, icon("loading codicon-modifier-spin"), run.end ? " This run recorded no layers." : " Waiting for the first layer…"));
    } else this.cardList.querySelector(".waiting")?.remove();
    this.output.update(ctx);
    this.doReveal();
    this.doFollow();
  }

  /** Brings the debugger's current card into view without taking the focus from the editor. */
  private doFollow(): void {
    const layer = this.pendingFollow;
    if (layer === undefined) return;
    const card = this.cards.get(layer);
    if (!card) return;
    this.pendingFollow = undefined;
    (card.el.querySelector(".debug-current-call") ?? card.el).scrollIntoView({ block: "center" });
  }

  private renderCurves(ctx: Ctx): void {
    const pts = ctx.run.lossSummaries();
    if (pts.filter((p) => Number.isFinite(p.loss)).length < 2) {
      this.curves.update("none", () => null);
      this.curveChart = undefined;
      return;
    }
    const hasAcc = pts.some((p) => p.accuracy !== undefined);
    // The panel's content width less the section's own padding and border (the chart was 5 px too wide).
    const width = Math.max(240, Math.min(this.width - 32 - 28, 960));
    const x = pts.map((p) => p.step);
    const ys = [gaps(pts.map((p) => p.loss ?? NaN)), ...(hasAcc ? [gaps(pts.map((p) => p.accuracy ?? NaN))] : [])];
    const rebuilt = this.curves.update(JSON.stringify([hasAcc, ctx.theme, Math.round(width / 40)]), () => {
      this.curveChart = lineChart(ctx, {
        title: "Loss and accuracy over steps",
        x,
        series: [{ label: "loss", values: ys[0] ?? [], color: paletteColor(ctx, 0) }, ...(hasAcc ? [{ label: "accuracy", values: ys[1] ?? [], color: paletteColor(ctx, 2), scale: "acc" }] : [])],
        width,
        height: 190,
        testid: "curves",
        describe: `${pts.length} steps, loss from ${pts[0]?.loss?.toFixed(4)} to ${pts[pts.length - 1]?.loss?.toFixed(4)}`,
      });
      // A click on the curves shows that step, or (not recorded) runs the model again to record it.
      const plot = this.curveChart.plot;
      plot.over.addEventListener("click", () => {
        const i = plot.cursor.idx;
        const step = i === null || i === undefined ? undefined : plot.data[0][i];
        if (typeof step !== "number") return;
        const run = this.state.kind === "run" ? this.state.run : undefined;
        if (run?.steps.includes(step)) this.actions.selectStep(step);
        else if (run?.end) this.actions.recordStep(step);
      });
      return h(
        "section",
        { class: "curves", attrs: { "aria-label": "Training curves" } },
        this.curveChart.el,
        h("p", { class: "muted hint", testid: "curves-hint" }, "Click a step to show it; a step that was not recorded is recorded by running the model again."),
      );
    });
    if (!rebuilt && this.curveChart && (this.curveChart.plot.data[0]?.length ?? 0) !== x.length) this.curveChart.setData(x, ys);
  }

  private doReveal(): void {
    const r = this.pendingReveal;
    if (!r) return;
    const card = this.cards.get(r.layer);
    if (!card) return; // not there yet (the replay may still be arriving)
    this.pendingReveal = undefined;
    card.el.scrollIntoView({ block: "start" });
    card.el.focus({ preventScroll: true });
    card.el.classList.add("revealed");
    setTimeout(() => card.el.classList.remove("revealed"), 1600);
  }
}
