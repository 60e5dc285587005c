// Fuzzing (fuzz.test.ts): generated bodies, the fields the routes read (each present or not,
// of the right type or not) plus strangers, as JSON, a form, or anything at all.
import fc from "fast-check";
import { PASSWORD } from "../support.js";
import { contentType, tokenish } from "./headers.js";

/** Strings that broke, or could break, something somewhere. */
const nasty = fc.constantFrom(
  "\u0000",
  "nul\u0000@example.com",
  "{{user.email}}\u0000",
  "{{user.email}}\r\nBcc: x@evil.test",
  "\ud800@example.com",
  "\ufeff{{user.email}}",
  "\u202e{{user.email}}",
  "%00",
  "' OR 1=1 --",
  "$\u007Bjndi:ldap://127.0.0.1/x}",
  "<script>alert(1)</script>",
  "\u0085\u2028\u2029",
  "\u01c5@EXAMPLE.COM",
);

const email = fc.oneof(
  { weight: 3, arbitrary: nasty },
  { weight: 3, arbitrary: fc.emailAddress() },
  { weight: 2, arbitrary: fc.stringMatching(/^[a-z0-9]{1,12}@fuzz\.test$/) },
  {
    weight: 3,
    arbitrary: fc.constantFrom("{{user.email}}", "{{admin.email}}", "nobody@example.com"),
  },
  { weight: 2, arbitrary: fc.string({ maxLength: 30 }) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 30 }) },
  // Control characters and NUL: what no email holds, and PostgreSQL text cannot.
  { weight: 1, arbitrary: fc.string({ unit: "binary-ascii", maxLength: 30 }) },
);
const password = fc.oneof(
  { weight: 2, arbitrary: fc.constant(PASSWORD) },
  { weight: 1, arbitrary: nasty },
  {
    weight: 1,
    arbitrary: fc.constantFrom("\ud800 lone surrogate", "pass\u0000word!", "\u{1F600}".repeat(4)),
  },
  { weight: 3, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: "binary-ascii", maxLength: 40 }) },
);
/** Anything at all, in place of a field's usual type. */
const confusion = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom({ $ne: null }, { $gt: "" }, { $regex: ".*" }, [], null, true, 0, -1, 1e308),
);
const field = <T>(usual: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 5, arbitrary: usual }, { weight: 1, arbitrary: confusion });
const flag = field(fc.boolean());

/** Body fields: those the routes read (each present or not), plus strangers. */
const fields = fc
  .tuple(
    fc.record(
      {
        email: field(email),
        username: field(email),
        password: field(password),
        token: field(fc.oneof(tokenish, fc.constantFrom("{{outbox.verify}}", "{{outbox.reset}}"))),
        grant_type: field(fc.constantFrom("password", "", "client_credentials")),
        is_superuser: flag,
        is_active: flag,
        is_verified: flag,
        current_password: field(password),
        id: field(fc.constantFrom("{{user.id}}", "{{admin.id}}")),
      },
      { requiredKeys: [] },
    ),
    fc.dictionary(
      fc.oneof(
        fc.constantFrom("__proto__", "constructor", "prototype", "$where", "isSuperuser"),
        fc.string({ maxLength: 10 }),
      ),
      confusion,
      { maxKeys: 2 },
    ),
  )
  .map(([known, extra]) => ({ ...extra, ...known }) as Record<string, unknown>);

/** A content type: usually the one the body is written in, sometimes any. */
const typed = (type: string) =>
  fc.oneof({ weight: 4, arbitrary: fc.constant(type) }, { weight: 1, arbitrary: contentType });

/** A body and its content type. */
export const payload: fc.Arbitrary<{ body?: string | Buffer; type?: string }> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.record(
      { type: fc.option(contentType, { nil: undefined }) },
      { requiredKeys: [] },
    ),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      body: fields.map((f) => JSON.stringify(f)),
      type: typed("application/json"),
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      body: fields.map((f) =>
        new URLSearchParams(
          Object.entries(f).map(([k, v]): [string, string] => [
            k,
            typeof v === "string" ? v : JSON.stringify(v),
          ]),
        ).toString(),
      ),
      type: typed("application/x-www-form-urlencoded"),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      body: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
      type: typed("application/json"),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      body: fc.string({ unit: "binary", maxLength: 200 }),
      type: contentType,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      body: fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
      type: contentType,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      body: fc.constantFrom(
        '{"email":',
        "[[[[",
        "{}",
        "null",
        "\u0000",
        '{"a":1}x',
        "a=%ZZ&b=%",
        "=&&==",
      ),
      type: contentType,
    }),
  },
);
