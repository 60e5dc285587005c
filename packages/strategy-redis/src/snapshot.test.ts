import type { UserProtocol } from "@tessera/core";
import { describe, expect, it } from "vitest";
import { decodeSnapshot, encodeSnapshot, isUserSnapshot } from "./snapshot.js";

type User = UserProtocol<string> & Record<string, unknown>;

const user: User = {
  id: "6f1c2c4e-8a0b-4f3e-9a57-1f0c4b2d9e10",
  email: "ada@example.com",
  hashedPassword: "$argon2id$v=19$m=19456,t=2,p=1$salt$hash",
  isActive: true,
  isSuperuser: false,
  isVerified: true,
  displayName: "Ada",
};

describe("encodeSnapshot", () => {
  it("keeps every public field but never the password hash, and keeps the id apart", () => {
    const data = JSON.parse(encodeSnapshot(user, true));
    expect(data).toEqual({
      email: user.email,
      isActive: true,
      isSuperuser: false,
      isVerified: true,
      displayName: "Ada",
    });
  });

  it("a projection cannot drop, fake or smuggle the protected fields", () => {
    const data = JSON.parse(
      encodeSnapshot(user, () => ({
        hashedPassword: "leak",
        isSuperuser: true,
        email: "other@example.com",
        id: "someone-else",
        nickname: "ada",
      })),
    );
    expect(data).toEqual({
      email: user.email,
      isActive: true,
      isSuperuser: false,
      isVerified: true,
      nickname: "ada",
    });
  });
});

describe("decodeSnapshot", () => {
  it("rebuilds the user with the session's id and a blank hash, marked as a snapshot", () => {
    const decoded = decodeSnapshot<User, string>(encodeSnapshot(user, true), user.id);
    expect(decoded).toEqual({ ...user, hashedPassword: "" });
    expect(decoded && isUserSnapshot(decoded)).toBe(true);
    expect(isUserSnapshot(user)).toBe(false);
  });

  it("the stored id wins over any id inside the snapshot", () => {
    const json = JSON.stringify({ ...JSON.parse(encodeSnapshot(user, true)), id: "forged" });
    expect(decodeSnapshot<User, string>(json, user.id)?.id).toBe(user.id);
  });

  it("null for anything that is not a snapshot this package wrote", () => {
    for (const json of [
      "not json",
      "null",
      "[]",
      '"text"',
      '{"email":"a@b.c"}',
      '{"email":"a@b.c","isActive":"yes","isSuperuser":false,"isVerified":false}',
    ]) {
      expect(decodeSnapshot<User, string>(json, user.id), json).toBeNull();
    }
  });

  it("a __proto__ key in stored JSON reaches no prototype: the snapshot is refused (the database is read)", () => {
    const json =
      '{"email":"a@b.c","isActive":true,"isSuperuser":false,"isVerified":false,"__proto__":{"isAdmin":true}}';
    const decoded = decodeSnapshot<User, string>(json, user.id);
    expect(decoded).toBeNull();
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
  });
});
