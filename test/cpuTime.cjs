// CPU-ms of this process (user + system, all threads) and of the child processes it waited for
// (browsers, Orthanc, dciodvfy, CLIs), from /proc (Linux); children 0 elsewhere. Shared by the
// timing hook (test/timing.mjs, a process's total) and test/run.mjs's group entries (per file).
'use strict';
const fs = require('node:fs');

function cpuMs() {
  try {
    // Fields after the command name (which may hold spaces): utime is the 14th field, cstime the 17th.
    const fields = fs.readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
    const tick = 10; // USER_HZ is 100 on Linux
    return { self: (Number(fields[11]) + Number(fields[12])) * tick, children: (Number(fields[13]) + Number(fields[14])) * tick };
  } catch {
    const cpu = process.cpuUsage();
    return { self: Math.round((cpu.user + cpu.system) / 1000), children: 0 };
  }
}

module.exports = { cpuMs };
