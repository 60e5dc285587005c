// Shared by the *.outage.test.ts files: how long a call took to fail.

/**
 * Runs `call` and times it: what it rejected with, or an Error saying it did not fail, and
 * how many milliseconds it took. An outage test asserts both (the error's class, a bound).
 */
export async function timedFailure(
  call: () => Promise<unknown>,
): Promise<{ error: unknown; ms: number }> {
  const started = performance.now();
  const error = await call().then(
    () => new Error("expected a failure"),
    (e: unknown) => e,
  );
  return { error, ms: performance.now() - started };
}
