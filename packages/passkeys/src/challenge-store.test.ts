import { describe, expect, it } from "vitest";
import { MemoryChallengeStore } from "./challenge-store.js";

describe("MemoryChallengeStore", () => {
  it("gives a challenge back once", async () => {
    const store = new MemoryChallengeStore();
    await store.put("a", "value", 60);
    expect(await store.take("a")).toBe("value");
    expect(await store.take("a")).toBeNull();
    expect(await store.take("unknown")).toBeNull();
  });

  it("forgets a challenge at its expiry", async () => {
    let now = 0;
    const store = new MemoryChallengeStore({ now: () => now });
    await store.put("a", "1", 60);
    await store.put("b", "2", 60);
    now = 59_999;
    expect(await store.take("a")).toBe("1");
    now = 60_000;
    expect(await store.take("b")).toBeNull();
  });

  it("sweeps expired challenges and stays within maxEntries, dropping the oldest", async () => {
    let now = 0;
    const store = new MemoryChallengeStore({ now: () => now, maxEntries: 3 });
    for (const id of ["a", "b", "c", "d"]) await store.put(id, id, 60);
    expect(store.size).toBe(3);
    expect(await store.take("a")).toBeNull();
    expect(await store.take("d")).toBe("d");
    now = 120_000;
    await store.put("e", "e", 60);
    expect(store.size).toBe(1);
  });
});
