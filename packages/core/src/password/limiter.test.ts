import { describe, expect, it } from "vitest";
import { ConcurrencyLimiter } from "./limiter.js";

const tick = () => new Promise((r) => setTimeout(r, 1));

describe("ConcurrencyLimiter", () => {
  it("runs at most `limit` tasks at once, the others in arrival order", async () => {
    const limiter = new ConcurrencyLimiter(2);
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 7 }, (_, i) =>
        limiter.run(async () => {
          order.push(i);
          running++;
          peak = Math.max(peak, running);
          await tick();
          running--;
          return i;
        }),
      ),
    );
    expect(peak).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(limiter.running).toBe(0);
    expect(limiter.queued).toBe(0);
  });

  it("releases the slot when a task fails, and passes the failure on", async () => {
    const limiter = new ConcurrencyLimiter(1);
    await expect(limiter.run(async () => Promise.reject(new Error("boom")))).rejects.toThrow(
      "boom",
    );
    expect(await limiter.run(async () => 42)).toBe(42);
    expect(limiter.running).toBe(0);
  });

  it("a newcomer does not overtake a waiting task", async () => {
    const limiter = new ConcurrencyLimiter(1);
    const order: string[] = [];
    const first = limiter.run(async () => {
      await tick();
      order.push("first");
    });
    const second = limiter.run(async () => {
      order.push("second");
    });
    await first;
    const third = limiter.run(async () => {
      order.push("third");
    });
    await Promise.all([second, third]);
    expect(order).toEqual(["first", "second", "third"]);
  });
});
