// Hostile input (suite.ts): operators and control characters where strings belong, NoSQL
// operators, SQL in forms and ids, NUL in the username (ASVS 5.0 1.2.4, 2.2.1, 16.5.3).
import { expect, it } from "vitest";
import { BACKENDS, type Backend, freshEmail, login, PASSWORD } from "../support.js";
import type { HostileFixture } from "./fixture.js";

/** Registers its tests in the caller's `describe`, against the fixture's app. */
export function injection(h: HostileFixture): void {
  const operators = [
    { $ne: null },
    { $gt: "" },
    { $regex: ".*" },
    { $where: "return true" },
    { $exists: true },
    ["a"],
    1,
    true,
  ];

  it("ASVS 5.0 1.2.4: NoSQL operators where strings belong -> 422, no mail sent, nothing changes", async () => {
    const outbox = h.app.outbox.length;
    for (const op of operators) {
      const what = JSON.stringify(op);
      for (const [path, body] of [
        ["/auth/register", { email: op, password: PASSWORD }],
        ["/auth/register", { email: freshEmail("op"), password: op }],
        ["/auth/forgot-password", { email: op }],
        ["/auth/request-verify-token", { email: op }],
        ["/auth/verify", { token: op }],
        ["/auth/reset-password", { token: op, password: "new password 123" }],
        ["/auth/reset-password", { token: "x", password: op }],
      ] as const) {
        const res = await h.client.json(path, body);
        expect(res.status, `${path} ${what}`).toBe(422);
      }
      for (const backend of BACKENDS) {
        const res = await h.client.json(
          "/users/me",
          { email: op },
          h.victim.sessions[backend.name],
          "PATCH",
        );
        expect(res.status, `PATCH /users/me ${what} via ${backend.name}`).toBe(422);
      }
    }
    expect(h.app.outbox.length).toBe(outbox);
    await h.unchanged();
  });

  it("ASVS 5.0 1.2.4: operator syntax in the login form and in ids is plain text", async () => {
    for (const form of [
      `username[$ne]=x&password[$ne]=x`,
      `username[$regex]=.*&password=${PASSWORD}`,
      `username=${encodeURIComponent('{"$ne":null}')}&password=${encodeURIComponent('{"$ne":null}')}`,
      `username=${encodeURIComponent(`${h.victim.email}' OR '1'='1`)}&password=x`,
      `username=${encodeURIComponent(`${h.victim.email}' --`)}&password=x`,
      `username=.*&password=${PASSWORD}`,
    ]) {
      for (const backend of BACKENDS) {
        const res = await h.client.send({
          path: `/auth/${backend.name}/login`,
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: form,
        });
        expect([400, 422], `${backend.name} ${form}`).toContain(res.status);
      }
    }
    // The superuser routes parse ids strictly: operators and SQL are unknown ids.
    const admin = freshEmail("admin");
    await h.client.json("/auth/register", { email: admin, password: PASSWORD });
    h.users += 1;
    const adminUser = await h.app.userDb.getByEmail(admin);
    if (!adminUser) throw new Error("no admin");
    await h.app.userDb.update(adminUser, { isSuperuser: true });
    const { headers } = await login(h.client, BACKENDS[0] as Backend, admin);
    for (const id of [
      '{"$ne":null}',
      "[$ne]=1",
      "' OR 1=1 --",
      "000000000000000000000000",
      "%00",
      "..%2F..%2Fetc%2Fpasswd",
    ]) {
      const res = await h.client.send({ path: `/users/${encodeURIComponent(id)}`, headers });
      expect(res.status, id).toBe(404);
      const del = await h.client.send({
        method: "DELETE",
        path: `/users/${encodeURIComponent(id)}`,
        headers,
      });
      expect(del.status, id).toBe(404);
    }
    await h.unchanged();
  });

  // Bug found by this suite: on PostgreSQL a NUL byte in the username reached the query,
  // which PostgreSQL rejects ("invalid byte sequence"), and the login answered 500.
  it("ASVS 5.0 2.2.1, 16.5.3: control characters in the login username -> 400, on every backend", async () => {
    for (const username of [
      `${h.victim.email}\u0000`,
      "\u0000",
      `${h.victim.email.slice(0, 3)}\u0000${h.victim.email.slice(3)}`,
      `${h.victim.email}\u0001\u001f\u007f`,
      `\ud800${h.victim.email}`,
    ]) {
      for (const backend of BACKENDS) {
        const res = await h.client.form(`/auth/${backend.name}/login`, {
          username,
          password: PASSWORD,
        });
        expect(res.status, `${backend.name} ${JSON.stringify(username)}`).toBe(400);
        expect(res.body).toEqual({ detail: "LOGIN_BAD_CREDENTIALS" });
      }
    }
    await h.unchanged();
  });
}
