// Run as a child process by node-lifetime.test.mjs. argv[2] is the mode:
//  - 'shutdown': spawn a session, wait until it waits for input, then shutdown() and do nothing more.
//  - 'hold':     spawn a session whose turn the model stalls, print its pid, and wait to be killed.
//  - 'close':    spawn, then only an onEvent listener (no pending promise) that closes the session
//                when it waits for input. Proves a live session keeps Node up and a finished one
//                does not.
// Prints JSON lines the parent asserts on. Config comes from OCS_CHILD_CONFIG (JSON).
import { SessionManager } from '../../index.js'

const mode = process.argv[2]
const { claudePath, env, workdir, storePath, prompt: holdPrompt, then } = JSON.parse(process.env.OCS_CHILD_CONFIG)
const manager = new SessionManager({ claudePath, env, ...(storePath ? { storePath } : {}) })
const say = (o) => process.stdout.write(JSON.stringify(o) + '\n')

const prompt = mode === 'hold' ? (holdPrompt ?? 'hold this turn') : "Hello, I'm Ada"
const s = await manager.spawn({ backend: 'claude', prompt, workdir })
say({ spawned: s.id, pid: s.pid })

manager.onEvent((e) => {
  if (e.kind !== 'status' || e.status !== 'waiting-for-input') return
  if (mode === 'hold') {
    // Optionally a second turn (the one the model then stalls on).
    if (then) manager.send(s.id, then).then(() => say({ sent: then }))
    return
  }
  if (mode === 'shutdown') {
    manager.shutdown().then((stats) => say({ shutdown: stats.live, interrupted: stats.byStatus.interrupted }))
  } else {
    manager.close(s.id).then((info) => say({ closed: info.status }))
  }
})
