import { describe, expect, it } from "vitest";
import { AuditLog } from "../audit/audit-log.js";
import type { AuditEvent } from "../audit/events.js";
import type { Strategy } from "../strategy/base.js";
import { makeManager, PASSWORD } from "../test-utils/manager.js";
import type { MemoryUser } from "../testing/memory.js";

// A strategy that can end sessions, so that changes reach one (nothing is audited without).
const strategy = {
  destroyAllTokens: async () => {},
} as unknown as Strategy<MemoryUser, string>;
const backends = [{ name: "test", getStrategy: () => strategy }];

function audited() {
  const events: AuditEvent[] = [];
  const made = makeManager({ backends, onAuditEvent: (event) => void events.push(event) });
  return { ...made, events };
}

describe("UserManager's audit events (ASVS 5.0 16.3.1)", () => {
  it("sessions ended by a password change, with and without the current session kept", async () => {
    const { manager, events } = audited();
    const user = await manager.create({ email: "pat@example.com", password: PASSWORD });
    const changed = await manager.update({ password: "another long password" }, user, {
      currentToken: "current-token",
    });
    await manager.update({ password: "a third long password" }, changed);
    expect(events.map((e) => [e.type, e.reason, (e as { scope?: string }).scope])).toEqual([
      ["session_revoked", "password_changed", "others"],
      ["session_revoked", "password_changed", "all"],
    ]);
    expect(events[0]).toMatchObject({ userId: user.id, email: "pat@example.com", ip: null });
    // The kept session's token is never in the event.
    expect(JSON.stringify(events)).not.toContain("current-token");
  });

  it("a deactivation, a deletion, a factor change; an update that ends nothing is silent", async () => {
    const { manager, events } = audited();
    const user = await manager.create({ email: "dee@example.com", password: PASSWORD });
    const renamed = await manager.update({ email: "dee2@example.com" }, user);
    expect(events).toEqual([]);
    const inactive = await manager.update({ isActive: false }, renamed);
    await manager.onSecurityEvent(inactive, { type: "recovery_codes_regenerated", count: 10 });
    await manager.delete(inactive);
    expect(events.map((e) => [e.type, e.reason])).toEqual([
      ["session_revoked", "user_deactivated"],
      ["session_revoked", "factor_changed"],
      ["security_change", "recovery_codes_regenerated"],
      ["session_revoked", "user_deleted"],
    ]);
  });

  it("a reset ends every session as password_reset", async () => {
    let token = "";
    const events: AuditEvent[] = [];
    const { manager } = makeManager({
      backends,
      onAuditEvent: (event) => void events.push(event),
      hooks: {
        onAfterForgotPassword: (_, t) => {
          token = t;
        },
      },
    });
    const user = await manager.create({ email: "ray@example.com", password: PASSWORD });
    await manager.forgotPassword(user);
    await manager.resetPassword(token, "a new long password");
    expect(events).toMatchObject([
      { type: "session_revoked", reason: "password_reset", scope: "all" },
    ]);
    expect(JSON.stringify(events)).not.toContain(token);
  });

  it("token theft names the ended session by its public handle, then the hook runs", async () => {
    const order: string[] = [];
    const { manager } = makeManager({
      onAuditEvent: (event) =>
        void order.push(`${event.type}:${(event as { sessionId?: string }).sessionId}`),
      hooks: { onTokenTheftDetected: () => void order.push("hook") },
    });
    const user = await manager.create({ email: "tim@example.com", password: PASSWORD });
    await manager.onTokenTheftDetected(user, { handle: "h-1" } as never);
    expect(order).toEqual(["token_theft:h-1", "hook"]);
  });

  it("a throwing sink fails no change", async () => {
    const { manager } = makeManager({
      backends,
      onAuditEvent: () => {
        throw new Error("sink down");
      },
    });
    const user = await manager.create({ email: "ann@example.com", password: PASSWORD });
    const original = console.error;
    const reported: unknown[] = [];
    console.error = (...args: unknown[]) => void reported.push(args[1]);
    try {
      await expect(manager.update({ isActive: false }, user)).resolves.toMatchObject({
        isActive: false,
      });
    } finally {
      console.error = original;
    }
    expect(reported).toEqual([new Error("sink down")]);
  });

  it("attachAudit gives a manager the HTTP layer's stream, unless it has its own", async () => {
    const attached: AuditEvent[] = [];
    const own: AuditEvent[] = [];
    const stream = new AuditLog((event) => void attached.push(event));
    const plain = makeManager({ backends }).manager;
    plain.attachAudit(stream);
    const mine = makeManager({ backends, onAuditEvent: (e) => void own.push(e) }).manager;
    mine.attachAudit(stream);
    const a = await plain.create({ email: "a@example.com", password: PASSWORD });
    const b = await mine.create({ email: "b@example.com", password: PASSWORD });
    await plain.update({ isActive: false }, a);
    await mine.update({ isActive: false }, b);
    expect(attached.map((e) => e.email)).toEqual(["a@example.com"]);
    expect(own.map((e) => e.email)).toEqual(["b@example.com"]);
  });
});
