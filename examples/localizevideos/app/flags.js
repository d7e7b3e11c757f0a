// Feature flags, read once at start from a JSON object of name -> value:
// true/false, or {"enabled": true/false, "rate": 0..1} for a flag that acts
// on a share of requests. A missing file means every flag is off; a file
// that does not parse stops the app, rather than run with unknown flags.
'use strict';

const fs = require('node:fs');

function readFlags(file) {
  let raw = {};
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    if (err.code !== 'ENOENT') {
      console.error(`localizevideos-app: flags file ${file}: ${err.message}`);
      process.exit(1);
    }
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    console.error(`localizevideos-app: flags file ${file}: want a JSON object of flag names`);
    process.exit(1);
  }
  const on = (v) => v === true || (v !== null && typeof v === 'object' && v.enabled === true);
  return {
    names: () => Object.keys(raw),
    enabled: (name) => on(raw[name]),
    // rate is the share of requests a flag acts on: 1 when it is simply on.
    rate: (name) => {
      const v = raw[name];
      if (!on(v)) return 0;
      return typeof v === 'object' && typeof v.rate === 'number' ? Math.min(Math.max(v.rate, 0), 1) : 1;
    },
  };
}

module.exports = { readFlags };
