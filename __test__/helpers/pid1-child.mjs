// Run by recovery-pid1.test.mjs as pid 1 of a new pid namespace (`unshare -p -f --mount-proc`),
// so that every manager on the store has the same pid. argv[2] is the mode:
//  - 'start':   a manager on `storePath` spawns a Claude session per prompt in `prompts` (each
//               turn runs long Bash commands, one of them setsid), prints {spawned, pid,
//               containment} per session, then {ready, self}, and waits to be SIGKILLed.
//  - 'recover': a manager on `storePath` with notifications (fallback channel `x`) prints
//               {self, sessions} (what recovery left in the store), then each notification as
//               {notification, session, key}. Reads commands on stdin: `barrier` spawns a new
//               session and prints {barrier: id} (its `launched` notification comes after every
//               notification recovery queued), `exit` shuts down and exits.
// Config comes from OCS_CHILD_CONFIG (JSON).
import { createInterface } from 'node:readline'
import { SessionManager } from '../../index.js'

const mode = process.argv[2]
const { claudePath, env, workdir, storePath, prompts = [], appendSystemPrompt } = JSON.parse(process.env.OCS_CHILD_CONFIG)
const say = (o) => process.stdout.write(JSON.stringify(o) + '\n')

if (mode === 'start') {
  const manager = new SessionManager({ claudePath, env, storePath })
  for (const prompt of prompts) {
    const s = await manager.spawn({ backend: 'claude', prompt, workdir, allowedTools: ['Bash'], appendSystemPrompt })
    say({ spawned: s.id, pid: s.pid, containment: s.containment })
  }
  say({ ready: true, self: process.pid })
} else {
  const manager = new SessionManager({ claudePath, env, storePath, notifications: { fallbackChannel: 'x' } })
  manager.onNotification((n) => {
    say({ notification: n.kind, session: n.sessionId, key: n.key })
  })
  say({ self: process.pid, sessions: (await manager.list()).map((i) => ({ id: i.id, status: i.status, endReason: i.endReason })) })
  for await (const line of createInterface({ input: process.stdin })) {
    if (line === 'barrier') {
      const s = await manager.spawn({ backend: 'claude', prompt: 'hello', workdir })
      say({ barrier: s.id })
    } else if (line === 'exit') {
      await manager.shutdown()
      process.exit(0)
    }
  }
}
