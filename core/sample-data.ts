import type { Metadata, VectorEntry } from './types.js';

export interface SampleDataOptions {
  count?: number;
  dimension?: number;
  clusters?: number;
  seed?: number;
}

const TOPICS = ['billing', 'onboarding', 'security', 'search', 'pricing', 'api', 'mobile', 'support'];
const SOURCES = ['docs', 'faq', 'tickets', 'blog', 'changelog'];

/** mulberry32: small, fast and seedable, so the same seed gives the same sample everywhere. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal via Box–Muller. */
function gaussian(rand: () => number): number {
  const u = Math.max(rand(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

/**
 * Clustered, unit-length vectors with RAG-like metadata (topic, source, chunk, title): what the
 * first run shows, and what tests and benchmarks use as a realistic, reproducible workload.
 */
export function generateSampleData(options: SampleDataOptions = {}): VectorEntry[] {
  const count = options.count ?? 3000;
  const dimension = options.dimension ?? 128;
  const clusters = Math.max(1, options.clusters ?? TOPICS.length);
  const rand = prng(options.seed ?? 42);
  const centers: Float32Array[] = [];
  for (let c = 0; c < clusters; c++) {
    const center = new Float32Array(dimension);
    for (let j = 0; j < dimension; j++) center[j] = gaussian(rand);
    centers.push(center);
  }
  const entries: VectorEntry[] = [];
  for (let i = 0; i < count; i++) {
    const cluster = Math.floor(rand() * clusters);
    const center = centers[cluster]!;
    const vector = new Float32Array(dimension);
    let norm = 0;
    for (let j = 0; j < dimension; j++) {
      const v = center[j]! + gaussian(rand) * 0.35;
      vector[j] = v;
      norm += v * v;
    }
    norm = Math.sqrt(norm) || 1;
    for (let j = 0; j < dimension; j++) vector[j] = vector[j]! / norm;
    const topic = TOPICS[cluster % TOPICS.length]!;
    const metadata: Metadata = {
      topic,
      source: SOURCES[Math.floor(rand() * SOURCES.length)]!,
      chunk: i % 17,
      title: `${topic[0]!.toUpperCase()}${topic.slice(1)} note ${i}`,
      tokens: 64 + Math.floor(rand() * 448),
    };
    entries.push({ id: `doc-${String(i).padStart(6, '0')}`, vector, metadata });
  }
  return entries;
}
