// Run as a child process by containment.test.mjs: a manager on OCS_CHILD_CONFIG.storePath spawns
// a Claude session whose scripted turn runs a long Bash command (and one that setsids), prints
// {"spawned": id, "pid": ...}, and waits to be killed with SIGKILL.
import { SessionManager } from '../../index.js'

const { claudePath, env, workdir, storePath, prompt } = JSON.parse(process.env.OCS_CHILD_CONFIG)
const manager = new SessionManager({ claudePath, env, storePath })
const s = await manager.spawn({ backend: 'claude', prompt, workdir, allowedTools: ['Bash'] })
process.stdout.write(JSON.stringify({ spawned: s.id, pid: s.pid, containment: s.containment }) + '\n')
