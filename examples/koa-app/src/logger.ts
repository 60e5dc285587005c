/** Where the app writes its log lines: `console` in the server, a quiet stub in tests. */
export type Logger = Pick<Console, "info" | "warn" | "error">;
