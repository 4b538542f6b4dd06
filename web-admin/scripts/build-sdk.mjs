// Builds the JavaScript client (clients/js) into the dashboard's dist, so that the users-api
// binary serves it with the dashboard and a site needs nothing from npm's registry:
//
//   dist/sdk/v1.js                   the client as one ES module (no dependencies), for
//                                    `import { createUsersClient } from 'https://HOST/sdk/v1.js'`
//   dist/sdk/users-api-client.tgz    the packed package (both entry points, with types), for
//                                    `npm install https://HOST/sdk/users-api-client.tgz`
//
// Run by `npm run build` after `vite build` (which empties dist). Installs the client's own
// dependencies (`npm ci`, which also compiles its dist/) when they are missing or stale.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const webAdmin = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const client = resolve(webAdmin, '../clients/js');
const out = join(webAdmin, 'dist', 'sdk');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

if (!existsSync(join(client, 'package.json'))) {
  throw new Error(`no JavaScript client at ${client}: the dashboard build needs clients/js beside web-admin`);
}
const run = (args) => execFileSync(npm, args, { cwd: client, stdio: ['ignore', 'inherit', 'inherit'] });

// npm ci when node_modules is missing or older than the lock file; it builds dist/ (prepare).
const installed = join(client, 'node_modules', '.package-lock.json');
const stale = !existsSync(installed) || statSync(installed).mtimeMs < statSync(join(client, 'package-lock.json')).mtimeMs;
if (stale) run(['ci', '--no-audit', '--no-fund']);
else run(['run', 'build']);

mkdirSync(out, { recursive: true });

// The tarball: dist/ was just built, so the pack scripts need not build it again.
const packed = JSON.parse(execFileSync(npm, ['pack', '--json', '--ignore-scripts', '--pack-destination', out], { cwd: client, encoding: 'utf8' }));
renameSync(join(out, packed[0].filename), join(out, 'users-api-client.tgz'));

// The ES module: the compiled client, bundled into one file.
const { version } = JSON.parse(readFileSync(join(client, 'package.json'), 'utf8'));
await build({
  configFile: false,
  logLevel: 'warn',
  root: client,
  build: {
    outDir: out,
    emptyOutDir: false,
    copyPublicDir: false,
    minify: false,
    lib: { entry: join(client, 'dist', 'index.js'), formats: ['es'], fileName: () => 'v1.js' },
    rollupOptions: { output: { banner: `/*! @users-api/client ${version} (GPL-3.0-or-later), served by users-api */` } },
  },
});
console.log(`sdk: ${join(out, 'v1.js')} and ${join(out, 'users-api-client.tgz')}`);
