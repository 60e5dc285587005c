import { describe, expect, it } from "vitest";
import { StrategyDestroyNotSupportedError } from "../errors.js";
import type { Strategy, UserChange } from "../strategy/base.js";
import { makeManager, PASSWORD } from "../test-utils/manager.js";
import type { MemoryUser } from "../testing/memory.js";
import type { StrategySource } from "./session-sync.js";

/** A strategy that records what the manager told it. */
function recorder(options: { listens?: boolean; destroy?: "ok" | "unsupported" } = {}) {
  const events: string[] = [];
  const strategy: Strategy<MemoryUser, string> = {
    readToken: async () => null,
    writeToken: async () => "t",
    destroyToken: async () => {},
    destroyAllTokens: async (user) => {
      if (options.destroy === "unsupported") throw new StrategyDestroyNotSupportedError();
      events.push(`destroyAll:${user.email}`);
    },
  };
  if (options.listens) {
    strategy.onUserChanged = async (user: MemoryUser, change: UserChange) => {
      events.push(
        `${change.kind}:${change.revokeSessions}:${change.fields.join(",")}:${user.email}`,
      );
    };
  }
  return { strategy, events };
}

const source = (
  name: string,
  strategy: Strategy<MemoryUser, string>,
): StrategySource<MemoryUser, string> => ({
  name,
  getStrategy: () => strategy,
});

async function setup(...sources: StrategySource<MemoryUser, string>[]) {
  const { manager } = makeManager({ backends: sources });
  const user = await manager.create({ email: "s@example.com", password: PASSWORD });
  return { manager, user };
}

describe("UserManager tells strategies of user changes", () => {
  it("ASVS 5.0 7.4.3: a password change revokes sessions in every strategy", async () => {
    const a = recorder();
    const b = recorder({ listens: true });
    const { manager, user } = await setup(source("a", a.strategy), source("b", b.strategy));
    await manager.update({ password: "a new password!" }, user);
    expect(a.events).toEqual(["destroyAll:s@example.com"]);
    expect(b.events).toEqual(["password:true:hashedPassword:s@example.com"]);
  });

  it("ASVS 5.0 7.4.2: deactivation and deletion revoke sessions", async () => {
    const a = recorder();
    const { manager, user } = await setup(source("a", a.strategy));
    const inactive = await manager.update({ isActive: false }, user);
    await manager.delete(inactive);
    expect(a.events).toEqual(["destroyAll:s@example.com", "destroyAll:s@example.com"]);
  });

  it("a reset password revokes sessions", async () => {
    const a = recorder();
    let token = "";
    const { manager } = makeManager({
      backends: [source("a", a.strategy)],
      hooks: {
        onAfterForgotPassword: (_u, t) => {
          token = t;
        },
      },
    });
    const user = await manager.create({ email: "r@example.com", password: PASSWORD });
    await manager.forgotPassword(user);
    await manager.resetPassword(token, "a brand new password");
    expect(a.events).toEqual(["destroyAll:r@example.com"]);
  });

  it("other changes only refresh listeners, never revoke", async () => {
    const a = recorder();
    const b = recorder({ listens: true });
    const { manager, user } = await setup(source("a", a.strategy), source("b", b.strategy));
    await manager.update({ email: "new@example.com" }, user);
    expect(a.events).toEqual([]);
    expect(b.events).toEqual(["update:false:email,isVerified:new@example.com"]);
  });

  it("a strategy shared by two backends hears once; one that cannot destroy is skipped", async () => {
    const shared = recorder();
    const stateless = recorder({ destroy: "unsupported" });
    const { manager, user } = await setup(
      source("bearer", shared.strategy),
      source("cookie", shared.strategy),
      source("jwt", stateless.strategy),
    );
    await manager.update({ password: "a new password!" }, user);
    expect(shared.events).toEqual(["destroyAll:s@example.com"]);
  });

  it("attachBackends only fills in backends when none were given", async () => {
    const a = recorder();
    const b = recorder();
    const { manager } = makeManager();
    manager.attachBackends([source("a", a.strategy)]);
    manager.attachBackends([source("b", b.strategy)]);
    const user = await manager.create({ email: "x@example.com", password: PASSWORD });
    await manager.update({ password: "a new password!" }, user);
    expect(a.events).toHaveLength(1);
    expect(b.events).toHaveLength(0);
  });

  it("the strategy is obtained with the call's context (request-scoped strategies)", async () => {
    const seen: unknown[] = [];
    const a = recorder();
    const { manager } = makeManager({
      backends: [
        {
          name: "scoped",
          getStrategy: (ctx: never) => {
            seen.push(ctx);
            return a.strategy;
          },
        },
      ],
    });
    const user = await manager.create({ email: "c@example.com", password: PASSWORD });
    const context = { request: 1 };
    await manager.update({ password: "a new password!" }, user, { context });
    expect(seen).toEqual([context]);
  });
});

describe("a change of a second factor ends the other sessions (ASVS 5.0 7.4.3)", () => {
  it("keeps the session that made it, by token and handle; ends every session without one", async () => {
    const seen: UserChange[] = [];
    const strategy: Strategy<MemoryUser, string> = {
      readToken: async () => null,
      writeToken: async () => "t",
      destroyToken: async () => {},
      destroyAllTokens: async () => {},
      onUserChanged: async (_user, change) => {
        seen.push(change);
      },
    };
    const { manager, user } = await setup(source("a", strategy));
    await manager.onSecurityEvent(user, { type: "mfa_enabled", factor: "totp" }, undefined, {
      token: "current",
      handle: "h1",
    });
    await manager.onSecurityEvent(user, {
      type: "passkey_removed",
      credentialId: "c",
      name: "Laptop",
    });
    expect(seen).toEqual([
      {
        kind: "factor",
        fields: [],
        revokeSessions: true,
        exceptToken: "current",
        exceptHandle: "h1",
      },
      { kind: "factor", fields: [], revokeSessions: true },
    ]);
  });

  it("a recovery code used at a login ends nothing; the option turns it off", async () => {
    const a = recorder();
    const { manager, user } = await setup(source("a", a.strategy));
    await manager.onSecurityEvent(user, { type: "recovery_code_used", remaining: 3 });
    expect(a.events).toEqual([]);
    const { manager: keeping } = makeManager({
      backends: [source("a", a.strategy)],
      logoutOtherSessionsOnFactorChange: false,
    });
    await keeping.onSecurityEvent(user, { type: "mfa_disabled", factor: "totp", by: "code" });
    expect(a.events).toEqual([]);
    await manager.onSecurityEvent(user, { type: "recovery_codes_regenerated", count: 10 });
    expect(a.events).toEqual(["destroyAll:s@example.com"]);
  });
});
