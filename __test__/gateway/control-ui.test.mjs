// The Control UI's "Coding sessions" tab in a real browser: Debian's Chromium, driven by
// playwright-core, against the real gateway with the plugin installed from its tarball. The
// sessions are real Claude Code sessions on the scripted model, created through the gateway's
// tools; the page reads them through the plugin's gateway-auth route. Screenshots of the page at
// the end go to test-results/control-ui/ (see the README).
import test, { after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'
import { alive, gatewaySuite, until } from '../helpers/gateway.mjs'
import { browserPath, BROWSER_ARGS } from '../helpers/browser.mjs'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
export const SCREENSHOTS = join(ROOT, 'test-results', 'control-ui')
const HOSTILE = '<img src=x onerror=alert(1)>'

const suite = gatewaySuite()
const tool = (name, args) => suite.tool(name, args)
const pageUrl = () => `http://127.0.0.1:${suite.home.port}/plugins/openclaw-sessions/ui/`

/** The session `ref` (id or name) once `ok(session)` holds, read through the gateway's tool. */
function sessionWhen(ref, ok, what) {
  return until(
    async () => {
      const { details } = await tool('claude_sessions', { status: 'all' })
      const s = details.find((x) => x.id === ref || x.name === ref)
      return s && ok(s) ? s : undefined
    },
    { what: `${ref} ${what}` },
  )
}
const waiting = (ref) => sessionWhen(ref, (s) => s.status === 'waiting-for-input', 'waiting for input')

let browser
let page
const dialogs = []
/** The three links of a resume chain, oldest first, and the session with the hostile name. */
const chain = []
let hostile

// Root-level `before` hooks run concurrently, so the gateway suite's may not have finished
// when ours would start: every test awaits this instead (it runs once).
let ready
const setup = () => (ready ??= createSessionsAndOpenPage())

async function createSessionsAndOpenPage() {
  const h = await tool('claude_launch', { prompt: "Hello, I'm John", name: HOSTILE })
  hostile = (await waiting(h.details.id)).id
  const first = await tool('claude_launch', { prompt: "Hello, I'm John", name: 'chain' })
  chain.push((await waiting(first.details.id)).id)
  for (let i = 0; i < 2; i++) {
    await tool('claude_kill', { session: chain.at(-1), mode: 'interrupt' })
    await sessionWhen(chain.at(-1), (s) => s.status === 'interrupted', 'interrupted')
    const resumed = await tool('claude_resume', { session: chain.at(-1) })
    chain.push((await waiting(resumed.details.id)).id)
  }

  browser = await chromium.launch({ executablePath: browserPath(), args: BROWSER_ARGS, headless: true })
  const context = await browser.newContext({ extraHTTPHeaders: { authorization: `Bearer ${suite.home.token}` }, viewport: { width: 1400, height: 900 } })
  page = await context.newPage()
  page.on('dialog', (d) => {
    dialogs.push(d.message())
    d.dismiss().catch(() => {})
  })
  const res = await page.goto(pageUrl())
  assert.equal(res.status(), 200)
  await page.waitForSelector('#conn[data-state="live"]', { timeout: 10_000 })
}

after(async () => {
  if (page) {
    mkdirSync(SCREENSHOTS, { recursive: true })
    await page.screenshot({ path: join(SCREENSHOTS, 'coding-sessions-end.png'), fullPage: true }).catch(() => {})
  }
  await browser?.close()
})

test('the page lists every session the gateway knows, with backend, status, turns and origin', async () => {
  await setup()
  const { details } = await tool('claude_sessions', { status: 'all' })
  await page.waitForFunction((n) => document.querySelectorAll('#sessions tbody tr').length === n, details.length, { timeout: 5_000 })
  for (const s of details) {
    const row = page.locator(`#sessions tbody tr[data-session-id="${s.id}"]`)
    assert.equal(await row.count(), 1, `a row for ${s.id}`)
    const cells = await row.locator('td').allTextContents()
    assert.equal(cells[1], 'claude')
    assert.match(cells[2], new RegExp(`^${s.status}`))
    assert.equal(cells[3], String(s.turns))
    assert.match(cells[8], /agent:main:main/, 'the conversation it came from')
  }
})

test('a hostile session name renders as text: no element, no script', async () => {
  await setup()
  const cell = page.locator(`#sessions tbody tr[data-session-id="${hostile}"] td`).first()
  assert.match(await cell.textContent(), /^<img src=x onerror=alert\(1\)>/)
  assert.equal(await page.locator('img').count(), 0)
  assert.deepEqual(dialogs, [])
})

test('the resume chain is drawn as a three-link tree', async () => {
  await setup()
  const depth = await page.evaluate((ids) => {
    const nodes = ids.map((id) => document.querySelector(`#chains li[data-chain-id="${id}"]`))
    if (nodes.some((n) => !n)) return null
    // Each link is nested inside the one it resumed.
    return nodes.map((n, i) => (i === 0 ? true : n.parentElement.closest('li') === nodes[i - 1]))
  }, chain)
  assert.deepEqual(depth, [true, true, true])
  const text = await page.locator(`#chains li[data-chain-id="${chain[2]}"]`).textContent()
  assert.match(text, /^resume.*waiting-for-input/)
  // The README's screenshot: live sessions and a resume chain.
  mkdirSync(SCREENSHOTS, { recursive: true })
  await page.screenshot({ path: join(SCREENSHOTS, 'coding-sessions.png'), fullPage: true })
})

test('a status change reaches the page within a second', async () => {
  await setup()
  const target = chain[2]
  const row = `#sessions tbody tr[data-session-id="${target}"] .status[data-status="killed"]`
  const seen = page.waitForSelector(row, { timeout: 10_000 }).then(() => Date.now())
  const killed = await tool('claude_kill', { session: target, mode: 'kill' })
  const changedAt = Date.now()
  assert.equal(killed.details.status, 'killed')
  const delay = (await seen) - changedAt
  assert.ok(delay < 1000, `the page showed 'killed' ${delay} ms after the kill returned`)
  assert.equal(alive(killed.details.pid ?? 0), false)
})

test("a session's timeline opens on click, from the manager's events", async () => {
  await setup()
  await page.click(`#sessions tbody tr[data-session-id="${chain[0]}"]`)
  await page.waitForSelector('#timeline li[data-kind="status"]', { timeout: 5_000 })
  const kinds = await page.locator('#timeline li').evaluateAll((lis) => lis.map((li) => li.dataset.kind))
  assert.ok(kinds.includes('assistant-text'), kinds.join(','))
  assert.ok(kinds.includes('turn-completed'), kinds.join(','))
  assert.match(await page.locator('#detail-facts').textContent(), /Hello, I'm John/)
})

test('filters narrow the list by status', async () => {
  await setup()
  await page.selectOption('#f-status', 'interrupted')
  const ids = await page.locator('#sessions tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.sessionId))
  assert.deepEqual(ids.sort(), [chain[0], chain[1]].sort())
  await page.selectOption('#f-status', '')
})

test('unauthenticated requests are refused; the route is read-only', async () => {
  await setup()
  for (const path of ['', 'api/sessions', 'api/stream', 'app.js']) {
    const r = await fetch(pageUrl() + path)
    assert.equal(r.status, 401, `GET ${path} without a token`)
    await r.body?.cancel()
  }
  const bare = await browser.newContext()
  const p = await bare.newPage()
  const res = await p.goto(pageUrl())
  assert.equal(res.status(), 401)
  assert.doesNotMatch(await p.content(), /chain|Hello, I'm John/)
  await bare.close()
  // The API answers only the page: a request with the gateway's auth but not the page's token
  // (what another site's sandboxed frame holding the cookie grant could send) is refused.
  const auth = { authorization: `Bearer ${suite.home.token}` }
  const noToken = await fetch(`${pageUrl()}api/sessions`, { headers: { ...auth, origin: 'null' } })
  assert.equal(noToken.status, 403)
  assert.equal(noToken.headers.get('access-control-allow-origin'), null)
  const token = await page.locator('meta[name="page-token"]').getAttribute('content')
  const framed = await fetch(`${pageUrl()}api/sessions?t=${encodeURIComponent(token)}`, { headers: { ...auth, origin: 'null' } })
  assert.equal(framed.status, 200)
  assert.equal(framed.headers.get('access-control-allow-origin'), 'null')
  assert.ok((await framed.json()).sessions.some((s) => s.id === hostile))
  const post = await fetch(`${pageUrl()}api/sessions`, { method: 'POST', headers: { authorization: `Bearer ${suite.home.token}` } })
  assert.equal(post.status, 405)
})

test('the tab is advertised to the Control UI: plugins.uiDescriptors', async () => {
  await setup()
  const r = await suite.gw.call('plugins.uiDescriptors', {})
  assert.equal(r.code, 0, r.stderr)
  const tab = JSON.stringify(r.json)
  assert.match(tab, /"id":"coding-sessions"/)
  const d = (r.json.descriptors ?? r.json.result?.descriptors ?? []).find((x) => x.id === 'coding-sessions')
  assert.ok(d, tab)
  assert.equal(d.surface, 'tab')
  assert.equal(d.pluginId, 'openclaw-sessions')
  assert.equal(d.path, '/plugins/openclaw-sessions/ui/')
  assert.equal(d.label, 'Coding sessions')
})
