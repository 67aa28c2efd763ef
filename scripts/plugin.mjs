// The OpenClaw plugin in plugin/: its dependencies, its build and its installable tarball.
//
//   node scripts/plugin.mjs deps    npm install in plugin/ (the pinned `openclaw` for the SDK
//                                   types and the gateway the tests run), under Node 24
//   node scripts/plugin.mjs build   tsc -p plugin (strict, against the real SDK types) -> plugin/dist
//
// The root `npm install` runs deps and build (`prepare`).
//   node scripts/plugin.mjs pack    build, then the plugin tarball; prints its path last
//
// The tarball is `openclaw plugins install`-able with no registry access: it declares no
// runtime dependencies (the gateway would run `npm install` for them) and carries the addon,
// native binary included, under node_modules/openclaw-sessions.
import { execFileSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { node24 } from './lib/node24.mjs'
import { npmPackInto } from './lib/npm-pack.mjs'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const PLUGIN = join(ROOT, 'plugin')
const OUT = join(ROOT, '.cache', 'plugin')

/** Runs a command, its output on our stderr (stdout is kept for the tarball path). */
function run(cmd, args, options = {}) {
  execFileSync(cmd, args, { stdio: ['ignore', 2, 2], ...options })
}

/** npm with Node 24 first on PATH: `openclaw`'s install scripts refuse an older Node. */
export function pluginDeps() {
  const bin = join(node24(), '..')
  const env = { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` }
  run('npm', ['install', '--no-audit', '--no-fund'], { cwd: PLUGIN, env })
}

export function pluginBuild() {
  if (!existsSync(join(PLUGIN, 'node_modules', 'openclaw'))) pluginDeps()
  rmSync(join(PLUGIN, 'dist'), { recursive: true, force: true })
  run(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(PLUGIN, 'tsconfig.json')])
}

/** Builds the tarball; returns its absolute path. */
export function pluginPack() {
  pluginBuild()
  const manifest = JSON.parse(readFileSync(join(PLUGIN, 'package.json'), 'utf8'))
  mkdirSync(join(ROOT, '.cache'), { recursive: true })
  const stage = mkdtempSync(join(ROOT, '.cache', 'plugin-stage-'))
  try {
    const pkg = join(stage, 'package')
    mkdirSync(pkg)
    for (const f of manifest.files) cpSync(join(PLUGIN, f), join(pkg, f), { recursive: true })
    // The published manifest: no devDependencies (the gateway installs none), no scripts.
    const { devDependencies: _dev, scripts: _scripts, ...published } = manifest
    writeFileSync(join(pkg, 'package.json'), `${JSON.stringify(published, null, 2)}\n`)
    // The addon exactly as npm publishes it (index.js, index.d.ts, the .node binary, ...).
    const addon = join(pkg, 'node_modules', 'openclaw-sessions')
    npmPackInto(ROOT, addon, { cwd: ROOT, tmpRoot: stage })
    if (!readFileSync(join(addon, 'package.json'), 'utf8').includes('"openclaw-sessions"')) throw new Error('addon package missing')
    mkdirSync(OUT, { recursive: true })
    const tarball = join(OUT, `${manifest.name}-${manifest.version}.tgz`)
    run('tar', ['-czf', tarball, '--owner=0', '--group=0', '--numeric-owner', '-C', stage, 'package'])
    return tarball
  } finally {
    rmSync(stage, { recursive: true, force: true })
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const cmd = process.argv[2]
  if (cmd === 'deps') pluginDeps()
  else if (cmd === 'build') pluginBuild()
  else if (cmd === 'pack') console.log(pluginPack())
  else {
    console.error('usage: node scripts/plugin.mjs deps|build|pack')
    process.exit(2)
  }
}
