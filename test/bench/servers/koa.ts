// The ceiling: bare Koa and @koa/router, no authentication, the same JSON answer.
import Koa from "koa";
import { meRouter } from "./common.ts";

const ID = "00000000-0000-4000-8000-000000000000";

export async function build(): Promise<Koa> {
  const app = new Koa();
  app.use(meRouter([], () => ID).routes());
  return app;
}
