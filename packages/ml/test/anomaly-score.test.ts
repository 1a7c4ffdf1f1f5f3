import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { normaliseRows, runSteps, Scorer } from '../src/index.ts';
import { graphSession } from '../src/onnx-graph.ts';

/** Unit vectors at these angles (radians) in the plane, as 2-d rows. */
const circle = (angles: number[]) =>
  normaliseRows(Float32Array.from(angles.flatMap((a) => [Math.cos(a), Math.sin(a)])), 2);

describe('anomaly score against its own references', () => {
  // Normal parts cluster around angle 0; one usual part sits far off, at angle 2.
  const cluster = Array.from({ length: 40 }, (_, i) => (i - 20) * 0.01);

  it('compares anomaly queries with the anomaly references, in their own space', async () => {
    // Votes in a 3-d space where the references say nothing about normality.
    const votes = normaliseRows(
      Float32Array.from({ length: 30 }, (_, i) => (i % 3) + 1),
      3,
    );
    const scorer = await Scorer.create(
      { vectors: votes, dims: 3, labels: new Int32Array(10), normal: [true] },
      { k: 3, anomaly: { vectors: circle(cluster), dims: 2, labeled: cluster.length } },
    );
    try {
      const queries = normaliseRows(Float32Array.of(1, 2, 3, 3, 2, 1), 3);
      const [usual, unusual] = await scorer.score(queries, 3, circle([0.005, 1.5]));
      expect(usual!.anomalyScore).toBeLessThan(0.5);
      expect(unusual!.anomalyScore).toBe(1);
      // Anomaly queries must be rows of the anomaly space.
      await expect(scorer.score(queries, 3, circle([0]))).rejects.toThrow(/rows of 2/);
    } finally {
      await scorer.release();
    }
  });

  it('scores queries a chain computes as it scores them given, with or without labeled references', async () => {
    /** A model that hands its input on: a chain step whose output is the given rows. */
    const identity = (dims: number) =>
      graphSession(
        {
          nodes: [{ op: 'Identity', inputs: ['x'], outputs: ['y'] }],
          initializers: [],
          inputs: [{ name: 'x', dims: [null, dims] }],
          outputs: [{ name: 'y', type: 'float32', dims: [null, dims] }],
        },
        1,
      );
    const [votesIn, anomalyIn] = await Promise.all([identity(3), identity(2)]);
    const queries = normaliseRows(Float32Array.of(1, 2, 3, 3, 2, 1, 1, 0, 0), 3);
    const anomalyQueries = circle([0.005, 1.5, -0.1]);
    const anomaly = { vectors: circle(cluster), dims: 2, labeled: cluster.length };
    for (const labeled of [12, 0]) {
      const scorer = await Scorer.create(
        {
          vectors: normaliseRows(
            Float32Array.from({ length: labeled * 3 }, (_, i) => (i % 5) + 1),
            3,
          ),
          dims: 3,
          labels: Int32Array.from({ length: labeled }, (_, i) => i % 2),
          normal: [true, false],
        },
        { k: 3, anomaly },
      );
      try {
        const scoring = await scorer.scoreSteps(
          3,
          { step: 0, output: 'y' },
          { step: 1, output: 'y' },
          3,
        );
        // With no labeled references there is no vote search: only the anomaly search runs.
        expect(scoring.steps).toHaveLength(labeled > 0 ? 2 : 1);
        const outputs = await runSteps([
          { session: votesIn, feeds: { x: new ort.Tensor('float32', queries, [3, 3]) } },
          { session: anomalyIn, feeds: { x: new ort.Tensor('float32', anomalyQueries, [3, 2]) } },
          ...scoring.steps,
        ]);
        const given = await scorer.score(queries, 3, anomalyQueries);
        expect(scoring.scores(outputs.slice(2))).toEqual(given);
        expect(given.map((g) => g.anomalyScore)).toContain(1);
      } finally {
        await scorer.release();
      }
    }
    await Promise.all([votesIn.release(), anomalyIn.release()]);
  });

  it('a query that is one of the unlabeled rows is not its own neighbour; a labeled one is', async () => {
    const rows = [...cluster, 2];
    const score = async (labeled: number) => {
      const anomaly = { vectors: circle(rows), dims: 2, labeled };
      const scorer = await Scorer.create(
        { vectors: circle([0]), dims: 2, labels: new Int32Array(1), normal: [true] },
        { k: 1, anomaly },
      );
      try {
        const [outlier] = await scorer.score(circle([0]), 1, circle([2]));
        return outlier!.anomalyScore;
      } finally {
        await scorer.release();
      }
    };
    // Unlabeled (a pool sample): the outlier's nearest others are the far cluster, so it is
    // more unusual than every row of the sample.
    expect(await score(0)).toBe(1);
    // Labeled normal: it is itself a known-good part, at distance 0 from the query.
    expect(await score(rows.length)).toBeLessThan(1);
  });
});
