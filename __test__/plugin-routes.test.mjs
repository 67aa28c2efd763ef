// The plugin's notification routes (plugin/src/origin.ts, built to plugin/dist by `npm install`):
// how the conversation a session came from is written into its origin channel and read back for
// delivery. The gateway tests cover the session routes end to end; chat routes need a messaging
// channel, which cannot run offline, so their syntax is checked here.
import test from 'node:test'
import assert from 'node:assert/strict'
import { formatRoute, parseRoute } from '../plugin/dist/origin.js'

test('chat routes round-trip, targets keep their own ":" and "#"', () => {
  const cases = [
    [{ channel: 'telegram', to: '123456' }, 'telegram:123456'],
    [{ channel: 'slack', to: 'channel:C042', threadId: '1712.5' }, 'slack:channel:C042#1712.5'],
    [{ channel: 'telegram', to: '-100123:topic:7', accountId: 'work' }, 'telegram@work:-100123:topic:7'],
    [{ channel: 'matrix', to: '#room:example.org', threadId: 42 }, 'matrix:#room:example.org#42'],
    [{ channel: 'matrix', to: '#room:example.org' }, 'matrix:#room:example.org'],
  ]
  for (const [target, route] of cases) {
    assert.equal(formatRoute(target, 'agent:main:x'), route)
    const back = parseRoute(route)
    assert.deepEqual(back, { kind: 'chat', channel: target.channel, to: target.to, ...(target.accountId ? { accountId: target.accountId } : {}), ...(target.threadId !== undefined ? { threadId: String(target.threadId) } : {}) })
  }
})

test('conversations inside the gateway become session routes; nothing to route to is undefined', () => {
  assert.equal(formatRoute({ channel: 'webchat', to: 'x' }, 'agent:main:main'), 'session:agent:main:main')
  assert.equal(formatRoute(undefined, 'agent:main:cmds'), 'session:agent:main:cmds')
  assert.equal(formatRoute({ channel: 'telegram' }, 'agent:main:main'), 'session:agent:main:main')
  assert.equal(formatRoute(undefined, undefined), undefined)
  assert.deepEqual(parseRoute('session:agent:main:main'), { kind: 'session', sessionKey: 'agent:main:main' })
  for (const bad of ['', 'session:', 'telegram', 'telegram:', ':123']) assert.equal(parseRoute(bad), undefined, bad)
})
