/**
 * cert-renew's HTTP-01 answers on Node-RED's own HTTP server: one middleware per Express app,
 * installed once, answers `/.well-known/acme-challenge/<token>` from the token stores of the orders
 * pending right now and passes every other request on (so a token of no pending order, or any path
 * while nothing is pending, ends in Node-RED's 404). No route is added or removed per order, and
 * Express's internals are not touched (as push-http.ts does for public-ip-watch).
 *
 * The CA asks at the root of port 80. So the app must be mounted at `/`: httpNode when
 * httpNodeRoot is `/` (the default), else httpAdmin when httpAdminRoot is `/`; otherwise, or when
 * httpNode asks for a password (httpNodeAuth), the sentence why this cannot work.
 */
import { answerFrom, CHALLENGE_PATH, type Http01Listener, type TokenStore } from '../core/acme/http01';
import type { HttpApp } from './push-http';
import type { Red } from './red-types';
import { say } from '../core/errors';
import { spoken } from './adapter';

const active = new WeakMap<HttpApp, Set<TokenStore>>();

function storesOf(app: HttpApp): Set<TokenStore> {
  const known = active.get(app);
  if (known) return known;
  const stores = new Set<TokenStore>();
  active.set(app, stores);
  app.use((req, res, next) => {
    if (!stores.size || !(req.url ?? '').startsWith(CHALLENGE_PATH)) return next();
    for (const s of stores) {
      const a = answerFrom(s, req.url, req.method);
      if (a.status === 200) {
        res.writeHead(200, a.headers);
        return res.end(req.method === 'HEAD' ? undefined : a.body);
      }
    }
    next();
  });
  return stores;
}

const atRoot = (root: unknown) => root === undefined || root === '' || root === '/';

/** Node-RED's HTTP server as the HTTP-01 listener, or why it cannot be one. */
export function nodeRedListener(RED: Red): Http01Listener | { error: string } {
  const s = RED.settings;
  const apps = RED as { httpNode?: HttpApp; httpAdmin?: unknown };
  let app: HttpApp | undefined;
  if (s.httpNodeRoot !== false && atRoot(s.httpNodeRoot) && typeof apps.httpNode?.use === 'function') {
    if (s.httpNodeAuth)
      return {
        error: spoken(
          say(
            'node.http01_node_auth',
            "Node-RED asks for a password on its HTTP endpoints (httpNodeAuth in settings.js), which the certificate authority cannot give: choose HTTP-01 on a port of cert-renew's own",
          ),
        ),
      };
    app = apps.httpNode;
  } else if (s.httpAdminRoot !== false && atRoot(s.httpAdminRoot)) {
    const admin = apps.httpAdmin as HttpApp | undefined;
    if (typeof admin?.use === 'function') app = admin;
  }
  if (!app)
    return {
      error: spoken(
        say(
          'node.http01_not_root',
          'the certificate authority asks for /.well-known/acme-challenge/ at the root of the web server, but Node-RED serves its HTTP endpoints under __nodeRoot__ and its editor under __adminRoot__: choose HTTP-01 on a port of cert-renew\'s own, or set httpNodeRoot to "/"',
          { nodeRoot: String(s.httpNodeRoot), adminRoot: String(s.httpAdminRoot ?? '/') },
        ),
      ),
    };
  const stores = storesOf(app);
  let mine: TokenStore | null = null;
  return {
    where: `Node-RED's HTTP server (port ${String(s.uiPort ?? 1880)})`,
    open: async (store) => {
      mine = store;
      stores.add(store);
    },
    close: async () => {
      if (mine) stores.delete(mine);
      mine = null;
    },
  };
}
