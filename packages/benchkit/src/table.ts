/** A result table from the Markdown pipe table a benchmark already prints. Pure. */
import type { Table } from './types.js';

/**
 * The first pipe table in `markdown` (header row, separator row, body rows) as a Table; cells
 * stay text (their formatting, e.g. `**bold**`, is kept). Throws when there is no table or a row
 * has another number of cells than the header.
 */
export function tableFromMarkdown(markdown: string, title?: string): Table {
  const lines = markdown.split('\n').map((l) => l.trim());
  const start = lines.findIndex((l, i) => l.startsWith('|') && /^\|(\s*:?-+:?\s*\|)+$/.test(lines[i + 1] ?? ''));
  if (start < 0) throw new Error(`no Markdown table in: ${markdown.slice(0, 80)}`);
  const cells = (l: string): string[] => l.replace(/^\|/, '').replace(/\|$/, '').split(/(?<!\\)\|/).map((c) => c.trim());
  const columns = cells(lines[start]!);
  const rows: string[][] = [];
  for (let i = start + 2; i < lines.length && lines[i]!.startsWith('|'); i++) {
    const row = cells(lines[i]!);
    if (row.length !== columns.length) throw new Error(`table row ${i - start - 1} has ${row.length} cells, the header ${columns.length}: ${lines[i]}`);
    rows.push(row);
  }
  return { ...(title === undefined ? {} : { title }), columns, rows };
}
