// The browser the UI tests drive: Debian's Chromium (`apt-get install chromium`; `npm test`
// installs it where it is missing), or the one CHROMIUM_PATH names.
import { existsSync } from 'node:fs'

/** The Chromium executable; throws with what to install when there is none. */
export function browserPath() {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter(Boolean)
  const found = candidates.find((p) => existsSync(p))
  if (!found) throw new Error(`no Chromium found (tried ${candidates.join(', ')}): run 'apt-get install chromium' or set CHROMIUM_PATH`)
  return found
}

/**
 * Headless, no sandbox (tests run as root in a network namespace), and nothing that reaches
 * beyond the page: no background networking, component updates, sync or QUIC.
 */
export const BROWSER_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
]
