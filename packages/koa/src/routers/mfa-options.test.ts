import { AuthenticationBackend, BearerTransport, type UserProtocol } from "@tessera/core";
import type { Context } from "koa";
import { describe, expect, it } from "vitest";
import { Tessera, type TesseraOptions } from "../tessera.js";
import type { MfaSetup } from "./mfa.js";
import type { PasskeySetup } from "./passkeys.js";

type User = UserProtocol<string>;

const jwt = new AuthenticationBackend<User, string, Context>({
  name: "jwt",
  transport: new BearerTransport({ tokenUrl: "auth/jwt/login" }),
  getStrategy: () => {
    throw new Error("not called: the document is built without requests");
  },
});
const unused = () => {
  throw new Error("not called");
};
// The routes are mounted from the configuration alone: nothing here is called.
const mfa = { factors: unused, challenges: unused } as unknown as MfaSetup<User, string>;
const passkeys = unused as unknown as PasskeySetup<User, string>;

function paths(options: Partial<TesseraOptions<User, string>>, router = {}) {
  const tessera = new Tessera<User, string>({
    getUserManager: unused,
    backends: [jwt],
    ...options,
  });
  tessera.authRouter(jwt, { prefix: "/auth/jwt", ...router });
  return Object.keys(tessera.openapi().paths);
}

describe("where the MFA and passkey login routes come from", () => {
  const added = [
    "/auth/jwt/login/mfa",
    "/auth/jwt/login/mfa/enrol",
    "/auth/jwt/login/mfa/enrol/confirm",
    "/auth/jwt/passkey/options",
    "/auth/jwt/passkey/login",
  ];

  it("none without mfa or passkeys: the auth router is FastAPI Users' alone", () => {
    expect(paths({}).filter((p) => added.includes(p))).toEqual([]);
  });

  it("the instance's mfa and passkeys give every auth router their login routes", () => {
    const policy = { ...mfa, requireFor: "superusers" as const };
    expect(paths({ mfa: policy, passkeys })).toEqual(expect.arrayContaining(added));
  });

  it("the enrolment within the login only with a requireFor policy", () => {
    expect(paths({ mfa })).toContain("/auth/jwt/login/mfa");
    expect(paths({ mfa })).not.toContain("/auth/jwt/login/mfa/enrol");
  });

  it("an auth router's own option gives or takes them", () => {
    const policy = { ...mfa, requireFor: "everyone" as const } as MfaSetup<never, never>;
    expect(paths({}, { mfa: policy, passkeys })).toEqual(expect.arrayContaining(added));
    expect(paths({ mfa, passkeys }, { mfa: false, passkeys: false })).not.toContain(
      "/auth/jwt/login/mfa",
    );
    expect(paths({ mfa, passkeys }, { mfa: false, passkeys: false })).not.toContain(
      "/auth/jwt/passkey/login",
    );
  });

  it("the login documents LOGIN_MFA_REQUIRED, and LOGIN_MFA_ENROLMENT_REQUIRED only with a policy", () => {
    const examples = (options: Partial<TesseraOptions<User, string>>) => {
      const tessera = new Tessera<User, string>({
        getUserManager: unused,
        backends: [jwt],
        ...options,
      });
      tessera.authRouter(jwt, { prefix: "/auth/jwt" });
      return JSON.stringify(tessera.openapi().paths["/auth/jwt/login"]?.post?.responses);
    };
    expect(examples({ mfa })).toContain("LOGIN_MFA_REQUIRED");
    expect(examples({ mfa })).not.toContain("LOGIN_MFA_ENROLMENT_REQUIRED");
    expect(examples({ mfa: { ...mfa, requireFor: "everyone" } })).toContain(
      "LOGIN_MFA_ENROLMENT_REQUIRED",
    );
  });

  it("mfaRouter and passkeysRouter need a setup", () => {
    const tessera = new Tessera<User, string>({ getUserManager: unused, backends: [jwt] });
    expect(() => tessera.mfaRouter()).toThrow(/mfa/);
    expect(() => tessera.passkeysRouter()).toThrow(/passkeys/);
    expect(() => tessera.mfaRouter({}, mfa)).not.toThrow();
  });
});
