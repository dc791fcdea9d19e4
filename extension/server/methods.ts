/**
 * Where a user's layer class writes a method: `backward(dvalues)` inside `class Sigmoid extends Layer`
 * (TypeScript / JavaScript) or `def backward(self, dvalues)` inside `class Sigmoid:` (Python), found
 * in the text of the file, so that a failed gradient check points at the code that is wrong, not only
 * at the call `sigmoid.backward(…)`.
 */

/** The 0-based line of `method` inside `class className` of `lines`, or undefined. */
export function findMethod(lines: readonly string[], className: string, method: string): { line: number; column: number } | undefined {
  const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const classRe = new RegExp(`^\\s*(?:export\\s+)?(?:default\\s+)?(?:abstract\\s+)?class\\s+${esc(className)}\\b`);
  const anyClass = /^\s*(?:export\s+)?(?:default\s+)?(?:abstract\s+)?class\s+\w/;
  const tsMethod = new RegExp(`^(\\s*)(?:public\\s+|override\\s+|async\\s+)*${esc(method)}\\s*\\(`);
  const pyMethod = new RegExp(`^(\\s*)def\\s+${esc(method)}\\s*\\(`);
  for (let i = 0; i < lines.length; i++) {
    if (!classRe.test(lines[i] as string)) continue;
    for (let j = i + 1; j < lines.length; j++) {
      const text = lines[j] as string;
      if (anyClass.test(text) && !/^\s+/.test(text.match(anyClass)?.[0] ?? "x")) break;
      const m = tsMethod.exec(text) ?? pyMethod.exec(text);
      if (m) return { line: j, column: (m[1]?.length ?? 0) + (text.trimStart().startsWith("def") ? 4 : 0) };
    }
    return undefined;
  }
  return undefined;
}
