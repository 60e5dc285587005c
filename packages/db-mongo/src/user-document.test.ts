import { ObjectId } from "mongodb";
import { describe, expect, it } from "vitest";
import { fromUserDocument, toDocumentFields } from "./user-document.js";

describe("user documents", () => {
  it("protocol fields are stored snake_case, the email normalized, extras as given", () => {
    expect(
      toDocumentFields({
        email: " Ada@EXAMPLE.com ",
        hashedPassword: "h",
        isActive: true,
        isSuperuser: false,
        isVerified: false,
        displayName: "Ada",
      }),
    ).toEqual({
      email: "ada@example.com",
      hashed_password: "h",
      is_active: true,
      is_superuser: false,
      is_verified: false,
      displayName: "Ada",
    });
  });

  it("undefined values are not written (an update leaves those fields alone)", () => {
    expect(toDocumentFields({ isVerified: true, email: undefined })).toEqual({ is_verified: true });
  });

  it("an extra may not shadow a stored protocol field, _id or id, nor be an operator or a path", () => {
    const fields = toDocumentFields({
      isSuperuser: false,
      is_superuser: true,
      hashed_password: "attacker",
      _id: "x",
      id: "y",
      $set: { is_superuser: true },
      "profile.role": "admin",
      nickname: "ok",
    });
    expect(fields).toEqual({ is_superuser: false, nickname: "ok" });
  });

  it("a stored document reads back as the camelCase model with a string id and its extras", () => {
    const _id = new ObjectId();
    const user = fromUserDocument({
      _id,
      email: "ada@example.com",
      hashed_password: "h",
      is_active: true,
      is_superuser: true,
      is_verified: false,
      displayName: "Ada",
    });
    expect(user).toEqual({
      id: _id.toHexString(),
      email: "ada@example.com",
      hashedPassword: "h",
      isActive: true,
      isSuperuser: true,
      isVerified: false,
      displayName: "Ada",
    });
  });
});
