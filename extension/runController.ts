/**
 * Runs model files for the extension: one run at a time (a second run cancels the first), each in a
 * model process of its own (runner/runModel.ts), streaming its events into a RunModel, the Gradient
 * Inspector and the status bar, then handing the run's report to the language server (hovers,
 * diagnostics, inlay hints) and saving the run so a window reload shows the same results.
 *
 * What the host holds and does per run stays bounded whatever the model does: the trace arrives held
 * to the trace budget (runner/traceBudget.ts), in batches taken one per turn of the event loop; it is
 * encoded and saved off this thread (runner/traceFile.ts), incrementally, and restored off it too,
 * validated event by event. Every run ends on screen as done, failed, stopped or lost; a reload shows
 * the last run that really ended, or says that the last one was interrupted.
 */
import * as fs from "node:fs/promises";
import * as path from "node:path";
import * as vscode from "vscode";
import { RunModel, type SourceSite, type TraceEvent } from "../core/host";
import { readConfig } from "./config";
import { Disposable } from "./dispose";
import { type InspectorHost, InspectorPanel } from "./inspectorPanel";
import type { LensLanguageClient } from "./languageClient";
import { isModelDocument, MODEL_LANGUAGES } from "./modelFile";
import { buildRunReport } from "./runReport";
import { notificationText } from "./server/summary";
import { type RunHandle, type RunResult, endStateOf, runModel } from "./runner/runModel";
import { ProcessPool } from "./runner/supervisor";
import { TraceFiles } from "./runner/traceFile";
import type { StatusBar } from "./statusBar";
import { pythonInterpreters } from "./pythonInterpreter";
import { isPythonModelFile } from "./runner/python/runPython";

/** A run's saved trace is kept for the next window up to this size (beyond it, without its tensors). */
const MAX_SAVED_TRACE_BYTES = 64 * 2 ** 20;
/** The most a restore reads. */
const MAX_RESTORE_BYTES = MAX_SAVED_TRACE_BYTES + 8 * 2 ** 20;

/** A debug run (the debugger's launcher): the control channel is opened and the handle handed over at once. */
export interface DebugRunRequest {
  timeLimitSeconds?: number;
  memoryLimitMb?: number;
  keepSteps?: number;
  /** More steps recorded in full (a debug launch's `recordSteps`). */
  recordSteps?: number[];
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

/** `last-run.state.json`: which run the window last started, and whether it ended (and was saved). */
interface RunMarker {
  runId: number;
  file: string;
  startedAt: number;
  state: "running" | "ended";
  saved?: boolean;
  end?: Extract<TraceEvent, { type: "run/end" }>;
}

export class RunController extends Disposable implements InspectorHost {
  private runCounter = 0;
  private active: { handle: RunHandle; store: RunModel } | undefined;
  private latest: RunModel | undefined;
  private latestUri: vscode.Uri | undefined;
  private readonly finished = this.register(new vscode.EventEmitter<FinishedRun>());
  /** Fires when a run ends (done, failed, stopped or lost). */
  readonly onDidFinish = this.finished.event;
  private readonly pool: ProcessPool;
  private readonly files: TraceFiles;
  private markerWrite: Promise<void> = Promise.resolve();
  /** Runs whose saved trace is being finished (off this thread); Clear Results waits for them. */
  private readonly saving = new Map<RunModel, Promise<void>>();
  /** Runs forgotten by Clear Results: nothing of them is reported or saved any more. */
  private readonly cleared = new WeakSet<RunModel>();
  private closing = false;
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
    this.pool = new ProcessPool(this.dist("modelProcess.js"));
    this.files = new TraceFiles(this.dist("traceFile.js"));
    this.register({
      dispose: () => {
        // Closing the window (or disabling the extension) stops a running or paused model: its process must
        // not outlive the window; and its run stays "running" in the marker, so the
        // next window says it was interrupted.
        this.closing = true;
        this.active?.handle.cancel();
        this.pool.dispose();
        this.files.dispose();
      },
    });
  }

  get extensionUri(): vscode.Uri {
    return this.context.extensionUri;
  }

  private dist(name: string): string {
    return this.context.asAbsolutePath(path.join("dist", name));
  }

  /** The newest run (running or finished). */
  currentRun(): RunModel | undefined {
    return this.latest;
  }

  /** True while a model runs. */
  get running(): boolean {
    return this.active !== undefined;
  }

  /** Keeps a model process ready for the next run of a model file (called when one is shown). */
  warmUp(uri: vscode.Uri): void {
    if (!vscode.workspace.isTrusted) return;
    this.pool.refill(this.dist("worker.js"), readConfig(uri).memoryLimitMb, 0);
  }

  /**
   * Runs a model file (the given one, else the active editor's) and resolves when it ends;
   * resolves undefined when nothing was run (no file, untrusted workspace).
   */
  async run(target?: vscode.Uri, debug?: DebugRunRequest, record?: RecordRequest): Promise<RunResult | undefined> {
    const t0 = performance.now();
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
    const runId = ++this.runCounter;
    const startedAt = Date.now();
    const store = new RunModel({ runId, file, startedAt });
    this.latest = store;
    this.latestUri = doc.uri;
    let mismatch: { step: number; was: number; now: number } | undefined;
    // Beside the model it shows, never over it (issue 13).
    if (config.openInspectorOnRun || record) await InspectorPanel.showBeside(this, doc);
    InspectorPanel.instance?.startRun(store);
    this.status.running(path.basename(file));
    void vscode.commands.executeCommand("setContext", "backpropLens.running", true);
    this.log.info(`run ${runId}: ${file}`);
    this.writeMarker({ runId, file, startedAt, state: "running" });
    this.files.begin(runId, this.tracePath(), file, this.producer, new Date(startedAt), MAX_SAVED_TRACE_BYTES);
    // The model's output goes to the log in one entry per turn of the event loop (at most 1,000 lines a run).
    let consoleLines = 0;
    let logBatch: string[] = [];
    const logLine = (text: string): void => {
      if (consoleLines++ >= 1000) return;
      if (logBatch.length === 0) setImmediate(() => {
        this.log.info(logBatch.map((t) => `[model] ${t}`).join("\n"));
        logBatch = [];
      });
      logBatch.push(text);
    };
    /** When the run's first layer call reached the host, from the command (the log says it, for "where does the time go"). */
    let firstCallMs: number | undefined;
    const setupMs = performance.now() - t0;
    const python = isPythonModelFile(file) ? { interpreters: await pythonInterpreters(doc.uri, this.log) } : undefined;
    const handle = runModel({
      ...(python ? { python } : {}),
      file,
      ...(doc.isDirty ? { source: doc.getText() } : {}),
      overlays: this.unsavedOverlays(doc),
      workerScript: this.dist("worker.js"),
      esbuildBinary: this.dist(path.join("bin", process.platform === "win32" ? "esbuild.exe" : "esbuild")),
      timeLimitMs: config.timeLimitSeconds * 1000,
      memoryLimitMb: config.memoryLimitMb,
      keepSteps: config.keepSteps,
      ...(record ? { recordSteps: record.recordSteps } : debug?.recordSteps ? { recordSteps: debug.recordSteps } : {}),
      gradCheck: config.gradientCheck ? { maxElements: config.gradientCheckMaxElements, budgetMs: config.gradientCheckBudgetMs } : false,
      pool: this.pool,
      debug: (m) => this.log.info(m),
      ...(debug ? { control: true as const } : {}),
      onEvent: (e) => {
        if (e.type === "layer/call" && firstCallMs === undefined) firstCallMs = performance.now() - t0;
        if (e.type === "console") logLine(e.text);
        if (record && e.type === "step/summary" && mismatch === undefined && e.summary.loss !== undefined) {
          const was = record.compareLosses.get(e.summary.step);
          if (was !== undefined && !Object.is(was, e.summary.loss)) mismatch = { step: e.summary.step, was, now: e.summary.loss };
        }
        InspectorPanel.instance?.postEvents(runId, [store.ingest(e)]);
        if (e.type !== "run/end") this.files.add(runId, e);
        debug?.onEvent(e);
      },
    });
    this.active = { handle, store };
    debug?.onStart(handle, store, doc.getText());
    const result = await handle.result;
    if (this.closing) return result; // the window is closing: nothing more to show or save
    const superseded = this.active?.store !== store;
    if (!superseded) {
      this.active = undefined;
      void vscode.commands.executeCommand("setContext", "backpropLens.running", false);
    }
    if (!superseded && !this.cleared.has(store)) {
      this.report(store, result, doc.uri);
      if (result.startMs !== undefined) this.log.info(`run ${runId}: set-up ${setupMs.toFixed(0)} ms, compile ${result.compileMs.toFixed(0)} ms, model start ${result.startMs.toFixed(0)} ms, first layer call at ${firstCallMs?.toFixed(0) ?? "–"} ms, end at ${(performance.now() - t0).toFixed(0)} ms from the command`);
      const save = this.saveRun(store, file, startedAt).finally(() => this.saving.delete(store));
      this.saving.set(store, save);
    } else {
      // Superseded by a newer run, or cleared while it ran: its partial trace file goes, nothing is shown.
      this.files.abort(runId);
    }
    if (record && !superseded && !this.cleared.has(store)) this.reportDeterminism(store, record, mismatch);
    this.finished.fire({ store, result, uri: doc.uri });
    return result;
  }

  /**
   * "Record step 1234": re-runs the latest model with that step recorded in full (the recorder keeps the
   * first steps, the last, and around the first anomaly; any other step needs a re-run), and checks that
   * the re-run repeats the first one by comparing every step's loss.
   */
  async recordStep(step?: number): Promise<RunResult | undefined> {
    // While a model is being debugged: restart the session with the step recorded (Step Back then reaches it).
    const session = vscode.debug.activeDebugSession;
    if (session?.type === "backprop-lens") {
      if (step === undefined) {
        const text = await vscode.window.showInputBox({ title: "Record a step", prompt: "Which step to record in full? The debug session restarts with it recorded (recordSteps), so Step Back reaches it.", validateInput: (v) => (/^\d+$/.test(v.trim()) ? undefined : "a whole number") });
        if (text === undefined) return undefined;
        step = Number(text.trim());
      }
      const cfg = session.configuration;
      const steps = [...new Set([...(Array.isArray(cfg.recordSteps) ? (cfg.recordSteps as unknown[]).filter((s): s is number => Number.isInteger(s)) : []), step])].sort((a, b) => a - b);
      this.log.info(`recording step ${step}: restarting the debug session with recordSteps ${JSON.stringify(steps)}`);
      await vscode.debug.stopDebugging(session);
      await vscode.debug.startDebugging(session.workspaceFolder, { ...cfg, recordSteps: steps });
      return undefined;
    }
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

  /**
   * Forgets the results: inspector, hovers, diagnostics, and the saved run (a new window starts empty). A
   * running model is stopped (its results would come back as it goes on); a run whose trace is still being
   * saved is waited for, so that its file and "ended" marker cannot land after they were removed.
   */
  async clear(): Promise<void> {
    if (this.active) {
      this.cleared.add(this.active.store);
      this.active.handle.cancel();
    }
    if (this.latest) this.cleared.add(this.latest);
    this.latest = undefined;
    InspectorPanel.instance?.clearRun();
    this.status.idle();
    await (await this.client()).clear();
    await Promise.all(this.saving.values());
    await this.markerWrite;
    await fs.rm(this.tracePath(), { force: true }).catch(() => undefined);
    await fs.rm(this.markerPath(), { force: true }).catch(() => undefined);
  }

  /** Forgets the shown run but not what is saved: what a new window starts from (used by the integration tests before `restoreLastRun`). */
  async clearView(): Promise<void> {
    this.active?.handle.cancel();
    this.latest = undefined;
    await this.markerWrite;
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

  /**
   * Rebuilds the last run of the previous window: from its saved trace (read and validated off this
   * thread) when it ended, or as "interrupted" when the window went away while it ran.
   */
  async restoreLastRun(): Promise<void> {
    const marker = await this.readMarker();
    if (marker?.state === "running") {
      // The previous window closed while this run was going: say so, and show nothing of an older run.
      if (this.latest !== undefined) return;
      const store = new RunModel({ runId: ++this.runCounter, file: marker.file, startedAt: marker.startedAt });
      store.ingest({
        type: "run/end",
        ok: false,
        steps: 0,
        durationMs: 0,
        keptSteps: [],
        error: { kind: "lost", message: `${path.basename(marker.file)}: the last run was interrupted before it ended (the window was closed or reloaded while it ran); run it again to see its results` },
      });
      this.adopt(store, vscode.Uri.file(marker.file));
      this.log.warn(`the last run of ${marker.file} was interrupted by the window closing`);
      return;
    }
    let stat: { size: number } | undefined;
    try {
      stat = await fs.stat(this.tracePath());
    } catch {
      return; // nothing saved
    }
    const t0 = performance.now();
    const runId = ++this.runCounter;
    let store: RunModel | undefined;
    let events = 0;
    try {
      const summary = await this.files.read(
        this.tracePath(),
        MAX_RESTORE_BYTES,
        (h) => {
          store = new RunModel({ runId, file: h.file, startedAt: Date.parse(h.createdAt) || Date.now() });
        },
        (batch) => {
          if (this.latest !== undefined || !store) return; // a new run started meanwhile
          for (const e of batch) store.ingest(e);
          events += batch.length;
        },
      );
      if (this.latest !== undefined || !store) return;
      if (summary.skipped > 0) {
        store.ingest({
          type: "anomaly",
          anomaly: { code: "truncated", severity: "warning", step: 0, message: `${summary.skipped} event${summary.skipped === 1 ? "" : "s"} of the saved run ${summary.skipped === 1 ? "was" : "were"} malformed and skipped (the first: ${summary.firstBad ?? "?"})` },
        });
        this.log.warn(`restore: ${summary.skipped} malformed events skipped (first: ${summary.firstBad ?? "?"})`);
      }
      if (!store.end) {
        store.ingest({ type: "run/end", ok: false, steps: 0, durationMs: 0, keptSteps: [], error: { kind: "lost", message: `${path.basename(summary.file)}: the saved run has no end; it may have been cut off` } });
      }
      this.adopt(store, vscode.Uri.file(summary.file));
      this.log.info(`restored the last run of ${summary.file} (${events} events, ${(stat.size / 2 ** 20).toFixed(1)} MB, ${(performance.now() - t0).toFixed(0)} ms)`);
    } catch (e) {
      this.log.warn(`could not restore the last run: ${e instanceof Error ? e.message : String(e)}`);
      void vscode.window.showWarningMessage(`Backprop Lens: the last run could not be restored: ${notificationText(e instanceof Error ? e.message : String(e))}`);
    }
  }

  /** Makes a restored run the current one: status bar, inspector, language server. */
  private adopt(store: RunModel, uri: vscode.Uri): void {
    this.latest = store;
    this.latestUri = uri;
    const end = store.end;
    if (end) this.status.finished(path.basename(uri.fsPath), endStateOf(end), end.steps, end.durationMs, end.error?.message);
    const panel = InspectorPanel.instance;
    if (panel?.isReady) {
      panel.startRun(store);
      panel.postEvents(store.runId, store.replay());
    }
    void this.client()
      .then((c) => c.sendReport(buildRunReport(store)))
      .catch((e: unknown) => this.log.warn(`language server: ${String(e)}`));
  }

  private report(store: RunModel, result: RunResult, uri: vscode.Uri): void {
    const name = path.basename(uri.fsPath);
    const state = endStateOf(result);
    this.status.finished(name, state, result.steps, result.durationMs, result.error?.message);
    if (result.ok) {
      this.log.info(`run ${store.runId}: ${result.steps} steps in ${result.durationMs.toFixed(0)} ms (compile ${result.compileMs.toFixed(0)} ms)`);
    } else if (result.error) {
      this.log.error(`run ${store.runId} ${state}: ${result.error.message}`);
      // The inspector shows the error; when it is not open, say it here so it is never a silent nothing.
      if (state !== "stopped" && !(InspectorPanel.instance?.panel.visible ?? false)) {
        const show = state === "lost" ? vscode.window.showWarningMessage : vscode.window.showErrorMessage;
        void show(`Backprop Lens: ${notificationText(result.error.message)}`, "Open Gradient Inspector").then((pick) => {
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

  private get producer(): string {
    return `backprop-lens ${String(this.context.extension.packageJSON.version)}`;
  }

  private storageDir(): string {
    return (this.context.storageUri ?? this.context.globalStorageUri).fsPath;
  }

  private tracePath(): string {
    return path.join(this.storageDir(), "last-run.json");
  }

  private markerPath(): string {
    return path.join(this.storageDir(), "last-run.state.json");
  }

  /** Writes the marker (in order with earlier writes; small, async). */
  private writeMarker(m: RunMarker): void {
    this.markerWrite = this.markerWrite
      .then(async () => {
        await fs.mkdir(this.storageDir(), { recursive: true });
        const tmp = `${this.markerPath()}.${process.pid}.tmp`;
        await fs.writeFile(tmp, JSON.stringify(m));
        await fs.rename(tmp, this.markerPath());
      })
      .catch((e: unknown) => this.log.warn(`could not note the run for the next window: ${e instanceof Error ? e.message : String(e)}`));
  }

  private async readMarker(): Promise<RunMarker | undefined> {
    try {
      const m = JSON.parse(await fs.readFile(this.markerPath(), "utf8")) as RunMarker;
      return typeof m === "object" && m !== null && typeof m.file === "string" && (m.state === "running" || m.state === "ended") ? m : undefined;
    } catch {
      return undefined;
    }
  }

  /** Finishes the run's saved trace (off this thread) and notes that it ended. */
  private async saveRun(store: RunModel, file: string, startedAt: number): Promise<void> {
    const end = store.end;
    if (!end) return;
    const endEvent: Extract<TraceEvent, { type: "run/end" }> = { type: "run/end", ...end };
    const saved = await this.files.end(store.runId, endEvent);
    if (saved.error) this.log.warn(`could not save the run for the next window: ${saved.error}`);
    else if (saved.light) this.log.info(`run ${store.runId}: its tensors were over ${MAX_SAVED_TRACE_BYTES / 2 ** 20} MB, so the next window gets the run without them`);
    // Cleared meanwhile: Clear Results removes the file and the marker once this is done. A newer run has
    // started meanwhile: its marker stands.
    if (this.cleared.has(store)) return;
    if (this.latest === store || this.active === undefined) this.writeMarker({ runId: store.runId, file, startedAt, state: "ended", saved: !saved.error, end: endEvent });
  }
}
