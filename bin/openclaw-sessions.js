#!/usr/bin/env node
'use strict'
// The operator CLI: reads the session store (safe while a gateway writes it: SQLite WAL).
//   openclaw-sessions list [--status <s>] [--backend <b>] [--json]
//   openclaw-sessions show <ref> [--json]
//   openclaw-sessions chain <ref> [--json]
//   openclaw-sessions tail <ref> [--follow] [--json]
//   openclaw-sessions gc [--max <n>] [--max-age-ms <ms>] [--json]
// --store <path> picks the store (default: $OPENCLAW_STATE_DIR/agent-sessions.db or
// ~/.openclaw/agent-sessions.db).

const { SessionStore } = require('../index.js')

const USAGE = `usage: openclaw-sessions <command> [options]

commands:
  list                 every stored session (--status <s>, --backend <b>)
  show <ref>           one session (ref: id, name, or Claude / Codex session id)
  chain <ref>          the session and what it was resumed / forked from, newest first
  tail <ref>           its last turns and output (--follow: keep watching)
  gc                   apply retention (--max <n> sessions, --max-age-ms <ms>)

options:
  --store <path>       the store file (default: $OPENCLAW_STATE_DIR/agent-sessions.db
                       or ~/.openclaw/agent-sessions.db)
  --json               machine-readable output
  -h, --help           this text`

function parse(argv) {
  const out = { args: [], flags: {} }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--json' || a === '--follow' || a === '-h' || a === '--help') out.flags[a.replace(/^-+/, '')] = true
    else if (a.startsWith('--')) out.flags[a.slice(2)] = argv[++i]
    else out.args.push(a)
  }
  return out
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

function main(argv) {
  const { args, flags } = parse(argv)
  const [command, ref] = args
  if (!command || flags.h || flags.help) {
    console.log(USAGE)
    return command ? 0 : 2
  }
  const store = new SessionStore(flags.store)
  const print = (value, human) => console.log(flags.json ? JSON.stringify(value, null, 2) : human(value))
  const need = () => {
    if (!ref) throw Object.assign(new Error(`${command} needs a session ref`), { code: 'E_INVALID_ARGUMENT' })
    const s = store.get(ref)
    if (!s) throw Object.assign(new Error(`no stored session \`${ref}\` in ${store.path}`), { code: 'E_NOT_FOUND' })
    return s
  }
  switch (command) {
    case 'list': {
      const rows = store
        .list()
        .filter((s) => !flags.status || s.status === flags.status)
        .filter((s) => !flags.backend || s.backend === flags.backend)
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
      if (!flags.follow) return 0
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
      const report = store.gc(flags.max ? Number(flags.max) : undefined, flags['max-age-ms'] ? Number(flags['max-age-ms']) : undefined)
      print(report, (r) => `deleted ${r.deleted}, tombstoned ${r.tombstoned} (${store.path})`)
      return 0
    }
    default:
      console.error(`unknown command \`${command}\`\n\n${USAGE}`)
      return 2
  }
}

try {
  const code = main(process.argv.slice(2))
  if (code !== null) process.exitCode = code
} catch (err) {
  console.error(`openclaw-sessions: ${err.code ? `[${err.code}] ` : ''}${err.message}`)
  process.exitCode = 1
}
