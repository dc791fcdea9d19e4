/**
 * "Did you mean …?" for names a user typed: the known names closest to `name`.
 *
 * A learner coming from the book types its Python class names (`Layer_Dense`, `Activation_ReLU`,
 * `Activation_Softmax_Loss_CategoricalCrossentropy`, `Optimizer_Adam`); ours drop the `Layer_`,
 * `Activation_`, `Loss_` and `Optimizer_` words and the underscores. So names are compared without
 * those words, case and underscores first, then by edit distance for typos (`Dnese`).
 */

const BOOK_WORDS = /activation|layer|loss|optimizer|_/g;

function bare(name: string): string {
  return name.toLowerCase().replace(BOOK_WORDS, "");
}

/** Up to `max` known names close to `name`, the closest first (none when nothing is close). */
export function closeNames(name: string, known: readonly string[], max = 3): string[] {
  const b = bare(name);
  const same = known.filter((k) => b !== "" && bare(k) === b);
  if (same.length > 0) {
    // `ReLU` and `relu` both match `Activation_ReLU`: a class name asks for the class.
    const upper = (k: string): boolean => k[0] !== undefined && k[0] === k[0].toUpperCase();
    const sameCase = same.filter((k) => upper(k) === upper(name));
    return (sameCase.length > 0 ? sameCase : same).slice(0, max);
  }
  const limit = Math.max(1, Math.floor(name.length / 4));
  return known
    .map((k) => ({ k, d: editDistance(k.toLowerCase(), name.toLowerCase()) }))
    .filter((x) => x.d <= limit)
    .sort((a, b) => a.d - b.d)
    .slice(0, max)
    .map((x) => x.k);
}

/** Edit distance with adjacent transpositions (optimal string alignment): `Dnese` is 1 from `Dense`. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const row = d[i] as number[];
      const up = d[i - 1] as number[];
      let v = Math.min((up[j] as number) + 1, (row[j - 1] as number) + 1, (up[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, ((d[i - 2] as number[])[j - 2] as number) + 1);
      row[j] = v;
    }
  }
  return (d[a.length] as number[])[b.length] as number;
}
