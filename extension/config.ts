import * as vscode from "vscode";
import { RUN_LIMITS, type RunLimit, type RunLimitName, limitValue } from "../core/host";

/** The extension's settings (`backpropLens.*`), read fresh for every run. */
export interface LensConfig {
  timeLimitSeconds: number;
  memoryLimitMb: number;
  keepSteps: number;
  gradientCheck: boolean;
  gradientCheckMaxElements: number;
  gradientCheckBudgetMs: number;
  openInspectorOnRun: boolean;
  runOnSave: boolean;
}

export function readConfig(scope?: vscode.Uri): LensConfig {
  const c = vscode.workspace.getConfiguration("backpropLens", scope);
  // Defaults and minimums come from the one table of run limits (core/limits.ts), as package.json's do.
  const limit = (name: RunLimitName): number => {
    const setting = (RUN_LIMITS[name] as RunLimit).setting as string;
    return limitValue(name, c.get<number>(setting));
  };
  return {
    timeLimitSeconds: limit("timeLimitSeconds"),
    memoryLimitMb: limit("memoryLimitMb"),
    keepSteps: limit("keepSteps"),
    gradientCheck: c.get<boolean>("gradientCheck.enabled", true),
    gradientCheckMaxElements: limit("gradientCheckMaxElements"),
    gradientCheckBudgetMs: limit("gradientCheckBudgetMs"),
    openInspectorOnRun: c.get<boolean>("openInspectorOnRun", true),
    runOnSave: c.get<boolean>("runOnSave", false),
  };
}
