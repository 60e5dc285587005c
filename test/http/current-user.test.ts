import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startApp, type TestApp } from "../support/app.js";
import { modes, register, request } from "../support/client.js";

let app: TestApp;
afterEach(async () => app.close());

describe.each(modes)("currentUser middleware over $name", (mode) => {
  let headers: Record<string, string>;
  beforeEach(async () => {
    app = await startApp();
    await register(app.url, "cu@example.com");
    headers = await mode.login(app.url, "cu@example.com", "correct horse battery");
  });

  const set = async (data: Record<string, boolean>) => {
    const user = await app.userDb.getByEmail("cu@example.com");
    if (!user) throw new Error("no user");
    await app.userDb.update(user, data);
  };

  it("sets ctx.state.user and the backend that matched", async () => {
    const res = await request(`${app.url}/protected`, { headers });
    expect(res.body).toEqual({ user: "cu@example.com", backend: mode.name });
  });

  it("no token -> 401; optional -> null user", async () => {
    expect((await request(`${app.url}/protected`)).status).toBe(401);
    expect((await request(`${app.url}/protected/optional`)).body).toEqual({
      user: null,
      backend: null,
    });
  });

  it("a forged token -> 401", async () => {
    const forged: Record<string, string> =
      mode.name !== "cookie"
        ? { authorization: "Bearer abc.def.ghi" }
        : { cookie: "tessera_auth=abc.def.ghi" };
    expect((await request(`${app.url}/protected`, { headers: forged })).status).toBe(401);
  });

  it("inactive: passes without `active`, 401 with it", async () => {
    await set({ isActive: false });
    expect((await request(`${app.url}/protected`, { headers })).status).toBe(200);
    expect((await request(`${app.url}/protected/active`, { headers })).status).toBe(401);
  });

  it("unverified with `verified` -> 403; verified -> 200", async () => {
    expect((await request(`${app.url}/protected/verified`, { headers })).status).toBe(403);
    await set({ isVerified: true });
    expect((await request(`${app.url}/protected/verified`, { headers })).status).toBe(200);
  });

  it("non-superuser with `superuser` -> 403; superuser -> 200", async () => {
    const res = await request(`${app.url}/protected/superuser`, { headers });
    expect(res).toMatchObject({ status: 403, body: { detail: "Forbidden" } });
    await set({ isSuperuser: true });
    expect((await request(`${app.url}/protected/superuser`, { headers })).status).toBe(200);
  });
});
