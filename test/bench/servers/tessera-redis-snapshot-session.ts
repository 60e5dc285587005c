import { redisApp } from "./tessera-redis.ts";

export const build = () => redisApp(true, "session");
