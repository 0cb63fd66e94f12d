/**
 * public-ip-watch's router push on Node-RED's httpNode (an Express app): one middleware per app,
 * installed once, passes every other request on and answers the paths in its route table
 * (core/ip/push-endpoint.ts PushRoutes), where each node adds its endpoint on start and removes it
 * on close, so a closed node's path answers 404 again without touching Express's internals.
 */
import { PushRoutes } from '../core/ip/push-endpoint';

/** The parts of Node-RED's httpNode (an Express app) and of its requests that the push endpoint uses. */
export interface HttpApp {
  use(handler: (req: HttpRequest, res: HttpResponse, next: () => void) => void): void;
}
interface HttpRequest {
  method?: string;
  url?: string;
  headers: Record<string, string | string[] | undefined>;
  socket?: { remoteAddress?: string };
}
interface HttpResponse {
  writeHead(status: number, headers: Record<string, string>): void;
  end(body?: string): void;
}

/** One route table per HTTP app, with its middleware installed once (the test helper makes a new app per flow). */
const routeTables = new WeakMap<HttpApp, PushRoutes>();

export function pushRoutes(app: HttpApp): PushRoutes {
  const known = routeTables.get(app);
  if (known) return known;
  const routes = new PushRoutes();
  routeTables.set(app, routes);
  app.use((req, res, next) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const endpoint = routes.find(q < 0 ? url : url.slice(0, q));
    if (!endpoint) return next();
    const auth = req.headers.authorization;
    endpoint
      .handle({
        method: req.method ?? 'GET',
        query: q < 0 ? '' : url.slice(q + 1),
        authorization: typeof auth === 'string' ? auth : undefined,
        client: req.socket?.remoteAddress,
      })
      .then(
        (r) => {
          res.writeHead(r.status, r.headers);
          res.end(r.body);
        },
        () => {
          res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
          res.end('911\n');
        },
      );
  });
  return routes;
}
