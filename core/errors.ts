/** The stable error codes of SPEC §5. UI, IPC, HTTP and CLI all key off these. */
export const ERROR_CODES = [
  'NOT_FOUND',
  'INVALID_VECTOR',
  'DIMENSION_MISMATCH',
  'INVALID_METADATA',
  'UNSUPPORTED_FORMAT',
  'CORRUPT_FILE',
  'CHECKSUM_MISMATCH',
  'VERSION_UNSUPPORTED',
  'ABORTED',
  'IO_ERROR',
  'NO_SPACE',
  'BUSY',
  'INVALID_ARGUMENT',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export class VecSnapError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'VecSnapError';
    this.code = code;
  }

  toJSON(): { code: ErrorCode; message: string } {
    return { code: this.code, message: this.message };
  }
}

export function isVecSnapError(value: unknown): value is VecSnapError {
  return value instanceof VecSnapError;
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value);
}

export function abortedError(what = 'The operation'): VecSnapError {
  return new VecSnapError('ABORTED', `${what} was cancelled.`);
}

/** Throws ABORTED when the signal has fired; called between chunks of every long operation. */
export function throwIfAborted(signal: AbortSignal | undefined, what?: string): void {
  if (signal?.aborted) throw abortedError(what);
}

/**
 * Turns anything thrown by Node, zlib, msgpackr or SQLite into a VecSnapError with a sentence
 * a person can act on. `context` names what was being done ("Writing /a/b.bin").
 */
export function toVecSnapError(err: unknown, context: string): VecSnapError {
  if (err instanceof VecSnapError) return err;
  const e = err as NodeJS.ErrnoException | undefined;
  const code = e?.code;
  const detail = e?.message ?? String(err);
  if (e?.name === 'AbortError' || code === 'ABORT_ERR') return abortedError(context);
  switch (code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return new VecSnapError('NO_SPACE', `${context} failed: the disk is full.`, { cause: err });
    case 'ENOENT':
      return new VecSnapError('NOT_FOUND', `${context} failed: the file or folder does not exist.`, { cause: err });
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return new VecSnapError('IO_ERROR', `${context} failed: permission denied.`, { cause: err });
    case 'EBUSY':
      return new VecSnapError('BUSY', `${context} failed: the file is in use.`, { cause: err });
    case 'Z_DATA_ERROR':
    case 'Z_BUF_ERROR':
    case 'ERR_BROTLI_DECOMPRESSION_FAILED':
    case 'ERR__ERROR_FORMAT_PADDING_1':
      return new VecSnapError('CORRUPT_FILE', `${context} failed: the compressed data is damaged (${detail}).`, {
        cause: err,
      });
    case 'SQLITE_CORRUPT':
    case 'SQLITE_NOTADB':
      return new VecSnapError('CORRUPT_FILE', `${context} failed: the SQLite file is damaged (${detail}).`, {
        cause: err,
      });
    case 'SQLITE_FULL':
      return new VecSnapError('NO_SPACE', `${context} failed: the disk is full.`, { cause: err });
    default:
      return new VecSnapError('IO_ERROR', `${context} failed: ${detail}`, { cause: err });
  }
}
