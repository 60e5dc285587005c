// The example's page: plain JavaScript against Tessera's JSON API, no framework, no build.
// It signs in with the `refresh-cookie` backend: a short-lived access token in the
// `tessera_access` cookie and a refresh token in `tessera_refresh`, sent only to
// /auth/refresh-cookie/refresh (both HttpOnly, so this script never sees them). When the
// access token has expired, an API call answers 401: the page refreshes and tries again.

const statusEl = document.getElementById("status");

/** Shows a message in the live region, which screen readers announce. */
function say(message, kind = "info") {
  statusEl.textContent = message;
  statusEl.dataset.kind = kind;
}

function cookie(name) {
  const prefix = `${name}=`;
  const found = document.cookie.split("; ").find((c) => c.startsWith(prefix));
  return found ? decodeURIComponent(found.slice(prefix.length)) : "";
}

/** The backend the page signs in with: routes under `/auth/refresh-cookie`. */
const AUTH = "/auth/refresh-cookie";

/**
 * fetch() for the API. Same-origin, so the browser sends the cookies and a
 * `Sec-Fetch-Site: same-origin` header that passes Tessera's CSRF check; the
 * double-submit header is sent too, for browsers without Fetch metadata.
 *
 * A 401 means the access token has expired (or the session has ended): the page asks for
 * a new one once (`refresh()`) and, if it got one, sends the request again. Logging in
 * and refreshing themselves are never retried.
 */
async function api(method, path, options = {}) {
  const res = await send(method, path, options);
  if (res.status !== 401 || path.startsWith(`${AUTH}/login`) || path === `${AUTH}/refresh`) {
    return res;
  }
  return (await refresh()) ? send(method, path, options) : res;
}

let refreshing = null;

/**
 * `POST /auth/refresh-cookie/refresh`: the browser sends the refresh cookie (its path is
 * this route's only) and gets both cookies anew. One at a time: calls that fail together
 * (the sessions and the theme load in parallel) share one refresh. True if it worked.
 */
function refresh() {
  refreshing ??= send("POST", `${AUTH}/refresh`)
    .then((res) => res.ok)
    .catch(() => false)
    .finally(() => {
      refreshing = null;
    });
  return refreshing;
}

async function send(method, path, { json, form } = {}) {
  const headers = { accept: "application/json" };
  const csrf = cookie("tessera_csrf");
  if (csrf) headers["x-csrf-token"] = csrf;
  let body;
  if (json !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form !== undefined) {
    body = new URLSearchParams(form);
  }
  const res = await fetch(path, { method, headers, body, credentials: "same-origin" });
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = text;
  }
  return { ok: res.ok, status: res.status, data, retryAfter: res.headers.get("retry-after") };
}

const MESSAGES = {
  LOGIN_BAD_CREDENTIALS: "Wrong email or password.",
  LOGIN_USER_NOT_VERIFIED: "Verify your email first: use the link we sent you.",
  REGISTER_USER_ALREADY_EXISTS: "An account with this email already exists. Log in instead.",
  UPDATE_USER_INVALID_CURRENT_PASSWORD: "Your current password is wrong.",
  VERIFY_USER_BAD_TOKEN: "This verification link is invalid or has expired.",
  VERIFY_USER_ALREADY_VERIFIED: "Your email address is already verified.",
  RESET_PASSWORD_BAD_TOKEN:
    "This reset link is invalid, expired or already used. Ask for a new one.",
  CSRF_FAILED: "The request was refused as cross-site. Reload the page and try again.",
  SERVICE_UNAVAILABLE: "The service is unavailable right now. Try again in a moment.",
  OAUTH_ACCESS_DENIED: "You cancelled the sign-in at the provider.",
  OAUTH_INVALID_STATE: "This sign-in expired or was started in another browser. Try again.",
  OAUTH_EMAIL_NOT_VERIFIED:
    "The provider does not say your email is verified, so no account was made from it. Verify it there, or register here.",
  OAUTH_USER_ALREADY_EXISTS:
    "An account with this email exists already. Log in with your password, then link the provider.",
  OAUTH_NOT_AVAILABLE_EMAIL: "The provider did not tell us your email, which an account needs.",
  OAUTH_ACCOUNT_ALREADY_LINKED: "This provider account is linked to another user already.",
  OAUTH_PROVIDER_UNAVAILABLE: "The provider cannot be reached right now. Try again in a moment.",
  Unauthorized: "Your session had ended: log in, then link the account again.",
  MFA_CODE_INVALID: "That code is wrong, already used or too old. Try the next one.",
  MFA_TOKEN_EXPIRED: "The sign-in took too long. Enter your password again.",
  MFA_TOKEN_USED: "This sign-in is over (too many wrong codes?). Enter your password again.",
  MFA_TOKEN_INVALID: "This sign-in is no longer valid. Enter your password again.",
  MFA_INVALID_PASSWORD: "Your password is wrong.",
  MFA_ALREADY_ENABLED: "The authenticator app is already on.",
  MFA_NOT_ENROLLING: "Set up the authenticator app first.",
  LOGIN_MFA_ENROLMENT_REQUIRED: "Your account needs an authenticator app before you can sign in.",
  PASSKEY_UNKNOWN_CREDENTIAL: "This passkey is not registered here (was it deleted?).",
  PASSKEY_VERIFICATION_FAILED: "The passkey could not be verified.",
  PASSKEY_INVALID_CHALLENGE: "The passkey sign-in took too long. Try again.",
  PASSKEY_ALREADY_REGISTERED: "This passkey is already registered.",
  PASSKEY_COUNTER_NOT_INCREASED: "This passkey looks copied: it was refused.",
};

/** A sentence for an API error body: `{"detail": "CODE"}`, `{"detail": {code, reason}}` or a 422 list. */
function explain(res) {
  // Rate limited: the body is the usual one (a login's says "bad credentials"); the status tells.
  if (res.status === 429) {
    return `Too many attempts. Try again in ${res.retryAfter ?? "a few"} seconds.`;
  }
  const detail = res.data?.detail;
  if (typeof detail === "string") return MESSAGES[detail] ?? `Something went wrong (${detail}).`;
  if (detail && typeof detail === "object" && !Array.isArray(detail)) {
    return detail.reason ?? MESSAGES[detail.code] ?? `Something went wrong (${detail.code}).`;
  }
  if (res.status === 422) return "Please check the form: a field is missing or malformed.";
  return `Something went wrong (HTTP ${res.status}).`;
}

/** Runs a form's submit handler with the button disabled, so a double click sends once. */
function onSubmit(form, handler) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      await handler(new FormData(form));
    } catch {
      say("The server could not be reached. Check your connection and try again.", "error");
    } finally {
      button.disabled = false;
    }
  });
}

/** The URL's `token`, removed from the address bar and history once read. */
function takeToken() {
  const token = new URLSearchParams(location.search).get("token");
  history.replaceState(null, "", location.pathname);
  return token;
}

// --- the home page -------------------------------------------------------------------

async function showHome(focus) {
  const me = await api("GET", "/users/me");
  const signedIn = me.ok;
  document.getElementById("signed-in").hidden = !signedIn;
  document.getElementById("signed-out").hidden = signedIn;
  if (!signedIn) {
    applyTheme("system");
    const { passkeys } = await loadSecurity();
    document.getElementById("passkey-sign-in").hidden = !passkeys;
    await showSignInButtons();
    if (focus) document.getElementById("login-title").focus();
    return;
  }
  const user = me.data;
  document.getElementById("me-email").textContent = user.email;
  document.getElementById("me-id").textContent = user.id;
  document.getElementById("me-verified").textContent = user.is_verified ? "Yes" : "Not yet";
  document.getElementById("me-superuser").textContent = user.is_superuser ? "Yes" : "No";
  document.getElementById("verify-hint").hidden = user.is_verified;
  await Promise.all([showSessions(), showPreferences(), showLinkedAccounts(), showSecurity()]);
  if (focus) document.getElementById("me-title").focus();
}

// --- "Sign in with …" (src/oauth.ts) ----------------------------------------------------

/** The configured providers, `[{ name, label }]`: read once. */
let providers = null;

async function loadProviders() {
  if (providers) return providers;
  const res = await send("GET", "/app/oauth-providers");
  providers = res.ok ? res.data : [];
  return providers;
}

/**
 * Goes to the provider: `/authorize` answers its URL and sets the state cookie that binds
 * the sign-in to this browser; the provider sends the browser back to the callback, which
 * lands on this page.
 */
async function goToProvider(authorizePath) {
  const res = await api("GET", authorizePath);
  if (!res.ok) return say(explain(res), "error");
  location.href = res.data.authorization_url;
}

const labelOf = (name) => providers?.find((p) => p.name === name)?.label ?? name;

async function showSignInButtons() {
  const list = await loadProviders();
  const box = document.getElementById("oauth-buttons");
  box.replaceChildren(
    ...list.map(({ name, label }) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "secondary";
      button.textContent = `Sign in with ${label}`;
      button.addEventListener("click", () =>
        goToProvider(`/auth/${encodeURIComponent(name)}/authorize`).catch(() =>
          say("The server could not be reached.", "error"),
        ),
      );
      return button;
    }),
  );
  document.getElementById("oauth-sign-in").hidden = list.length === 0;
}

async function showLinkedAccounts() {
  const list = await loadProviders();
  const section = document.getElementById("linked-section");
  section.hidden = list.length === 0;
  if (list.length === 0) return;
  const res = await api("GET", "/users/me/oauth-accounts");
  const accounts = res.ok ? res.data : [];
  const items = document.getElementById("oauth-accounts");
  items.replaceChildren(
    ...accounts.map((account) => {
      const item = document.createElement("li");
      item.className = "session oauth-account";
      const title = document.createElement("strong");
      title.textContent = labelOf(account.oauth_name);
      const email = document.createElement("span");
      email.className = "session-facts";
      email.textContent = account.account_email;
      const unlink = document.createElement("button");
      unlink.type = "button";
      unlink.className = "link";
      unlink.textContent = "Unlink";
      unlink.setAttribute(
        "aria-label",
        `Unlink ${labelOf(account.oauth_name)} (${account.account_email})`,
      );
      unlink.addEventListener("click", async () => {
        const done = await api(
          "DELETE",
          `/users/me/oauth-accounts/${encodeURIComponent(account.id)}`,
        );
        say(
          done.ok ? `${labelOf(account.oauth_name)} unlinked.` : explain(done),
          done.ok ? "success" : "error",
        );
        await showLinkedAccounts();
      });
      item.append(title, email, unlink);
      return item;
    }),
  );
  if (accounts.length === 0) {
    const none = document.createElement("li");
    none.className = "hint";
    none.textContent = "None yet.";
    items.append(none);
  }
  document.getElementById("oauth-link-buttons").replaceChildren(
    ...list.map(({ name, label }) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "secondary";
      button.textContent = `Link ${label}`;
      button.addEventListener("click", () =>
        goToProvider(`/auth/associate/${encodeURIComponent(name)}/authorize`).catch(() =>
          say("The server could not be reached.", "error"),
        ),
      );
      return button;
    }),
  );
}

/** What the callback told this page (`?oauth_error=CODE`, `?linked=name`), said once. */
async function sayOAuthOutcome() {
  const params = new URLSearchParams(location.search);
  const error = params.get("oauth_error");
  const linked = params.get("linked");
  if (error === null && linked === null) return;
  history.replaceState(null, "", location.pathname);
  await loadProviders();
  if (error !== null) {
    say(MESSAGES[error] ?? `The sign-in did not work (${error}).`, "error");
  } else {
    say(`${labelOf(linked)} is linked to your account.`, "success");
  }
}

/** "Chrome on Linux" from a User-Agent header; the header itself is shown beside it. */
function deviceName(userAgent) {
  if (!userAgent) return "Unknown device";
  const browsers = [
    [/Edg(A|iOS)?\//, "Edge"],
    [/OPR\//, "Opera"],
    [/Firefox\/|FxiOS\//, "Firefox"],
    [/HeadlessChrome\//, "Headless Chrome"],
    [/Chrome\/|CriOS\//, "Chrome"],
    [/Version\/[\d.]+.*Safari\//, "Safari"],
  ];
  const systems = [
    [/Android/, "Android"],
    [/iPhone|iPad|iPod/, "iOS"],
    [/Windows/, "Windows"],
    [/CrOS/, "ChromeOS"],
    [/Mac OS X|Macintosh/, "macOS"],
    [/Linux/, "Linux"],
  ];
  const browser = browsers.find(([pattern]) => pattern.test(userAgent))?.[1];
  const system = systems.find(([pattern]) => pattern.test(userAgent))?.[1];
  // Not a browser (curl/8.5.0, a script): its first product name.
  const name = browser ?? userAgent.split(/[/\s]/)[0];
  return system ? `${name} on ${system}` : name;
}

const when = (iso) => new Date(iso).toLocaleString();

/** An IPv6 address as people write it (0:0:0:0:0:0:0:1 is ::1); others as they are. */
function address(ip) {
  const groups = ip.split(":");
  if (groups.length !== 8) return ip;
  const short = groups.map((g) => g.replace(/^0+(?=.)/, ""));
  // The longest run of two or more zero groups becomes "::" (the first, on a tie).
  let best = { at: -1, length: 1 };
  for (let i = 0; i < 8; i++) {
    let n = 0;
    while (i + n < 8 && short[i + n] === "0") n++;
    if (n > best.length) best = { at: i, length: n };
  }
  if (best.at < 0) return short.join(":");
  const head = short.slice(0, best.at).join(":");
  const tail = short.slice(best.at + best.length).join(":");
  return `${head}::${tail}`;
}

async function showSessions() {
  const list = document.getElementById("sessions");
  const res = await api("GET", "/users/me/sessions");
  list.replaceChildren();
  // This browser's session first, then the newest.
  const sessions = (res.ok ? res.data : []).sort(
    (a, b) => b.current - a.current || b.created_at.localeCompare(a.created_at),
  );
  for (const session of sessions) {
    const item = document.createElement("li");
    item.className = "session";
    const device = deviceName(session.user_agent);
    // Not the backend's name: sessions of backends sharing a store (the cookie and `db`
    // both use the access-token table) are listed once, under the first of them.
    const title = document.createElement("strong");
    title.textContent = device;
    item.append(title, session.current ? " (this browser)" : "");
    const facts = document.createElement("span");
    facts.className = "session-facts";
    facts.textContent = [
      session.ip_address ? `from ${address(session.ip_address)}` : "address unknown",
      `signed in ${when(session.created_at)}`,
      // Recorded when the session is renewed (at most twice a day), not on every request.
      session.last_used_at
        ? `last used ${when(session.last_used_at)}`
        : "last use not recorded yet",
    ].join(" · ");
    item.append(facts);
    if (session.user_agent) {
      const agent = document.createElement("span");
      agent.className = "session-agent";
      agent.textContent = session.user_agent;
      item.append(agent);
    }
    if (!session.current) {
      const end = document.createElement("button");
      end.type = "button";
      end.className = "link";
      end.textContent = "End this session";
      end.setAttribute(
        "aria-label",
        `End the session of ${device} signed in ${when(session.created_at)}`,
      );
      end.addEventListener("click", async () => {
        const done = await api("DELETE", `/users/me/sessions/${encodeURIComponent(session.id)}`);
        say(done.ok ? "Session ended." : explain(done), done.ok ? "success" : "error");
        await showSessions();
      });
      item.append(end);
    }
    list.append(item);
  }
}

// --- the Security panel: TOTP and passkeys (tessera.mfaRouter, tessera.passkeysRouter) ---

/** What the app offers (`GET /app/security`): passkeys need https or localhost. Read once. */
let security = null;

async function loadSecurity() {
  if (security) return security;
  const res = await send("GET", "/app/security");
  security = res.ok ? res.data : { passkeys: false };
  return security;
}

async function showSecurity() {
  const { passkeys } = await loadSecurity();
  document.getElementById("passkeys-section").hidden = !passkeys;
  await Promise.all([showTotp(), passkeys ? showPasskeys() : null]);
}

async function showTotp() {
  const res = await api("GET", "/users/me/mfa");
  const mfa = res.ok ? res.data : { totp_enabled: false };
  document.getElementById("totp-status").textContent = mfa.totp_enabled
    ? `On: a code is asked for after your password. Recovery codes left: ${mfa.recovery_codes_left}.`
    : "Off: your password alone signs you in.";
  document.getElementById("totp-enrol").hidden = mfa.totp_enabled;
  document.getElementById("totp-disable-form").hidden = !mfa.totp_enabled;
  if (mfa.totp_enabled) document.getElementById("totp-setup").hidden = true;
}

/** Starts an enrolment: a pending secret, shown as a QR code and as text. */
async function enrolTotp() {
  const res = await api("POST", "/users/me/mfa/totp");
  if (!res.ok) return say(explain(res), "error");
  const { secret, uri } = res.data;
  document.getElementById("totp-secret").textContent = secret;
  const qr = await api("POST", "/app/qr-code", { json: { uri } });
  const img = document.getElementById("totp-qr");
  if (qr.ok) img.src = qr.data.image;
  img.hidden = !qr.ok;
  document.getElementById("totp-setup").hidden = false;
  document.getElementById("totp-enrol").hidden = true;
  document.getElementById("totp-confirm-code").focus();
}

/** The recovery codes, shown once (the server keeps only their hashes). */
function showRecoveryCodes(codes) {
  document.getElementById("recovery-codes").replaceChildren(
    ...codes.map((code) => {
      const item = document.createElement("li");
      const text = document.createElement("code");
      text.textContent = code;
      item.append(text);
      return item;
    }),
  );
  document.getElementById("recovery-codes-box").hidden = false;
}

async function showPasskeys() {
  const res = await api("GET", "/users/me/passkeys");
  const passkeys = res.ok ? res.data : [];
  const list = document.getElementById("passkeys");
  list.replaceChildren(
    ...passkeys.map((passkey) => {
      const item = document.createElement("li");
      item.className = "session passkey";
      const title = document.createElement("strong");
      title.textContent = passkey.name || "Passkey";
      const facts = document.createElement("span");
      facts.className = "session-facts";
      facts.textContent = [
        `added ${when(passkey.created_at)}`,
        passkey.last_used_at ? `last used ${when(passkey.last_used_at)}` : "not used yet",
      ].join(" · ");
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "link";
      remove.textContent = "Delete";
      remove.setAttribute("aria-label", `Delete the passkey ${title.textContent}`);
      remove.addEventListener("click", async () => {
        const done = await api("DELETE", `/users/me/passkeys/${encodeURIComponent(passkey.id)}`);
        say(done.ok ? "Passkey deleted." : explain(done), done.ok ? "success" : "error");
        await showPasskeys();
      });
      item.append(title, facts, remove);
      return item;
    }),
  );
  if (passkeys.length === 0) {
    const none = document.createElement("li");
    none.className = "hint";
    none.textContent = "None yet.";
    list.append(none);
  }
}

/** True when this browser can make and use passkeys (WebAuthn's JSON helpers included). */
const passkeysSupported = () =>
  typeof PublicKeyCredential === "function" &&
  typeof PublicKeyCredential.parseCreationOptionsFromJSON === "function";

/**
 * Registers a passkey: the server's options (its challenge kept server-side under
 * `challenge_id`), the browser's authenticator, the credential back to the server.
 */
async function addPasskey(name) {
  if (!passkeysSupported()) return say("This browser cannot make passkeys.", "error");
  const start = await api("POST", "/users/me/passkeys/options");
  if (!start.ok) return say(explain(start), "error");
  let credential;
  try {
    credential = await navigator.credentials.create({
      publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(start.data.options),
    });
  } catch {
    return say("No passkey was made (cancelled, or the device refused).", "error");
  }
  const res = await api("POST", "/users/me/passkeys", {
    json: { challenge_id: start.data.challenge_id, credential: credential.toJSON(), name },
  });
  say(res.ok ? "Passkey added." : explain(res), res.ok ? "success" : "error");
  await showPasskeys();
}

/** Signs in with a passkey (a discoverable credential: no email typed). */
async function passkeyLogin() {
  if (!passkeysSupported()) return say("This browser cannot use passkeys.", "error");
  const start = await api("POST", `${AUTH}/passkey/options`);
  if (!start.ok) return say(explain(start), "error");
  let credential;
  try {
    credential = await navigator.credentials.get({
      publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(start.data.options),
    });
  } catch {
    return say("No passkey was used (cancelled, or none on this device).", "error");
  }
  const res = await api("POST", `${AUTH}/passkey/login`, {
    json: { challenge_id: start.data.challenge_id, credential: credential.toJSON() },
  });
  if (!res.ok) return say(explain(res), "error");
  await loggedIn();
}

/** The login's second step: the `mfa_token` lives in this variable only, never stored. */
let mfaToken = null;

function askForSecondFactor(token) {
  mfaToken = token;
  document.getElementById("login-form").hidden = true;
  document.getElementById("mfa-form").hidden = false;
  say("Enter a code from your authenticator app, or one of your recovery codes.");
  document.getElementById("mfa-code").focus();
}

function backToPassword() {
  mfaToken = null;
  document.getElementById("mfa-form").reset();
  document.getElementById("mfa-form").hidden = true;
  document.getElementById("login-form").hidden = false;
}

/** After a login of any kind (password, password and code, passkey): the signed-in view. */
async function loggedIn() {
  backToPassword();
  document.getElementById("login-form").reset();
  say("");
  await showHome(true);
}

// --- the theme, kept in the session's server-side data (src/preferences.ts) -----------

function applyTheme(theme) {
  if (theme === "light" || theme === "dark") document.documentElement.dataset.theme = theme;
  else delete document.documentElement.dataset.theme;
  const select = document.getElementById("theme");
  select.value = theme ?? "system";
  select.disabled = false;
}

async function showPreferences() {
  // Disabled until the saved choice is in, so a change is never overwritten by the load.
  document.getElementById("theme").disabled = true;
  const res = await api("GET", "/app/preferences");
  applyTheme(res.ok ? res.data.theme : "system");
}

function home() {
  onSubmit(document.getElementById("login-form"), async (data) => {
    const res = await api("POST", `${AUTH}/login`, { form: data });
    // Right password, and the account has a second factor: no session yet, a code next.
    if (res.status === 400 && res.data?.detail === "LOGIN_MFA_REQUIRED") {
      document.getElementById("login-password").value = "";
      return askForSecondFactor(res.data.mfa_token);
    }
    if (!res.ok) return say(explain(res), "error");
    // The heading "You are logged in" takes the focus, and screen readers read it.
    await loggedIn();
  });

  onSubmit(document.getElementById("mfa-form"), async (data) => {
    const code = String(data.get("code")).trim();
    // Six digits: a TOTP code; anything else: a recovery code.
    const json = /^\d{6}$/.test(code)
      ? { mfa_token: mfaToken, code }
      : { mfa_token: mfaToken, recovery_code: code };
    const res = await api("POST", `${AUTH}/login/mfa`, { json });
    if (res.ok) return loggedIn();
    const detail = res.data?.detail;
    if (["MFA_TOKEN_EXPIRED", "MFA_TOKEN_USED", "MFA_TOKEN_INVALID"].includes(detail)) {
      backToPassword();
    }
    say(explain(res), "error");
  });
  document.getElementById("mfa-cancel").addEventListener("click", () => {
    backToPassword();
    say("");
  });

  document.getElementById("passkey-login").addEventListener("click", (event) => {
    const button = event.currentTarget;
    button.disabled = true;
    passkeyLogin()
      .catch(() => say("The server could not be reached.", "error"))
      .finally(() => {
        button.disabled = false;
      });
  });

  document
    .getElementById("totp-enrol")
    .addEventListener("click", () =>
      enrolTotp().catch(() => say("The server could not be reached.", "error")),
    );

  onSubmit(document.getElementById("totp-confirm-form"), async (data) => {
    const res = await api("POST", "/users/me/mfa/totp/confirm", {
      json: { code: String(data.get("code")).trim() },
    });
    if (!res.ok) return say(explain(res), "error");
    document.getElementById("totp-confirm-form").reset();
    document.getElementById("totp-setup").hidden = true;
    showRecoveryCodes(res.data.recovery_codes);
    say("The authenticator app is on. Save your recovery codes.", "success");
    await showTotp();
  });

  document.getElementById("recovery-codes-done").addEventListener("click", () => {
    document.getElementById("recovery-codes").replaceChildren();
    document.getElementById("recovery-codes-box").hidden = true;
  });

  onSubmit(document.getElementById("totp-disable-form"), async (data) => {
    const res = await api("POST", "/users/me/mfa/totp/disable", {
      json: { password: data.get("password") },
    });
    document.getElementById("totp-disable-form").reset();
    if (!res.ok) return say(explain(res), "error");
    say("The authenticator app is off.", "success");
    await showTotp();
  });

  onSubmit(document.getElementById("passkey-add-form"), async (data) => {
    await addPasskey(String(data.get("name") ?? "").trim() || "Passkey");
    document.getElementById("passkey-add-form").reset();
  });

  onSubmit(document.getElementById("register-form"), async (data) => {
    const email = data.get("email");
    const res = await api("POST", "/auth/register", {
      json: { email, password: data.get("password") },
    });
    if (!res.ok) return say(explain(res), "error");
    document.getElementById("register-form").reset();
    document.getElementById("login-email").value = email;
    say(`Account created. We sent a verification link to ${email}. You can log in now.`, "success");
    document.getElementById("login-password").focus();
  });

  onSubmit(document.getElementById("forgot-form"), async (data) => {
    const res = await api("POST", "/auth/forgot-password", { json: { email: data.get("email") } });
    if (!res.ok) return say(explain(res), "error");
    // The same answer whether or not the account exists: the API does not tell.
    say("If an account exists for this email, a reset link is on its way.", "success");
  });

  const theme = document.getElementById("theme");
  theme.addEventListener("change", async () => {
    theme.disabled = true;
    try {
      const res = await api("PUT", "/app/preferences", { json: { theme: theme.value } });
      if (!res.ok) {
        say(explain(res), "error");
        return await showPreferences();
      }
      applyTheme(res.data.theme);
      say("Theme saved for this session.", "success");
    } catch {
      say("The server could not be reached. Check your connection and try again.", "error");
    } finally {
      theme.disabled = false;
    }
  });
  // Not a form to submit: the choice is saved as it changes.
  document.getElementById("preferences-form").addEventListener("submit", (e) => e.preventDefault());

  document.getElementById("resend-verify").addEventListener("click", async () => {
    const email = document.getElementById("me-email").textContent;
    const res = await api("POST", "/auth/request-verify-token", { json: { email } });
    say(res.ok ? `We sent a new link to ${email}.` : explain(res), res.ok ? "success" : "error");
  });

  document.getElementById("logout").addEventListener("click", async () => {
    const res = await api("POST", `${AUTH}/logout`);
    say(res.ok ? "You are logged out." : explain(res), res.ok ? "success" : "error");
    await showHome(true);
  });

  document.getElementById("logout-all").addEventListener("click", async () => {
    const res = await api("POST", `${AUTH}/logout-all`);
    say(
      res.ok ? "You are logged out on every device." : explain(res),
      res.ok ? "success" : "error",
    );
    await showHome(true);
  });

  sayOAuthOutcome()
    .then(() => showHome(false))
    .catch(() => say("The server could not be reached.", "error"));
}

// --- /verify?token=… -----------------------------------------------------------------

function verify() {
  const token = takeToken();
  const form = document.getElementById("verify-form");
  if (!token) {
    form.hidden = true;
    return say("This page needs the link from your verification email.", "error");
  }
  onSubmit(form, async () => {
    const res = await api("POST", "/auth/verify", { json: { token } });
    if (!res.ok) return say(explain(res), "error");
    form.hidden = true;
    say(`Thank you: ${res.data.email} is verified.`, "success");
  });
}

// --- /reset-password?token=… ---------------------------------------------------------

function resetPassword() {
  const token = takeToken();
  const form = document.getElementById("reset-form");
  if (!token) {
    form.hidden = true;
    return say("This page needs the link from your password reset email.", "error");
  }
  onSubmit(form, async (data) => {
    if (data.get("password") !== data.get("confirm")) {
      return say("The two passwords differ.", "error");
    }
    const res = await api("POST", "/auth/reset-password", {
      json: { token, password: data.get("password") },
    });
    if (!res.ok) return say(explain(res), "error");
    form.hidden = true;
    say("Your password is changed. Log in with it on the app's home page.", "success");
  });
}

const pages = { home, verify, "reset-password": resetPassword };
pages[document.body.dataset.page]?.();
