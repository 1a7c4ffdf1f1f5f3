'use client';

import Link from 'next/link';
import { useMemo, useRef, useState } from 'react';
import { graphql } from '../generated/gql.ts';
import { call } from '../lib/client.ts';

const Thumb = graphql(`
  query MapThumb($id: ID!) {
    item(id: $id) {
      id
      imageDataUrl
    }
  }
`);

interface Point {
  itemId: string;
  x: number;
  y: number;
  labelClassId?: string | null;
  labelSource?: string | null;
  predictedClassId?: string | null;
}

const W = 720;
const H = 480;
const PAD = 12;
/** A selection turns into explorer filters; the API takes at most this many ids. */
const MAX_SELECTION = 500;

/**
 * The vector space in 2-D, coloured by label or prediction. Plain SVG (a few thousand points)
 * so a dragged box maps straight to pixels; the selection opens in the explorer's grid.
 */
export function EmbeddingMap({
  slug,
  points,
  classes,
}: {
  slug: string;
  points: Point[];
  classes: { id: string; name: string; colour: string }[];
}) {
  const [colourBy, setColourBy] = useState<'label' | 'prediction'>('label');
  const [box, setBox] = useState<{ x0: number; y0: number; x1: number; y1: number } | null>(null);
  const [selected, setSelected] = useState<string[]>([]);
  const [hover, setHover] = useState<{
    point: Point;
    url: string | null;
    left: number;
    top: number;
  } | null>(null);
  const thumbs = useRef(new Map<string, string>());
  const svg = useRef<SVGSVGElement>(null);
  const colour = useMemo(() => new Map(classes.map((c) => [c.id, c.colour])), [classes]);

  const scale = useMemo(() => {
    const xs = points.map((p) => p.x);
    const ys = points.map((p) => p.y);
    const [minX, maxX, minY, maxY] = [
      Math.min(...xs),
      Math.max(...xs),
      Math.min(...ys),
      Math.max(...ys),
    ];
    return {
      x: (v: number) => PAD + ((v - minX) / (maxX - minX || 1)) * (W - 2 * PAD),
      y: (v: number) => H - PAD - ((v - minY) / (maxY - minY || 1)) * (H - 2 * PAD),
    };
  }, [points]);

  const at = (event: React.PointerEvent) => {
    const rect = svg.current!.getBoundingClientRect();
    return {
      x: ((event.clientX - rect.left) / rect.width) * W,
      y: ((event.clientY - rect.top) / rect.height) * H,
    };
  };

  const finish = () => {
    if (!box) return;
    const [left, right] = [Math.min(box.x0, box.x1), Math.max(box.x0, box.x1)];
    const [top, bottom] = [Math.min(box.y0, box.y1), Math.max(box.y0, box.y1)];
    setSelected(
      points
        .filter((p) => {
          const x = scale.x(p.x);
          const y = scale.y(p.y);
          return x >= left && x <= right && y >= top && y <= bottom;
        })
        .map((p) => p.itemId),
    );
    setBox(null);
  };

  const show = async (p: Point, event: React.PointerEvent) => {
    const left = event.clientX + 12;
    const top = event.clientY + 12;
    const cached = thumbs.current.get(p.itemId) ?? null;
    setHover({ point: p, url: cached, left, top });
    if (!cached) {
      const data = await call(Thumb, { id: p.itemId }).catch(() => null);
      if (data?.item) {
        thumbs.current.set(p.itemId, data.item.imageDataUrl);
        setHover((h) =>
          h?.point.itemId === p.itemId ? { ...h, url: data.item!.imageDataUrl } : h,
        );
      }
    }
  };

  const name = (id?: string | null) => classes.find((c) => c.id === id)?.name ?? 'unlabeled';
  const shown = selected.slice(0, MAX_SELECTION);
  return (
    <div className="map">
      <fieldset className="inline-form">
        <legend className="visually-hidden">Colour points by</legend>
        <label className="checkbox">
          <input
            type="radio"
            name="colour"
            checked={colourBy === 'label'}
            onChange={() => setColourBy('label')}
          />{' '}
          label
        </label>
        <label className="checkbox">
          <input
            type="radio"
            name="colour"
            checked={colourBy === 'prediction'}
            onChange={() => setColourBy('prediction')}
          />{' '}
          prediction
        </label>
      </fieldset>
      <svg
        ref={svg}
        viewBox={`0 0 ${W} ${H}`}
        role="img"
        aria-label="Embedding map: one dot per item"
        data-testid="embedding-map"
        className="map-plot"
        onPointerDown={(e) => {
          const p = at(e);
          setBox({ x0: p.x, y0: p.y, x1: p.x, y1: p.y });
        }}
        onPointerMove={(e) => {
          if (box) {
            const p = at(e);
            setBox({ ...box, x1: p.x, y1: p.y });
          }
        }}
        onPointerUp={finish}
        onPointerLeave={() => {
          finish();
          setHover(null);
        }}
      >
        {points.map((p) => {
          const cls = colourBy === 'label' ? p.labelClassId : p.predictedClassId;
          return (
            <circle
              key={p.itemId}
              cx={scale.x(p.x)}
              cy={scale.y(p.y)}
              r={selected.includes(p.itemId) ? 4 : 2.5}
              fill={cls ? (colour.get(cls) ?? '#888') : '#c8ced3'}
              stroke={selected.includes(p.itemId) ? '#1d2428' : 'none'}
              onPointerEnter={(e) => void show(p, e)}
            />
          );
        })}
        {box && (
          <rect
            x={Math.min(box.x0, box.x1)}
            y={Math.min(box.y0, box.y1)}
            width={Math.abs(box.x1 - box.x0)}
            height={Math.abs(box.y1 - box.y0)}
            fill="rgba(24, 90, 157, 0.12)"
            stroke="#185a9d"
          />
        )}
      </svg>
      {hover && (
        <div className="map-hover" style={{ left: hover.left, top: hover.top }} role="tooltip">
          {hover.url ? (
            <img src={hover.url} alt="" className="pixelated" width={84} height={84} />
          ) : (
            <span>loading…</span>
          )}
          <span>
            {name(hover.point.labelClassId)}
            {hover.point.labelSource ? ` (${hover.point.labelSource.toLowerCase()})` : ''} ·
            predicted {name(hover.point.predictedClassId)}
          </span>
        </div>
      )}
      <ul className="legend" aria-label="Class colours">
        {classes.map((c) => (
          <li key={c.id}>
            <span className="swatch" style={{ background: c.colour }} /> {c.name}
          </li>
        ))}
      </ul>
      <p aria-live="polite" data-testid="map-selection">
        {selected.length === 0
          ? 'Nothing selected.'
          : `${selected.length} selected${selected.length > MAX_SELECTION ? ` (the first ${MAX_SELECTION} open in the grid)` : ''}.`}{' '}
        {selected.length > 0 && (
          <Link href={`/p/${slug}/items?ids=${shown.join(',')}`}>
            Open the selection in the grid
          </Link>
        )}
      </p>
    </div>
  );
}
