/** Progress on stderr, so stdout carries only the tables. */
export const log = (...a: unknown[]) => console.error("bench:", ...a);
