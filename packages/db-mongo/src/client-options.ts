import type { MongoClientOptions } from "mongodb";

/**
 * `MongoClient` options under which an outage answers fast, so the HTTP layer replies 503
 * within about a second instead of hanging for the driver's 30-second defaults. Spread them
 * into your own options; the driver reconnects by itself once the server is back.
 *
 * - `serverSelectionTimeoutMS: 1000`: no reachable server -> `MongoServerSelectionError` in 1 s
 *   (default 30 s).
 * - `connectTimeoutMS: 1000`: a TCP connect or handshake that stalls (firewall drop) fails
 *   in 1 s (default 30 s).
 * - `socketTimeoutMS: 5000`: a connection whose server stops answering mid-request is closed
 *   after 5 s of silence (default: never). Raise it if your app runs long queries on this client.
 * - `waitQueueTimeoutMS: 1000`: a request waiting for a pooled connection gives up after
 *   1 s (default: never).
 *
 * @example
 * const client = new MongoClient(process.env.MONGODB_URL!, { ...fastFailClientOptions, appName: "api" });
 */
export const fastFailClientOptions = {
  serverSelectionTimeoutMS: 1000,
  connectTimeoutMS: 1000,
  socketTimeoutMS: 5000,
  waitQueueTimeoutMS: 1000,
} as const satisfies MongoClientOptions;
