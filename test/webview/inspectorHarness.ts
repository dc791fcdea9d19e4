/**
 * The whole inspector app in jsdom against a fake Host: runs are opened the way the extension opens
 * them (session/ready, run/started, run/events), tensor requests are answered from a host-side
 * RunModel that keeps the data, and animation frames run when the test settles.
 */
import { PROTOCOL_VERSION, bytesOf, type Envelope, type ToWebview } from "../../core/protocol";
import { RunModel } from "../../core/run/runModel";
import type { TraceEvent } from "../../core/trace/traceTypes";
import type { App } from "../../webview/app";
import { installDom, type TestDom } from "../helpers/dom";
import { FakeHost } from "./fakeHost";

export class Inspector {
  readonly dom: TestDom;
  readonly host = new FakeHost();
  readonly app: App;
  private readonly runs = new Map<number, RunModel>();
  private answered = new Set<number>();
  private ready = false;

  constructor(stored?: unknown) {
    this.dom = installDom();
    // Loaded only now: uPlot and the views need the DOM when their modules load.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { App: AppClass } = require("../../webview/app") as typeof import("../../webview/app");
    if (stored !== undefined) this.host.stored = stored;
    const mount = this.dom.document.body.appendChild(this.dom.document.createElement("div"));
    this.app = new AppClass(mount, this.host, { timeoutMs: 60_000 });
    this.app.start();
  }

  get document(): Document {
    return this.dom.document;
  }

  send(body: ToWebview): void {
    this.host.deliver({ kind: "event", body } as Envelope);
  }

  /** Opens a run as the host does: the host keeps its tensors, the webview gets events without data. */
  openRun(events: readonly TraceEvent[], header: { runId: number; file?: string; startedAt?: number }): RunModel {
    const run = new RunModel({ runId: header.runId, file: header.file ?? "/m.ts", startedAt: header.startedAt ?? header.runId });
    this.runs.set(run.runId, run);
    if (!this.ready) {
      this.send({ type: "session/ready", protocolVersion: PROTOCOL_VERSION });
      this.ready = true;
    }
    this.send({ type: "run/started", run: run.header });
    const out = events.filter((e) => e.type !== "run/start").map((e) => run.ingest(e));
    this.send({ type: "run/events", runId: run.runId, events: out });
    return run;
  }

  /** Answers every pending tensor request, lets promises run and frames render, a few times over. */
  async settle(): Promise<void> {
    for (let round = 0; round < 6; round++) {
      await this.dom.settle();
      let any = false;
      for (const r of this.host.requests()) {
        if (this.answered.has(r.id)) continue;
        this.answered.add(r.id);
        any = true;
        const t = this.runs.get(r.params.runId)?.tensor(r.params.seq, r.params.name);
        this.host.deliver(t ? { kind: "reply", id: r.id, result: { shape: [...t.shape], data: bytesOf(t.data.slice()) } } : { kind: "reply", id: r.id, error: `no tensor ${r.params.name} of call ${r.params.seq}` });
      }
      if (!any && round > 1) break;
    }
    await this.dom.settle();
  }

  $(sel: string): Element | null {
    return this.document.querySelector(sel);
  }

  $$(sel: string): Element[] {
    return [...this.document.querySelectorAll(sel)];
  }

  text(sel: string): string {
    return this.$(sel)?.textContent ?? "";
  }

  /** Chooses a step in the header's picker, as the user does. */
  selectStep(step: number): void {
    const el = this.$("[data-testid=step-picker]") as (HTMLElement & { value: string }) | null;
    if (!el) throw new Error("no step picker");
    el.value = String(step);
    el.dispatchEvent(new this.dom.window.Event("change"));
  }

  close(): void {
    this.dom.remove();
  }
}
