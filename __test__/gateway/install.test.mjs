// The plugin as a user gets it: `npm run plugin:pack` prints an installable tarball last; the
// tarball carries the addon (native binary included) and declares no dependencies, so
// `openclaw plugins install` needs no registry (this whole suite runs without a network); and
// the gateway validates the plugin config against the manifest's schema.
import test from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { isAbsolute } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gatewayHome, installPlugin, openclaw, startGateway } from '../helpers/gateway.mjs'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const run = (cmd, args) =>
  new Promise((resolve) => execFile(cmd, args, { cwd: ROOT, maxBuffer: 64 << 20 }, (err, stdout, stderr) => resolve({ code: err?.code ?? 0, stdout, stderr })))

test('npm run plugin:pack prints the tarball path last; it carries the addon and declares no dependencies', async () => {
  const r = await run('npm', ['run', 'plugin:pack'])
  assert.equal(r.code, 0, r.stderr)
  const tarball = r.stdout.trim().split('\n').at(-1)
  assert.ok(isAbsolute(tarball) && tarball.endsWith('.tgz') && existsSync(tarball), tarball)

  const files = (await run('tar', ['-tzf', tarball])).stdout.split('\n')
  for (const f of ['package/package.json', 'package/openclaw.plugin.json', 'package/dist/index.js',
    'package/node_modules/openclaw-sessions/index.js', 'package/node_modules/openclaw-sessions/package.json']) {
    assert.ok(files.includes(f), `${f} is in the tarball`)
  }
  assert.ok(files.some((f) => /^package\/node_modules\/openclaw-sessions\/openclaw-sessions\.[\w-]+\.node$/.test(f)), 'the native binary travels inside')
  assert.ok(!files.some((f) => f.startsWith('package/src/')), 'no TypeScript sources')

  const manifest = JSON.parse((await run('tar', ['-xzOf', tarball, 'package/package.json'])).stdout)
  assert.deepEqual(manifest.openclaw.extensions, ['./dist/index.js'])
  assert.equal(manifest.dependencies, undefined)
  assert.equal(manifest.optionalDependencies, undefined)
  assert.equal(manifest.devDependencies, undefined)
})

test('a bad config value makes the gateway refuse to start; its config check names the keys', async () => {
  const home = await gatewayHome()
  await installPlugin(home, { maxSessions: 0, defaultWorkdir: 'relative/dir' })
  const err = await startGateway(home, { timeoutMs: 90_000 }).then(
    async (gw) => {
      await gw.stop()
      return undefined
    },
    (e) => e,
  )
  assert.ok(err, 'the gateway must not start')
  // `gateway run` exits 78 (EX_CONFIG) and points at the check; the check names each key.
  assert.match(err.message, /exited \(78\) before it was ready/)
  assert.match(err.message, /OpenClaw config is invalid/)
  const check = await openclaw(home, ['config', 'validate'])
  assert.notEqual(check.code, 0)
  assert.match(check.stdout + check.stderr, /plugins\.entries\.openclaw-sessions\.config\.maxSessions: invalid config: must be >= 1/)
  assert.match(check.stdout + check.stderr, /plugins\.entries\.openclaw-sessions\.config\.defaultWorkdir: invalid config: must match pattern "\^\/"/)
})
