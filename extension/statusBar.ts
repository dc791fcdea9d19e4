import * as vscode from "vscode";
import { formatDuration } from "../core/format";
import { Disposable } from "./dispose";
import type { EndState } from "./runner/runModel";
import { escapeIcons } from "./server/summary";

/** The status bar item: running (with the elapsed time), done, failed, stopped, lost. Click opens the inspector. */
export class StatusBar extends Disposable {
  private readonly item = this.register(vscode.window.createStatusBarItem("backpropLens.status", vscode.StatusBarAlignment.Left, 10));
  private ticker: ReturnType<typeof setInterval> | undefined;

  constructor() {
    super();
    this.item.name = "Backprop Lens";
    this.item.command = "backpropLens.openInspector";
    this.register({ dispose: () => this.stopTicker() });
  }

  running(file: string): void {
    this.stopTicker();
    const started = Date.now();
    const show = (): void => {
      this.item.text = `$(sync~spin) ${escapeIcons(file)} ${((Date.now() - started) / 1000).toFixed(1)} s`;
    };
    show();
    this.item.tooltip = `Backprop Lens: running ${file} (Stop Run to stop it)`;
    this.item.backgroundColor = undefined;
    this.ticker = setInterval(show, 200);
    this.item.show();
  }

  /** How a run ended: done, failed, stopped (by the user) or lost (its process died, or the window closed during it). */
  finished(file: string, state: EndState, steps: number, durationMs: number, error?: string): void {
    this.stopTicker();
    const name = escapeIcons(file);
    switch (state) {
      case "done":
        this.item.text = `$(pass) ${name}: ${steps} step${steps === 1 ? "" : "s"}, ${formatDuration(durationMs)}`;
        this.item.tooltip = "Backprop Lens: the backward pass ran; click to open the Gradient Inspector";
        this.item.backgroundColor = undefined;
        break;
      case "stopped":
        this.item.text = `$(debug-stop) ${name}: stopped`;
        this.item.tooltip = `Backprop Lens: the run was stopped after ${formatDuration(durationMs)}`;
        this.item.backgroundColor = undefined;
        break;
      case "lost":
        this.item.text = `$(warning) ${name}: lost`;
        this.item.tooltip = `Backprop Lens: ${error ?? "the run was lost"}`;
        this.item.backgroundColor = new vscode.ThemeColor("statusBarItem.warningBackground");
        break;
      case "failed":
        this.item.text = `$(error) ${name}: failed`;
        this.item.tooltip = `Backprop Lens: ${error ?? "the run failed"}`;
        this.item.backgroundColor = new vscode.ThemeColor("statusBarItem.errorBackground");
        break;
    }
    this.item.show();
  }

  idle(): void {
    this.stopTicker();
    this.item.hide();
  }

  /** The text shown now (for tests). */
  get text(): string {
    return this.item.text;
  }

  private stopTicker(): void {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = undefined;
  }
}
