// Mocha's spec reporter, and the counts of the run (mocha's runner.stats) written as JSON to the
// file named by DDNS_MOCHA_STATS: scripts/test.mjs runs one mocha process per test file and adds them up.
import { writeFileSync } from 'node:fs';
import Mocha from 'mocha';

export default class SpecWithStats extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once(Mocha.Runner.constants.EVENT_RUN_END, () => {
      if (process.env.DDNS_MOCHA_STATS) writeFileSync(process.env.DDNS_MOCHA_STATS, JSON.stringify(runner.stats));
    });
  }
}
