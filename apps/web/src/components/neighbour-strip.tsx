import Link from 'next/link';

export interface StripNeighbour {
  distance: number;
  labelClass?: { name: string } | null;
  item: { id: string; imageDataUrl: string };
}

/** Nearest items as thumbnails linking to their pages, with label and cosine distance. */
export function NeighbourStrip({
  slug,
  neighbours,
}: {
  slug: string;
  neighbours: StripNeighbour[];
}) {
  return (
    <ul className="neighbour-strip">
      {neighbours.map((n) => (
        <li key={n.item.id}>
          <Link href={`/p/${slug}/items/${n.item.id}`}>
            <img
              src={n.item.imageDataUrl}
              alt={`Neighbour labeled ${n.labelClass?.name ?? 'unlabeled'}`}
              className="pixelated"
              width={64}
              height={64}
            />
          </Link>
          <span>
            {n.labelClass?.name ?? '—'} <small>d={n.distance.toFixed(2)}</small>
          </span>
        </li>
      ))}
    </ul>
  );
}
