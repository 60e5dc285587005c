// Fuzzing (fuzz.test.ts): generated requests, a route of the test app (or a near miss), any
// method now and then, generated headers and a generated body.
import fc from "fast-check";
import type { Outgoing } from "../../support/client.js";
import { BACKENDS } from "../support.js";
import { payload } from "./bodies.js";
import { headers } from "./headers.js";

const id = fc.oneof(
  fc.constantFrom(
    "{{user.id}}",
    "{{admin.id}}",
    "me",
    "000000000000000000000000",
    "0",
    "-1",
    "%00",
    "..%2F",
  ),
  fc.uuid(),
  fc.string({ maxLength: 30 }).map(encodeURIComponent),
);

const BACKEND_NAMES = BACKENDS.map((b) => b.name);
const route = fc.oneof(
  fc
    .tuple(
      fc.constant("POST"),
      fc.constantFrom(...BACKEND_NAMES),
      fc.constantFrom("login", "logout", "logout-all"),
    )
    .map(([m, b, a]) => [m, `/auth/${b}/${a}`] as const),
  fc
    .tuple(
      fc.constant("POST"),
      fc.constantFrom(
        "register",
        "request-verify-token",
        "verify",
        "forgot-password",
        "reset-password",
      ),
    )
    .map(([m, a]) => [m, `/auth/${a}`] as const),
  fc.tuple(fc.constantFrom("GET", "PATCH"), fc.constant("/users/me")),
  fc.tuple(fc.constant("GET"), fc.constant("/users/me/sessions")),
  fc.tuple(fc.constant("DELETE"), id).map(([m, i]) => [m, `/users/me/sessions/${i}`] as const),
  fc
    .tuple(fc.constantFrom("GET", "PATCH", "DELETE"), id)
    .map(([m, i]) => [m, `/users/${i}`] as const),
  fc
    .tuple(
      fc.constant("GET"),
      fc.constantFrom("", "/active", "/verified", "/superuser", "/optional"),
    )
    .map(([m, p]) => [m, `/protected${p}`] as const),
  fc.tuple(
    fc.constantFrom("GET", "POST", "PUT", "OPTIONS", "HEAD", "TRACE"),
    fc.constantFrom(
      "//auth/jwt/login",
      "/auth/jwt/login/",
      "/AUTH/DB/LOGIN",
      "/users/me?x=1&x=2",
      "/users/%ff",
      "/users/..%2fme",
      "/auth/register%00",
      "/",
      "/nope",
    ),
  ),
);

/** A whole request, its token references not yet filled in. */
export const request: fc.Arbitrary<Outgoing & { method: string }> = fc
  .record({
    route,
    otherMethod: fc.oneof(
      { weight: 9, arbitrary: fc.constant(null) },
      {
        weight: 1,
        arbitrary: fc.constantFrom("GET", "POST", "PATCH", "DELETE", "PUT", "HEAD", "OPTIONS"),
      },
    ),
    headers,
    payload,
  })
  .map(({ route: [method, path], otherMethod, headers: h, payload: { body, type } }) => ({
    method: otherMethod ?? method,
    path,
    headers: {
      ...(h as Record<string, string>),
      ...(type !== undefined ? { "content-type": type } : {}),
    },
    ...(body !== undefined ? { body } : {}),
  }));
