/**
 * PatchCore's scoring of test patches against the memory bank, as anomalib's PatchcoreModel does at
 * inference:
 *   - patch score: Euclidean distance to the nearest memory-bank row (1-NN; paper eq. 6);
 *   - image score: the largest patch score s* re-weighted by how isolated its nearest bank row m* is
 *     (paper eq. 7): take the `numNeighbors` (9) bank rows nearest to m* (m* itself included),
 *     the distances from the test patch to each, and s = (1 − softmax(distances)[0]) · s*, where
 *     entry 0 is m*. With numNeighbors 1 the image score is max patch score, as anomalib.
 * The argmax patch is the first maximum in row-major order, as torch.argmax.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { MemoryBank } from '../components/nearest-neighbour';

export interface BatchScores {
  /** [batch, h, w] row-major. */
  patchScores: Float32Array;
  /** [batch]. */
  imageScores: Float32Array;
  h: number;
  w: number;
}

/**
 * @param embedding [batch, h, w, C] patch embeddings; not disposed
 */
export async function scoreEmbedding(embedding: tf.Tensor4D, bank: MemoryBank, numNeighbors: number): Promise<BatchScores> {
  const [b, h, w, c] = embedding.shape;
  const p = h * w;
  const flat = tf.reshape(embedding, [b * p, c]) as tf.Tensor2D;
  try {
    const nn = await bank.nearest(flat);
    const imageScores = new Float32Array(b);
    if (numNeighbors <= 1) {
      for (let i = 0; i < b; i++) imageScores[i] = maxOf(nn.distances.subarray(i * p, (i + 1) * p));
      return { patchScores: nn.distances, imageScores, h, w };
    }
    // m^test,* (the worst patch of each image), s* and m*.
    const worst = new Int32Array(b);
    const starRows = new Int32Array(b);
    for (let i = 0; i < b; i++) {
      let best = i * p;
      for (let j = i * p + 1; j < (i + 1) * p; j++) if (nn.distances[j]! > nn.distances[best]!) best = j;
      worst[i] = best;
      starRows[i] = nn.indices[best]!;
    }
    const starFeatures = tf.tensor2d(await bank.rowsAt(starRows), [b, c]);
    let support: Awaited<ReturnType<MemoryBank['kNearest']>>;
    try {
      support = await bank.kNearest(starFeatures, numNeighbors);
    } finally {
      starFeatures.dispose();
    }
    const worstFeatures = tf.tidy(() => tf.gather(flat, tf.tensor1d(worst, 'int32')));
    let testRows: Float32Array;
    try {
      testRows = await worstFeatures.data<'float32'>();
    } finally {
      worstFeatures.dispose();
    }
    const k = support.k;
    const supportRows = await bank.rowsAt(support.indices);
    for (let i = 0; i < b; i++) {
      const x = testRows.subarray(i * c, (i + 1) * c);
      const d = new Float64Array(k);
      for (let j = 0; j < k; j++) {
        const y = supportRows.subarray((i * k + j) * c, (i * k + j + 1) * c);
        let s = 0;
        for (let q = 0; q < c; q++) {
          const diff = x[q]! - y[q]!;
          s += diff * diff;
        }
        d[j] = Math.sqrt(s);
      }
      // softmax(d)[0], stabilised by the maximum as torch's softmax is.
      let m = -Infinity;
      for (let j = 0; j < k; j++) m = Math.max(m, d[j]!);
      let sum = 0;
      for (let j = 0; j < k; j++) sum += Math.exp(d[j]! - m);
      const weight = 1 - Math.exp(d[0]! - m) / sum;
      imageScores[i] = weight * nn.distances[worst[i]!]!;
    }
    return { patchScores: nn.distances, imageScores, h, w };
  } finally {
    flat.dispose();
  }
}

function maxOf(a: Float32Array): number {
  let m = -Infinity;
  for (let i = 0; i < a.length; i++) if (a[i]! > m) m = a[i]!;
  return m;
}
