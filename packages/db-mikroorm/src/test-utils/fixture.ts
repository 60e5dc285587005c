// Builds the conformance suite's fixture for one driver and one pair of entities.
import type { EntityName } from "@mikro-orm/core";
import type { AdapterFixture } from "@tessera/core/testing";
import { MikroOrmAccessTokenDatabase } from "../access-token-database.js";
import { tableOf } from "../fast-path/statements.js";
import { modelOf } from "../lib/model.js";
import type { MikroOrmAdapterOptions, MikroOrmMfaEntities } from "../options.js";
import type { EntityTarget } from "../types.js";
import { MikroOrmUserDatabase } from "../user-database.js";
import { type DriverKind, openTestOrm, type SqliteDialectKind, type TestOrm } from "./orm.js";

export type IdKind = "uuid" | "integer" | "objectId";

const UNKNOWN: Record<IdKind, unknown> = {
  uuid: "00000000-0000-4000-8000-000000000000",
  integer: 2_000_000_000,
  objectId: "0123456789abcdef01234567",
};

// Every kind gets every other kind's ids too: a UUID is as malformed for an integer column
// as an ObjectId is for a uuid column.
const MALFORMED: unknown[] = [
  "",
  "not-an-id",
  { $ne: null },
  { $gt: "" },
  ["00000000-0000-4000-8000-000000000000"],
  null,
  undefined,
  true,
  1.5,
  -1,
  0,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  2 ** 60,
  "1 OR 1=1",
  "1; drop table users",
  "0123456789abcdef0123456z",
  "x".repeat(10_000),
  "1".repeat(10_000),
];

const malformedFor = (kind: IdKind): unknown[] => [
  ...MALFORMED,
  ...(kind === "uuid" ? [42, "42", UNKNOWN.objectId] : []),
  ...(kind === "integer" ? [UNKNOWN.uuid, UNKNOWN.objectId, "42abc"] : []),
  ...(kind === "objectId" ? [42, UNKNOWN.uuid, "0123456789abcdef012345678"] : []),
];

export interface FixtureOptions {
  name: string;
  driver: DriverKind;
  idKind: IdKind;
  user: EntityTarget;
  token: EntityTarget;
  /**
   * The OAuth account entity: the user database is then an `OAuthAccountDatabase` too, and
   * the suite's OAuth cases run. Without it, it has no OAuth methods (the suite checks that).
   */
  oauth?: EntityTarget;
  /**
   * The MFA entities: the user database is then an `MfaDatabase` too, and the suite's MFA
   * cases run. Without them, it has no MFA methods (the suite checks that).
   */
  mfa?: MikroOrmMfaEntities;
  extraField?: { key: string; value: unknown };
  /**
   * Hand the adapters the ORM's global EntityManager (`orm.em`, no fork), as an app may to
   * save the per-request fork; otherwise a fresh fork per adapter, as a request would get.
   */
  globalEm?: boolean;
  /** On SQLite: TesseraSqliteDialect (the default, with the fast reads) or MikroORM's own. */
  sqliteDialect?: SqliteDialectKind;
  /** Given to both adapters, e.g. `{ fastPath: false }` for plain MikroORM reads. */
  adapterOptions?: MikroOrmAdapterOptions;
}

/** The fixture, plus access to the ORM it opened (for extra tests in the same file). */
export function mikroOrmFixture(
  options: FixtureOptions,
): AdapterFixture<unknown> & { db(): TestOrm } {
  let db: TestOrm | undefined;
  const emFor = (orm: TestOrm) => (options.globalEm ? orm.orm.em : orm.em());
  const open = () => {
    if (!db) throw new Error("fixture not set up");
    return db;
  };
  return {
    name: options.name,
    db: open,
    async setup() {
      db = await openTestOrm(
        options.driver,
        [
          options.user,
          options.token,
          ...(options.oauth ? [options.oauth] : []),
          ...(options.mfa ? [options.mfa.totp, options.mfa.recoveryCode, options.mfa.passkey] : []),
        ],
        {},
        {},
        options.sqliteDialect,
      );
    },
    async teardown() {
      await db?.close();
    },
    async reset() {
      const em = open().em();
      if (options.oauth) await em.nativeDelete(options.oauth as EntityName<object>, {});
      if (options.mfa) {
        for (const entity of Object.values(options.mfa))
          await em.nativeDelete(entity as EntityName<object>, {});
      }
      await em.nativeDelete(options.token as EntityName<object>, {});
      await em.nativeDelete(options.user as EntityName<object>, {});
    },
    users: () =>
      new MikroOrmUserDatabase(emFor(open()), options.user, {
        ...options.adapterOptions,
        ...(options.oauth ? { oauthAccount: options.oauth } : {}),
        ...(options.mfa ? { mfa: options.mfa } : {}),
      }) as never,
    tokens: () =>
      new MikroOrmAccessTokenDatabase(
        emFor(open()),
        options.token,
        options.adapterOptions,
      ) as never,
    unknownId: UNKNOWN[options.idKind],
    malformedIds: malformedFor(options.idKind),
    storedTokenValues: () => storedTokenValues(open(), options.token),
    ...(options.extraField ? { extraField: options.extraField } : {}),
    ...(options.oauth ? {} : { oauth: false }),
    ...(options.mfa ? {} : { mfa: false }),
  };
}

/** Every token value exactly as stored: the raw column or document field, no ORM mapping. */
async function storedTokenValues(db: TestOrm, entity: EntityTarget): Promise<string[]> {
  const em = db.em();
  const model = modelOf(em, entity);
  const field = model.pk.fieldNames[0] ?? "token";
  if (model.mongo) {
    const conn = em.getConnection() as unknown as {
      find(e: unknown, w: object): Promise<Record<string, string>[]>;
    };
    return (await conn.find(model.meta.class, {})).map((d) => String(d[field]));
  }
  const conn = em.getConnection() as unknown as {
    execute(sql: string): Promise<Record<string, string>[]>;
  };
  const rows = await conn.execute(
    `select ${model.platform.quoteIdentifier(field)} as v from ${tableOf(em, model)}`,
  );
  return rows.map((r) => String(r.v));
}
