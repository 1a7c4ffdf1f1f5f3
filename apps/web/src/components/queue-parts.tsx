// Parts the labeling and review queues share.
import type { ReactNode } from 'react';
import { graphql } from '../generated/gql.ts';

// What the queues and the item page ask of an image's neighbours, to show them as thumbnails.
graphql(`
  fragment NeighbourThumb on Neighbor {
    distance
    labelClass {
      id
      name
    }
    labelSource
    item {
      id
      imageDataUrl
    }
  }
`);
export interface LabeledNeighbour {
  distance: number;
  labelClass?: { name: string } | null;
  labelSource?: string | null;
  item: { id: string; imageDataUrl: string };
}

/** A queue's "nearest labeled" column: the images the vote reads, with each label's source. */
export function NearestLabeled({ neighbours }: { neighbours: LabeledNeighbour[] }) {
  return (
    <section className="neighbours" aria-label="Nearest labeled images">
      <h2>Nearest labeled</h2>
      <ul>
        {neighbours.map((n) => (
          <li key={n.item.id}>
            <img src={n.item.imageDataUrl} alt="" className="pixelated" width={56} height={56} />
            <span>
              {n.labelClass?.name ?? '—'}{' '}
              <small>
                ({n.labelSource?.toLowerCase()}, d={n.distance.toFixed(2)})
              </small>
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}

/** A queue's one-line report of what just happened: read out, and as an alert when it failed. */
export function QueueMessage({
  message,
}: {
  message: { kind: 'info' | 'error'; text: string } | null;
}) {
  if (!message) return null;
  return (
    <p
      role={message.kind === 'error' ? 'alert' : 'status'}
      className={message.kind === 'error' ? 'error' : 'status'}
    >
      {message.text}
    </p>
  );
}

/** The image a queue asks about, large, with what is known about it below. */
export function QueueImage({
  item,
  alt,
  captionTestId,
  children,
}: {
  item: { imageDataUrl: string; width: number; height: number };
  alt: string;
  captionTestId?: string;
  children: ReactNode;
}) {
  return (
    <figure className="task-image">
      <img
        src={item.imageDataUrl}
        alt={alt}
        className="pixelated"
        width={Math.max(item.width, 336)}
        height={Math.max(item.height, 336)}
      />
      <figcaption data-testid={captionTestId}>{children}</figcaption>
    </figure>
  );
}
