// A table that may be wider than a phone scrolls sideways inside this region; the region is
// focusable and named, so a keyboard user can reach it and scroll it with the arrow keys.
import type { ReactNode } from 'react';

export function TableScroll(props: { label: string; children: ReactNode }): ReactNode {
  return (
    <div className="table-scroll" role="region" aria-label={props.label} tabIndex={0}>
      {props.children}
    </div>
  );
}
