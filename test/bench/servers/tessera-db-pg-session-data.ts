import { dbApp } from "./tessera-db.ts";

export const build = () => dbApp("postgresql", "session-data");
