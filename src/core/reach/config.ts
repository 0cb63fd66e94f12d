/** Checks of reachability-check's configuration beyond single fields, free of Node-RED. */
import { checkName } from './checks';
import { parseCheckUrl, parseStatusSpec } from './http';
import { phrase } from '../said';

/** What is wrong with the interval, the ports, the names and the HTTP checks: one issue per field problem. */
export function reachConfigIssues(c: {
  interval: number;
  tcpPorts: string[];
  names: string[];
  httpStatus: string;
  httpUrls: string[];
}): Array<{ path: string; message: string }> {
  const issues: Array<{ path: string; message: string }> = [];
  if (c.interval > 0 && c.interval < 30)
    issues.push({
      path: 'interval',
      message: phrase('reach.interval_must_0_input', 'interval must be 0 (input only) or at least 30 seconds'),
    });
  for (const p of c.tcpPorts) {
    if (!/^\d+$/.test(p) || Number(p) < 1 || Number(p) > 65535)
      issues.push({
        path: 'tcpPorts',
        message: phrase('reach.not_port', '"__port__" is not a port number (1-65535)', { port: p }),
      });
  }
  for (const n of c.names) {
    try {
      checkName(n);
    } catch (e) {
      issues.push({ path: 'names', message: (e as Error).message });
    }
  }
  try {
    parseStatusSpec(c.httpStatus);
    for (const u of c.httpUrls) parseCheckUrl(u);
  } catch (e) {
    issues.push({ path: 'httpUrls', message: (e as Error).message });
  }
  return issues;
}
