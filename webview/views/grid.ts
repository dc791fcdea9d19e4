/**
 * A small matrix as the book prints it (NumPy style, from core's formatTensor): real text, one
 * element per span, aligned with CSS padding in `ch` so that the text content reads
 * `[[0.44 -0.38 -0.07 1.37]` and each row carries `data-row-text="0.44 -0.38 -0.07 1.37"`.
 */
import type { TensorData } from "../../core/trace/traceTypes";
import { gridRows } from "../numberGrid";
import { h } from "./dom";
import { markOverflow } from "./math";

export interface GridOptions {
  /** Tensor name, for `data-tensor` and labels. */
  name: string;
  selected?: readonly number[] | undefined;
  onPick?: ((r: number, c: number) => void) | undefined;
  testid?: string;
}

export function numberGrid(t: TensorData, o: GridOptions): HTMLElement {
  const rows = gridRows(t);
  const oneD = t.shape.length <= 1;
  const sel = o.selected;
  const selR = sel && sel.length >= 2 ? sel[0] : 0;
  const selC = sel ? (sel.length >= 2 ? sel[1] : sel[0]) : -1;
  const el = h("div", {
    class: `numgrid${o.onPick ? " pickable" : ""}`,
    testid: o.testid ?? "grid",
    attrs: { "data-tensor": o.name, role: "group", "aria-label": `${o.name} values` },
  });
  rows.forEach((row, r) => {
    const line = h("span", { class: "numrow", attrs: { "data-row": r, "data-row-text": row.cells.map((c) => c.text).join(" ") } }, row.prefix);
    row.cells.forEach((cell, c) => {
      if (c > 0) line.appendChild(document.createTextNode(" "));
      const span = h("span", { class: "num", attrs: { "data-row": oneD ? undefined : r, "data-col": c, title: `${o.name}${oneD ? `[${c}]` : `[${r}][${c}]`}` } }, cell.text);
      if (cell.padLeft) span.style.paddingLeft = `${cell.padLeft}ch`;
      if (cell.padRight) span.style.paddingRight = `${cell.padRight}ch`;
      if (sel && r === selR && c === selC) span.classList.add("selected");
      if (o.onPick) span.addEventListener("click", () => o.onPick?.(r, c));
      line.appendChild(span);
    });
    line.appendChild(document.createTextNode(row.suffix));
    el.appendChild(line);
  });
  // Rows wider than the card scroll sideways, and say so (a fade at the cut edge and a hint).
  markOverflow(el, "the rows go on");
  return el;
}
