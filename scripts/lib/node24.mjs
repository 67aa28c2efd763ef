// The Node 24 that the OpenClaw gateway needs (`openclaw` 2026.9.6 requires Node
// >=24.16.0 <25 || >=26.1.0), fetched from the registry package `node-<platform>-<arch>` (its
// tarball ships `bin/node` and has no install scripts) into `.cache/` by `npm pack`, so nothing
// is installed by hand and npm's own registry settings and integrity checks apply.
//
//   node scripts/lib/node24.mjs      prints the path of the Node 24 binary (fetching it once)
import { execFileSync } from 'node:child_process'
import { existsSync, renameSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { npmPackInto } from './npm-pack.mjs'

/** The pinned Node 24 release. */
export const NODE24_VERSION = '24.22.3'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const CACHE = join(ROOT, '.cache')

/** Whether a `process.version` string satisfies the gateway's engines range. */
export function gatewayCanRunOn(version) {
  const [major, minor] = version.replace(/^v/, '').split('.').map(Number)
  return (major === 24 && minor >= 16) || (major === 26 && minor >= 1) || major > 26
}

/** The path of a Node binary the gateway runs on: this one if it qualifies, else the pinned 24. */
export function node24() {
  if (gatewayCanRunOn(process.version)) return process.execPath
  const dir = join(CACHE, `node-v${NODE24_VERSION}-${process.platform}-${process.arch}`)
  const bin = join(dir, 'bin', 'node')
  if (existsSync(bin)) return bin
  const pkg = `node-${process.platform}-${process.arch}@${NODE24_VERSION}`
  // Unpacked beside its final place, then renamed: an interrupted fetch leaves no half binary.
  const partial = `${dir}.partial`
  rmSync(partial, { recursive: true, force: true })
  try {
    npmPackInto(pkg, partial, { cwd: ROOT, tmpRoot: CACHE })
    rmSync(dir, { recursive: true, force: true })
    renameSync(partial, dir)
  } catch (e) {
    rmSync(partial, { recursive: true, force: true })
    throw new Error(`cannot fetch Node ${NODE24_VERSION} (npm pack ${pkg}): ${e.message}`)
  }
  const version = execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim()
  if (!gatewayCanRunOn(version)) throw new Error(`${bin} is ${version}, not a Node the gateway runs on`)
  return bin
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(node24())
