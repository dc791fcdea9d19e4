/**
 * The run limits and their defaults, in one table: the extension's settings (`package.json`
 * `contributes.configuration`, checked against this table by `test/core/limits.test.ts`), the CLI's
 * options and usage text (`extension/cli/main.ts`), and the defaults of the runner, the recorder and the
 * gradient check all come from here. To add a limit: an entry here, the setting in `package.json` (the
 * test says what to write), and where the value is used.
 */

/** One limit: its default, its smallest allowed value, and how the settings and the CLI name it. */
export interface RunLimit {
  default: number;
  /** Smaller values are refused (the CLI) or replaced by the default (the settings). */
  minimum: number;
  /** Whole numbers only (a fraction is rounded down). */
  integer: boolean;
  /** The VS Code setting, without the `backpropLens.` prefix; absent for CLI-only limits. */
  setting?: string;
  /** The setting's `markdownDescription` in `package.json`. */
  description?: string;
  /** The CLI option, its argument and its line in the usage text (the default is added). */
  cli?: { flag: string; arg: string; help: string };
}

export const RUN_LIMITS = {
  timeLimitSeconds: {
    default: 30,
    minimum: 1,
    integer: false,
    setting: "timeLimitSeconds",
    description:
      "Stop a model that runs longer than this many seconds (time paused in the debugger does not count). The model runs in a process of its own, so the editor stays responsive either way.",
    cli: { flag: "--time-limit", arg: "<seconds>", help: "stop the model after this long (paused time not counted)" },
  },
  memoryLimitMb: {
    default: 1024,
    minimum: 64,
    integer: false,
    setting: "memoryLimitMb",
    description:
      "Stop a model that adds more than this many megabytes to its process's memory: its JavaScript heap, tensors, raw arrays and buffers, everything. Also the largest single tensor allowed.",
    cli: { flag: "--memory-limit", arg: "<MB>", help: "memory the model may add to its process, everything counted" },
  },
  keepSteps: {
    default: 3,
    minimum: 1,
    integer: true,
    setting: "keepSteps",
    description:
      "Training steps whose every tensor is recorded, from step 0. The last step is always recorded; every step's loss, accuracy and gradient norms are kept.",
    cli: { flag: "--keep-steps", arg: "<n>", help: "steps whose tensors are recorded from step 0 (the last step is always kept)" },
  },
  gradientCheckMaxElements: {
    default: 512,
    minimum: 1,
    integer: true,
    setting: "gradientCheck.maxElements",
    description: "Check at most this many elements of each gradient (a fixed sample beyond that).",
    cli: { flag: "--max-elements", arg: "<n>", help: "gradient-check at most n elements per tensor" },
  },
  gradientCheckBudgetMs: {
    default: 1000,
    minimum: 0,
    integer: false,
    setting: "gradientCheck.budgetMs",
    description:
      "Time for all gradient checks of a run together, in milliseconds; past it each gradient stops after a few elements (big layers still get a verdict quickly).",
    cli: { flag: "--check-budget", arg: "<ms>", help: "time for all gradient checks together" },
  },
  gradientCheckRtol: {
    default: 1e-5,
    minimum: 0,
    integer: false,
    cli: { flag: "--rtol", arg: "<x>", help: "gradient-check relative tolerance" },
  },
  gradientCheckAtol: {
    default: 1e-7,
    minimum: 0,
    integer: false,
    cli: { flag: "--atol", arg: "<x>", help: "gradient-check absolute tolerance" },
  },
} as const satisfies Record<string, RunLimit>;

export type RunLimitName = keyof typeof RUN_LIMITS;

/** The limit's value from a setting or option: the default when it is missing, not a number or too small. */
export function limitValue(name: RunLimitName, v: unknown): number {
  const limit: RunLimit = RUN_LIMITS[name];
  if (typeof v !== "number" || !Number.isFinite(v) || v < limit.minimum) return limit.default;
  return limit.integer ? Math.floor(v) : v;
}
