import { VecSnapError } from './errors.js';
import type { Metadata } from './types.js';

const MAX_ID_BYTES = 1024;
const MAX_METADATA_DEPTH = 64;

export function validateId(id: unknown): string {
  if (typeof id !== 'string' || id.length === 0) {
    throw new VecSnapError('INVALID_ARGUMENT', 'An entry id must be a non-empty string.');
  }
  if (!id.isWellFormed()) {
    // A lone UTF-16 surrogate cannot be written as UTF-8 (binary, SQLite) and come back the same.
    throw new VecSnapError('INVALID_ARGUMENT', `The id "${id.slice(0, 40)}" contains an unpaired UTF-16 surrogate.`);
  }
  if (id.length > MAX_ID_BYTES / 3 && Buffer.byteLength(id, 'utf8') > MAX_ID_BYTES) {
    throw new VecSnapError(
      'INVALID_ARGUMENT',
      `The id "${id.slice(0, 40)}…" is longer than ${MAX_ID_BYTES} bytes.`,
    );
  }
  return id;
}

/**
 * Converts to float32 and checks every component. float64 values that overflow float32 become
 * Infinity and are rejected too, because they would not round-trip.
 */
export function toFloat32Vector(id: string, vector: unknown, dimension: number): Float32Array {
  let out: Float32Array;
  if (vector instanceof Float32Array) {
    out = vector;
  } else if (Array.isArray(vector)) {
    // Float32Array.from would quietly turn null into 0 and "0.5" into 0.5.
    for (let i = 0; i < vector.length; i++) {
      if (typeof vector[i] !== 'number') {
        throw new VecSnapError(
          'INVALID_VECTOR',
          `The vector of "${id}" has a component that is not a number at index ${i} (${JSON.stringify(vector[i]) ?? String(vector[i])}).`,
        );
      }
    }
    out = Float32Array.from(vector as number[]);
  } else if (vector instanceof Float64Array) {
    out = Float32Array.from(vector);
  } else {
    throw new VecSnapError('INVALID_VECTOR', `The vector of "${id}" must be a Float32Array or an array of numbers.`);
  }
  if (out.length !== dimension) {
    throw new VecSnapError(
      'DIMENSION_MISMATCH',
      `The vector of "${id}" has ${out.length} components but the database dimension is ${dimension}.`,
    );
  }
  const bad = firstNonFinite(out);
  if (bad >= 0) {
    const original = Array.isArray(vector) ? (vector as unknown[])[bad] : out[bad];
    throw new VecSnapError(
      'INVALID_VECTOR',
      `The vector of "${id}" has a non-finite component at index ${bad} (${String(original)}).`,
    );
  }
  return out;
}

/** Index of the first NaN/±Infinity in `values` (from `start` to `end`), or -1. */
export function firstNonFinite(values: Float32Array, start = 0, end = values.length): number {
  // Branch-free first pass: v * 0 is NaN exactly for NaN and ±Infinity, and NaN survives a sum.
  // Four sums let the loop run without a dependency chain; twice as fast as testing each value.
  let a = 0;
  let b = 0;
  let c = 0;
  let d = 0;
  let i = start;
  for (; i + 4 <= end; i += 4) {
    a += values[i]! * 0;
    b += values[i + 1]! * 0;
    c += values[i + 2]! * 0;
    d += values[i + 3]! * 0;
  }
  for (; i < end; i++) a += values[i]! * 0;
  if (a + b + c + d === 0) return -1;
  for (let j = start; j < end; j++) {
    const v = values[j]!;
    if (v - v !== 0) return j;
  }
  return -1;
}

/**
 * The check of cloneMetadata for a decoded value that needs no change: its size as cloneMetadata
 * counts it, or -1 when anything is off (a -0 to rewrite, an undefined member to drop, anything
 * to refuse) and the full walk must decide and name the place. Only for `owned` values, which
 * decoders build as trees (JSON.parse, msgpack maps): it keeps no set of visited objects. A
 * million loaded entries took 0.4 s in the full walk, most of it building the path of every
 * member for messages that are almost never shown.
 */
function plainDataBytes(value: unknown, depth: number): number {
  if (depth > MAX_METADATA_DEPTH) return -1;
  switch (typeof value) {
    case 'string':
      return value.isWellFormed() ? value.length + 2 : -1;
    case 'boolean':
      return 5;
    case 'number':
      return Number.isFinite(value) && !Object.is(value, -0) ? 8 : -1;
    case 'object': {
      if (value === null) return 4;
      let bytes = 2;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          const b = value[i] === undefined ? -1 : plainDataBytes(value[i], depth + 1);
          if (b < 0) return -1;
          bytes += b + 1;
        }
        return bytes;
      }
      if (!isPlainObject(value)) return -1;
      for (const key of Object.keys(value)) {
        const member = value[key];
        const b = member === undefined ? -1 : plainDataBytes(member, depth + 1);
        if (b < 0) return -1;
        bytes += b + key.length + 4;
      }
      return bytes;
    }
    default:
      return -1;
  }
}

interface CloneResult {
  value: Metadata;
  /** Rough serialized size, kept so stats() needs no walk over all metadata. */
  approxBytes: number;
}

/**
 * Validates that metadata is plain JSON data and returns a deep copy the database can own (or,
 * with `owned`, the value itself: decoders hand over objects no one else references).
 * `undefined` object members are dropped (as JSON does); -0 becomes 0 so that every format
 * round-trips it identically. Anything JSON would silently change is rejected.
 */
export function cloneMetadata(id: string, metadata: unknown, owned = false): CloneResult {
  if (!isPlainObject(metadata)) {
    throw new VecSnapError('INVALID_METADATA', `The metadata of "${id}" must be a plain object.`);
  }
  if (owned) {
    const approxBytes = plainDataBytes(metadata, 0);
    if (approxBytes >= 0) return { value: metadata, approxBytes };
  }
  const seen = new Set<object>();
  let bytes = 0;
  const walk = (value: unknown, path: string, depth: number): unknown => {
    if (depth > MAX_METADATA_DEPTH) {
      throw new VecSnapError('INVALID_METADATA', `The metadata of "${id}" is nested deeper than ${MAX_METADATA_DEPTH} levels.`);
    }
    switch (typeof value) {
      case 'string':
        if (!value.isWellFormed()) {
          throw new VecSnapError('INVALID_METADATA', `The metadata of "${id}" has a string with an unpaired UTF-16 surrogate at ${path}.`);
        }
        bytes += value.length + 2;
        return value;
      case 'boolean':
        bytes += 5;
        return value;
      case 'number':
        if (!Number.isFinite(value)) {
          throw new VecSnapError('INVALID_METADATA', `The metadata of "${id}" has a non-finite number at ${path}.`);
        }
        bytes += 8;
        return value === 0 ? 0 : value;
      case 'object': {
        if (value === null) {
          bytes += 4;
          return null;
        }
        if (seen.has(value)) {
          throw new VecSnapError('INVALID_METADATA', `The metadata of "${id}" contains a circular reference at ${path}.`);
        }
        seen.add(value);
        let result: unknown;
        if (Array.isArray(value)) {
          // `owned`: the value was just decoded and nobody else holds it — check it, keep it.
          const arr: unknown[] = owned ? value : new Array(value.length);
          for (let i = 0; i < value.length; i++) {
            if (value[i] === undefined) {
              throw new VecSnapError('INVALID_METADATA', `The metadata of "${id}" has undefined at ${path}[${i}].`);
            }
            arr[i] = walk(value[i], `${path}[${i}]`, depth + 1);
          }
          bytes += 2 + value.length;
          result = arr;
        } else if (isPlainObject(value) && owned) {
          for (const key of Object.keys(value)) {
            const member = value[key];
            if (member === undefined) {
              delete value[key]; // as copy mode drops it
              continue;
            }
            bytes += key.length + 4;
            const checked = walk(member, `${path}.${key}`, depth + 1);
            // Object.is: -0 → 0 must be written back, and 0 !== -0 is false.
            if (!Object.is(checked, member)) value[key] = checked;
          }
          bytes += 2;
          result = value;
        } else if (isPlainObject(value)) {
          const obj: Record<string, unknown> = {};
          for (const key of Object.keys(value)) {
            const member = value[key];
            if (member === undefined) continue;
            bytes += key.length + 4;
            // defineProperty, not assignment: a "__proto__" key must stay data, not set the prototype.
            Object.defineProperty(obj, key, {
              value: walk(member, `${path}.${key}`, depth + 1),
              enumerable: true,
              writable: true,
              configurable: true,
            });
          }
          bytes += 2;
          result = obj;
        } else {
          const kind = (value as object).constructor?.name ?? 'object';
          throw new VecSnapError('INVALID_METADATA', `The metadata of "${id}" holds a ${kind} at ${path}; only JSON data is allowed.`);
        }
        seen.delete(value);
        return result;
      }
      default:
        throw new VecSnapError('INVALID_METADATA', `The metadata of "${id}" holds a ${typeof value} at ${path}; only JSON data is allowed.`);
    }
  };
  const value = walk(metadata, 'metadata', 0) as Metadata;
  return { value, approxBytes: bytes };
}

/** `value` when it is a whole number ≥ 1 (or absent); INVALID_ARGUMENT naming `what` otherwise. */
export function optionalCount(value: unknown, what: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new VecSnapError('INVALID_ARGUMENT', `${what} must be a whole number of at least 1 (got ${JSON.stringify(value) ?? String(value)}).`);
  }
  return value;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

export function validateDimension(dimension: unknown): number {
  if (typeof dimension !== 'number' || !Number.isInteger(dimension) || dimension < 1 || dimension > 65536) {
    throw new VecSnapError('INVALID_ARGUMENT', `The dimension must be an integer from 1 to 65536 (got ${String(dimension)}).`);
  }
  return dimension;
}
