/** Plain-text tables for terminal output and Markdown tables for generated docs. */

const GAP = 2;

/**
 * A plain-text table. With `maxWidth`, the widest columns are narrowed until the table fits, and their
 * cells wrap onto continuation lines at spaces (after ", " in lists); a word longer than its column is cut.
 */
export function textTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  maxWidth = Infinity,
): string {
  const widths = fitWidths(
    headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length))),
    // A column narrows down to its header or its longest list item, whichever is longer.
    headers.map((h, i) => Math.max(h.length, ...rows.map((r) => longestUnit(r[i] ?? "")))),
    maxWidth,
  );
  const lines = (cells: readonly string[]): string[] => {
    const wrapped = widths.map((w, i) => wrap(cells[i] ?? "", w));
    const height = Math.max(...wrapped.map((c) => c.length));
    return Array.from({ length: height }, (_, l) =>
      wrapped
        .map((c, i) => (c[l] ?? "").padEnd(widths[i]))
        .join(" ".repeat(GAP))
        .trimEnd(),
    );
  };
  return [...lines(headers), ...lines(widths.map((w) => "-".repeat(w))), ...rows.flatMap(lines)].join("\n");
}

/** A cell's unbreakable length: its longest list item, or its longest word when an item is wider than `width`. */
const longestUnit = (text: string) => Math.max(...items(text).map((i) => i.length));

/** Narrows the column with the most room above its minimum, one character at a time, until the table fits. */
function fitWidths(natural: readonly number[], minimum: readonly number[], maxWidth: number): number[] {
  const widths = [...natural];
  const total = () => widths.reduce((a, b) => a + b, 0) + GAP * (widths.length - 1);
  while (total() > maxWidth) {
    const widest = widths.reduce((best, w, i) => (w - minimum[i] > widths[best] - minimum[best] ? i : best), 0);
    if (widths[widest] <= minimum[widest]) break;
    widths[widest]--;
  }
  return widths;
}

/** The items of a comma-separated list, each but the last with its comma: where a cell prefers to break. */
const items = (text: string) => text.split(", ").map((item, i, all) => (i < all.length - 1 ? `${item},` : item));

/**
 * Lines of at most `width` characters, broken between list items (`listItems`), else at spaces; a longer
 * word is cut.
 */
export function wrap(text: string, width: number, listItems = true): string[] {
  if (text.length <= width) return [text];
  const lines: string[] = [];
  let line = "";
  const append = (piece: string): boolean => {
    const candidate = line === "" ? piece : `${line} ${piece}`;
    if (candidate.length > width) return false;
    line = candidate;
    return true;
  };
  for (const item of listItems ? items(text) : [text]) {
    if (append(item)) continue;
    if (item.length <= width) {
      lines.push(line);
      line = item;
      continue;
    }
    for (const word of item.split(" ")) {
      if (append(word)) continue;
      if (line !== "") lines.push(line);
      line = word;
      while (line.length > width) {
        lines.push(line.slice(0, width));
        line = line.slice(width);
      }
    }
  }
  lines.push(line);
  return lines;
}

export function markdownTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const esc = (c: string) => (c ?? "").replace(/\|/g, "\\|").replace(/\n/g, " ");
  return [
    `| ${headers.map(esc).join(" | ")} |`,
    `| ${headers.map(() => "---").join(" | ")} |`,
    ...rows.map((r) => `| ${r.map(esc).join(" | ")} |`),
  ].join("\n");
}
