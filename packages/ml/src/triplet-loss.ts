import type * as tfTypes from '@tensorflow/tfjs';

export interface TripletOptions {
  margin: number;
  /** batch-hard: each anchor's hardest positive and negative; batch-all: every valid triplet. */
  mining: 'batch-hard' | 'batch-all';
  /**
   * Divide the positive/negative difference by the mean hardest-negative distance (Quaterion's
   * fix): the loss becomes scale-free, so a collapsing space cannot sit at loss = margin.
   */
  antiCollapse: boolean;
}

const EPS = 1e-9;

/**
 * Triplet loss with online mining over a batch of L2-normalised embeddings (rows) and integer
 * labels. Written in TensorFlow.js ops so its gradient comes from autodiff.
 */
export function tripletLoss(
  tf: typeof tfTypes,
  embeddings: tfTypes.Tensor2D,
  labels: tfTypes.Tensor1D,
  options: TripletOptions,
): tfTypes.Scalar {
  return tf.tidy(() => {
    const n = embeddings.shape[0];
    const dot = tf.matMul(embeddings, embeddings, false, true);
    const squares = tf.sum(tf.square(embeddings), 1);
    const squared = tf.relu(
      tf.sub(tf.add(tf.reshape(squares, [n, 1]), tf.reshape(squares, [1, n])), tf.mul(2, dot)),
    );
    const distance = tf.sqrt(tf.add(squared, EPS));
    const same = tf.cast(
      tf.equal(tf.reshape(labels, [n, 1]), tf.reshape(labels, [1, n])),
      'float32',
    );
    const notSelf = tf.sub(1, tf.eye(n));
    const positive = tf.mul(same, notSelf);
    const negative = tf.sub(1, same);
    if (options.mining === 'batch-hard') {
      const hardestPositive = tf.max(tf.mul(distance, positive), 1);
      // Non-negatives pushed out of reach before taking the minimum.
      const hardestNegative = tf.min(tf.add(distance, tf.mul(tf.sub(1, negative), 1e6)), 1);
      let difference = tf.sub(hardestPositive, hardestNegative);
      if (options.antiCollapse)
        difference = tf.div(difference, tf.add(tf.mean(hardestNegative), EPS));
      return tf.mean(tf.relu(tf.add(difference, options.margin))) as tfTypes.Scalar;
    }
    // batch-all: every (anchor, positive, negative) triplet; mean over the ones still violating.
    const ap = tf.reshape(distance, [n, n, 1]);
    const an = tf.reshape(distance, [n, 1, n]);
    const valid = tf.mul(tf.reshape(positive, [n, n, 1]), tf.reshape(negative, [n, 1, n]));
    let difference = tf.sub(ap, an);
    if (options.antiCollapse) {
      const meanNegative = tf.div(
        tf.sum(tf.mul(distance, negative)),
        tf.add(tf.sum(negative), EPS),
      );
      difference = tf.div(difference, tf.add(meanNegative, EPS));
    }
    const losses = tf.mul(tf.relu(tf.add(difference, options.margin)), valid);
    const active = tf.sum(tf.cast(tf.greater(losses, 1e-12), 'float32'));
    return tf.div(tf.sum(losses), tf.maximum(active, 1)) as tfTypes.Scalar;
  });
}
