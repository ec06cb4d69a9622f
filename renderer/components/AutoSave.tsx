import { useEffect, useId, useState, type FocusEvent, type KeyboardEvent } from 'react';
import type { AutoSaveState } from '../../core/service/contract';
import { useApp } from './AppContext';

/** The auto-save switch and its interval in seconds (at least 1). */
export function AutoSave({ state }: { state: AutoSaveState }) {
  const { actions } = useApp();
  const hintId = useId();
  const saved = String(Math.max(1, Math.round(state.intervalMs / 1000)));
  const [text, setText] = useState(saved);
  // The switch moves at once; the backend's answer settles it (or puts it back).
  const [pending, setPending] = useState<boolean | null>(null);
  useEffect(() => setText(saved), [saved]);

  const seconds = Number(text);
  const valid = text.trim() !== '' && Number.isFinite(seconds) && seconds >= 1;

  const commit = (): void => {
    if (valid && String(seconds) !== saved) void actions.setAutoSave(state.enabled, seconds);
  };
  const toggle = async (enabled: boolean): Promise<void> => {
    setPending(enabled);
    await actions.setAutoSave(enabled, valid ? seconds : Number(saved));
    setPending(null);
  };
  // Moving on to the switch commits both at once (one call, not two).
  const onBlur = (e: FocusEvent<HTMLInputElement>): void => {
    const next = e.relatedTarget;
    if (!(next instanceof HTMLInputElement && next.type === 'checkbox' && e.currentTarget.closest('.auto-save')?.contains(next))) commit();
  };
  const onKeyDown = (e: KeyboardEvent<HTMLInputElement>): void => {
    if (e.key === 'Enter') commit();
  };

  return (
    <div className="auto-save">
      <label className="check">
        <input
          type="checkbox"
          checked={pending ?? state.enabled}
          onChange={(e) => void toggle(e.target.checked)}
        />
        Auto-save
      </label>
      <label className="field inline">
        <span>Auto-save interval (seconds)</span>
        <input
          type="number"
          min={1}
          step={1}
          value={text}
          aria-invalid={!valid}
          aria-describedby={valid ? undefined : hintId}
          onChange={(e) => setText(e.target.value)}
          onBlur={onBlur}
          onKeyDown={onKeyDown}
        />
      </label>
      {!valid && (
        <span id={hintId} className="hint error-text">
          At least 1 second.
        </span>
      )}
      {state.lastError && <span className="hint error-text">Last auto-save failed: {state.lastError.message}</span>}
    </div>
  );
}
