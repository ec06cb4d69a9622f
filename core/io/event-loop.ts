/**
 * Resolves on the event loop's next check phase. Streams and async generators can hand work to
 * each other through promise callbacks alone, which never lets timers, sockets or IPC run; a
 * long pipeline awaits this between pieces so the process stays responsive while it works.
 */
export const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
