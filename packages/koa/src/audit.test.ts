import { IncomingMessage, ServerResponse } from "node:http";
import { Socket } from "node:net";
import { type AuditEvent, ForbiddenError, UnauthorizedError } from "@tessera/core";
import Koa from "koa";
import { describe, expect, it } from "vitest";
import { auditAuthentication, koaAuditLog, loginMethodOf } from "./audit.js";

/** A real Koa context of a request that never touched a socket. */
function contextOf(method: string, url: string, headers: Record<string, string> = {}) {
  const app = new Koa();
  const req = new IncomingMessage(new Socket());
  req.method = method;
  req.url = url;
  req.headers = headers;
  return { app, ctx: app.createContext(req, new ServerResponse(req)) };
}

describe("loginMethodOf: the step a login route is", () => {
  it.each([
    ["/login", "password"],
    ["/auth/jwt/login/", "password"],
    ["/login/mfa", "mfa"],
    ["/LOGIN/MFA", "mfa"],
    ["/login/mfa/enrol/confirm", "mfa_enrolment"],
    ["/passkey/login", "passkey"],
    ["/callback", "oauth"],
  ])("%s -> %s", (path, method) => {
    expect(loginMethodOf(path)).toBe(method);
  });
});

describe("koaAuditLog: the request's context in every event (ASVS 5.0 16.2.1)", () => {
  it("method and path without the query, address and agent as the device function gives them", () => {
    const seen: [AuditEvent, unknown][] = [];
    const log = koaAuditLog(
      (event, ctx) => void seen.push([event, ctx]),
      () => ({ ipAddress: "198.51.100.7", userAgent: "agent" }),
    );
    const { ctx } = contextOf("POST", "/auth/jwt/login?token=secret-in-query");
    log.emit({ type: "token_refused", reason: "token_invalid" }, ctx);
    expect(seen[0]?.[0]).toMatchObject({
      ip: "198.51.100.7",
      userAgent: "agent",
      method: "POST",
      route: "/auth/jwt/login",
    });
    expect(JSON.stringify(seen[0]?.[0])).not.toContain("secret-in-query");
    expect(seen[0]?.[1]).toBe(ctx);
  });

  it("the signed-in user and backend from ctx.state", () => {
    const seen: AuditEvent[] = [];
    const log = koaAuditLog(
      (event) => void seen.push(event),
      () => ({ ipAddress: null, userAgent: null }),
    );
    const { ctx } = contextOf("PATCH", "/users/me");
    ctx.state.user = { id: 42, email: "u@example.com" };
    ctx.state.auth = { backend: { name: "cookie" } };
    log.emit({ type: "reauthentication_failed", reason: "invalid_current_password" }, ctx);
    expect(seen[0]).toMatchObject({ userId: "42", email: "u@example.com", backend: "cookie" });
  });

  it("a failing sink goes to the app's error event", () => {
    const log = koaAuditLog(
      () => {
        throw new Error("sink down");
      },
      () => ({ ipAddress: null, userAgent: null }),
    );
    const { app, ctx } = contextOf("GET", "/");
    const errors: unknown[] = [];
    app.on("error", (error) => errors.push(error));
    log.emit({ type: "token_refused", reason: "token_invalid" }, ctx);
    expect(errors).toEqual([new Error("sink down")]);
  });
});

describe("auditAuthentication: which refusals are events (ASVS 5.0 16.3.2)", () => {
  const run = (error: unknown) => {
    const seen: AuditEvent[] = [];
    const log = koaAuditLog(
      (event) => void seen.push(event),
      () => ({ ipAddress: null, userAgent: null }),
    );
    auditAuthentication(log, contextOf("GET", "/x").ctx, error);
    return seen.map((e) => [e.type, e.reason, e.backend, e.userId]);
  };

  it("no token at all, or an error of unknown origin: none", () => {
    expect(run(new UnauthorizedError({ reason: "no_token" }))).toEqual([]);
    expect(run(new UnauthorizedError())).toEqual([]);
    expect(run(new Error("other"))).toEqual([]);
  });

  it("a refused token, an inactive user, a missing requirement", () => {
    expect(run(new UnauthorizedError({ reason: "token_invalid", backend: "jwt" }))).toEqual([
      ["token_refused", "token_invalid", "jwt", null],
    ]);
    expect(
      run(new UnauthorizedError({ reason: "user_inactive", backend: "db", userId: "7" })),
    ).toEqual([["token_refused", "user_inactive", "db", "7"]]);
    expect(
      run(new ForbiddenError({ reason: "not_verified", backend: "cookie", userId: "8" })),
    ).toEqual([["access_denied", "not_verified", "cookie", "8"]]);
  });

  it("nothing without a stream", () => {
    expect(() =>
      auditAuthentication(null, contextOf("GET", "/").ctx, new UnauthorizedError()),
    ).not.toThrow();
  });
});
