/**
 * The book writes its layers as plain classes (`class Layer_Dense { forward(inputs) {…} backward(dvalues) {…} }`),
 * and so do learners. A class like that, which does not extend the engine's `Layer`, would run untraced
 * and unchecked: a bug planted in its `backward` would pass `check`. So the compiled bundle gets, in
 * every class that declares both `forward` and `backward`, one field whose initializer hands the new
 * object to the engine's `adoptLayer` (`core/layers/layer.ts`), which makes it a layer when it is built.
 *
 * The bundle is parsed with acorn (a JavaScript parser made for this; esbuild has no syntax tree for
 * plugins). The field is inserted right after the class body's `{`, which esbuild always ends a line
 * with, so no line moves and the source map stays exact; a helper function is appended at the end.
 */
import { parse } from "acorn";
import { ENGINE_RUNTIME_ID } from "./workerProtocol";

interface AstNode {
  type: string;
  start: number;
  end: number;
  [key: string]: unknown;
}

const HELPER = "__backpropLensAdoptLayer";

/** The bundle with the adopting field added to each class with `forward` and `backward`; unchanged when there is none. */
export function adoptPlainLayers(js: string): string {
  // Cheap test first: most models only use the engine's layers and define no class at all.
  if (!/\bclass\b/.test(js) || !/\bbackward\b/.test(js)) return js;
  let program: AstNode;
  try {
    program = parse(js, { ecmaVersion: "latest", sourceType: "script", allowReturnOutsideFunction: true, allowHashBang: true }) as unknown as AstNode;
  } catch {
    return js; // esbuild's output always parses; if not, run the model as it is
  }
  const at: number[] = [];
  visit(program, (node) => {
    if ((node.type === "ClassDeclaration" || node.type === "ClassExpression") && hasForwardAndBackward(node.body as AstNode)) at.push((node.body as AstNode).start + 1);
  });
  if (at.length === 0) return js;
  let out = "";
  let from = 0;
  for (const i of at.sort((a, b) => a - b)) {
    out += `${js.slice(from, i)} [Symbol.for("backprop-lens.layer")] = ${HELPER}(this);`;
    from = i;
  }
  out += js.slice(from);
  return `${out}\nfunction ${HELPER}(o) { return require(${JSON.stringify(ENGINE_RUNTIME_ID)}).adoptLayer(o); }\n`;
}

function hasForwardAndBackward(body: AstNode): boolean {
  const names = new Set<string>();
  for (const m of body.body as AstNode[]) {
    if ((m.type !== "MethodDefinition" && m.type !== "PropertyDefinition") || m.static || m.computed) continue;
    const key = m.key as AstNode & { name?: string; value?: unknown };
    const name = key.type === "Identifier" ? key.name : key.type === "Literal" ? String(key.value) : undefined;
    if (name !== undefined) names.add(name);
  }
  return names.has("forward") && names.has("backward");
}

/** Every node under `node`, depth first. */
function visit(node: AstNode, f: (n: AstNode) => void): void {
  f(node);
  for (const key of Object.keys(node)) {
    const v = node[key];
    if (Array.isArray(v)) {
      for (const c of v) if (c !== null && typeof c === "object" && typeof (c as AstNode).type === "string") visit(c as AstNode, f);
    } else if (v !== null && typeof v === "object" && typeof (v as AstNode).type === "string") visit(v as AstNode, f);
  }
}
