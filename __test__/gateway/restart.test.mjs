// Sessions across a gateway restart, in the real gateway: SIGTERM stops the plugin's service,
// which stops every live session gracefully (`interrupted`, resumable) and leaves no CLI
// process behind; the gateway started again shows them and resumes them with their history.
import test from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { claudeBin } from '../helpers/claude.mjs'
import { codexBin } from '../helpers/codex.mjs'
import { alive, gatewaySuite, startGateway, until } from '../helpers/gateway.mjs'

const suite = gatewaySuite()
const tool = (name, args) => suite.tool(name, args)

const session = async (family, name) => (await tool(`${family}_sessions`, {})).details.find((s) => s.name === name)

/** Processes running one of the CLI binaries (argv[0] is the binary), from /proc. */
function cliProcesses() {
  const bins = [claudeBin(), codexBin()]
  const found = []
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const argv0 = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0]
      if (bins.includes(argv0) && alive(Number(pid))) found.push(`${pid} ${argv0}`)
    } catch {}
  }
  return found
}

test('sessions live at SIGTERM are interrupted, leave no CLI running, and resume with their history after the restart', async () => {
  const pids = {}
  for (const family of ['claude', 'codex']) {
    await tool(`${family}_launch`, { prompt: "Hello, I'm John", name: `live-${family}` })
    const s = await until(async () => {
      const x = await session(family, `live-${family}`)
      return x?.status === 'waiting-for-input' ? x : undefined
    }, { what: `live-${family} to wait for input` })
    pids[family] = s.pid
  }
  assert.ok(cliProcesses().length >= 2, 'both CLIs run before the stop')

  await suite.gw.stop('SIGTERM')
  for (const pid of Object.values(pids)) assert.equal(alive(pid), false, `CLI ${pid} outlived the gateway`)
  assert.deepEqual(cliProcesses(), [], 'no CLI process is left once the gateway stopped')

  suite.gw = await startGateway(suite.home)
  for (const family of ['claude', 'codex']) {
    const s = await session(family, `live-${family}`)
    assert.equal(s.status, 'interrupted', `${family}: ${JSON.stringify(s)}`)
    assert.ok(['shutdown', 'manager-restart'].includes(s.endReason), s.endReason)

    const resumed = await tool(`${family}_resume`, { session: s.id, prompt: "What's my name?" })
    assert.equal(resumed.details.resumedFromId, s.id)
    await until(async () => {
      const r = await tool(`${family}_output`, { session: resumed.details.id })
      return /Your name is John\./.test(r.content[0].text) || undefined
    }, { what: `the resumed ${family} session to remember the name` })
    const chain = await tool(`${family}_sessions`, {})
    assert.match(chain.content[0].text, new RegExp(`resumed from ${s.id.slice(0, 8)}`))
  }

  await suite.gw.stop('SIGTERM')
  assert.deepEqual(cliProcesses(), [], 'no CLI process is left after the second stop')
})
