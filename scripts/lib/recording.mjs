// Shared by the fixture recorders (scripts/record-*-fixtures.mjs): run inside a loopback-only
// network namespace, and rewrite run-specific text (temp paths, the model server's port) so
// that re-recording changes ids and timings but not the structure.
import { spawnSync } from 'node:child_process'

/**
 * Re-runs `script` inside `unshare -n` (root) or `unshare -rn` with `lo` up, and exits with its
 * status. Returns false (and the caller records in place) when already inside, when
 * OCS_NO_UNSHARE=1, or when no namespace can be made here.
 */
export function reexecInNetns(script) {
  if (process.env.OCS_RECORD_IN_NETNS === '1' || process.env.OCS_NO_UNSHARE === '1') return false
  const hasIp = spawnSync('sh', ['-c', 'command -v ip'], { stdio: 'ignore' }).status === 0
  for (const flags of [['-n'], ['-rn']]) {
    if (!hasIp || spawnSync('unshare', [...flags, 'true'], { stdio: 'ignore' }).status !== 0) continue
    console.log(`# recording inside a loopback-only network namespace (unshare ${flags.join(' ')})`)
    const r = spawnSync(
      'unshare',
      [...flags, 'sh', '-c', 'ip link set lo up && exec "$0" "$@"', process.execPath, script, ...process.argv.slice(2)],
      { stdio: 'inherit', env: { ...process.env, OCS_RECORD_IN_NETNS: '1' } },
    )
    process.exit(r.status === null ? 1 : r.status)
  }
  console.log("# note: 'unshare -n' is not available here; recording without a network namespace (the CLI is still pointed at 127.0.0.1 only)")
  return false
}

/** A function that applies every `[from, to]` plain-text replacement, in order. */
export function textRewrite(pairs) {
  return (text) => pairs.reduce((t, [from, to]) => t.split(from).join(to), text)
}
