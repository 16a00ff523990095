// Tables: one that may be wider than a phone scrolls sideways inside a region that is
// focusable and named (a keyboard user can reach it and scroll it), and their column headings.
import type { ReactNode } from 'react';

export function TableScroll(props: { label: string; children: ReactNode }): ReactNode {
  return (
    <div className="table-scroll" role="region" aria-label={props.label} tabIndex={0}>
      {props.children}
    </div>
  );
}

/** A table's column headings (plain text, each a column header for screen readers). */
export function HeadRow({ columns }: { columns: string[] }): ReactNode {
  return (
    <thead>
      <tr>
        {columns.map((c) => (
          <th scope="col" key={c}>
            {c}
          </th>
        ))}
      </tr>
    </thead>
  );
}
