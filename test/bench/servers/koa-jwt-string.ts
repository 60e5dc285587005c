// Peer: koa-jwt with the secret as a string, as its README shows (jsonwebtoken then
// imports the key again on every request).
import { JWT_SECRET } from "../lib/shared.ts";
import { koaJwtApp } from "./koa-jwt.ts";

export const build = () => koaJwtApp(JWT_SECRET);
