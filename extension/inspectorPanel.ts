/**
 * The Gradient Inspector's host side: one webview panel (created beside the editor, revived after a
 * window reload by a serializer), its strict nonce CSP, and the protocol dispatch (core/protocol.ts):
 * the run's trace events (without tensor data) are pushed in batches as the run streams, tensors are
 * answered on request as raw bytes.
 */
import { randomBytes } from "node:crypto";
import * as vscode from "vscode";
import {
  type DebugPositionInfo,
  type Envelope,
  type FromWebview,
  PROTOCOL_VERSION,
  type RunEvent,
  type RunModel,
  type SourceSite,
  type ToWebview,
  bytesOf,
  isEnvelope,
  isFromWebview,
  isTensorParams,
} from "../core/host";
import { Disposable } from "./dispose";

/** What the panel needs from the rest of the extension. */
export interface InspectorHost {
  readonly extensionUri: vscode.Uri;
  readonly log: vscode.LogOutputChannel;
  /** The run the panel shows (the newest one). */
  currentRun(): RunModel | undefined;
  runAgain(): void;
  stop(): void;
  /** Re-runs the model recording a step in full (asks which when undefined). */
  recordStep(step?: number): unknown;
  /** Reveals and highlights a source position in an editor. */
  openSource(site: SourceSite): Promise<void>;
}

/** How often queued live messages are flushed to the webview. */
const FLUSH_MS = 40;
/** Most trace events sent to the webview in one turn of the host's event loop. */
const SLICE_EVENTS = 2000;

export class InspectorPanel extends Disposable {
  static readonly viewType = "backpropLens.inspector";
  private static current: InspectorPanel | undefined;

  private ready = false;
  private sliced = false;
  private pending: ToWebview[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly readyWaiters: (() => void)[] = [];

  /** The open panel, if any. */
  static get instance(): InspectorPanel | undefined {
    return InspectorPanel.current;
  }

  /** Shows the panel beside the active editor, creating it if needed. */
  static createOrShow(host: InspectorHost, preserveFocus = true): InspectorPanel {
    const existing = InspectorPanel.current;
    if (existing) {
      existing.panel.reveal(undefined, preserveFocus);
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(
      InspectorPanel.viewType,
      "Gradient Inspector",
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus },
      InspectorPanel.options(host.extensionUri),
    );
    return new InspectorPanel(panel, host);
  }

  /**
   * Shows the panel beside the model it is about to show: never over the model's editor, and never
   * with another file between. When the model's editor shares the panel's group (the user opened the
   * file while focus was in the inspector's group), the model stays and the panel moves to the next
   * group; a model that is not visible is shown in a group of its own first.
   */
  static async showBeside(host: InspectorHost, doc: vscode.TextDocument): Promise<InspectorPanel> {
    const existing = InspectorPanel.current;
    const panelCol = existing?.panel.viewColumn;
    let editor = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === doc.uri.toString() && e.viewColumn !== undefined);
    if (!editor) {
      const col = panelCol === vscode.ViewColumn.One ? vscode.ViewColumn.Two : vscode.ViewColumn.One;
      editor = await vscode.window.showTextDocument(doc, { viewColumn: col, preserveFocus: false, preview: false });
    }
    const modelCol = editor.viewColumn ?? vscode.ViewColumn.One;
    if (existing && panelCol === modelCol && modelCol > vscode.ViewColumn.One) {
      // The model was opened in the inspector's group (focus was there): the model moves one group left,
      // beside the panel, instead of the panel moving into a new group on the right (run after run, the
      // window would split into ever narrower groups).
      const left = (modelCol - 1) as vscode.ViewColumn;
      await vscode.window.showTextDocument(doc, { viewColumn: left, preserveFocus: false, preview: false });
      const stale = vscode.window.tabGroups.all
        .filter((g) => g.viewColumn === modelCol)
        .flatMap((g) => g.tabs)
        .filter((t) => t.input instanceof vscode.TabInputText && t.input.uri.toString() === doc.uri.toString());
      if (stale.length > 0) await vscode.window.tabGroups.close(stale, true);
      existing.panel.reveal(modelCol, true);
      return existing;
    }
    const want = (modelCol + 1) as vscode.ViewColumn;
    if (existing) {
      if (panelCol === modelCol || panelCol === undefined) existing.panel.reveal(want, true);
      else existing.panel.reveal(undefined, true);
      // The model stays in front in its own group.
      if (panelCol === modelCol) await vscode.window.showTextDocument(doc, { viewColumn: modelCol, preserveFocus: true, preview: false });
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(InspectorPanel.viewType, "Gradient Inspector", { viewColumn: want, preserveFocus: true }, InspectorPanel.options(host.extensionUri));
    return new InspectorPanel(panel, host);
  }

  /** Adopts a panel VS Code restored after a reload. */
  static revive(panel: vscode.WebviewPanel, host: InspectorHost): InspectorPanel {
    InspectorPanel.current?.dispose();
    return new InspectorPanel(panel, host);
  }

  static options(extensionUri: vscode.Uri): vscode.WebviewPanelOptions & vscode.WebviewOptions {
    return {
      enableScripts: true,
      retainContextWhenHidden: false, // the view state is persisted and the run replayed instead
      localResourceRoots: [vscode.Uri.joinPath(extensionUri, "dist", "webview")],
    };
  }

  private constructor(
    readonly panel: vscode.WebviewPanel,
    private readonly host: InspectorHost,
  ) {
    super();
    InspectorPanel.current = this;
    panel.iconPath = vscode.Uri.joinPath(host.extensionUri, "media", "icon.png");
    panel.webview.options = InspectorPanel.options(host.extensionUri);
    panel.webview.html = this.html(panel.webview);
    this.register(panel.onDidDispose(() => this.dispose()));
    this.register(panel.webview.onDidReceiveMessage((m: unknown) => void this.onMessage(m)));
    this.register(
      panel.onDidChangeViewState(() => {
        // A hidden webview is torn down (retainContextWhenHidden is off); it says ui/ready again when shown.
        if (!panel.visible) this.ready = false;
      }),
    );
  }

  override dispose(): void {
    if (InspectorPanel.current === this) InspectorPanel.current = undefined;
    if (this.timer) clearTimeout(this.timer);
    super.dispose();
    try {
      this.panel.dispose();
    } catch {
      // already disposed
    }
  }

  /** True once the webview has said `ui/ready` and has the current run. */
  get isReady(): boolean {
    return this.ready;
  }

  /** Resolves when the webview is ready (for tests and for reveal-after-open). */
  whenReady(): Promise<void> {
    if (this.ready) return Promise.resolve();
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  /** Tells the webview that a new run started (it drops the shown one). */
  startRun(run: RunModel): void {
    if (!this.ready) return; // the replay on ui/ready covers it
    this.pending.push({ type: "run/started", run: run.header });
    this.flush();
  }

  /** Clear Results: the webview forgets the shown run (anything still queued for it is dropped). */
  clearRun(): void {
    this.pending = [];
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.ready) this.send({ type: "run/cleared" });
  }

  /**
   * Queues live trace events (without tensor data) of run `runId`; consecutive events go out as one
   * `run/events` batch. Summaries and console lines wait a few tens of milliseconds; anything else
   * (a call, a layer, the end) flushes at once so cards appear while the model runs.
   */
  postEvents(runId: number, events: readonly RunEvent[]): void {
    if (!this.ready || events.length === 0) return; // the replay on ui/ready covers everything before
    const last = this.pending[this.pending.length - 1];
    if (last?.type === "run/events" && last.runId === runId) last.events.push(...events);
    else this.pending.push({ type: "run/events", runId, events: [...events] });
    if (events.some((e) => e.type !== "step/summary" && e.type !== "console")) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), FLUSH_MS);
  }

  /** Where the debugger is paused in run `runId` (none: it runs on); sent after the events queued before it. */
  debugPosition(runId: number, position?: DebugPositionInfo, ended = false): void {
    if (!this.ready) return;
    this.flush();
    this.send({ type: "debug/position", runId, ...(position ? { position } : {}), ...(ended ? { ended: true as const } : {}) });
  }

  /** Scrolls the webview to a layer's card. */
  async reveal(layer: number, step?: number, element?: { seq: number; tensor: string; index: number[] }): Promise<void> {
    this.panel.reveal(undefined, true);
    await this.whenReady();
    this.send({ type: "ui/reveal", layer, ...(step !== undefined ? { step } : {}), ...(element ? { element } : {}) });
  }

  /**
   * Sends what is queued, at most SLICE_EVENTS trace events per turn of the host's event loop (a long
   * batch is split; the rest follows on the next turn, in order), so that a big replay or a flood never
   * holds the host — or the webview — for long.
   */
  private flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    let budget = SLICE_EVENTS;
    while (this.pending.length > 0 && budget > 0) {
      const m = this.pending[0] as ToWebview;
      if (m.type === "run/events" && m.events.length > budget) {
        this.send({ type: "run/events", runId: m.runId, events: m.events.splice(0, budget) });
        budget = 0;
        break;
      }
      this.pending.shift();
      this.send(m);
      budget -= m.type === "run/events" ? m.events.length : 1;
    }
    if (this.pending.length > 0 && !this.sliced) {
      this.sliced = true;
      setImmediate(() => {
        this.sliced = false;
        if (!this.isDisposed) this.flush();
      });
    }
  }

  private send(body: ToWebview): void {
    const env: Envelope = { kind: "event", body };
    void this.panel.webview.postMessage(env);
  }

  private reply(id: number, result?: unknown, error?: string): void {
    const env: Envelope = error !== undefined ? { kind: "reply", id, error } : { kind: "reply", id, result };
    void this.panel.webview.postMessage(env);
  }

  private async onMessage(raw: unknown): Promise<void> {
    if (!isEnvelope(raw)) {
      this.host.log.warn("inspector: ignored a malformed message from the webview");
      return;
    }
    if (raw.kind === "request") {
      this.answer(raw.id, raw.method, raw.params);
      return;
    }
    if (raw.kind !== "event" || !isFromWebview(raw.body)) return;
    const body: FromWebview = raw.body;
    switch (body.type) {
      case "ui/ready": {
        if (body.protocolVersion !== PROTOCOL_VERSION) this.host.log.warn(`inspector: webview speaks protocol ${body.protocolVersion}, host ${PROTOCOL_VERSION}`);
        const run = this.host.currentRun();
        this.pending = [];
        this.send({ type: "session/ready", protocolVersion: PROTOCOL_VERSION, ...(run ? { run: run.header } : {}) });
        this.ready = true;
        if (run) {
          // The replay goes out in slices, ahead of any live event queued meanwhile.
          this.pending.push({ type: "run/started", run: run.header }, { type: "run/events", runId: run.runId, events: run.replay() });
          this.flush();
        }
        for (const w of this.readyWaiters.splice(0)) w();
        break;
      }
      case "ui/openSource":
        await this.host.openSource(body.site);
        break;
      case "ui/runAgain":
        this.host.runAgain();
        break;
      case "ui/stop":
        this.host.stop();
        break;
      case "ui/recordStep":
        void this.host.recordStep(body.step);
        break;
    }
  }

  private answer(id: number, method: string, params: unknown): void {
    try {
      if (method !== "trace/tensor" || !isTensorParams(params)) throw new Error(`unknown request ${method}`);
      const run = this.host.currentRun();
      if (!run || run.runId !== params.runId) throw new Error(`run ${params.runId} is no longer available`);
      const t = run.tensor(params.seq, params.name);
      if (!t) throw new Error(`no tensor ${params.name} for call ${params.seq} (only the recorded steps keep tensors)`);
      this.reply(id, { shape: [...t.shape], data: bytesOf(t.data) });
    } catch (e) {
      this.reply(id, undefined, e instanceof Error ? e.message : String(e));
    }
  }

  private html(webview: vscode.Webview): string {
    const nonce = randomBytes(16).toString("base64");
    const base = vscode.Uri.joinPath(this.host.extensionUri, "dist", "webview");
    const script = webview.asWebviewUri(vscode.Uri.joinPath(base, "main.js"));
    const style = webview.asWebviewUri(vscode.Uri.joinPath(base, "main.css"));
    const csp = [
      "default-src 'none'",
      `img-src ${webview.cspSource} data: blob:`,
      `style-src ${webview.cspSource}`,
      `font-src ${webview.cspSource}`,
      `script-src 'nonce-${nonce}'`,
    ].join("; ");
    // Only fixed markup here: every piece of run data reaches the webview through postMessage.
    return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link href="${style.toString()}" rel="stylesheet">
<title>Gradient Inspector</title>
</head>
<body>
<div id="app"></div>
<script nonce="${nonce}" src="${script.toString()}"></script>
</body>
</html>`;
  }
}
