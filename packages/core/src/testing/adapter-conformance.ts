import type {
  AccessTokenDatabase,
  AccessTokenProtocol,
  AccessTokenWithUserReader,
  UserDatabase,
  UserProtocol,
} from "../models.js";
import { accessTokenDatabaseCases } from "./access-token-database-cases.js";
import { mfaCases } from "./mfa-cases.js";
import { oauthAccountCases } from "./oauth-account-cases.js";
import { refreshCases } from "./refresh-cases.js";
import { sessionFieldsCases } from "./session-fields-cases.js";
import { userDatabaseCases } from "./user-database-cases.js";

/**
 * One adapter on one database, as the conformance suite drives it: how to set it up, empty
 * it between tests and tear it down, and what an id of its looks like.
 */
export interface AdapterFixture<ID> {
  /** Shown in test names, e.g. "mikro-orm/postgresql". */
  name: string;
  /** Connects and creates the schema; called once. */
  setup(): Promise<void>;
  /** Empties users, their OAuth accounts, second factors, passkeys and tokens; called before every test. */
  reset(): Promise<void>;
  teardown(): Promise<void>;
  users(): UserDatabase<UserProtocol<ID>, ID>;
  tokens(): AccessTokenDatabase<AccessTokenProtocol<ID>, ID> &
    Partial<AccessTokenWithUserReader<AccessTokenProtocol<ID>, UserProtocol<ID>, ID>>;
  /** Ids that are well-formed but belong to nobody. */
  unknownId: ID;
  /** Values that are not ids at all: lookups must return null, not throw a driver error. */
  malformedIds: unknown[];
  /** Every stored token value, as in the database (to prove only digests are stored). */
  storedTokenValues(): Promise<string[]>;
  /**
   * False on a server that runs a filtered update as a read then a write (FerretDB v1, the
   * harness's stand-in for mongod): the race cases of compare-and-set and of
   * `rotateRefresh` cannot hold there, and pin what does hold instead (the stored value is
   * a winner's). MongoDB itself applies filter and update atomically per document.
   * @default true
   */
  atomicConditionalUpdates?: boolean;
  /**
   * Whether the user database keeps OAuth accounts (`OAuthAccountDatabase`). By default it
   * must: every OAuth case runs and fails on a database that does not implement the
   * interface. An adapter without OAuth support says so with `false`, and one case then
   * checks that its user database indeed implements none of it. Never a silent skip.
   * @default true
   */
  oauth?: boolean;
  /**
   * Whether the user database keeps second factors and passkeys (`MfaDatabase`). By default
   * it must: every MFA case runs and fails on a database that does not implement the
   * interface. An adapter without MFA support says so with `false`, and one case then checks
   * that its user database indeed implements none of it. Never a silent skip.
   * @default true
   */
  mfa?: boolean;
  /** Name of an extra user field the fixture's user model has (optional). */
  extraField?: { key: string; value: unknown };
}

/**
 * The parts of a test runner the suite registers its tests with. vitest's module and
 * Jest's globals fit as they are; for `node:test`, pass `before` and `after` as
 * `beforeAll` and `afterAll`.
 */
export interface ConformanceRunner {
  describe(name: string, body: () => void): unknown;
  it(name: string, body: () => Promise<void>): unknown;
  beforeAll(hook: () => Promise<void>, timeoutMs?: number): unknown;
  afterAll(hook: () => Promise<void>): unknown;
  beforeEach(hook: () => Promise<void>): unknown;
}

/** One rule of the suite: a test name and its body, which throws an `AssertionError`. */
export interface ConformanceCase {
  name: string;
  run(): Promise<void>;
}

/**
 * Registers the adapter conformance suite for `fixture` with `runner`: every user and
 * access-token adapter runs it against every database it supports, in the style of
 * Lucia's adapter-test. Assertions are `node:assert`'s, so any runner will do.
 *
 * @example
 * import * as vitest from "vitest";
 * import { describeAdapterConformance } from "@tessera/core/testing";
 * describeAdapterConformance(myPostgresFixture, vitest);
 */
export function describeAdapterConformance<ID>(
  fixture: AdapterFixture<ID>,
  runner: ConformanceRunner,
): void {
  const { describe, it, beforeAll, afterAll, beforeEach } = runner;
  describe(`adapter conformance: ${fixture.name}`, () => {
    beforeAll(() => fixture.setup(), 120_000);
    afterAll(() => fixture.teardown());
    beforeEach(() => fixture.reset());

    describe("UserDatabase", () => {
      for (const c of userDatabaseCases(fixture)) it(c.name, () => c.run());
    });
    describe("OAuthAccountDatabase", () => {
      for (const c of oauthAccountCases(fixture)) it(c.name, () => c.run());
    });
    describe("MfaDatabase", () => {
      for (const c of mfaCases(fixture)) it(c.name, () => c.run());
    });
    describe("AccessTokenDatabase", () => {
      for (const c of accessTokenDatabaseCases(fixture)) it(c.name, () => c.run());
      for (const c of sessionFieldsCases(fixture)) it(c.name, () => c.run());
      for (const c of refreshCases(fixture)) it(c.name, () => c.run());
    });
  });
}
