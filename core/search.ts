import type { Metadata, Metric } from './types.js';

export interface SearchQuery {
  vector: Float32Array | number[];
  k?: number;
  filter?: (metadata: Metadata | undefined, id: string) => boolean;
}

/** For cosine and dot, score is a similarity (higher is closer); for euclidean, the distance. */
export interface SearchResult {
  id: string;
  score: number;
  metadata?: Metadata;
}

export interface SearchInput {
  query: Float32Array;
  k: number;
  dimension: number;
  metric: Metric;
  slab: Float32Array;
  /** Euclidean norm of each slot's vector (for cosine); NaN where not yet computed, filled in here. */
  norms: Float64Array;
  slotIds: readonly (string | undefined)[];
  slotMeta: readonly (Metadata | undefined)[];
  used: number;
  filter?: SearchQuery['filter'];
}

/** Exact k-NN by a full scan of the slab, keeping the k best in a small sorted array. */
export function exactSearch(input: SearchInput): SearchResult[] {
  const { query: q, k, dimension: dim, metric, slab, norms, slotIds, slotMeta, used, filter } = input;
  let qNorm = 0;
  for (let j = 0; j < dim; j++) qNorm += q[j]! * q[j]!;
  qNorm = Math.sqrt(qNorm);
  // "badness": lower is better for every metric, so one ordering serves all three.
  const bestBad: number[] = [];
  // Ids and metadata are taken when an entry makes the list: a filter may delete it afterwards.
  const bestIds: string[] = [];
  const bestMeta: (Metadata | undefined)[] = [];
  for (let slot = 0; slot < used; slot++) {
    const id = slotIds[slot];
    if (id === undefined) continue;
    if (filter && !filter(slotMeta[slot], id)) continue;
    const base = slot * dim;
    let bad: number;
    if (metric === 'euclidean') {
      let s = 0;
      for (let j = 0; j < dim; j++) {
        const d = slab[base + j]! - q[j]!;
        s += d * d;
      }
      bad = s;
    } else {
      let s = 0;
      for (let j = 0; j < dim; j++) s += slab[base + j]! * q[j]!;
      if (metric === 'cosine') {
        let norm = norms[slot]!;
        // NaN: not computed yet (inserts leave it for the first cosine search, see VectorDB.put).
        // Per slot and here, not up front: a filter may change entries during the scan.
        if (norm !== norm) {
          norm = 0;
          for (let j = 0; j < dim; j++) norm += slab[base + j]! * slab[base + j]!;
          norm = Math.sqrt(norm);
          norms[slot] = norm;
        }
        const denom = norm * qNorm;
        s = denom === 0 ? 0 : s / denom;
      }
      bad = -s;
    }
    if (bestBad.length === k && bad >= bestBad[k - 1]!) continue;
    let pos = bestBad.length;
    while (pos > 0 && bestBad[pos - 1]! > bad) pos--;
    bestBad.splice(pos, 0, bad);
    bestIds.splice(pos, 0, id);
    bestMeta.splice(pos, 0, slotMeta[slot]);
    if (bestBad.length > k) {
      bestBad.pop();
      bestIds.pop();
      bestMeta.pop();
    }
  }
  return bestIds.map((id, i) => {
    const score = metric === 'euclidean' ? Math.sqrt(bestBad[i]!) : -bestBad[i]!;
    const result: SearchResult = { id, score };
    const metadata = bestMeta[i];
    // A copy: a caller editing a result must not edit the database.
    if (metadata !== undefined) result.metadata = structuredClone(metadata);
    return result;
  });
}
