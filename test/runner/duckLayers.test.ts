/**
 * The compiler's field for plain classes with forward and backward (extension/runner/duckLayers.ts):
 * only such classes get it, strings and comments are never touched, no line moves.
 */
import * as assert from "node:assert/strict";
import { adoptPlainLayers } from "../../extension/runner/duckLayers";

const FIELD = '[Symbol.for("backprop-lens.layer")] = __backpropLensAdoptLayer(this);';

describe("adoptPlainLayers: the book's plain layer classes become layers", () => {
  it("adds the field to every class (declaration or expression, any base) with both forward and backward, and to nothing else", () => {
    const js = [
      "class Tanh {",
      "  forward(x) { this.output = x; }",
      "  backward(d) { this.dinputs = d; }",
      "}",
      "var Arrow = class {",
      "  forward = (x) => x;",
      "  backward = (d) => d;",
      "};",
      "class Sub extends Base {",
      "  forward(x) {}",
      "  backward(d) {}",
      "}",
      "class OnlyForward {",
      "  forward(x) {}",
      "}",
      "class Static {",
      "  static forward() {}",
      "  static backward() {}",
      "}",
      'const text = "class Fake { forward() {} backward() {} }"; // class InComment { forward() {} backward() {} }',
    ].join("\n");
    const out = adoptPlainLayers(js);
    const lines = out.split("\n");
    assert.equal(lines[0], `class Tanh { ${FIELD}`);
    assert.equal(lines[4], `var Arrow = class { ${FIELD}`);
    assert.equal(lines[8], `class Sub extends Base { ${FIELD}`);
    assert.equal(lines[12], "class OnlyForward {", "only forward: not a layer");
    assert.equal(lines[15], "class Static {", "static methods: not a layer");
    assert.equal(lines[19], js.split("\n")[19], "strings and comments are left alone");
    // No line moved (the source map stays exact); the helper is appended after everything.
    assert.deepEqual(lines.slice(0, 20).map((l) => l.replace(` ${FIELD}`, "")), js.split("\n"));
    assert.match(out, /\nfunction __backpropLensAdoptLayer\(o\) \{ return require\("backprop-lens\/runtime-engine"\)\.adoptLayer\(o\); \}\n$/);
  });

  it("leaves a bundle without such a class, or one it cannot parse, exactly as it is", () => {
    const none = "const dense1 = new Dense(2, 3);\ndense1.forward(X);\ndense1.backward(d);\n";
    assert.equal(adoptPlainLayers(none), none);
    const broken = "class A { forward() {} backward() {} ";
    assert.equal(adoptPlainLayers(broken), broken);
  });
});
