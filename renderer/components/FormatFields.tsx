import type { Compression, Format } from '../../core/service/contract';

export const FORMATS: Format[] = ['json', 'binary', 'sqlite'];
export const COMPRESSIONS: Compression[] = ['none', 'gzip', 'brotli'];
const FORMAT_HINT: Record<Format, string> = { json: 'json (readable)', binary: 'binary (fastest)', sqlite: 'sqlite (queryable)' };

interface FormatFieldsProps {
  format: Format;
  compression: Compression;
  onFormat: (format: Format) => void;
  onCompression: (compression: Compression) => void;
}

/** The two selects every write offers: "Format" and "Compression". */
export function FormatFields({ format, compression, onFormat, onCompression }: FormatFieldsProps) {
  return (
    <div className="field-row">
      <label className="field">
        <span>Format</span>
        <select value={format} onChange={(e) => onFormat(e.target.value as Format)}>
          {FORMATS.map((f) => (
            <option key={f} value={f}>
              {FORMAT_HINT[f]}
            </option>
          ))}
        </select>
      </label>
      <label className="field">
        <span>Compression</span>
        <select value={compression} onChange={(e) => onCompression(e.target.value as Compression)}>
          {COMPRESSIONS.map((c) => (
            <option key={c} value={c}>
              {c}
            </option>
          ))}
        </select>
      </label>
    </div>
  );
}
