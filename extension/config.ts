import * as vscode from "vscode";

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
  const num = (key: string, fallback: number, min: number): number => {
    const v = c.get<number>(key, fallback);
    return typeof v === "number" && Number.isFinite(v) && v >= min ? v : fallback;
  };
  return {
    timeLimitSeconds: num("timeLimitSeconds", 30, 1),
    memoryLimitMb: num("memoryLimitMb", 1024, 64),
    keepSteps: Math.floor(num("keepSteps", 3, 1)),
    gradientCheck: c.get<boolean>("gradientCheck.enabled", true),
    gradientCheckMaxElements: Math.floor(num("gradientCheck.maxElements", 128, 1)),
    gradientCheckBudgetMs: num("gradientCheck.budgetMs", 1000, 0),
    openInspectorOnRun: c.get<boolean>("openInspectorOnRun", true),
    runOnSave: c.get<boolean>("runOnSave", false),
  };
}
