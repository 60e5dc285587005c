// Micro-benchmark of the lookup batchers (issue 13): CPU time per lookup of
// - "hand-written": the smallest batcher with db-mikroorm's old semantics (callers of one
//   event-loop turn share a batch sent from setImmediate, at most 128 keys): what a shared
//   helper of our own would be;
// - "dataloader": `dataloader` with `cache: false`, the same schedule and batch size;
// - "db-mongo findById": the package's batched `_id` lookup as checked out, on a collection
//   that answers at once (one batch on the wire, sent from a 0 ms timer).
// Run from the repo root: node --import ./test/bench/ts-resolve.ts test/bench/micro/batcher.ts
import { createRequire } from "node:module";
import type { Collection, Document } from "mongodb";
import { findById } from "../../../packages/db-mongo/src/batched-find.ts";

type Row = { id: string };
// dataloader is a dependency of the adapters, not of the benchmark: load it from db-mongo.
type DataLoaderClass = new (
  batch: (keys: readonly string[]) => Promise<Row[]>,
  options: { cache: boolean; maxBatchSize: number; batchScheduleFn(send: () => void): void },
) => { load(key: string): Promise<Row> };
const DataLoader = createRequire(
  new URL("../../../packages/db-mongo/package.json", import.meta.url),
)("dataloader") as DataLoaderClass;

const MAX_BATCH = 128;
// The database: answers a batch on the next microtask, a row for every key.
const answer = async (keys: readonly string[]): Promise<Row[]> => keys.map((id) => ({ id }));

function handWritten(): (key: string) => Promise<Row> {
  let open:
    | { keys: string[]; waiters: { resolve(row: Row): void; reject(e: unknown): void }[] }
    | undefined;
  const run = async (batch: NonNullable<typeof open>) => {
    if (open === batch) open = undefined;
    try {
      const rows = await answer(batch.keys);
      batch.waiters.forEach((w, i) => {
        w.resolve(rows[i] as Row);
      });
    } catch (error) {
      for (const w of batch.waiters) w.reject(error);
    }
  };
  return (key) => {
    let batch = open;
    if (!batch) {
      batch = { keys: [], waiters: [] };
      open = batch;
      setImmediate(run, batch);
    }
    const b = batch;
    if (b.keys.length + 1 >= MAX_BATCH) open = undefined;
    b.keys.push(key);
    return new Promise<Row>((resolve, reject) => {
      b.waiters.push({ resolve, reject });
    });
  };
}

function dataloader(): (key: string) => Promise<Row> {
  const loader = new DataLoader(answer, {
    cache: false,
    maxBatchSize: MAX_BATCH,
    batchScheduleFn: (callback) => setImmediate(callback),
  });
  return (key) => loader.load(key);
}

function mongoFindById(): (key: string) => Promise<unknown> {
  const collection = {
    async findOne(filter: Document) {
      return { _id: filter._id };
    },
    find(filter: Document) {
      return { toArray: async () => (filter._id.$in as string[]).map((_id) => ({ _id })) };
    },
  } as unknown as Collection<Document>;
  return (key) => findById(collection, key, undefined);
}

// Turns per measurement: a 0 ms timer waits about 1 ms, so the timer-driven variant runs fewer.
const variants = {
  "hand-written": { make: handWritten, maxRounds: 200_000 },
  dataloader: { make: dataloader, maxRounds: 200_000 },
  "db-mongo findById": { make: mongoFindById, maxRounds: 2_000 },
} as const;

/** CPU µs per lookup for `rounds` turns of `perTurn` concurrent lookups. */
async function measure(
  make: () => (key: string) => Promise<unknown>,
  perTurn: number,
  rounds: number,
) {
  const load = make();
  const keys = Array.from({ length: perTurn }, (_, i) => `k${i}`);
  const before = process.cpuUsage();
  for (let r = 0; r < rounds; r++) await Promise.all(keys.map(load));
  const used = process.cpuUsage(before);
  return ((used.user + used.system) * 1000) / (perTurn * rounds); // ns per lookup
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

const lookups = 200_000;
const repeats = 7;
console.log(`node ${process.version}; ns of CPU per lookup, median of ${repeats} interleaved runs`);
for (const perTurn of [1, 16, 64, 256]) {
  const seen = new Map<string, number[]>();
  for (const { make } of Object.values(variants)) await measure(make, perTurn, 100); // warm-up
  for (let i = 0; i < repeats; i++) {
    for (const [name, { make, maxRounds }] of Object.entries(variants)) {
      const rounds = Math.min(maxRounds, Math.max(200, Math.floor(lookups / perTurn)));
      const xs = seen.get(name) ?? [];
      xs.push(await measure(make, perTurn, rounds));
      seen.set(name, xs);
    }
  }
  const row = [...seen].map(([name, xs]) => `${name} ${median(xs).toFixed(0)}`);
  console.log(`${String(perTurn).padStart(3)} per turn: ${row.join(" | ")}`);
}
