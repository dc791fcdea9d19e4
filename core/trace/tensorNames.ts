/**
 * The book's tensor names, decided once. A layer call's tensors are named the way the book names the
 * layer's fields: a forward call has `inputs`, `output` (and `targets` on loss layers) and a snapshot of
 * each parameter; a backward call has `dvalues` (the gradient that came in), `dinputs` and `d` + each
 * parameter name (`weights` → `dweights`). Everything that needs to know which names are gradients
 * (the recorder, the gradient check, the run model, the inspector, the language server, the CLI) asks
 * here.
 */

/** The gradient a backward call receives (∂L/∂output), not one the layer computes. */
export const INCOMING_GRADIENT = "dvalues";

/** The gradient a backward call computes for its inputs (∂L/∂inputs). */
export const INPUT_GRADIENT = "dinputs";

/** The name of a parameter's gradient: `weights` → `dweights`. */
export function paramGradientName(param: string): string {
  return `d${param}`;
}

/** True when `field` is the gradient field of the parameter `param` (`dweights` of `weights`). */
export function isGradientOf(field: string, param: string): boolean {
  return field === paramGradientName(param);
}

/**
 * True for the gradients a backward call computes: `dinputs` and `d` + a parameter name. `dvalues`
 * (the incoming gradient), `targets` and forward tensors are not.
 */
export function isGradientName(name: string): boolean {
  return name.length > 1 && name.startsWith("d") && name !== INCOMING_GRADIENT;
}

/** True for a parameter's gradient (`dweights`, `dbiases`, …): a computed gradient other than `dinputs`. */
export function isParamGradientName(name: string): boolean {
  return isGradientName(name) && name !== INPUT_GRADIENT;
}
