export * from "./memory.js";
export * from "./store.js";
