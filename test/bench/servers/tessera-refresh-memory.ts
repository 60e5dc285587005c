import { refreshApp } from "./tessera-refresh.ts";

export const build = () => refreshApp("memory");
