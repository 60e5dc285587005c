import {
  AuthenticationBackend,
  BearerTransport,
  ConfigurationError,
  CookieTransport,
  type Strategy,
} from "@tessera/core";
import { describe, expect, it } from "vitest";
import { Tessera } from "../tessera.js";
import { safeRedirectPath } from "./form-redirect.js";

describe("safeRedirectPath", () => {
  it("keeps a path of this site within the allowed prefixes, normalized", () => {
    expect(safeRedirectPath("/", ["/"])).toBe("/");
    expect(safeRedirectPath("/app/x?y=1#z", ["/app"])).toBe("/app/x?y=1#z");
    expect(safeRedirectPath("/app", ["/app/"])).toBeNull();
    expect(safeRedirectPath("/app/./x", ["/app"])).toBe("/app/x");
    expect(safeRedirectPath("/a", [])).toBeNull();
  });

  it.each([
    "https://evil.example",
    "//evil.example",
    "///evil.example",
    "/\\evil.example",
    "\\/evil.example",
    "javascript:alert(1)",
    "/\t/evil.example",
    "/\r\n/evil.example",
    "/\u00a0/evil",
    "/app/../../evil",
    "",
  ])("never an open redirect: %j", (next) => {
    const kept = safeRedirectPath(next, ["/"]);
    if (kept !== null)
      expect(new URL(kept, "https://site.example").origin).toBe("https://site.example");
    if (next !== "/app/../../evil") expect(kept).toBeNull();
  });

  it("ignores what is not a string", () => {
    expect(safeRedirectPath(["/app"], ["/"])).toBeNull();
    expect(safeRedirectPath(undefined, ["/"])).toBeNull();
  });
});

describe("formRedirect configuration", () => {
  const strategy = {} as Strategy<never, never>;
  const make = (name: string, transport: BearerTransport | CookieTransport) =>
    new AuthenticationBackend<never, never, never>({
      name,
      transport,
      getStrategy: () => strategy,
    });

  it("is for cookie backends, and takes paths of this site only", () => {
    const bearer = make("bearer", new BearerTransport({ tokenUrl: "t" }));
    const cookie = make("cookie", new CookieTransport());
    const tessera = new Tessera<never, never>({
      getUserManager: () => {
        throw new Error("unused");
      },
      backends: [bearer, cookie] as never,
    });
    expect(() => tessera.authRouter(bearer as never, { formRedirect: { success: "/" } })).toThrow(
      ConfigurationError,
    );
    for (const path of ["https://evil.example", "//evil", "home", "/\\x"]) {
      expect(() =>
        tessera.authRouter(cookie as never, { formRedirect: { success: path } }),
      ).toThrow(ConfigurationError);
      expect(() =>
        tessera.authRouter(cookie as never, { formRedirect: { success: "/", allowed: [path] } }),
      ).toThrow(ConfigurationError);
    }
    expect(() =>
      tessera.authRouter(cookie as never, { formRedirect: { success: "/" } }),
    ).not.toThrow();
  });
});
