'use client';

import { useState } from 'react';
import { graphql } from '../generated/gql.ts';
import type { ClassifyUploadMutation } from '../generated/graphql.ts';
import { GraphQLRequestError, type GraphQLErrorBody } from '../lib/errors.ts';
import { NeighbourStrip } from './neighbour-strip.tsx';

const ClassifyUpload = graphql(`
  mutation ClassifyUpload($slug: String!, $image: Upload!) {
    classify(project: $slug, image: $image, k: 12) {
      labelClass {
        name
      }
      confidence
      anomalyScore
      neighbors {
        distance
        labelClass {
          name
        }
        item {
          id
          imageDataUrl
        }
      }
    }
  }
`);

/** Upload a picture: the classify result and the nearest labeled items. */
export function SearchByImage({ slug }: { slug: string }) {
  const [result, setResult] = useState<ClassifyUploadMutation['classify'] | null>(null);
  const [error, setError] = useState<string | null>(null);
  return (
    <section aria-labelledby="search-title" className="search-image">
      <h2 id="search-title">Search by image</h2>
      <label>
        Picture (PNG, JPEG or WebP)
        <input
          type="file"
          accept="image/png,image/jpeg,image/webp"
          onChange={async (e) => {
            const file = e.target.files?.[0];
            if (!file) return;
            setError(null);
            const form = new FormData();
            form.append(
              'operations',
              JSON.stringify({
                query: ClassifyUpload.toString(),
                variables: { slug, image: null },
              }),
            );
            form.append('map', JSON.stringify({ 0: ['variables.image'] }));
            form.append('0', file, file.name);
            try {
              const response = await fetch('/api/graphql', {
                method: 'POST',
                headers: { 'apollo-require-preflight': '1' },
                body: form,
              });
              const body = (await response.json()) as GraphQLErrorBody<ClassifyUploadMutation>;
              if (body.errors?.length) throw GraphQLRequestError.from(body.errors);
              setResult(body.data!.classify);
            } catch (err) {
              setResult(null);
              setError((err as Error).message);
            }
          }}
        />
      </label>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {result && (
        <div aria-live="polite">
          <p>
            Looks like <strong>{result.labelClass?.name ?? 'nothing known yet'}</strong> (
            {Math.round(result.confidence * 100)}% confident), anomaly score{' '}
            {result.anomalyScore.toFixed(2)}.
          </p>
          <NeighbourStrip slug={slug} neighbours={result.neighbors} />
        </div>
      )}
    </section>
  );
}
