// ASVS 5.0 15.2.2, 7.4.1: a bounded load test on loopback. For every backend of the test
// app (Bearer + JWT, Cookie + JWT, Bearer + database, Bearer + Redis), 200 concurrent
// clients each run register -> login -> me -> logout -> me; every answer must be the
// expected one (201, 200/204, 200, 204, 401), and the throughput is printed. Bounded in
// count (200 flows per backend) and time (each request times out; the test within 90 s).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApp, type TestApp } from "../support/app.js";
import { Client } from "../support/client.js";
import { BACKENDS, type Backend, freshEmail, PASSWORD, quantile } from "./support.js";

const CLIENTS = 200;

let app: TestApp;
let client: Client;

beforeAll(async () => {
  app = await startApp({ redis: true });
  // One connection per concurrent client, kept alive across its five requests.
  // argon2id queues 200 registrations and logins on 4 threads: seconds each on a busy
  // 2-core machine. This test counts statuses, so a slow answer is not a failure.
  client = new Client(app.url, { maxSockets: CLIENTS, timeoutMs: 120_000 });
});
afterAll(async () => {
  client?.close();
  await app?.close();
});

interface Step {
  name: string;
  expected: number;
  status: number;
  ms: number;
  error?: string;
}

/** One client's flow: register -> login -> me -> logout -> me(401). */
async function flow(backend: Backend, i: number): Promise<Step[]> {
  const steps: Step[] = [];
  const record = async (name: string, expected: number, call: () => ReturnType<Client["send"]>) => {
    const res = await call().catch((error: Error) => ({ status: -1, ms: 0, text: error.message }));
    // A client-side failure (-1) keeps its message, so a failure report says what happened.
    steps.push({
      name,
      expected,
      status: res.status,
      ms: res.ms,
      ...(res.status === -1 ? { error: res.text } : {}),
    });
    return res;
  };
  const email = freshEmail(`load-${backend.name}-${i}`);
  await record("register", 201, () => client.json("/auth/register", { email, password: PASSWORD }));
  const cookie = backend.transport === "cookie";
  const login = await record("login", cookie ? 204 : 200, () =>
    client.form(`/auth/${backend.name}/login`, { username: email, password: PASSWORD }),
  );
  let headers: Record<string, string> = {};
  if ("headers" in login) {
    if (cookie) {
      const cookies = login.headers.getSetCookie().map((c) => c.split(";")[0] ?? "");
      const csrf = cookies.find((c) => c.startsWith("tessera_csrf="))?.slice(13) ?? "";
      headers = { cookie: cookies.join("; "), "x-csrf-token": csrf };
    } else {
      headers = {
        authorization: `Bearer ${(login.body as { access_token?: string })?.access_token}`,
      };
    }
  }
  await record("me", 200, () => client.send({ path: "/users/me", headers }));
  await record("logout", 204, () =>
    client.send({ method: "POST", path: `/auth/${backend.name}/logout`, headers }),
  );
  await record("me after logout", 401, () => client.send({ path: "/users/me", headers }));
  return steps;
}

describe(`ASVS 5.0 15.2.2, 7.4.1: ${CLIENTS} concurrent clients per backend, register -> login -> me -> logout -> me(401)`, () => {
  const figures: string[] = [];
  afterAll(() =>
    console.log(`load (loopback, ${CLIENTS} concurrent clients):\n${figures.join("\n")}`),
  );

  it.each(BACKENDS.map((b) => [`${b.transport} + ${b.strategy} (${b.name})`, b] as const))(
    "%s: zero unexpected statuses",
    async (_name, backend) => {
      const started = performance.now();
      const flows = await Promise.all(Array.from({ length: CLIENTS }, (_, i) => flow(backend, i)));
      const seconds = (performance.now() - started) / 1000;
      const steps = flows.flat();
      const unexpected = steps.filter((s) => s.status !== s.expected);
      const byStep = (name: string) => steps.filter((s) => s.name === name).map((s) => s.ms);
      const pct = (name: string) =>
        `${name} p50 ${quantile(byStep(name), 0.5).toFixed(0)} / p95 ${quantile(byStep(name), 0.95).toFixed(0)} ms`;
      figures.push(
        `  ${backend.name}: ${CLIENTS} flows (${steps.length} requests) in ${seconds.toFixed(2)} s = ` +
          `${(CLIENTS / seconds).toFixed(1)} flows/s, ${(steps.length / seconds).toFixed(0)} requests/s; ` +
          `${["register", "login", "me", "logout"].map(pct).join(", ")}; unexpected ${unexpected.length}`,
      );
      expect(unexpected.slice(0, 10)).toEqual([]);
      expect(steps.length).toBe(CLIENTS * 5);
      // Every session was logged out: nothing of this backend's is left in its store.
      if (backend.name === "db") {
        expect(await app.tokenDigests()).toEqual([]);
      }
    },
    180_000,
  );
});
