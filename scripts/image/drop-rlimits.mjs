// Removes `rlimits` from an OCI runtime config (config.json: `process.rlimits`) or an exec's
// process file (`rlimits` at the top), in place. Used by the runc wrapper that
// scripts/image/lib.sh writes; see there for why.
import { readFileSync, writeFileSync } from 'node:fs';

const file = process.argv[2];
if (!file) throw new Error('usage: drop-rlimits.mjs CONFIG_JSON');
const spec = JSON.parse(readFileSync(file, 'utf8'));
const target = spec.process ?? spec;
if (target.rlimits) {
  delete target.rlimits;
  writeFileSync(file, JSON.stringify(spec));
}
