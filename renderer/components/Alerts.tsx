import { useApp, useSlice } from './AppContext';

/** The last error as one sentence (its code kept in data-code), and the last outcome. */
export function Alerts() {
  const { stores } = useApp();
  const error = useSlice('alerts', (s) => s.error);
  const status = useSlice('alerts', (s) => s.status);
  const { dismissError, clearStatus } = stores.alerts.getState();
  return (
    <div className={error || status ? 'alerts' : 'alerts empty'}>
      <div role="alert" className={error ? 'alert alert-error' : 'alert-empty'} data-code={error?.code}>
        {error && (
          <>
            <p>{error.message}</p>
            <button type="button" onClick={dismissError}>
              Dismiss
            </button>
          </>
        )}
      </div>
      <div role="status" className={status ? 'alert alert-status' : 'alert-empty'}>
        {status && (
          <>
            <p>{status.text}</p>
            {status.action && (
              <button type="button" className="primary" onClick={status.action.run}>
                {status.action.label}
              </button>
            )}
            <button type="button" className="quiet" onClick={clearStatus}>
              Hide message
            </button>
          </>
        )}
      </div>
    </div>
  );
}
