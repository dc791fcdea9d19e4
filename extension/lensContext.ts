import type * as vscode from "vscode";
import type { LensLanguageClient } from "./languageClient";
import type { RunController } from "./runController";
import type { StatusBar } from "./statusBar";

/** What commands and views share: created once in `activate`. */
export interface LensContext {
  readonly extension: vscode.ExtensionContext;
  readonly log: vscode.LogOutputChannel;
  readonly runs: RunController;
  readonly status: StatusBar;
  /** The language client, started on first use (a model file shown, a run, restored results). */
  client(): Promise<LensLanguageClient>;
}
