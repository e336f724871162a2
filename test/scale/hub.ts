// A second hub replica in a process of its own (test/scale/replicas.test.ts forks it): the very
// app `npm start` runs, given its configuration as JSON in OBIA_TEST_HUB_CONFIG. It reports its
// URL over IPC and closes when the parent disconnects, so a failed test leaves nothing running.
import 'reflect-metadata';
import { bootstrap } from '../../src/app.js';

void bootstrap({ config: JSON.parse(process.env.OBIA_TEST_HUB_CONFIG!), seedIfEmpty: false, listen: false, log: () => {} }).then((app) => {
  process.send!({ url: app.url });
  process.once('disconnect', () => {
    void app.close().finally(() => process.exit(0));
  });
});
