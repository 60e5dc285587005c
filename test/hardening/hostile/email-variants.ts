// Hostile input (suite.ts): variants of a registered email make no second account and no
// second recipient (ASVS 5.0 2.2.1, 1.3.11).
import { expect, it } from "vitest";
import { BACKENDS, freshEmail, PASSWORD } from "../support.js";
import { expect4xx, type HostileFixture } from "./fixture.js";

/** Registers its tests in the caller's `describe`, against the fixture's app. */
export function emailVariants(h: HostileFixture): void {
  it("ASVS 5.0 2.2.1, 1.3.11: email variants of an existing account never make a second one", async () => {
    const [local, domain] = h.victim.email.split("@") as [string, string];
    const fullwidth = [...h.victim.email]
      .map((c) => (c >= "!" && c <= "~" ? String.fromCharCode(c.charCodeAt(0) + 0xfee0) : c))
      .join("");
    const variants = [
      h.victim.email.toUpperCase(),
      `${local.toUpperCase()}@${domain}`,
      ` ${h.victim.email} `,
      `\t${h.victim.email}\n`,
      fullwidth,
      `${local}@${domain.toUpperCase()}`,
      `${h.victim.email},eve@evil.test`,
      `${h.victim.email};eve@evil.test`,
      `${h.victim.email}\r\nBcc: eve@evil.test`,
      `${h.victim.email}\nbcc:eve@evil.test`,
      `${h.victim.email}%0d%0abcc:eve@evil.test`,
      `Victim <${h.victim.email}>`,
      `"${h.victim.email}"`,
      `${h.victim.email}\u0000`,
      `${h.victim.email}\u200b`,
      `${h.victim.email}.`,
    ];
    for (const email of variants) {
      const res = await h.client.json("/auth/register", { email, password: PASSWORD });
      expect4xx(res, JSON.stringify(email));
    }
    await h.unchanged();
  });

  it("ASVS 5.0 1.3.11: forgot-password and request-verify-token mail only the stored address", async () => {
    const start = h.app.outbox.length;
    const injected = [
      `${h.victim.email}\r\nBcc: eve@evil.test`,
      `${h.victim.email}\nbcc:eve@evil.test`,
      `${h.victim.email},eve@evil.test`,
      `eve@evil.test,${h.victim.email}`,
      `${h.victim.email}\r\n\r\nbody`,
    ];
    for (const path of ["/auth/forgot-password", "/auth/request-verify-token"]) {
      for (const email of injected) {
        const res = await h.client.json(path, { email });
        expect(res.status, `${path} ${JSON.stringify(email)}`).toBe(422);
      }
      // A variant that is the same mailbox: accepted, and the mail goes to the stored address.
      const res = await h.client.json(path, { email: ` ${h.victim.email.toUpperCase()} ` });
      expect(res.status).toBe(202);
    }
    const sent = h.app.outbox.slice(start);
    expect(sent.map((m) => m.email)).toEqual([h.victim.email, h.victim.email]);
    await h.unchanged();
  });

  it("ASVS 5.0 2.2.1: PATCH /users/me to another account's email in any variant is refused", async () => {
    const other = freshEmail("other");
    await h.client.json("/auth/register", { email: other, password: PASSWORD });
    h.users += 1;
    for (const email of [other.toUpperCase(), ` ${other} `, `${other}\r\nBcc: eve@evil.test`]) {
      for (const backend of BACKENDS) {
        const res = await h.client.json(
          "/users/me",
          { email },
          h.victim.sessions[backend.name],
          "PATCH",
        );
        expect4xx(res, `${backend.name} ${JSON.stringify(email)}`);
      }
    }
    await h.unchanged();
  });
}
