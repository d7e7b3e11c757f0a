// npm run build: writes dist/index.html from public/ and dist/build-info.json
// with the git commit the build came from, so a running app says what it is.
'use strict';

const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const dist = path.join(root, 'dist');

function git(...args) {
  return execFileSync('git', args, { cwd: root, encoding: 'utf8' }).trim();
}

let commit;
try {
  commit = git('rev-parse', 'HEAD');
} catch (err) {
  console.error(`build: not a git checkout (${err.message.split('\n')[0]}): the build must name its commit`);
  process.exit(1);
}
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const info = {
  name: pkg.name,
  version: pkg.version,
  commit,
  dirty: git('status', '--porcelain', '--untracked-files=no') !== '',
  builtAt: new Date().toISOString(),
};
const page = fs.readFileSync(path.join(root, 'public', 'index.html'), 'utf8')
  .replaceAll('{{commit}}', commit.slice(0, 12))
  .replaceAll('{{version}}', pkg.version);

fs.rmSync(dist, { recursive: true, force: true });
fs.mkdirSync(dist);
fs.writeFileSync(path.join(dist, 'index.html'), page);
fs.writeFileSync(path.join(dist, 'build-info.json'), `${JSON.stringify(info, null, 2)}\n`);
console.log(`build: dist/ for ${pkg.name} ${pkg.version} at ${commit.slice(0, 12)}${info.dirty ? ' (uncommitted changes)' : ''}`);
