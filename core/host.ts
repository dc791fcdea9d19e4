/**
 * The engine's surface for hosts (the runner's worker, the CLI, the extension, the webview):
 * tracing, trace types and encoding, the run model, limits. Model files use `index.ts` instead.
 */
export * from "./index";
export { runtime, configureLimits } from "./runtime";
export { RUN_LIMITS, limitValue, type RunLimit, type RunLimitName } from "./limits";
export { shortNumber, MINUS } from "./format";
export { type Tracer } from "./trace/tracer";
export { arrayUseHint } from "./trace/errorContext";
export { TraceRecorder, errorContext, isSampled, type SiteProvider, type TraceSink, type RecorderOptions } from "./trace/traceRecorder";
export * from "./trace/traceTypes";
export { tensorStats, l2norm, firstNonFinite, unflatIndex } from "./trace/stats";
export { encodeTrace, decodeTrace, encodeEvent, decodeEvent, type TraceFile } from "./trace/encode";
export * from "./protocol";
export * from "./run/index";
export { explainElement, explainNeeds, isExplainable, scalarChain, scalarStepText, scalarStepLatex, eqNumber, latexNumber, latexText, type Explanation, type ExplainRequest, type ExplainTerm, type ExplainNeeds, type ScalarChain, type ScalarPath } from "./explain";
