import { useEffect, useState } from 'react';
import { shortChecksum } from '../format';
import { useApp } from './AppContext';

/** The first 12 hex characters, and a button that copies all 64. */
export function CopyChecksum({ checksum }: { checksum: string }) {
  const { stores } = useApp();
  const [copied, setCopied] = useState(false);
  useEffect(() => {
    if (!copied) return;
    const timer = setTimeout(() => setCopied(false), 2000);
    return () => clearTimeout(timer);
  }, [copied]);

  const copy = async (): Promise<void> => {
    try {
      await navigator.clipboard.writeText(checksum);
      setCopied(true);
    } catch {
      stores.alerts.getState().showError({ code: 'IO_ERROR', message: 'The checksum could not be copied to the clipboard.' });
    }
  };

  return (
    <span className="checksum">
      <code title={checksum}>{shortChecksum(checksum)}</code>
      <button type="button" className="small quiet" aria-label="Copy checksum" onClick={() => void copy()}>
        Copy
      </button>
      <span className="copied" role="status">
        {copied ? 'Copied' : ''}
      </span>
    </span>
  );
}
