// The "Coding sessions" tab. Read-only: it lists what the plugin's session manager knows
// (GET api/sessions), follows changes (server-sent events on api/stream) and shows one
// session's timeline (GET api/sessions/<id>/events). Every string from a session reaches the
// page as a text node (never as HTML), so a name like `<img onerror=...>` is shown as typed.
'use strict'

/** The route root, whatever address the page was opened at. */
const BASE = location.pathname.endsWith('/') ? location.pathname : `${location.pathname}/`
/** Proves to the API that a request comes from this page (see the route's comment). */
const TOKEN = document.querySelector('meta[name="page-token"]').content
const api = (path) => `${BASE}api/${path}${path.includes('?') ? '&' : '?'}t=${encodeURIComponent(TOKEN)}`
const TERMINAL = new Set(['completed', 'failed', 'interrupted', 'killed'])
const STATUSES = ['starting', 'running', 'waiting-for-input', 'recovering', 'completed', 'failed', 'interrupted', 'killed']

/** Sessions by id. */
const sessions = new Map()
let selected = null
let serverSkewMs = 0

/** `el('td', { class: 'num' }, 'text', child)`: children are nodes or text, never markup. */
function el(tag, attrs, ...children) {
  const n = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue
    if (k === 'class') n.className = v
    else n.setAttribute(k, v === true ? '' : String(v))
  }
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue
    n.append(c instanceof Node ? c : document.createTextNode(String(c)))
  }
  return n
}

const $ = (id) => document.getElementById(id)
const shortId = (id) => (id ? id.slice(0, 8) : '-')
const label = (s) => s.name || shortId(s.id)
const usd = (n) => `$${(n ?? 0).toFixed(4)}`
const tokens = (u) => (u ? u.inputTokens + u.outputTokens + u.cacheReadInputTokens + u.cacheCreationInputTokens : 0)

function age(ms) {
  const s = Math.max(0, Math.round(ms / 1000))
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m`
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`
  return `${Math.floor(s / 86400)}d`
}

function lastLine(s) {
  const t = (s.lastAssistantText ?? '').trim()
  const lines = t.split('\n')
  return lines[lines.length - 1] ?? ''
}

function origin(s) {
  const o = s.origin ?? {}
  // A conversation inside the gateway is `session:<key>`, the agent's own key: say it once.
  const agent = o.agent && o.channel !== `session:${o.agent}` ? `agent ${o.agent}` : undefined
  return [o.channel, agent].filter(Boolean).join(' · ')
}

function statusCell(s) {
  const why = s.statusReason ?? s.endReason
  return el('span', { class: 'status', 'data-status': s.status }, s.status, why ? el('span', { class: 'reason' }, ` (${why})`) : null)
}

/** The filters as chosen. */
function filters() {
  return { status: $('f-status').value, backend: $('f-backend').value, owner: $('f-owner').value, text: $('f-text').value.trim().toLowerCase() }
}

function matches(s, f) {
  if (f.status === 'live' && TERMINAL.has(s.status)) return false
  if (f.status && f.status !== 'live' && s.status !== f.status) return false
  if (f.backend && s.backend !== f.backend) return false
  if (f.owner && (s.origin?.owner ?? '') !== f.owner) return false
  if (f.text) {
    const hay = [s.id, s.name, s.backendSessionId, s.firstPrompt].filter(Boolean).join('\n').toLowerCase()
    if (!hay.includes(f.text)) return false
  }
  return true
}

/** Keeps a <select>'s options in step with the values seen, preserving the choice. */
function syncOptions(select, values, fixed) {
  const want = [...fixed, ...[...values].sort()]
  const have = [...select.options].map((o) => o.value)
  if (want.length === have.length && want.every((v, i) => v === have[i])) return
  const chosen = select.value
  select.replaceChildren(...want.map((v) => el('option', { value: v }, v === '' ? 'all' : v)))
  select.value = want.includes(chosen) ? chosen : ''
}

function render() {
  const all = [...sessions.values()].sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id))
  syncOptions($('f-status'), STATUSES, ['', 'live'])
  syncOptions($('f-backend'), new Set(all.map((s) => s.backend)), [''])
  syncOptions($('f-owner'), new Set(all.map((s) => s.origin?.owner).filter(Boolean)), [''])
  const f = filters()
  const shown = all.filter((s) => matches(s, f))
  const now = Date.now() + serverSkewMs

  const live = all.filter((s) => !TERMINAL.has(s.status)).length
  $('counts').textContent = `${all.length} sessions, ${live} live, ${usd(all.reduce((n, s) => n + s.totalCostUsd, 0))}`

  $('sessions').tBodies[0].replaceChildren(
    ...shown.map((s) => {
      const row = el(
        'tr',
        { 'data-session-id': s.id, class: s.id === selected ? 'selected' : undefined },
        el('td', {}, label(s), ' ', el('span', { class: 'id' }, shortId(s.id))),
        el('td', {}, s.backend),
        el('td', {}, statusCell(s)),
        el('td', { class: 'num' }, s.turns),
        el('td', { class: 'num' }, usd(s.totalCostUsd)),
        el('td', { class: 'num' }, tokens(s.usage)),
        el('td', { class: 'num' }, age(now - s.createdAt)),
        el('td', { class: 'last', title: lastLine(s) }, lastLine(s)),
        el('td', {}, origin(s)),
      )
      row.addEventListener('click', () => select(s.id))
      return row
    }),
  )
  $('empty').hidden = shown.length > 0
  renderChains(all)
  renderFailures(shown)
  if (selected && sessions.has(selected)) renderFacts(sessions.get(selected))
}

/** Resume and fork chains as a tree: a session under the one it resumed or forked. */
function renderChains(all) {
  const parentOf = (s) => s.resumedFromId ?? s.forkedFromId
  const children = new Map()
  for (const s of all) {
    const p = parentOf(s)
    if (p && sessions.has(p)) {
      if (!children.has(p)) children.set(p, [])
      children.get(p).push(s)
    }
  }
  const roots = all.filter((s) => !(parentOf(s) && sessions.has(parentOf(s))) && children.has(s.id))
  const node = (s) =>
    el(
      'li',
      { 'data-chain-id': s.id },
      s.forkedFromId ? el('span', { class: 'link-kind' }, 'fork') : s.resumedFromId ? el('span', { class: 'link-kind' }, 'resume') : null,
      label(s),
      ' ',
      statusCell(s),
      ' ',
      el('span', { class: 'id' }, shortId(s.id)),
      children.has(s.id) ? el('ul', {}, ...children.get(s.id).map(node)) : null,
    )
  $('chains').replaceChildren(roots.length ? el('ul', { class: 'tree' }, ...roots.map(node)) : el('p', { class: 'empty' }, 'No session has been resumed or forked yet.'))
}

function renderFailures(shown) {
  const failed = shown.filter((s) => s.status === 'failed' || (s.lastError && s.status !== 'completed'))
  $('failures').replaceChildren(
    ...(failed.length
      ? failed.map((s) => el('li', { 'data-session-id': s.id }, label(s), ' ', statusCell(s), ': ', el('span', { class: 'error' }, s.lastError ?? s.stderrTail?.at(-1) ?? 'no error message')))
      : [el('li', { class: 'empty' }, 'None.')]),
  )
}

function renderFacts(s) {
  $('detail-title').textContent = `${label(s)} (${s.backend})`
  const facts = [
    ['id', s.id],
    [s.backend === 'claude' ? 'session id' : 'thread id', s.backendSessionId],
    ['status', `${s.status}${s.statusReason ? ` (${s.statusReason})` : ''}${s.endReason ? `, ended: ${s.endReason}` : ''}`],
    ['workdir', s.workdir],
    ['model', s.model],
    ['first prompt', s.firstPrompt],
    ['turns', s.turns],
    ['cost', usd(s.totalCostUsd)],
    ['tokens', `${s.usage.inputTokens} in, ${s.usage.outputTokens} out, ${s.usage.cacheReadInputTokens} cache read`],
    ['from', origin(s)],
    ['owner', s.origin?.owner],
    ['resumed from', s.resumedFromId],
    ['forked from', s.forkedFromId],
    ['containment', s.containment],
    ['error', s.lastError],
  ].filter(([, v]) => v !== undefined && v !== null && v !== '')
  $('detail-facts').replaceChildren(...facts.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]))
}

function eventText(e) {
  switch (e.kind) {
    case 'status':
      return `${e.previous ?? '-'} → ${e.status}${e.reason ? ` (${e.reason})` : ''}${e.endReason ? `, ${e.endReason}` : ''}`
    case 'assistant-text':
    case 'user-text':
    case 'thinking':
      return e.text
    case 'tool-use':
      return `${e.name} ${JSON.stringify(e.input)}`
    case 'tool-result':
      return `${e.isError ? 'error: ' : ''}${e.content}`
    case 'turn-completed':
      return `turn ${e.turn}: ${usd(e.costUsd)}`
    case 'permission-request':
      return `${e.toolName} ${JSON.stringify(e.input)}`
    case 'error':
      return e.message
    case 'stderr':
      return e.line
    case 'exit':
      return `exit ${e.exitCode ?? '-'}${e.signal ? ` signal ${e.signal}` : ''}`
    default:
      return ''
  }
}

async function select(id) {
  selected = id
  const s = sessions.get(id)
  $('detail').hidden = false
  render()
  if (!s) return
  const list = $('timeline')
  list.replaceChildren(el('li', { class: 'empty' }, 'loading…'))
  try {
    const r = await fetch(api(`sessions/${encodeURIComponent(id)}/events`), { credentials: 'include' })
    const body = await r.json()
    if (selected !== id) return
    if (!r.ok) {
      list.replaceChildren(el('li', { class: 'empty' }, body.error?.code === 'E_NOT_FOUND' ? 'This session finished before the gateway started: its timeline is not kept.' : (body.error?.message ?? `HTTP ${r.status}`)))
      return
    }
    list.replaceChildren(
      ...body.events
        .filter((e) => e.kind !== 'stream-event')
        .map((e) => el('li', { 'data-kind': e.kind }, el('span', { class: 'at' }, new Date(e.at).toLocaleTimeString()), el('span', { class: 'kind' }, e.kind), eventText(e))),
    )
  } catch (e) {
    list.replaceChildren(el('li', { class: 'error' }, String(e)))
  }
}

async function load() {
  const r = await fetch(api('sessions'), { credentials: 'include' })
  if (!r.ok) throw Object.assign(new Error(`HTTP ${r.status}`), { status: r.status })
  const body = await r.json()
  serverSkewMs = body.now - Date.now()
  sessions.clear()
  for (const s of body.sessions) sessions.set(s.id, s)
  render()
}

/** Follows changes; on a dropped stream, reloads everything once it is back. */
function follow() {
  const conn = $('conn')
  const es = new EventSource(api('stream'), { withCredentials: true })
  es.addEventListener('open', () => {
    conn.dataset.state = 'live'
    conn.textContent = 'live'
    load().catch(() => {})
  })
  es.addEventListener('session', (m) => {
    const s = JSON.parse(m.data)
    sessions.set(s.id, s)
    render()
  })
  es.addEventListener('error', () => {
    conn.dataset.state = 'down'
    conn.textContent = 'reconnecting…'
    // A restarted gateway has a new page token: this page's is refused, so load a fresh one.
    load().catch((e) => {
      if (e.status === 403) location.reload()
    })
  })
}

for (const id of ['f-status', 'f-backend', 'f-owner', 'f-text']) $(id).addEventListener('input', render)
setInterval(render, 10_000) // ages
load().catch((e) => {
  $('conn').dataset.state = 'down'
  $('conn').textContent = `cannot load sessions: ${e.message}`
})
follow()
