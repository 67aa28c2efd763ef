// The addon's typings as a TypeScript consumer sees them, and the plugin against the real SDK
// types: the plugin (plugin/, `openclaw` pinned there) compiles under `strict`, a consumer
// narrowing `AgentEvent` on `kind` compiles with --strict, and wrong calls are rejected with the
// expected errors. Nothing is emitted (--noEmit).
import test from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const PLUGIN = join(ROOT, 'plugin')
const TYPE_TESTS = join(ROOT, '__test__', 'type-tests')
const TSC = join(ROOT, 'node_modules', '.bin', 'tsc')
const STRICT = ['--strict', '--noEmit', '--target', 'ES2022', '--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--types', 'node']

/** Runs tsc; resolves with its exit status and output. */
function tsc(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(TSC, args, { cwd: ROOT })
    let output = ''
    child.stdout.on('data', (d) => (output += d))
    child.stderr.on('data', (d) => (output += d))
    child.on('error', reject)
    child.on('close', (status) => resolve({ status, output }))
  })
}

// The three compilations take seconds each: run them at once, the tests below await them.
const runs = {
  plugin: tsc(['-p', join(PLUGIN, 'tsconfig.json'), '--noEmit']),
  consumer: tsc([...STRICT, join(TYPE_TESTS, 'consumer.ts')]),
  wrong: tsc([...STRICT, join(TYPE_TESTS, 'wrong.ts')]),
}

const files = (dir) => readdirSync(dir).filter((f) => f.endsWith('.ts')).map((f) => join(dir, f))

test('the plugin type-checks with its strict tsconfig', async () => {
  const r = await runs.plugin
  assert.equal(r.status, 0, r.output)
  assert.equal(r.output.trim(), '')
})

test('the plugin has no `any` and no file of 300 lines or more', () => {
  for (const file of [...files(join(PLUGIN, 'src')), ...files(TYPE_TESTS)]) {
    const text = readFileSync(file, 'utf8')
    const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '').replace(/(['"`])(?:\\.|(?!\1)[^\\])*\1/g, '""')
    assert.doesNotMatch(code, /\bany\b/, `${file} uses any`)
    assert.ok(text.split('\n').length < 300, `${file} is too long`)
  }
})

test('a consumer narrowing AgentEvent on kind, with Notification and SessionInfo, compiles with --strict', async () => {
  const r = await runs.consumer
  assert.equal(r.status, 0, r.output)
})

test('wrong calls are rejected: unknown backend, number prompt, a field of another event kind, an unknown option, another notification kind\'s data, a snapshot read as a TurnResult, an unguarded error', async () => {
  const r = await runs.wrong
  assert.notEqual(r.status, 0, 'tsc must fail')
  const errors = r.output.split('\n').filter((l) => /error TS\d+/.test(l))
  assert.equal(errors.length, 7, r.output)
  assert.match(r.output, /wrong\.ts\(\d+,\d+\): error TS2322: Type '"gpt"' is not assignable to type 'Backend'/)
  assert.match(r.output, /wrong\.ts\(\d+,\d+\): error TS2322: Type 'number' is not assignable to type 'string'/)
  assert.match(r.output, /wrong\.ts\(\d+,\d+\): error TS2339: Property 'status' does not exist on type '.*kind: "assistant-text"/)
  assert.match(r.output, /wrong\.ts\(\d+,\d+\): error TS2561: .*'maxSesions' does not exist in type 'ManagerOptions'/)
  assert.match(r.output, /wrong\.ts\(\d+,\d+\): error TS2551: Property 'lastLine' does not exist on type '.*error: string/)
  assert.match(r.output, /wrong\.ts\(\d+,\d+\): error TS2339: Property 'text' does not exist on type 'SessionInfo'/)
  assert.match(r.output, /wrong\.ts\(\d+,\d+\): error TS18046: 'e' is of type 'unknown'/)
})

test('type checking left no build output next to the sources', async () => {
  await Promise.all(Object.values(runs))
  // (A real build goes to the gitignored dist/; the type checks above emit nothing at all.)
  const emitted = [join(PLUGIN, 'src'), TYPE_TESTS].flatMap((d) =>
    readdirSync(d, { recursive: true, withFileTypes: true })
      .filter((f) => f.isFile() && (!f.name.endsWith('.ts') || f.name.endsWith('.d.ts')))
      .map((f) => join(f.parentPath ?? f.path, f.name)),
  )
  assert.deepEqual(emitted, [])
})
