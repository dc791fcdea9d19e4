/**
 * Runs model files for the extension: one run at a time (a second run cancels the first), in a
 * worker thread through the shared runner, streaming its events into a RunModel, the Gradient
 * Inspector and the status bar, then handing the run's report to the language server (hovers,
 * diagnostics, inlay hints) and saving the trace so a window reload shows the same results.
 */
import * as fs from "node:fs/promises";
import * as path from "node:path";
import * as vscode from "vscode";
import { RunModel, type SourceSite, type TraceEvent, decodeTrace, encodeTrace } from "../core/host";
import { readConfig } from "./config";
import { Disposable } from "./dispose";
import { type InspectorHost, InspectorPanel } from "./inspectorPanel";
import type { LensLanguageClient } from "./languageClient";
import { isModelDocument, MODEL_LANGUAGES } from "./modelFile";
import { buildRunReport } from "./runReport";
import { type RunHandle, type RunResult, runModel } from "./runner/runModel";
import type { StatusBar } from "./statusBar";
import { pythonInterpreters } from "./pythonInterpreter";
import { isPythonModelFile } from "./runner/python/runPython";

/** Traces larger than this are not saved for the next window (the results still show now). */
const MAX_SAVED_TRACE_BYTES = 64 * 2 ** 20;

/** A debug run (the debugger's launcher): the control channel is opened and the handle handed over at once. */
export interface DebugRunRequest {
  timeLimitSeconds?: number;
  memoryLimitMb?: number;
  keepSteps?: number;
  /** Called once the run has started, before any event. */
  onStart(handle: RunHandle, store: RunModel, source: string): void;
  onEvent(e: TraceEvent): void;
}

/** A re-run that records more steps, checked against the run it repeats. */
export interface RecordRequest {
  recordSteps: number[];
  /** The first run's loss of each step, to tell whether the re-run is deterministic. */
  compareLosses: Map<number, number>;
}

export interface FinishedRun {
  store: RunModel;
  result: RunResult;
  uri: vscode.Uri;
}

export class RunController extends Disposable implements InspectorHost {
  private runCounter = 0;
  private active: { handle: RunHandle; store: RunModel } | undefined;
  private latest: RunModel | undefined;
  private latestUri: vscode.Uri | undefined;
  private readonly finished = this.register(new vscode.EventEmitter<FinishedRun>());
  /** Fires when a run ends (ok, failed, stopped or cancelled). */
  readonly onDidFinish = this.finished.event;
  private readonly highlight = this.register(
    vscode.window.createTextEditorDecorationType({
      isWholeLine: true,
      backgroundColor: new vscode.ThemeColor("editor.rangeHighlightBackground"),
      border: "1px solid",
      borderColor: new vscode.ThemeColor("editor.findRangeHighlightBackground"),
    }),
  );

  constructor(
    private readonly context: vscode.ExtensionContext,
    readonly log: vscode.LogOutputChannel,
    private readonly status: StatusBar,
    /** The language client, started on first use. */
    private readonly client: () => Promise<LensLanguageClient>,
  ) {
    super();
    // Closing the window (or disabling the extension) stops a running or paused model.
    this.register({ dispose: () => this.active?.handle.cancel() });
  }

  get extensionUri(): vscode.Uri {
    return this.context.extensionUri;
  }

  /** The newest run (running or finished). */
  currentRun(): RunModel | undefined {
    return this.latest;
  }

  /** True while a model runs. */
  get running(): boolean {
    return this.active !== undefined;
  }

  /**
   * Runs a model file (the given one, else the active editor's) and resolves when it ends;
   * resolves undefined when nothing was run (no file, untrusted workspace).
   */
  async run(target?: vscode.Uri, debug?: DebugRunRequest, record?: RecordRequest): Promise<RunResult | undefined> {
    const doc = await this.documentFor(target);
    if (doc === undefined) return undefined;
    if (!vscode.workspace.isTrusted) {
      void this.refuseUntrusted();
      return undefined;
    }
    this.active?.handle.cancel();
    const config = readConfig(doc.uri);
    if (debug?.timeLimitSeconds !== undefined) config.timeLimitSeconds = debug.timeLimitSeconds;
    if (debug?.memoryLimitMb !== undefined) config.memoryLimitMb = debug.memoryLimitMb;
    if (debug?.keepSteps !== undefined) config.keepSteps = debug.keepSteps;
    const file = doc.uri.fsPath;
    const store = new RunModel({ runId: ++this.runCounter, file, startedAt: Date.now() });
    this.latest = store;
    this.latestUri = doc.uri;
    const events: TraceEvent[] = [];
    let mismatch: { step: number; was: number; now: number } | undefined;
    // Beside the model it shows, never over it (issue 13).
    if (config.openInspectorOnRun || record) await InspectorPanel.showBeside(this, doc);
    InspectorPanel.instance?.startRun(store);
    this.status.running(path.basename(file));
    void vscode.commands.executeCommand("setContext", "backpropLens.running", true);
    this.log.info(`run ${store.runId}: ${file}`);
    const python = isPythonModelFile(file) ? { interpreters: await pythonInterpreters(doc.uri, this.log) } : undefined;
    const handle = runModel({
      ...(python ? { python } : {}),
      file,
      ...(doc.isDirty ? { source: doc.getText() } : {}),
      overlays: this.unsavedOverlays(doc),
      workerScript: this.context.asAbsolutePath(path.join("dist", "worker.js")),
      esbuildBinary: this.context.asAbsolutePath(path.join("dist", "bin", process.platform === "win32" ? "esbuild.exe" : "esbuild")),
      timeLimitMs: config.timeLimitSeconds * 1000,
      memoryLimitMb: config.memoryLimitMb,
      keepSteps: config.keepSteps,
      ...(record ? { recordSteps: record.recordSteps } : {}),
      gradCheck: config.gradientCheck ? { maxElements: config.gradientCheckMaxElements, budgetMs: config.gradientCheckBudgetMs } : false,
      debug: (m) => this.log.info(m),
      ...(debug ? { control: true as const } : {}),
      onEvent: (e) => {
        events.push(e);
        if (e.type === "console") this.log.info(`[model] ${e.text}`);
        if (record && e.type === "step/summary" && mismatch === undefined && e.summary.loss !== undefined) {
          const was = record.compareLosses.get(e.summary.step);
          if (was !== undefined && !Object.is(was, e.summary.loss)) mismatch = { step: e.summary.step, was, now: e.summary.loss };
        }
        InspectorPanel.instance?.postEvents(store.runId, [store.ingest(e)]);
        debug?.onEvent(e);
      },
    });
    this.active = { handle, store };
    debug?.onStart(handle, store, doc.getText());
    const result = await handle.result;
    const superseded = this.active?.store !== store;
    if (!superseded) {
      this.active = undefined;
      void vscode.commands.executeCommand("setContext", "backpropLens.running", false);
      this.report(store, result, doc.uri);
    }
    if (record && !superseded) this.reportDeterminism(store, record, mismatch);
    this.finished.fire({ store, result, uri: doc.uri });
    if (!superseded) void this.saveTrace(file, events);
    return result;
  }

  /**
   * "Record step 1234": re-runs the latest model with that step recorded in full (the recorder keeps the
   * first steps, the last, and around the first anomaly; any other step needs a re-run), and checks that
   * the re-run repeats the first one by comparing every step's loss.
   */
  async recordStep(step?: number): Promise<RunResult | undefined> {
    const prev = this.latest;
    const uri = this.latestUri;
    if (!prev || !uri || !prev.end) {
      void vscode.window.showInformationMessage("Backprop Lens: run a model first; then any of its steps can be recorded.");
      return undefined;
    }
    const last = prev.end.steps - 1;
    if (step === undefined) {
      const text = await vscode.window.showInputBox({
        title: "Record a step",
        prompt: `Which step of ${path.basename(uri.fsPath)} to record in full (0–${last})? The model runs again up to it.`,
        validateInput: (v) => (/^\d+$/.test(v.trim()) && Number(v) <= last ? undefined : `a whole number from 0 to ${last}`),
      });
      if (text === undefined) return undefined;
      step = Number(text.trim());
    }
    if (!Number.isInteger(step) || step < 0 || step > last) {
      void vscode.window.showWarningMessage(`Backprop Lens: step ${step} is not a step of the last run (0–${last}).`);
      return undefined;
    }
    const compareLosses = new Map<number, number>();
    for (const s of prev.summaries) if (s.loss !== undefined) compareLosses.set(s.step, s.loss);
    this.log.info(`recording step ${step} of ${uri.fsPath}: running it again`);
    const result = await this.run(uri, undefined, { recordSteps: [step], compareLosses });
    const first = [...(this.latest?.layers.keys() ?? [])][0];
    if (result && first !== undefined) void InspectorPanel.instance?.reveal(first, step);
    return result;
  }

  private reportDeterminism(store: RunModel, record: RecordRequest, mismatch: { step: number; was: number; now: number } | undefined): void {
    const text = mismatch
      ? `This re-run is not the same run: at step ${mismatch.step} the loss was ${mismatch.was} and is now ${mismatch.now}, so the recorded step ${record.recordSteps.join(", ")} comes from a different run. The model is not deterministic: it uses Math.random or other changing input; seed it (seed(42)) and pass an rng to your layers.`
      : `The re-run repeated the first run exactly (every step's loss is the same), so step ${record.recordSteps.join(", ")} is the one the first run computed.`;
    this.log.info(text);
    InspectorPanel.instance?.postEvents(store.runId, [store.ingest({ type: "console", level: mismatch ? "warn" : "info", text })]);
    if (mismatch) void vscode.window.showWarningMessage(`Backprop Lens: ${text}`);
  }

  /** Stops the running model, if any. */
  stop(): void {
    this.active?.handle.cancel();
  }

  runAgain(): void {
    if (this.latestUri) void this.run(this.latestUri);
    else void this.run();
  }

  /** Forgets the results: inspector, hovers, diagnostics. */
  async clear(): Promise<void> {
    this.latest = undefined;
    this.status.idle();
    await (await this.client()).clear();
    await fs.rm(this.tracePath(), { force: true }).catch(() => undefined);
  }

  async openSource(site: SourceSite): Promise<void> {
    const uri = vscode.Uri.file(site.file);
    const line = Math.max(0, site.line - 1);
    const range = new vscode.Range(line, Math.max(0, site.column - 1), line, Math.max(0, site.column - 1));
    // Prefer the column where the file is already open, else the first one (the inspector sits beside).
    const open = vscode.window.visibleTextEditors.find((e) => e.document.uri.fsPath === uri.fsPath);
    const editor = await vscode.window.showTextDocument(uri, { viewColumn: open?.viewColumn ?? vscode.ViewColumn.One, selection: range, preserveFocus: false });
    editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
    editor.setDecorations(this.highlight, [new vscode.Range(line, 0, line, 0)]);
    setTimeout(() => editor.setDecorations(this.highlight, []), 2000);
  }

  /** Rebuilds the last run of the previous window from its saved trace (hovers, diagnostics, inspector). */
  async restoreLastRun(): Promise<void> {
    let text: string;
    try {
      text = await fs.readFile(this.tracePath(), "utf8");
    } catch {
      return; // nothing saved
    }
    try {
      const trace = decodeTrace(text);
      if (this.latest !== undefined) return; // a new run started meanwhile
      const store = new RunModel({ runId: ++this.runCounter, file: trace.file, startedAt: Date.now() });
      for (const e of trace.events) store.ingest(e);
      this.latest = store;
      this.latestUri = vscode.Uri.file(trace.file);
      if (store.end) this.status.finished(path.basename(trace.file), store.end.ok, store.end.steps, store.end.durationMs, store.end.error?.message);
      await (await this.client()).sendReport(buildRunReport(store));
      this.log.info(`restored the last run of ${trace.file} (${trace.events.length} events)`);
    } catch (e) {
      this.log.warn(`could not restore the last run: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private report(store: RunModel, result: RunResult, uri: vscode.Uri): void {
    const name = path.basename(uri.fsPath);
    this.status.finished(name, result.ok, result.steps, result.durationMs, result.error?.message);
    if (result.ok) {
      this.log.info(`run ${store.runId}: ${result.steps} steps in ${result.durationMs.toFixed(0)} ms (compile ${result.compileMs.toFixed(0)} ms)`);
    } else if (result.error) {
      this.log.error(`run ${store.runId}: ${result.error.message}`);
      // The inspector shows the error; when it is not open, say it here so it is never a silent nothing.
      if (result.error.kind !== "cancelled" && !(InspectorPanel.instance?.panel.visible ?? false)) {
        void vscode.window.showErrorMessage(`Backprop Lens: ${result.error.message}`, "Open Gradient Inspector").then((pick) => {
          if (pick) InspectorPanel.createOrShow(this, false);
        });
      }
    }
    void this.client()
      .then((c) => c.sendReport(buildRunReport(store)))
      .catch((e: unknown) => this.log.warn(`language server: ${String(e)}`));
  }

  private async documentFor(target?: vscode.Uri): Promise<vscode.TextDocument | undefined> {
    if (target) return vscode.workspace.openTextDocument(target);
    const editor = vscode.window.activeTextEditor;
    if (editor && (MODEL_LANGUAGES.includes(editor.document.languageId) || isModelDocument(editor.document))) return editor.document;
    // The active editor may be the inspector: fall back to the last visible model file.
    const visible = vscode.window.visibleTextEditors.find((e) => isModelDocument(e.document));
    if (visible) return visible.document;
    if (this.latestUri) return vscode.workspace.openTextDocument(this.latestUri);
    void vscode.window.showInformationMessage("Backprop Lens: open a model file (TypeScript or JavaScript that imports \"backprop-lens\", or the book's Python) to run its backward pass.");
    return undefined;
  }

  private async refuseUntrusted(): Promise<void> {
    const pick = await vscode.window.showWarningMessage(
      "Backprop Lens runs your model file's code, so it only runs models in a trusted workspace. Trust this folder (Manage Workspace Trust) if you wrote or checked its code.",
      "Manage Workspace Trust",
    );
    if (pick) await vscode.commands.executeCommand("workbench.trust.manage");
  }

  /** Unsaved texts of the other open files, so imports see what the editor shows. */
  private unsavedOverlays(doc: vscode.TextDocument): Map<string, string> {
    const out = new Map<string, string>();
    for (const d of vscode.workspace.textDocuments) {
      if (d !== doc && d.isDirty && d.uri.scheme === "file" && MODEL_LANGUAGES.includes(d.languageId)) out.set(d.uri.fsPath, d.getText());
    }
    return out;
  }

  private tracePath(): string {
    const dir = this.context.storageUri ?? this.context.globalStorageUri;
    return path.join(dir.fsPath, "last-run.json");
  }

  private async saveTrace(file: string, events: TraceEvent[]): Promise<void> {
    try {
      const text = encodeTrace(file, events, `backprop-lens ${String(this.context.extension.packageJSON.version)}`, new Date());
      if (text.length > MAX_SAVED_TRACE_BYTES) return;
      await fs.mkdir(path.dirname(this.tracePath()), { recursive: true });
      await fs.writeFile(this.tracePath(), text);
    } catch (e) {
      this.log.warn(`could not save the run for the next window: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}
