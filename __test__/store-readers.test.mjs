// Readers never write: `SessionStore` and the `openclaw-sessions` bin given real files that are
// not a store (a text file, another application's SQLite database, a missing directory) refuse
// them with E_STORE and leave them byte-for-byte unchanged; the bin validates its arguments.
import test from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { SessionManager, SessionStore } from '../index.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const cli = join(root, 'bin', 'openclaw-sessions.js')
const run = (...args) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, HOME: '/nonexistent-home' } })
const hash = (p) => createHash('sha256').update(readFileSync(p)).digest('hex')
const listing = (dir) => readdirSync(dir).sort()

/** Another application's SQLite database (rollback journal and WAL), made with python3's sqlite3. */
function otherAppDb(dir) {
  const p = join(dir, 'other.db')
  const py = spawnSync('python3', ['-c', `import sqlite3; c = sqlite3.connect(${JSON.stringify(p)}); c.execute('PRAGMA journal_mode=WAL'); c.execute('CREATE TABLE people(name)'); c.execute("INSERT INTO people VALUES ('ann')"); c.commit(); c.close()`])
  return py.status === 0 ? p : null
}

test('SessionStore and the bin refuse files that are not a store and change nothing', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ocs-readers-'))
  const text = join(dir, 'notes.txt')
  writeFileSync(text, 'my notes\n')
  const files = [[text, /not an SQLite database/]]
  const other = otherAppDb(dir)
  if (other) files.push([other, /another application/])
  else t.diagnostic('python3 with sqlite3 is missing: the other-application database case is skipped')
  for (const [file, why] of files) {
    const before = hash(file)
    const names = listing(dir)
    assert.throws(() => new SessionStore(file), (e) => e.code === 'E_STORE' && e.message.includes(file) && why.test(e.message))
    for (const args of [['list'], ['show', 'x'], ['gc', '--max', '1'], ['tail', 'x']]) {
      const r = run(...args, '--store', file)
      assert.equal(r.status, 1, r.stderr)
      assert.match(r.stderr, /\[E_STORE\]/)
      assert.ok(r.stderr.includes(file), r.stderr)
    }
    assert.equal(hash(file), before, `${file} is byte-for-byte unchanged`)
    assert.deepEqual(listing(dir), names, 'nothing created or renamed beside it')
  }
  const missing = join(dir, 'nonexistent', 'x.db')
  assert.throws(() => new SessionStore(missing), (e) => e.code === 'E_STORE' && e.message.includes(missing))
  const r = run('list', '--store', missing)
  assert.equal(r.status, 1)
  assert.match(r.stderr, /\[E_STORE\].*no store was created/)
  assert.equal(existsSync(join(dir, 'nonexistent')), false, 'no directory created')
})

test('a manager refuses a foreign file too; only a file of ours is ever moved aside', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ocs-readers-'))
  const text = join(dir, 'notes.txt')
  writeFileSync(text, 'x'.repeat(5000))
  const before = hash(text)
  assert.throws(() => new SessionManager({ storePath: text }), (e) => e.code === 'E_STORE' && /not an SQLite database\); nothing was changed/.test(e.message))
  assert.equal(hash(text), before)
  assert.deepEqual(listing(dir), ['notes.txt'])
})

test('the bin validates its arguments: usage and exit 2, nothing deleted', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ocs-args-'))
  const store = join(dir, 's.db')
  const m = new SessionManager({ storePath: store })
  await m.shutdown()
  const before = hash(store)
  const bad = [
    ['gc', '--max', 'abc'],
    ['gc', '--max', '-1'],
    ['gc', '--max=-1'],
    ['gc', '--max', '1.5'],
    ['gc', '--max', '--store', store],
    ['gc', '--max-age-ms', 'soon'],
    ['list', '--status', 'bogus'],
    ['list', '--backend', 'gpt'],
    ['list', '--limit', 'x'],
    ['list', '--store'],
    ['list', '--store', ''],
    ['list', '--frobnicate'],
    ['list', 'extra'],
    ['show'],
    ['frobnicate'],
    [],
  ]
  for (const args of bad) {
    const r = run(...args, ...(args.includes('--store') ? [] : ['--store', store]))
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`)
    assert.match(r.stderr, /usage: openclaw-sessions/, args.join(' '))
    assert.equal(r.stdout, '')
  }
  assert.equal(hash(store), before, 'gc with a bad --max deleted nothing')
  for (const h of ['-h', '--help']) {
    const r = run(h)
    assert.equal(r.status, 0)
    assert.match(r.stdout, /usage: openclaw-sessions/)
  }
  const ok = run('list', '--status', 'completed', '--limit', '5', '--store', store, '--json')
  assert.equal(ok.status, 0, ok.stderr)
  assert.deepEqual(JSON.parse(ok.stdout), [])
  assert.equal(existsSync('/nonexistent-home'), false, 'no default store created')
})
