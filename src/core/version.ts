/** The package's own name and version, read once from package.json (shipped with the package). */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const pkg = require('../../../package.json') as { name: string; version: string };

export const PACKAGE_NAME: string = pkg.name;
export const PACKAGE_VERSION: string = pkg.version;
/** The User-Agent every request of this package sends. dyndns2 providers require one that names the client. */
export const USER_AGENT = `${pkg.name}/${pkg.version} (+https://github.com/node-red-contrib-ddns/node-red-contrib-ddns)`;
