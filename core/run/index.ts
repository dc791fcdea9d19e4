/**
 * The run model (`runModel.ts`) and how calls pair up (`calls.ts`): what every consumer of a run
 * (extension host, inspector, language-server report, CLI, debugger) reads. See `runModel.ts`.
 */
export { RunModel, MAX_SUMMARIES, type RunHeader, type RunEnd, type RunEvent, type RunStatus, type CallSummary, type TensorSummary, type ConsoleLine, type RunModelOptions } from "./runModel";
export { forwardOf, backwardOf, lastOf, type CallKey } from "./calls";
export { INCOMING_GRADIENT, INPUT_GRADIENT, isGradientName, isParamGradientName, paramGradientName, isGradientOf } from "../trace/tensorNames";
