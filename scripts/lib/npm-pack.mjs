// `npm pack <spec>` and unpack it: the registry's (or a local folder's) package contents exactly
// as npm publishes them, with npm's own registry settings and integrity checks.
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { join } from 'node:path'

/** Packs `spec` (run in `cwd`) and unpacks its `package/` contents into `dest`; scripts never run. */
export function npmPackInto(spec, dest, { cwd, tmpRoot }) {
  mkdirSync(tmpRoot, { recursive: true })
  const tmp = mkdtempSync(join(tmpRoot, 'npm-pack-'))
  try {
    const out = execFileSync('npm', ['pack', spec, '--json', '--silent', '--ignore-scripts', '--pack-destination', tmp], { cwd, encoding: 'utf8' })
    const [{ filename }] = JSON.parse(out)
    mkdirSync(dest, { recursive: true })
    execFileSync('tar', ['-xzf', join(tmp, filename), '-C', dest, '--strip-components=1'])
  } finally {
    rmSync(tmp, { recursive: true, force: true })
  }
}
