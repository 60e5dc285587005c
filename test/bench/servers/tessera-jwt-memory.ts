import { jwtApp } from "./tessera-jwt.ts";

export const build = () => jwtApp("memory");
