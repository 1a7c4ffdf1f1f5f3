'use client';

import { useVirtualizer } from '@tanstack/react-virtual';
import Link from 'next/link';
import { useEffect, useRef, useState } from 'react';
import type { ItemFilter, ItemSort, ItemsPageQuery } from '../generated/graphql.ts';
import { call } from '../lib/client.ts';
import { ItemsPageQuery as ItemsPageDoc } from '../lib/items-query.ts';

type Item = ItemsPageQuery['items']['edges'][number]['node'];

const TILE = 112;

/**
 * A virtualised grid: only the rows on screen are in the DOM, and the next page is fetched
 * when the last rows come into view, so tens of thousands of items scroll smoothly.
 */
export function ItemGrid({
  slug,
  filter,
  sort,
  initial,
  cursor: firstCursor,
}: {
  slug: string;
  filter: ItemFilter;
  sort: ItemSort;
  initial: Item[];
  cursor: string | null;
}) {
  const [items, setItems] = useState(initial);
  const [cursor, setCursor] = useState(firstCursor);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [columns, setColumns] = useState(8);
  const parent = useRef<HTMLDivElement>(null);

  useEffect(() => {
    setItems(initial);
    setCursor(firstCursor);
  }, [initial, firstCursor]);

  useEffect(() => {
    const el = parent.current;
    if (!el) return;
    const measure = () => setColumns(Math.max(1, Math.floor(el.clientWidth / TILE)));
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    return () => observer.disconnect();
  }, []);

  const rows = Math.ceil(items.length / columns);
  const virtualizer = useVirtualizer({
    count: rows,
    getScrollElement: () => parent.current,
    estimateSize: () => TILE + 28,
    overscan: 4,
  });
  const visible = virtualizer.getVirtualItems();
  const lastVisible = visible.at(-1)?.index ?? 0;

  useEffect(() => {
    if (!cursor || loading || lastVisible < rows - 3) return;
    setLoading(true);
    call(ItemsPageDoc, { slug, filter, sort, after: cursor })
      .then((data) => {
        setItems((current) => [...current, ...data.items.edges.map((e) => e.node)]);
        setCursor(data.items.pageInfo.hasNextPage ? (data.items.pageInfo.endCursor ?? null) : null);
        setError(null);
      })
      .catch((e: Error) => setError(`Could not load more items: ${e.message}`))
      .finally(() => setLoading(false));
  }, [cursor, loading, lastVisible, rows, slug, filter, sort]);

  if (items.length === 0) return <p>No items match these filters.</p>;
  return (
    <>
      <div
        ref={parent}
        className="grid-scroll"
        data-testid="item-grid"
        tabIndex={0}
        aria-label="Items"
      >
        <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
          {visible.map((row) => (
            <ul
              key={row.key}
              className="grid-row"
              style={{
                position: 'absolute',
                top: 0,
                transform: `translateY(${row.start}px)`,
                gridTemplateColumns: `repeat(${columns}, ${TILE - 8}px)`,
              }}
            >
              {items.slice(row.index * columns, (row.index + 1) * columns).map((item) => (
                <li key={item.id}>
                  <Link href={`/p/${slug}/items/${item.id}`} className="tile">
                    <img
                      src={item.imageDataUrl}
                      alt={`Item ${item.id.slice(0, 8)}`}
                      className="pixelated"
                      width={TILE - 16}
                      height={TILE - 16}
                    />
                    <span>
                      {item.label?.labelClass?.name ??
                        (item.prediction ? `${item.prediction.labelClass.name}?` : '—')}
                      {item.label?.source === 'AUTO' && <small> auto</small>}
                    </span>
                  </Link>
                </li>
              ))}
            </ul>
          ))}
        </div>
      </div>
      {loading && <p>Loading more…</p>}
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
    </>
  );
}
