/**
 * Small helpers on the TypeScript syntax tree that the interpreter and the engine's model share
 * (kept apart so that neither imports the other's values).
 */
import ts from "typescript";

/** The expression inside parentheses, `as`, `!`, `<T>` and `satisfies`. */
export function unwrap(e: ts.Expression): ts.Expression {
  for (;;) {
    switch (e.kind) {
      case ts.SyntaxKind.ParenthesizedExpression:
      case ts.SyntaxKind.AsExpression:
      case ts.SyntaxKind.NonNullExpression:
      case ts.SyntaxKind.TypeAssertionExpression:
      case ts.SyntaxKind.SatisfiesExpression:
        e = (e as ts.ParenthesizedExpression).expression;
        continue;
      default:
        return e;
    }
  }
}

export function propName(n: ts.PropertyName | ts.BindingName): string | undefined {
  if (ts.isIdentifier(n) || ts.isPrivateIdentifier(n)) return n.text;
  if (ts.isStringLiteral(n) || ts.isNumericLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n)) return n.text;
  return undefined;
}
