// ASVS 5.0 6.3.8: "valid users cannot be deduced from failed authentication challenges,
// such as by ... different response times". Logins for unknown emails and for a known email
// with a wrong password are timed over HTTP, interleaved in random order so that drift in
// the machine's load falls on both alike, and compared with a Mann–Whitney U test and a
// two-sample Kolmogorov–Smirnov test. The assertion is a generous bound on the effect size:
// an implementation that skipped hashing for unknown emails (~1 ms against ~30 ms of
// argon2) separates the samples completely (AUC near 0 or 1, KS D near 1).
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApp, type TestApp } from "../support/app.js";
import { Client } from "../support/client.js";
import {
  freshEmail,
  kolmogorovSmirnov,
  mannWhitney,
  median,
  PASSWORD,
  quantile,
} from "./support.js";

const SAMPLES = 220;
const WARMUP = 15;
/** The mail routes answer in about a millisecond: samples are cheap. */
const MAIL_SAMPLES = 300;

/** Two kinds of request timed in interleaved pairs, in a random order per pair. */
async function interleaved(
  n: number,
  first: () => Promise<number>,
  second: () => Promise<number>,
): Promise<[number[], number[]]> {
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < n; i++) {
    if (Math.random() < 0.5) {
      a.push(await first());
      b.push(await second());
    } else {
      b.push(await second());
      a.push(await first());
    }
  }
  return [a, b];
}

const f = (n: number) => n.toFixed(1);
const summary = (xs: number[]) =>
  `median ${f(median(xs))} ms, p10 ${f(quantile(xs, 0.1))}, p90 ${f(quantile(xs, 0.9))}`;

describe.each(["memory", "mikroorm-postgresql"])(
  "[%s] ASVS 5.0 6.3.8: login timing does not reveal which emails have accounts",
  (store) => {
    let app: TestApp;
    let client: Client;
    let known: string;

    beforeAll(async () => {
      process.env.TESSERA_HTTP_STORE = store;
      app = await startApp();
      client = new Client(app.url, { maxSockets: 1 });
      known = freshEmail("timing");
      const res = await client.json("/auth/register", { email: known, password: PASSWORD });
      expect(res.status).toBe(201);
    });
    afterAll(async () => {
      client?.close();
      await app?.close();
    });

    /** One failed login; its time as the client sees it. */
    async function attempt(username: string): Promise<number> {
      // Same length and alphabet for every wrong password.
      const password = randomBytes(15).toString("base64url");
      const res = await client.form("/auth/jwt/login", { username, password });
      expect(res).toMatchObject({ status: 400, body: { detail: "LOGIN_BAD_CREDENTIALS" } });
      return res.ms;
    }
    const unknownEmail = () => `nobody-${randomBytes(5).toString("hex")}@example.com`;

    it(`unknown email vs known email with a wrong password: ${SAMPLES} interleaved samples each`, async () => {
      await interleaved(
        WARMUP,
        () => attempt(known),
        () => attempt(unknownEmail()),
      );
      const [unknown, wrong] = await interleaved(
        SAMPLES,
        () => attempt(unknownEmail()),
        () => attempt(known),
      );
      const mw = mannWhitney(unknown, wrong);
      const ks = kolmogorovSmirnov(unknown, wrong);
      console.log(
        [
          `[${store}] login timing (${SAMPLES} each, interleaved):`,
          `  unknown email:             ${summary(unknown)}`,
          `  known email, bad password: ${summary(wrong)}`,
          `  Mann-Whitney U = ${mw.u.toFixed(0)}, z = ${mw.z.toFixed(2)}, p = ${mw.p.toFixed(3)}, ` +
            `AUC P(unknown > known) = ${mw.auc.toFixed(3)}`,
          `  Kolmogorov-Smirnov D = ${ks.d.toFixed(3)}, p = ${ks.p.toFixed(3)}`,
        ].join("\n"),
      );
      // Generous: indistinguishable means neither kind is reliably slower. A real leak
      // (no hash for unknown emails) gives AUC ≈ 0 and D ≈ 1, as the control below shows.
      expect(mw.auc).toBeGreaterThan(0.3);
      expect(mw.auc).toBeLessThan(0.7);
      expect(ks.d).toBeLessThan(0.3);
      const [a, b] = [median(unknown), median(wrong)];
      expect(Math.abs(a - b)).toBeLessThan(Math.max(3, 0.2 * Math.max(a, b)));
    }, 90_000);

    // ASVS 5.0 6.3.8 names forgot-password too. Bug found here: a known email signed and
    // mailed a token (~0.3 ms more on loopback) while an unknown one did nothing, so
    // forgot-password and request-verify-token told registered emails by their timing.
    it.each([["/auth/forgot-password"], ["/auth/request-verify-token"]])(
      `%s: unknown email vs registered email, ${MAIL_SAMPLES} interleaved samples each`,
      async (path) => {
        const mail = async (email: string) => {
          const res = await client.json(path, { email });
          expect(res.status).toBe(202);
          return res.ms;
        };
        await interleaved(
          WARMUP,
          () => mail(known),
          () => mail(unknownEmail()),
        );
        const [unknown, registered] = await interleaved(
          MAIL_SAMPLES,
          () => mail(unknownEmail()),
          () => mail(known),
        );
        const mw = mannWhitney(unknown, registered);
        const ks = kolmogorovSmirnov(unknown, registered);
        console.log(
          `[${store}] ${path} timing: unknown ${summary(unknown)}; registered ${summary(registered)}; ` +
            `AUC ${mw.auc.toFixed(3)}, p ${mw.p.toFixed(3)}, KS D ${ks.d.toFixed(3)}`,
        );
        // Wider than for logins: these answer in well under a millisecond, so tens of
        // microseconds (the unknown account's lookup ends in an exception) show. Before the
        // fix a registered email stood out at AUC 0.02-0.06 and D 0.8-0.94.
        expect(mw.auc).toBeGreaterThan(0.25);
        expect(mw.auc).toBeLessThan(0.75);
        expect(ks.d).toBeLessThan(0.4);
      },
      60_000,
    );

    it("ASVS 5.0 6.3.8 control: the same statistics separate a login that skips hashing (a 422 before any lookup)", async () => {
      const [skipped, wrong] = await interleaved(
        60,
        async () => {
          const res = await client.form("/auth/jwt/login", { username: unknownEmail() });
          expect(res.status).toBe(422);
          return res.ms;
        },
        () => attempt(known),
      );
      const mw = mannWhitney(skipped, wrong);
      const ks = kolmogorovSmirnov(skipped, wrong);
      console.log(
        `[${store}] control, no hash vs hash: ${summary(skipped)} vs ${summary(wrong)}; ` +
          `AUC ${mw.auc.toFixed(3)}, KS D ${ks.d.toFixed(3)}, p ${mw.p.toExponential(1)}`,
      );
      expect(mw.auc).toBeLessThan(0.1);
      expect(ks.d).toBeGreaterThan(0.8);
    });
  },
);
