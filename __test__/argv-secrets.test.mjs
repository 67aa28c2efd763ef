// Nothing secret on argv (issue 16): Claude's `appendSystemPrompt` and Codex's `config` reach the
// real CLIs through a 0600 file or the protocol, never the command line every local user can read
// in /proc/<pid>/cmdline; the model log shows the CLI did use them, and the files go with the
// session.
import test from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, lstatSync, readFileSync, readlinkSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { SessionManager } from '../index.js'
import { startScriptedModel } from 'openclaw-sessions/testing'
import { claudeBin, claudeEnv, waitForStatus } from './helpers/claude.mjs'
import { codexBin, codexEnv } from './helpers/codex.mjs'
import { eventually } from './helpers/procs.mjs'

const cmdline = (pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8')

test('the system prompt is not on the CLI command line; a 20 MB prompt is E_INVALID_ARGUMENT', async () => {
  const model = await startScriptedModel()
  const t = claudeEnv(model.url)
  const manager = new SessionManager({ claudePath: claudeBin(), env: t.env, storePath: ':memory:' })
  try {
    await assert.rejects(manager.spawn({ backend: 'claude', prompt: 'x'.repeat(20 * 1024 * 1024), workdir: t.workdir }), {
      code: 'E_INVALID_ARGUMENT',
      message: /maxPromptBytes/,
    })
    model.enqueue({ stall: { ms: 60000 } }, { prompt: 'hold with a system prompt' })
    const secret = 'SYSTEM-PROMPT-SECRET-4711'
    const s = await manager.spawn({ backend: 'claude', prompt: 'hold with a system prompt', workdir: t.workdir, appendSystemPrompt: secret })
    await model.waitForRequest({ prompt: 'hold with a system prompt' }, 20000)
    const argv = cmdline(s.pid)
    assert.match(argv, /--append-system-prompt-file/)
    assert.ok(!argv.includes(secret), 'the system prompt text is not in /proc/<pid>/cmdline')
    // The CLI did read it: the model got it in its system prompt.
    assert.match(JSON.stringify(model.messagesRequests().at(-1).body.system), new RegExp(secret))
    const file = argv.split('\0')[argv.split('\0').indexOf('--append-system-prompt-file') + 1]
    assert.equal(statSync(file).mode & 0o777, 0o600)
    assert.equal(statSync(dirname(file)).mode & 0o777, 0o700)
    await manager.kill(s.id)
    await eventually(() => !existsSync(file), 'the system prompt file to be removed')
    await assert.rejects(manager.send(s.id, 'y'.repeat(2 * 1024 * 1024)), { code: 'E_INVALID_ARGUMENT' })
  } finally {
    await manager.shutdown()
    await model.close()
    t.cleanup()
  }
})

for (const backend of ['codex', 'codex-exec']) {
  test(`${backend}: config values are not on the CLI command line, and the CLI honours them (new, next turn, resume)`, async () => {
    const model = await startScriptedModel()
    const t = codexEnv(model.url)
    const manager = new SessionManager({ codexPath: codexBin(), env: t.env, storePath: ':memory:' })
    const header = `HDR-SECRET-${backend}-${process.pid}`
    const instructions = `DEV-SECRET-${backend}-${process.pid}`
    // A header the scripted model sees (an API-key-like value) and text it finds in the request.
    const config = {
      'model_providers.scripted.http_headers.X-Ocs-Secret': header,
      developer_instructions: instructions,
    }
    const honoured = (req, what) => {
      assert.equal(req.headers['x-ocs-secret'], header, `${what}: the config header reached the model`)
      assert.ok(JSON.stringify(req.body).includes(instructions), `${what}: the config instructions reached the model`)
    }
    const profile = (id) => join(t.codexHome, `ocs-${id}.config.toml`)
    try {
      model.enqueue({ stall: { ms: 60000 } }, { prompt: 'hold with config' })
      const s = await manager.spawn({ backend, prompt: 'hold with config', workdir: t.workdir, config, approvalPolicy: 'never' })
      const req = await model.waitForRequest({ prompt: 'hold with config' }, 20000)
      // The CLI that made the request runs now: its command line holds no config value.
      const { pid } = manager.get(s.id)
      const argv = cmdline(pid)
      for (const secret of [header, instructions, 'X-Ocs-Secret', 'never']) {
        assert.ok(!argv.includes(secret), `${secret} is not in /proc/<pid>/cmdline: ${argv.split('\0').join(' ')}`)
      }
      honoured(req, 'first turn')
      let target
      if (backend === 'codex-exec') {
        // The values are in a 0600 file in a 0700 directory, linked where `--profile` finds it.
        assert.match(argv.split('\0').join(' '), new RegExp(`--profile ocs-${s.id}`))
        assert.ok(lstatSync(profile(s.id)).isSymbolicLink())
        target = readlinkSync(profile(s.id))
        assert.equal(statSync(target).mode & 0o777, 0o600)
        assert.equal(statSync(dirname(target)).mode & 0o777, 0o700)
        assert.match(readFileSync(target, 'utf8'), new RegExp(header))
      } else {
        assert.deepEqual(argv.split('\0').filter(Boolean).slice(1), ['app-server'])
        assert.ok(!existsSync(profile(s.id)), 'the app-server gets its config over the protocol, not a file')
      }
      // The next turn (exec: a new process, `exec resume`) honours it too.
      if (backend === 'codex') await eventually(() => manager.events(s.id, { kinds: ['turn-started'] }).length > 0, 'turn/started')
      await manager.interruptTurn(s.id)
      assert.equal((await waitForStatus(manager, s.id, ['waiting-for-input'])).status, 'waiting-for-input')
      await manager.send(s.id, "I'm Ada")
      const next = await waitForStatus(manager, s.id, ['waiting-for-input', 'failed'])
      assert.equal(next.lastAssistantText, 'Nice to meet you, Ada!', next.lastError ?? '')
      honoured(model.responsesRequests().at(-1), 'next turn')
      await manager.close(s.id)
      if (target) {
        await eventually(() => !existsSync(profile(s.id)) && !existsSync(dirname(target)), 'the profile link and file to be removed')
      }
      // A new session resuming the thread with its own config: the CLI uses it on the old thread.
      const r = await manager.spawn({ backend, prompt: "What's my name?", workdir: t.workdir, config, resume: s.backendSessionId })
      const resumed = await waitForStatus(manager, r.id, ['waiting-for-input', 'failed'])
      assert.equal(resumed.lastAssistantText, 'Your name is Ada.', resumed.lastError ?? '')
      assert.equal(resumed.backendSessionId, s.backendSessionId)
      honoured(model.responsesRequests().at(-1), 'resumed thread')
      await manager.kill(r.id)
      await eventually(() => !existsSync(profile(r.id)), 'the resumed session profile link to be removed')
    } finally {
      await manager.shutdown()
      await model.close()
      t.cleanup()
    }
  })
}
