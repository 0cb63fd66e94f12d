/** The package's own name and version, read once from package.json (shipped with the package). */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const pkg = require('../../../package.json') as { name: string; version: string };

export const PACKAGE_NAME: string = pkg.name;
export const PACKAGE_VERSION: string = pkg.version;
/** The project's home page. */
export const PROJECT_URL = 'https://github.com/node-red-contrib-ddns/node-red-contrib-ddns';
/** Where users and providers report a problem with this client. */
export const PROJECT_ISSUES = `${PROJECT_URL}/issues`;
/**
 * The e-mail address a provider's support can write to about this client, sent where a provider
 * asks for a maintainer contact in the User-Agent (No-IP). An account can send its own instead.
 */
export const PROJECT_CONTACT = 'node-red-contrib-ddns@users.noreply.github.com';
/**
 * The User-Agent of every request of this package, `name/version (+home page)` (RFC 9110 §10.1.5).
 * The dyndns2 providers get the format their documentation asks for (providers/dyndns2.ts).
 */
export const USER_AGENT = `${pkg.name}/${pkg.version} (+${PROJECT_URL})`;
