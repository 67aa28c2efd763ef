// `list()` of a manager and of a `SessionStore`: a promise (the store is read on a worker
// thread), filters and the limit applied in SQL, the manager's own sessions merged in live.
// The sessions are registered ones (register / close only mark them), so no CLI is needed: what
// is tested is the store's listing, which is the same for every backend.
import test from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SessionManager, SessionStore } from '../index.js'

const ids = (list) => list.map((s) => s.id)

test('list filters and limits in SQL, resolves off the JS thread, and shows live state', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ocs-store-list-'))
  const storePath = join(dir, 's.db')
  const m = new SessionManager({ storePath, maxSessions: 20 })
  let other
  try {
    const made = []
    for (let i = 0; i < 6; i++) made.push(m.register({ workdir: dir, name: `r${i}`, prompt: `hi ${i}` }))
    for (const s of made.slice(0, 4)) assert.equal((await m.close(s.id)).status, 'completed')
    const live = made.slice(4).map((s) => s.id)

    const pending = m.list()
    assert.ok(pending instanceof Promise, 'list returns a promise')
    const all = await pending
    assert.deepEqual(new Set(ids(all)), new Set(ids(made)))
    assert.ok(all.every((s, i) => i === 0 || all[i - 1].createdAt <= s.createdAt), 'oldest first')

    assert.deepEqual(ids(await m.list({ limit: 3 })), ids(all).slice(-3), 'the newest 3, oldest first')
    assert.deepEqual(await m.list({ limit: 0 }), [])
    assert.deepEqual(new Set(ids(await m.list({ liveOnly: true }))), new Set(live))
    const completed = ids(all).filter((id) => !live.includes(id))
    assert.deepEqual(ids(await m.list({ status: ['completed'], limit: 2 })), completed.slice(-2))
    assert.deepEqual(await m.list({ liveOnly: true, status: ['completed'] }), [])
    assert.deepEqual(await m.list({ backend: 'codex' }), [])

    // A live session shows its live state, not its stored row.
    m.ingest(live[0], { type: 'result', subtype: 'success', is_error: false, result: 'done', num_turns: 1, total_cost_usd: 0.5 })
    const [mine] = await m.list({ liveOnly: true, limit: 1, status: ['waiting-for-input'] })
    assert.equal(mine?.id, live[0])
    assert.equal(mine.totalCostUsd, 0.5)

    // Another manager on the store sees the stored rows (their owner still runs them).
    other = new SessionManager({ storePath })
    assert.deepEqual(ids(await other.list({ status: ['completed'] })), completed)
    assert.deepEqual(ids(await other.list({ limit: 2 })), ids(all).slice(-2))

    // The read-only store: the same SQL listing.
    const store = new SessionStore(storePath)
    const listed = store.list({ status: 'completed', backend: ['claude', 'codex'], limit: 2 })
    assert.ok(listed instanceof Promise)
    assert.deepEqual(ids(await listed), completed.slice(-2))
    assert.deepEqual(ids(await store.list()), ids(all))
    await assert.rejects(store.list({ limit: -1 }), { code: 'E_INVALID_ARGUMENT' })
    await assert.rejects(store.list({ backend: ['gpt'] }), { code: 'E_INVALID_ARGUMENT' })

    // Bad filters reject; nothing throws synchronously.
    for (const bad of [{ limit: -1 }, { limit: 1.5 }, { limit: 2 ** 32 }, { status: ['sleeping'] }, { zzz: 1 }, 'x']) {
      let p
      assert.doesNotThrow(() => (p = m.list(bad)))
      await assert.rejects(p, { code: 'E_INVALID_ARGUMENT' }, JSON.stringify(bad))
    }
  } finally {
    await other?.shutdown()
    await m.shutdown()
    rmSync(dir, { recursive: true, force: true })
  }
})
