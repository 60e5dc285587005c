import { type EntityManager, RequestContext } from "@mikro-orm/core";

/**
 * Runs `handler` with an EntityManager forked for one request, also registered as
 * MikroORM's request context (so `orm.em` inside the handler resolves to the same fork).
 * Framework-neutral: wrap a Koa middleware's `next`, an Express handler, a job. The fork
 * has its own identity map, so nothing one request loads leaks into another.
 *
 * @example
 * // Koa: one fork per request, handed to the adapters through ctx.state
 * app.use((ctx, next) =>
 *   withRequestEntityManager(orm.em, (em) => {
 *     ctx.state.em = em;
 *     return next();
 *   }),
 * );
 */
export function withRequestEntityManager<T>(
  em: EntityManager,
  handler: (em: EntityManager) => T,
): T {
  return RequestContext.create(em, () => {
    const fork = RequestContext.getEntityManager(em.name);
    if (!fork) throw new Error("MikroORM did not create a request context");
    return handler(fork);
  });
}
