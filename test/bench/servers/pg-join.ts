import { pgApp } from "./pg-lookup.ts";

export const build = () => pgApp("join");
