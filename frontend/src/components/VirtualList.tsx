import { useEffect, useRef, useState, type ReactNode } from 'react';

interface Props<T> {
  items: T[];
  rowHeight: number;
  height: number;
  render: (item: T, index: number) => ReactNode;
  /** Keep the view pinned to the end while new items arrive (log tails). */
  follow?: boolean;
  testId?: string;
  className?: string;
  /** A row after the items (one rowHeight tall): a list's end state. */
  footer?: ReactNode;
  /** Called whenever the end of the list comes into view (a page to load). */
  onEnd?: () => void;
  /** Called on every scroll by the user (a loader's allowance). */
  onScroll?: () => void;
}

/**
 * Renders only the rows in view (plus a margin).  With no layout (jsdom),
 * the first `height / rowHeight` rows, or the last ones when following.
 */
export function VirtualList<T>({ items, rowHeight, height, render, follow, testId, className, footer, onEnd, onScroll }: Props<T>) {
  const ref = useRef<HTMLDivElement>(null);
  const [top, setTop] = useState(0);
  const pinned = useRef(true);
  const total = (items.length + (footer ? 1 : 0)) * rowHeight;

  useEffect(() => {
    const el = ref.current;
    if (follow && pinned.current && el) {
      el.scrollTop = total;
      setTop(Math.max(0, total - height));
    }
  }, [follow, total, height]);

  const viewTop = follow && pinned.current ? Math.max(0, total - height) : top;
  const margin = 10;
  const first = Math.max(0, Math.floor(viewTop / rowHeight) - margin);
  const last = Math.min(items.length, Math.ceil((viewTop + height) / rowHeight) + margin);
  const rows: ReactNode[] = [];
  const atEnd = Math.ceil((viewTop + height) / rowHeight) >= items.length;
  useEffect(() => {
    if (atEnd && onEnd) onEnd();
  }, [atEnd, items.length, onEnd]);
  for (let i = first; i < last; i++) rows.push(<div key={i} style={{ position: 'absolute', top: i * rowHeight, left: 0, right: 0, height: rowHeight }}>{render(items[i], i)}</div>);

  return (
    <div
      ref={ref}
      className={`vlist ${className ?? ''}`}
      data-testid={testId}
      style={{ height, overflowY: 'auto', position: 'relative' }}
      onScroll={(e) => {
        const el = e.currentTarget;
        setTop(el.scrollTop);
        pinned.current = el.scrollTop + el.clientHeight >= el.scrollHeight - rowHeight * 2;
        onScroll?.();
      }}
    >
      <div style={{ height: total, position: 'relative' }}>
        {rows}
        {footer && <div style={{ position: 'absolute', top: items.length * rowHeight, left: 0, right: 0, height: rowHeight }}>{footer}</div>}
      </div>
    </div>
  );
}
