#!/usr/bin/env node
'use strict'
// The operator CLI: reads the session store read-only (safe while a gateway writes it: SQLite
// WAL); only `gc` writes. Arguments are parsed by Node's util.parseArgs and validated; bad usage
// exits 2 with the usage text.
//   openclaw-sessions list [--status <s>] [--backend <b>] [--limit <n>] [--json]
//   openclaw-sessions show <ref> [--json]
//   openclaw-sessions chain <ref> [--json]
//   openclaw-sessions tail <ref> [--follow] [--json]
//   openclaw-sessions gc [--max <n>] [--max-age-ms <ms>] [--json]
// --store <path> picks the store (default: $OPENCLAW_STATE_DIR/agent-sessions.db or
// ~/.openclaw/agent-sessions.db).

const { parseArgs } = require('node:util')
const { SessionStore } = require('../index.js')

const USAGE = `usage: openclaw-sessions <command> [options]

commands:
  list                 stored sessions (--status <s>, --backend <b>, --limit <n>: the newest n)
  show <ref>           one session (ref: id, name, or Claude / Codex session id)
  chain <ref>          the session and what it was resumed / forked from, newest first
  tail <ref>           its last turns and output (--follow: keep watching)
  gc                   apply retention (--max <n> sessions, default 1000; --max-age-ms <ms>)

options:
  --store <path>       the store file (default: $OPENCLAW_STATE_DIR/agent-sessions.db
                       or ~/.openclaw/agent-sessions.db); read-only except for gc, and
                       never created: a missing or foreign file is an error [E_STORE]
  --json               machine-readable output
  -h, --help           this text

exit status: 0 done, 1 failed (the message names the error code), 2 bad usage`

const STATUSES = ['starting', 'running', 'waiting-for-input', 'recovering', 'completed', 'failed', 'interrupted', 'killed']
const BACKENDS = ['claude', 'codex', 'codex-exec']
const OPTIONS = {
  store: { type: 'string' },
  json: { type: 'boolean' },
  follow: { type: 'boolean' },
  status: { type: 'string' },
  backend: { type: 'string' },
  limit: { type: 'string' },
  max: { type: 'string' },
  'max-age-ms': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
}
// Which options each command takes (besides --store, --json, --help), and whether it needs a ref.
const COMMANDS = {
  list: { options: ['status', 'backend', 'limit'], ref: false },
  show: { options: [], ref: true },
  chain: { options: [], ref: true },
  tail: { options: ['follow'], ref: true },
  gc: { options: ['max', 'max-age-ms'], ref: false },
}

class UsageError extends Error {}

/** A non-negative integer option, or undefined when absent. */
function count(values, name, max = Number.MAX_SAFE_INTEGER) {
  const v = values[name]
  if (v === undefined) return undefined
  if (!/^\d+$/.test(v) || Number(v) > max) throw new UsageError(`--${name} must be a non-negative integer${max < Number.MAX_SAFE_INTEGER ? ` up to ${max}` : ''}, got \`${v}\``)
  return Number(v)
}

function oneOf(values, name, allowed) {
  const v = values[name]
  if (v !== undefined && !allowed.includes(v)) throw new UsageError(`--${name} must be one of ${allowed.join(', ')}; got \`${v}\``)
  return v
}

/** The command line, validated; throws UsageError on anything it cannot take. */
function parse(argv) {
  let parsed
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true })
  } catch (err) {
    throw new UsageError(err.message)
  }
  const { values, positionals } = parsed
  if (values.help) return { help: true }
  const [command, ref, ...extra] = positionals
  if (!command) throw new UsageError('no command given')
  const spec = COMMANDS[command]
  if (!spec) throw new UsageError(`unknown command \`${command}\``)
  if (spec.ref && !ref) throw new UsageError(`${command} needs a session ref`)
  const stray = spec.ref ? extra : [ref, ...extra].filter((a) => a !== undefined)
  if (stray.length) throw new UsageError(`unexpected argument \`${stray[0]}\``)
  for (const name of Object.keys(values)) {
    if (!['store', 'json', 'help', ...spec.options].includes(name)) throw new UsageError(`${command} takes no --${name}`)
  }
  if (values.store === '') throw new UsageError('--store needs a path')
  return {
    command,
    ref,
    store: values.store,
    json: !!values.json,
    follow: !!values.follow,
    status: oneOf(values, 'status', STATUSES),
    backend: oneOf(values, 'backend', BACKENDS),
    limit: count(values, 'limit', 2 ** 32 - 1),
    max: count(values, 'max', 2 ** 32 - 1),
    maxAgeMs: count(values, 'max-age-ms'),
  }
}

const short = (id) => (id ? id.slice(0, 8) : '')
const when = (ms) => (ms ? new Date(ms).toISOString().replace('T', ' ').slice(0, 19) : '')
const usd = (n) => `$${(n ?? 0).toFixed(4)}`

function table(rows, columns) {
  const widths = columns.map(([title, get]) => Math.max(title.length, ...rows.map((r) => String(get(r)).length)))
  const line = (cells) => cells.map((c, i) => String(c).padEnd(widths[i])).join('  ').trimEnd()
  return [line(columns.map(([t]) => t)), ...rows.map((r) => line(columns.map(([, get]) => get(r))))].join('\n')
}

const COLUMNS = [
  ['ID', (s) => short(s.id)],
  ['NAME', (s) => s.name ?? ''],
  ['BACKEND', (s) => s.backend],
  ['STATUS', (s) => s.status + (s.endReason ? ` (${s.endReason})` : '')],
  ['TURNS', (s) => s.turns],
  ['COST', (s) => usd(s.totalCostUsd)],
  ['CREATED', (s) => when(s.createdAt)],
  ['FROM', (s) => (s.resumedFromId ? `resumed ${short(s.resumedFromId)}` : s.forkedFromId ? `forked ${short(s.forkedFromId)}` : '')],
]

function show(s) {
  const fields = [
    ['id', s.id],
    ['name', s.name],
    ['backend', s.backend],
    ['backend session', s.backendSessionId],
    ['status', `${s.status}${s.statusReason ? ` (${s.statusReason})` : ''}`],
    ['end reason', s.endReason],
    ['workdir', s.workdir],
    ['model', s.model],
    ['created', when(s.createdAt)],
    ['ended', when(s.endedAt)],
    ['turns', s.turns],
    ['cost', usd(s.totalCostUsd)],
    ['tokens', `${s.usage.inputTokens} in / ${s.usage.outputTokens} out`],
    ['exit', s.exitCode ?? s.exitSignal ?? ''],
    ['resumed from', s.resumedFromId],
    ['forked from', s.forkedFromId],
    ['first prompt', s.firstPrompt],
    ['last reply', s.lastAssistantText],
    ['last error', s.lastError],
  ].filter(([, v]) => v !== undefined && v !== null && v !== '')
  const w = Math.max(...fields.map(([k]) => k.length))
  return fields.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n')
}

async function main(argv) {
  const opts = parse(argv)
  if (opts.help) {
    console.log(USAGE)
    return 0
  }
  const { command, ref } = opts
  const store = new SessionStore(opts.store)
  const print = (value, human) => console.log(opts.json ? JSON.stringify(value, null, 2) : human(value))
  const need = () => {
    const s = store.get(ref)
    if (!s) throw Object.assign(new Error(`no stored session \`${ref}\` in ${store.path}`), { code: 'E_NOT_FOUND' })
    return s
  }
  switch (command) {
    case 'list': {
      const rows = await store.list({ status: opts.status, backend: opts.backend, limit: opts.limit })
      print(rows, (r) => (r.length ? table(r, COLUMNS) : `no sessions in ${store.path}`))
      return 0
    }
    case 'show':
      print(need(), show)
      return 0
    case 'chain': {
      const chain = store.chain(need().id)
      print(chain, (c) => table(c, [['', (s) => (s === c[0] ? '*' : '↳')], ...COLUMNS, ['EVICTED', (s) => (s.evicted ? 'yes' : '')]]))
      return 0
    }
    case 'tail': {
      const render = (s) => {
        const turns = store.summary(s.id)
        const lines = turns.map((t, i) => `[${i + 1}] > ${t.prompt}\n    ${t.reply.replace(/\n/g, '\n    ')}`)
        return `${short(s.id)} ${s.status}\n${lines.join('\n') || s.lastAssistantText || '(no output yet)'}`
      }
      const s = need()
      print({ session: s, summary: store.summary(s.id) }, () => render(s))
      if (!opts.follow) return 0
      let last = s.updatedAt
      const timer = setInterval(() => {
        const now = store.get(s.id)
        if (now && now.updatedAt !== last) {
          last = now.updatedAt
          print({ session: now, summary: store.summary(now.id) }, () => render(now))
        }
        if (now && ['completed', 'failed', 'interrupted', 'killed'].includes(now.status)) clearInterval(timer)
      }, 1000)
      return null
    }
    case 'gc': {
      const report = store.gc(opts.max, opts.maxAgeMs)
      print(report, (r) => `deleted ${r.deleted}, tombstoned ${r.tombstoned} (${store.path})`)
      return 0
    }
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== null) process.exitCode = code
  },
  (err) => {
    if (err instanceof UsageError) {
      console.error(`openclaw-sessions: ${err.message}\n\n${USAGE}`)
      process.exitCode = 2
    } else {
      console.error(`openclaw-sessions: ${err.code ? `[${err.code}] ` : ''}${err.message}`)
      process.exitCode = 1
    }
  },
)
