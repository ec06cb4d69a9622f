import { describe, expect, it } from 'vitest';
import { withEventLoopTurns } from './event-loop.js';

/** Ten pieces of 25 ms of synchronous work each, handed over through promises only. */
async function* busyPieces(): AsyncGenerator<number> {
  for (let i = 0; i < 10; i++) {
    const until = performance.now() + 25;
    while (performance.now() < until);
    yield i;
  }
}

/** How many times a 1 ms timer ran while `source` was drained. */
async function timerTurnsWhileDraining(source: AsyncIterable<number>): Promise<{ turns: number; items: number[] }> {
  let turns = 0;
  const timer = setInterval(() => turns++, 1);
  const items: number[] = [];
  for await (const item of source) items.push(item);
  clearInterval(timer);
  return { turns, items };
}

describe('withEventLoopTurns', () => {
  it('lets timers run during a pipeline that never waits on I/O, and passes every item through in order', async () => {
    const plain = await timerTurnsWhileDraining(busyPieces());
    expect(plain.turns).toBe(0); // the problem it solves: 250 ms without one timer
    const turned = await timerTurnsWhileDraining(withEventLoopTurns(busyPieces(), 16));
    expect(turned.turns).toBeGreaterThanOrEqual(5);
    expect(turned.items).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('passes errors of the source through', async () => {
    async function* failing(): AsyncGenerator<number> {
      yield 1;
      throw new Error('boom');
    }
    const got: number[] = [];
    await expect(
      (async () => {
        for await (const x of withEventLoopTurns(failing(), 0)) got.push(x);
      })(),
    ).rejects.toThrow('boom');
    expect(got).toEqual([1]);
  });
});
