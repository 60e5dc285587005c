import { describe, expect, it } from "vitest";
import { AuditLog } from "./audit-log.js";
import type { AuditEvent } from "./events.js";

const fixed = () => new Date("2026-12-06T12:00:00.000+01:00");

describe("AuditLog: what an event holds (ASVS 5.0 16.2.1, 16.2.2)", () => {
  it("adds a UTC timestamp and the request's context; unknown fields are null", () => {
    const seen: [AuditEvent, unknown][] = [];
    const log = new AuditLog((event, context) => void seen.push([event, context]), {
      now: fixed,
      describe: (context) => (context === "ctx" ? { ip: "192.0.2.1", route: "/x" } : undefined),
    });
    log.emit({ type: "token_refused", reason: "token_invalid", backend: "jwt" }, "ctx");
    expect(seen).toEqual([
      [
        {
          type: "token_refused",
          timestamp: "2026-12-06T11:00:00.000Z",
          reason: "token_invalid",
          userId: null,
          email: null,
          ip: "192.0.2.1",
          userAgent: null,
          method: null,
          route: "/x",
          operation: null,
          backend: "jwt",
        },
        "ctx",
      ],
    ]);
  });

  it("the event's own fields win over the described context", () => {
    const seen: AuditEvent[] = [];
    const log = new AuditLog((event) => void seen.push(event), {
      describe: () => ({ userId: "superuser", email: "admin@example.com" }),
    });
    log.emit(
      {
        type: "session_revoked",
        reason: "session_ended_by_superuser",
        scope: "one",
        sessionId: "s1",
        userId: "u1",
        email: "user@example.com",
      },
      {},
    );
    expect(seen[0]).toMatchObject({ userId: "u1", email: "user@example.com", sessionId: "s1" });
  });

  it("without a context nothing is described (a script's event)", () => {
    const seen: AuditEvent[] = [];
    let described = 0;
    const log = new AuditLog((event) => void seen.push(event), {
      describe: () => {
        described++;
        return { ip: "x" };
      },
    });
    log.emit({ type: "token_theft", reason: "refresh_token_reused", sessionId: null });
    expect(described).toBe(0);
    expect(seen[0]?.ip).toBeNull();
  });
});

describe("AuditLog: client-chosen strings (ASVS 5.0 16.4.1)", () => {
  it("escapes control characters, DEL, C1 and the line separators, also in a nested detail", () => {
    const seen: AuditEvent[] = [];
    const log = new AuditLog((event) => void seen.push(event));
    log.emit({
      type: "login_failed",
      reason: "bad_credentials",
      authMethod: "password",
      email: "a\nb\r\u0000\u007f\u0085\u2028\u2029c",
    });
    log.emit({
      type: "security_change",
      reason: "passkey_added",
      detail: { type: "passkey_added", credentialId: "id", name: "my\nkey" },
    });
    expect(seen[0]?.email).toBe("a\\u000ab\\u000d\\u0000\\u007f\\u0085\\u2028\\u2029c");
    expect(seen[1]).toMatchObject({ detail: { name: "my\\u000akey" } });
  });

  it("keeps printable text as it is, Unicode included", () => {
    const seen: AuditEvent[] = [];
    new AuditLog((event) => void seen.push(event)).emit({
      type: "login_failed",
      reason: "bad_credentials",
      authMethod: "password",
      email: "zoë@exämple.com",
    });
    expect(seen[0]?.email).toBe("zoë@exämple.com");
  });

  it("cuts long values to their bound", () => {
    const seen: AuditEvent[] = [];
    const log = new AuditLog((event) => void seen.push(event));
    log.emit({
      type: "login_failed",
      reason: "bad_credentials",
      authMethod: "password",
      email: `${"a".repeat(2000)}@example.com`,
      userAgent: "u".repeat(2000),
    });
    expect(seen[0]?.email).toHaveLength(321);
    expect(seen[0]?.userAgent).toHaveLength(513);
    expect(seen[0]?.email?.endsWith("…")).toBe(true);
  });
});

describe("AuditLog: a failing sink never fails the caller (ASVS 5.0 16.5.2)", () => {
  it("a throw goes to onError, with the context", () => {
    const errors: [unknown, unknown][] = [];
    const log = new AuditLog(
      () => {
        throw new Error("down");
      },
      { onError: (error, context) => void errors.push([error, context]) },
    );
    expect(() => log.emit({ type: "token_refused", reason: "token_invalid" }, "ctx")).not.toThrow();
    expect(errors).toEqual([[new Error("down"), "ctx"]]);
  });

  it("a rejection goes to onError; emit does not wait for it", async () => {
    const errors: unknown[] = [];
    let settle: (() => void) | undefined;
    const log = new AuditLog(
      () =>
        new Promise<void>((_, reject) => {
          settle = () => reject(new Error("later"));
        }),
      { onError: (error) => void errors.push(error) },
    );
    const returned = log.emit({ type: "token_refused", reason: "token_invalid" });
    expect(returned).toBeUndefined();
    expect(errors).toEqual([]);
    settle?.();
    await new Promise((resolve) => setImmediate(resolve));
    expect(errors).toEqual([new Error("later")]);
  });

  it("a sink that never settles: emit returns at once", () => {
    const log = new AuditLog(() => new Promise<void>(() => {}));
    expect(log.emit({ type: "token_refused", reason: "token_invalid" })).toBeUndefined();
  });

  it("an onError that throws too is swallowed", () => {
    const log = new AuditLog(
      () => {
        throw new Error("down");
      },
      {
        onError: () => {
          throw new Error("also down");
        },
      },
    );
    expect(() => log.emit({ type: "token_refused", reason: "token_invalid" })).not.toThrow();
  });

  it("a describe that throws is reported, and the sink is not called", () => {
    const errors: unknown[] = [];
    let called = 0;
    const log = new AuditLog(() => void called++, {
      describe: () => {
        throw new Error("bad context");
      },
      onError: (error) => void errors.push(error),
    });
    log.emit({ type: "token_refused", reason: "token_invalid" }, {});
    expect([called, errors]).toEqual([0, [new Error("bad context")]]);
  });

  it("refuses a sink that is not a function", () => {
    expect(() => new AuditLog("log" as never)).toThrow(TypeError);
  });
});
