/** A tiny HTTP client for tests: JSON/form helpers and a per-transport auth header. */

export interface Reply {
  status: number;
  body: unknown;
  headers: Headers;
  text: string;
}

export async function request(
  url: string,
  init: {
    method?: string;
    json?: unknown;
    form?: Record<string, string>;
    headers?: Record<string, string>;
    raw?: string;
  } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { ...init.headers };
  let body: string | undefined;
  if (init.json !== undefined) {
    headers["content-type"] ??= "application/json";
    body = JSON.stringify(init.json);
  } else if (init.form) {
    headers["content-type"] ??= "application/x-www-form-urlencoded";
    body = new URLSearchParams(init.form).toString();
  } else if (init.raw !== undefined) {
    body = init.raw;
  }
  const res = await fetch(url, {
    method: init.method ?? (body === undefined ? "GET" : "POST"),
    headers,
    body,
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON
  }
  return { status: res.status, body: parsed, headers: res.headers, text };
}

/** How a test authenticates: a header for Bearer, a Cookie header for the cookie backend. */
export interface AuthMode {
  name: "jwt" | "cookie" | "db";
  /** Logs in and returns the headers that carry the token. */
  login(baseUrl: string, email: string, password: string): Promise<Record<string, string>>;
}

function bearer(name: "jwt" | "db"): AuthMode {
  return {
    name,
    async login(baseUrl, email, password) {
      const res = await request(`${baseUrl}/auth/${name}/login`, {
        form: { username: email, password },
      });
      if (res.status !== 200) throw new Error(`login failed: ${res.status} ${res.text}`);
      return { authorization: `Bearer ${(res.body as { access_token: string }).access_token}` };
    },
  };
}

export const bearerMode = bearer("jwt");
export const dbMode = bearer("db");

export const cookieMode: AuthMode = {
  name: "cookie",
  // A non-browser client: it sends no Origin, so it echoes the CSRF cookie in a header.
  async login(baseUrl, email, password) {
    const res = await request(`${baseUrl}/auth/cookie/login`, {
      form: { username: email, password },
    });
    if (res.status !== 204) throw new Error(`login failed: ${res.status} ${res.text}`);
    const cookies = res.headers.getSetCookie().map((c) => c.split(";")[0] ?? "");
    const csrf =
      cookies.find((c) => c.startsWith("tessera_csrf="))?.slice("tessera_csrf=".length) ?? "";
    return { cookie: cookies.join("; "), "x-csrf-token": csrf };
  },
};

export const modes = [bearerMode, cookieMode, dbMode];

export async function register(
  baseUrl: string,
  email: string,
  password = "correct horse battery",
  extra: Record<string, unknown> = {},
): Promise<Reply> {
  return request(`${baseUrl}/auth/register`, { json: { email, password, ...extra } });
}
