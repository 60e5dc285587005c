// Hostile input (suite.ts): fields an attacker adds to a body, privileged, internal or
// polluting the prototype (ASVS 5.0 15.3.3, 15.3.6).
import { randomBytes } from "node:crypto";
import { expect, it } from "vitest";
import { BACKENDS, freshEmail, PASSWORD } from "../support.js";
import { expect4xx, type HostileFixture } from "./fixture.js";

/** Registers its tests in the caller's `describe`, against the fixture's app. */
export function massAssignment(h: HostileFixture): void {
  it("ASVS 5.0 15.3.3: mass assignment on register: privileged and internal fields are ignored", async () => {
    const payloads: Record<string, unknown>[] = [
      { is_superuser: true },
      { is_verified: true },
      { is_active: false },
      { isSuperuser: true, isVerified: true, isActive: false },
      { id: h.victim.id },
      { _id: h.victim.id },
      { hashed_password: "$argon2id$v=19$m=1,t=1,p=1$AAAA$AAAA" },
      { hashedPassword: "x" },
      { is_superuser: "true", is_verified: 1 },
    ];
    for (const extra of payloads) {
      const email = freshEmail("mass");
      const res = await h.client.json("/auth/register", { email, password: PASSWORD, ...extra });
      const what = JSON.stringify(extra);
      // Dropped (201) or refused (422): never applied.
      expect([201, 422], what).toContain(res.status);
      const stored = await h.app.userDb.getByEmail(email);
      if (res.status === 422) {
        expect(stored, what).toBeNull();
        continue;
      }
      h.users += 1;
      expect(stored, what).toMatchObject({
        isSuperuser: false,
        isVerified: false,
        isActive: true,
      });
      expect(stored?.id, what).not.toBe(h.victim.id);
      expect(stored?.hashedPassword, what).toMatch(/^\$argon2id\$v=19\$m=19456,/);
      expect(res.body, what).toMatchObject({
        is_superuser: false,
        is_verified: false,
        is_active: true,
      });
    }
    await h.unchanged();
  });

  it("ASVS 5.0 15.3.3: mass assignment on PATCH /users/me, through every backend", async () => {
    const payloads: Record<string, unknown>[] = [
      { is_superuser: true, is_verified: true },
      { is_active: false },
      { isSuperuser: true, isVerified: true, isActive: false },
      { id: randomBytes(8).toString("hex") },
      { hashed_password: "x", hashedPassword: "x" },
      { _id: "000000000000000000000000" },
    ];
    for (const backend of BACKENDS) {
      for (const extra of payloads) {
        const res = await h.client.json(
          "/users/me",
          extra,
          h.victim.sessions[backend.name],
          "PATCH",
        );
        expect(res.status, `${backend.name} ${JSON.stringify(extra)}`).toBeLessThan(500);
        await h.unchanged();
      }
      expect(
        (await h.client.send({ path: "/users/me", headers: h.victim.sessions[backend.name] }))
          .status,
      ).toBe(200);
    }
    // A user cannot reach the superuser routes for themselves either.
    const res = await h.client.json(
      `/users/${h.victim.id}`,
      { is_superuser: true },
      h.victim.sessions.db,
      "PATCH",
    );
    expect(res.status).toBe(403);
    await h.unchanged();
  });

  const pollution = [
    ['{"__proto__":{"isSuperuser":true,"is_superuser":true}', "top-level __proto__"],
    ['{"constructor":{"prototype":{"isSuperuser":true}}', "constructor.prototype"],
    ['{"prototype":{"isSuperuser":true}', "prototype"],
    ['{"__proto__":{"__proto__":{"polluted":1}}', "nested __proto__"],
  ] as const;

  it("ASVS 5.0 15.3.6: prototype pollution payloads on register, update, login and reset pollute nothing", async () => {
    const protoKeys = Object.getOwnPropertyNames(Object.prototype).sort();
    for (const [prefix, what] of pollution) {
      const email = freshEmail("proto");
      const body = `${prefix},"email":"${email}","password":"${PASSWORD}"}`;
      const res = await h.client.send({
        path: "/auth/register",
        headers: { "content-type": "application/json" },
        body,
      });
      expect([201, 422], what).toContain(res.status);
      if (res.status === 201) {
        h.users += 1;
        expect(await h.app.userDb.getByEmail(email), what).toMatchObject({
          isSuperuser: false,
          isVerified: false,
        });
      }
      for (const backend of BACKENDS) {
        const patch = await h.client.send({
          method: "PATCH",
          path: "/users/me",
          headers: { "content-type": "application/json", ...h.victim.sessions[backend.name] },
          body: `${prefix}}`,
        });
        expect(patch.status, `${backend.name} ${what}`).toBeLessThan(500);
      }
      for (const path of [
        "/auth/forgot-password",
        "/auth/request-verify-token",
        "/auth/verify",
        "/auth/reset-password",
      ]) {
        const r = await h.client.send({
          path,
          headers: { "content-type": "application/json" },
          body: `${prefix}}`,
        });
        expect4xx(r, `${path} ${what}`);
      }
    }
    for (const form of [
      `__proto__[isSuperuser]=1&username=${h.victim.email}&password=wrong`,
      "__proto__=x&constructor=y&prototype=z",
      "username[__proto__][polluted]=1&password[constructor][prototype][polluted]=1",
    ]) {
      const r = await h.client.send({
        path: "/auth/db/login",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: form,
      });
      expect4xx(r, form);
    }
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(protoKeys);
    expect(({} as Record<string, unknown>).isSuperuser).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    await h.unchanged();
  });
}
