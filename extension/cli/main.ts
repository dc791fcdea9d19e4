#!/usr/bin/env node
/**
 * The command-line front end: `backprop-lens run <model.ts> [--json trace.json]` and
 * `backprop-lens check <model.ts>`. Same compile-and-run path as the extension (`../runner`).
 * Entry point of `dist/cli.js`.
 */
import { readRunGradCheck } from "../../core/run/gradCheckVerdict";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  type Anomaly,
  RunModel,
  type ScalarNode,
  type StepSummary,
  type TraceEvent,
  encodeTrace,
  formatNumber,
  formatTensor,
  shortNumber,
  isParamGradientName,
  RUN_LIMITS,
  type RunLimit,
  type RunLimitName,
} from "../../core/host";
import { version } from "../../package.json";
import { type RunResult, runModel } from "../runner/runModel";
import { pythonCandidates } from "../runner/python/interpreter";

/** The version of the package (`package.json`), so the CLI and the extension never disagree. */
const VERSION: string = version;

/** The limit options' lines of the usage text, from the one table of run limits (core/limits.ts). */
function limitOptions(): string {
  return Object.values(RUN_LIMITS as Record<string, RunLimit>)
    .map((l) => (l.cli ? `  ${`${l.cli.flag} ${l.cli.arg}`.padEnd(25)}${l.cli.help} (default ${shortNumber(l.default)})\n` : ""))
    .join("");
}

const USAGE = `Backprop Lens ${VERSION}: run a hand-written backprop model and show every layer's values and gradients.

Usage:
  backprop-lens run <model.ts|model.py> [--json <trace.json>] [options]
      Runs the model and prints, per layer, the shapes and values of output, dinputs, dweights and
      dbiases the way the book prints them, then loss and accuracy. --json writes the whole trace
      (docs/trace-format.md).
  backprop-lens check <model.ts|model.py> [options]
      Runs the model, then gradient-checks every layer it used (central differences, float64) and
      exits with status 1 naming the layer, tensor, element and line when one disagrees.

Options:
${limitOptions()}  --python <path>          the interpreter for a .py model (default: python3, then python)
  -h, --help               this text
  --version                the version
`;

interface Args {
  command: "run" | "check";
  file: string;
  json?: string;
  /** Every run limit: the option's value, else the table's default. */
  limits: Record<RunLimitName, number>;
  python?: string;
}

class UsageError extends Error {}

function parseArgs(argv: string[]): Args | "help" | "version" {
  if (argv.includes("-h") || argv.includes("--help")) return "help";
  if (argv.includes("--version")) return "version";
  const [command, ...rest] = argv;
  if (command !== "run" && command !== "check") throw new UsageError(command ? `unknown command "${command}"` : "no command given");
  const args: Partial<Args> & { command: "run" | "check" } = { command };
  const limits: Partial<Record<RunLimitName, number>> = {};
  const byFlag = new Map<string, RunLimitName>();
  for (const [name, l] of Object.entries(RUN_LIMITS as Record<string, RunLimit>)) if (l.cli) byFlag.set(l.cli.flag, name as RunLimitName);
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i] as string;
    const next = (): string | undefined => rest[++i];
    const limit = byFlag.get(a);
    if (limit !== undefined) {
      const v = next();
      const n = Number(v);
      const { minimum, integer } = RUN_LIMITS[limit] as RunLimit;
      if (v === undefined || v.trim() === "" || !Number.isFinite(n) || n < minimum) throw new UsageError(`${a} needs a number of at least ${minimum}`);
      limits[limit] = integer ? Math.floor(n) : n;
      continue;
    }
    switch (a) {
      case "--json": {
        const v = next();
        if (v === undefined) throw new UsageError("--json needs a file name");
        args.json = v;
        break;
      }
      case "--python": {
        const v = next();
        if (v === undefined) throw new UsageError("--python needs the path of an interpreter");
        args.python = v;
        break;
      }
      default:
        if (a.startsWith("-")) throw new UsageError(`unknown option ${a}`);
        if (args.file !== undefined) throw new UsageError(`one model file at a time (got ${args.file} and ${a})`);
        args.file = a;
    }
  }
  if (args.file === undefined) throw new UsageError(`${command}: which model file?`);
  const all = Object.fromEntries(Object.keys(RUN_LIMITS).map((name) => [name, limits[name as RunLimitName] ?? RUN_LIMITS[name as RunLimitName].default]));
  return {
    command,
    file: args.file,
    ...(args.json !== undefined ? { json: args.json } : {}),
    ...(args.python !== undefined ? { python: args.python } : {}),
    limits: all as Record<RunLimitName, number>,
  };
}

/** Collects the trace (in the same RunModel the extension uses) and prints it the book's way. */
class Report {
  readonly events: TraceEvent[] = [];
  readonly store: RunModel;
  /** The first and the last step summary (the store may thin very long runs). */
  first: StepSummary | undefined;
  last: StepSummary | undefined;

  constructor(
    private readonly file: string,
    private readonly cwd: string,
    private readonly out: (s: string) => void,
  ) {
    this.store = new RunModel({ runId: 1, file, startedAt: Date.now() });
  }

  rel(file: string): string {
    const r = path.relative(this.cwd, file);
    return r.startsWith("..") ? file : r;
  }

  on(e: TraceEvent): void {
    this.events.push(e);
    this.store.ingest(e);
    if (e.type === "step/summary" && e.summary.loss !== undefined) {
      this.first ??= e.summary;
      this.last = e.summary;
    }
    // The model's own prints, as they happen (the book's examples print as they go).
    if (e.type === "console") this.out(e.text);
  }

  get anomalies(): readonly Anomaly[] {
    return this.store.anomalies;
  }

  /** `file:line`; without a line (a note about the whole run, such as a trace budget), the model file. */
  site(s: { file: string; line: number } | undefined): string {
    return s ? `${this.rel(s.file)}:${s.line}` : this.rel(this.file);
  }

  /** Each layer's calls (made by the model, not by another layer) from the first step it appears in, in the order the layers were first called. */
  printLayers(): void {
    const order = this.store.layerOrder({ topLevelOnly: true });
    if (order.length === 0) return;
    this.out("\nlayers:");
    for (const l of order) {
      const topLevel = this.store.callsOf(l.id).filter((c) => c.parent === undefined);
      const step = topLevel[0]?.step ?? 0;
      const mine = topLevel.filter((c) => c.step === step);
      this.out(`\n${l.name} = ${l.description}   ${this.site(l.site)}${l.paramCount ? `   ${l.paramCount} parameters` : ""}${step > 0 ? `   (step ${step})` : ""}`);
      for (const c of mine) {
        const shape = (n: string): string => (c.tensors[n] ? `[${c.tensors[n].shape.join(", ")}]` : "");
        const head = c.phase === "forward" ? `inputs ${shape("inputs")} → output ${shape("output")}` : `dvalues ${shape("dvalues")} → dinputs ${shape("dinputs")}`;
        this.out(`  ${c.phase.padEnd(8)} line ${c.site?.line ?? "?"}: ${head}${c.loss !== undefined ? `   loss ${fmt(c.loss)}` : ""}${c.accuracy !== undefined ? `   accuracy ${fmt(c.accuracy)}` : ""}`);
        const names = c.phase === "forward" ? ["output"] : ["dinputs", ...Object.keys(c.tensors).filter(isParamGradientName)];
        for (const n of names) {
          const t = this.store.tensor(c.seq, n);
          if (!t) continue;
          this.out(`    ${n} ${shape(n)}:`);
          this.out(indent(formatTensor(t, { threshold: 60, edgeItems: 3 }), "    "));
        }
      }
    }
  }

  printScalars(): void {
    const nodes = new Map(this.store.scalarNodes.map((n) => [n.id, n]));
    for (const b of this.store.scalarBackwards) {
      const root = nodes.get(b.root);
      this.out(`\nbackward from ${root?.label ?? "?"} = ${formatNumber(root?.data ?? NaN)} with dvalue = ${formatNumber(b.dvalue)}${b.site ? `   ${this.site(b.site)}` : ""}:`);
      const w = Math.max(...b.steps.map((s) => s.name.length));
      const w2 = Math.max(...b.steps.map((s) => `${s.upstream.name} · ${s.local.name}`.length));
      for (const s of b.steps) {
        const expr = `${s.upstream.name} · ${s.local.name}`;
        this.out(`  ${s.name.padEnd(w)} ${s.accumulated ? "+=" : "= "} ${expr.padEnd(w2)} = ${fmt(s.upstream.value)} · ${fmt(s.local.value)} = ${fmt(s.value)}`);
      }
      const leaves = b.grads.map((g) => nodes.get(g.id)).filter((n): n is ScalarNode => n !== undefined && n.op === "");
      if (leaves.length > 0) this.out(`  gradients: ${leaves.map((n) => `${n.label} ${fmt(b.grads.find((g) => g.id === n.id)?.grad ?? NaN)}`).join(", ")}`);
    }
  }

  printLoss(): void {
    const { first, last } = this;
    if (first === undefined || last === undefined) return;
    const line = (s: StepSummary): string => `step ${s.step}: loss ${fmt(s.loss as number)}${s.accuracy !== undefined ? `, accuracy ${fmt(s.accuracy)}` : ""}`;
    this.out("");
    this.out(line(first));
    if (last !== first) this.out(line(last));
  }

  printAnomalies(failedWith?: string): void {
    for (const a of this.anomalies) {
      if (a.code === "gradient-check" || (a.code === "non-finite" && failedWith === "non-finite")) continue;
      this.out(`${a.severity}: ${this.site(a.site)}: ${a.message}`);
    }
  }
}

function fmt(v: number): string {
  return formatNumber(v).trim();
}

function indent(text: string, pad: string): string {
  return text
    .split("\n")
    .map((l) => pad + l)
    .join("\n");
}

async function main(argv: string[]): Promise<number> {
  const running: { cancel?: () => void } = {};
  endQuietlyOnClosedPipe(() => running.cancel?.());
  let args: Args | "help" | "version";
  try {
    args = parseArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`backprop-lens: ${e.message}\n\n${USAGE}`);
      return 2;
    }
    throw e;
  }
  if (args === "help") {
    process.stdout.write(USAGE);
    return 0;
  }
  if (args === "version") {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const file = path.resolve(args.file);
  if (!fs.existsSync(file)) {
    process.stderr.write(`backprop-lens: ${args.file}: no such file\n`);
    return 2;
  }
  const out = (s: string): void => void process.stdout.write(`${s}\n`);
  const report = new Report(file, process.cwd(), out);
  const handle = runModel({
    file,
    workerScript: path.join(__dirname, "worker.js"),
    timeLimitMs: args.limits.timeLimitSeconds * 1000,
    memoryLimitMb: args.limits.memoryLimitMb,
    keepSteps: args.limits.keepSteps,
    gradCheck:
      args.command === "check"
        ? {
            rtol: args.limits.gradientCheckRtol,
            atol: args.limits.gradientCheckAtol,
            maxElements: args.limits.gradientCheckMaxElements,
            budgetMs: args.limits.gradientCheckBudgetMs,
          }
        : false,
    onEvent: (e) => report.on(e),
    python: { interpreters: pythonCandidates({ configured: args.python }) },
  });
  running.cancel = (): void => handle.cancel();
  const onSignal = (): void => handle.cancel();
  process.once("SIGINT", onSignal);
  const result: RunResult = await handle.result;
  process.off("SIGINT", onSignal);

  const stepsText = `${result.steps} step${result.steps === 1 ? "" : "s"}`;
  out(`\n${report.rel(file)}: ${result.ok ? "ran" : "failed after"} ${stepsText} in ${result.durationMs.toFixed(0)} ms (compile ${result.compileMs.toFixed(0)} ms)`);
  report.printScalars();
  report.printLayers();
  report.printLoss();
  report.printAnomalies(result.error?.kind);

  if (args.json !== undefined) {
    const text = encodeTrace(file, report.events, `backprop-lens ${VERSION}`, new Date());
    fs.writeFileSync(path.resolve(args.json), text);
    out(`\ntrace written to ${args.json} (${(text.length / 1024).toFixed(0)} KB, ${report.events.length} events)`);
  }

  let status = 0;
  if (!result.ok && result.error) {
    process.stderr.write(`\nerror: ${result.error.message}\n`);
    status = 1;
  }
  if (args.command === "check" && result.ok) status = printChecks(report, out) ? 0 : 1;
  // A layer that ran untraced was not checked either: `check` must not pass it silently.
  if (args.command === "check" && report.anomalies.some((a) => a.code === "untraced-layer")) status = 1;
  return status;
}

/** Prints the gradient-check table; returns true when every check passed. */
function printChecks(report: Report, out: (s: string) => void): boolean {
  if (report.store.gradChecks.length === 0) {
    out("\ngradient check: no layer ran both forward and backward, nothing to check");
    return true;
  }
  out(`\ngradient check (central differences in float64; pass when |analytic − numeric| ≤ atol + rtol·|numeric|):`);
  let ok = true;
  for (const r of report.store.gradChecks) {
    const l = report.store.layers.get(r.layer);
    const name = l ? `${l.name} (${l.description})` : `layer ${r.layer}`;
    if (r.error) {
      ok = false;
      out(`  FAIL ${name}: the check could not run: ${r.error}`);
      continue;
    }
    const reading = readRunGradCheck(report.store, r);
    for (const t of r.tensors) {
      const worst = t.worst ? `worst |error| ${shortNumber(t.worst.absErr, 2)} at [${t.worst.index.join(", ")}]` : "";
      const counts = `${t.checked}${t.checked + t.kinks < t.total ? ` of ${t.total}` : ""} elements${t.kinks ? `, ${t.kinks} at kink${t.kinks === 1 ? "" : "s"} skipped` : ""}`;
      const why = reading.reasons[t.name];
      // A check of zeros against zeros passes without showing anything: say so instead of "ok".
      out(`  ${t.ok ? (why ? "ok? " : "ok  ") : "FAIL"} ${name}.${t.name}: ${counts}; ${why ? `checked nothing meaningful: ${why}` : worst}`);
      if (!t.ok) ok = false;
    }
  }
  const failures = report.anomalies.filter((a) => a.code === "gradient-check");
  for (const a of failures) process.stderr.write(`\n${report.site(a.site)}: ${a.message}\n`);
  return ok;
}

/**
 * `backprop-lens run model.ts | head -1`: when the reader closes the pipe, writing fails with EPIPE.
 * Stop the model and end quietly (status 0), as command-line tools do, instead of an unhandled error.
 */
function endQuietlyOnClosedPipe(stop: () => void): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code !== "EPIPE") throw e;
      stop();
      process.exit(0);
    });
  }
}

/**
 * Exits as soon as everything printed has reached stdout and stderr, rather than when the last handle
 * closes: the model process (which has sent its end and exits by itself once its stdin closes) and
 * esbuild's service would otherwise keep the CLI for another 20–50 ms of their teardown.
 */
function exitWhenWritten(code: number): void {
  process.exitCode = code;
  process.stdout.write("", () => process.stderr.write("", () => process.exit(code)));
}

main(process.argv.slice(2)).then(
  (code) => exitWhenWritten(code),
  (e: unknown) => {
    process.stderr.write(`backprop-lens: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    exitWhenWritten(70);
  },
);
