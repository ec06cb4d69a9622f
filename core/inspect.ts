import { throwIfAborted } from './errors.js';
import { openDatasetFile } from './formats/dataset-io.js';
import { ProgressReporter } from './io/progress.js';
import type { Compression, DatasetHeader, Format, LongOperationOptions } from './types.js';

export interface FileInspection {
  path: string;
  format: Format;
  compression: Compression;
  fileSize: number;
  header: DatasetHeader;
  legacy: boolean;
  /** Set when the whole file was read: every entry valid and the content checksum matched. */
  verified?: boolean;
  /** Entries actually read (only when verified). */
  count?: number;
  contentChecksum?: string;
}

/**
 * What a dataset file holds, from its header alone — or, with `verify`, after reading all of it
 * (the import preview's "integrity" line). Never touches a database.
 */
export async function inspectDatasetFile(
  file: string,
  options: LongOperationOptions & { verify?: boolean } = {},
): Promise<FileInspection> {
  const progress = new ProgressReporter('inspect', options.onProgress);
  const dataset = await openDatasetFile(file, {
    verifyChecksum: true,
    ...(options.signal ? { signal: options.signal } : {}),
    onBytes: (n, size) => progress.update({ current: n, total: size, bytesDone: n, bytesTotal: size }),
  });
  const size = dataset.fileSize;
  try {
    const result: FileInspection = {
      path: file,
      format: dataset.format,
      compression: dataset.compression,
      fileSize: dataset.fileSize,
      header: dataset.header,
      legacy: dataset.legacy,
    };
    if (options.verify) {
      let count = 0;
      for await (const chunk of dataset.chunks) {
        throwIfAborted(options.signal, 'Checking the file');
        count += chunk.ids.length;
      }
      result.verified = true;
      result.count = count;
      const checksum = dataset.storedChecksum();
      if (checksum !== undefined) result.contentChecksum = checksum;
      progress.done('File verified', { current: size, total: size });
    }
    return result;
  } finally {
    await dataset.close();
  }
}
