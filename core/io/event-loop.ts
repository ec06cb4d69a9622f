/**
 * Resolves on the event loop's next check phase. Streams and async generators can hand work to
 * each other through promise callbacks alone, which never lets timers, sockets or IPC run; a
 * long pipeline awaits this between pieces so the process stays responsive while it works.
 */
export const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Passes `source` through unchanged, giving the event loop a turn whenever `everyMs` went by
 * without one: an encoder whose consumer always has room (a write stream below its high-water
 * mark) would otherwise produce a whole file in one turn — a save froze the UI for 0.1-0.3 s.
 */
export async function* withEventLoopTurns<T>(source: AsyncIterable<T>, everyMs = 16): AsyncGenerator<T> {
  let last = performance.now();
  for await (const item of source) {
    yield item;
    if (performance.now() - last >= everyMs) {
      await yieldToEventLoop();
      last = performance.now();
    }
  }
}
