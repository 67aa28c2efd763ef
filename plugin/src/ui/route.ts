// The Control UI's "Coding sessions" tab: one static page and a read-only JSON / server-sent
// events API under one gateway-auth HTTP route root, fed by the addon's snapshots and events
// (no second source of truth). The Control UI renders `PAGE_PATH` in a sandboxed frame with a
// short-lived read-only grant (GET / HEAD, `operator.read`); anything else is refused here too.
//
//   GET {ROOT}/                     the page (ui/index.html, app.js, style.css beside it)
//   GET {ROOT}/api/sessions         { now, sessions: SessionInfo[] }, every session, oldest first
//   GET {ROOT}/api/sessions/<ref>/events
//                                   { events: AgentEvent[] } the session's timeline (live and
//                                   recently finished sessions: what the manager keeps)
//   GET {ROOT}/api/stream           text/event-stream: `session` events, one SessionInfo each,
//                                   whenever a session's snapshot changes
//
// The Control UI frames the page in an opaque sandbox (`sandbox="allow-scripts"`), so the page's
// own requests are cross-origin (`Origin: null`) and carry the gateway's cookie grant. Any other
// site could frame a sandbox that sends them too; what only our page has is the page token, a
// random value of this process embedded in the HTML (which no other origin can read). The API
// answers only requests that carry it (`?t=`), and only those get `Access-Control-Allow-Origin`.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { randomBytes, timingSafeEqual } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import type { OpenClawPluginApi } from 'openclaw/plugin-sdk/plugin-entry'
import type { AgentEvent, SessionInfo, SessionManager } from 'openclaw-sessions'
import { errorDetails } from '../format.js'

/** The route root every request of the tab goes under. */
export const UI_ROOT = '/plugins/openclaw-sessions/ui'
/** What the Control UI frames. */
export const PAGE_PATH = `${UI_ROOT}/`
/** The tab's Control UI address (`/<slug>`). */
export const TAB_SLUG = 'coding-sessions'

/** The static files of the page, by request path below the root. */
const ASSETS: Record<string, { file: string; type: string }> = {
  '': { file: 'index.html', type: 'text/html; charset=utf-8' },
  'index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  'app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  'style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
}
/** plugin/ui/, beside dist/ in the installed package. */
const ASSET_DIR = new URL('../../ui/', import.meta.url)

/** This process's page token (shared by every copy of the plugin's module in it). */
const TOKEN_KEY = Symbol.for('openclaw-sessions.plugin.ui-page-token')
const shared = globalThis as typeof globalThis & { [TOKEN_KEY]?: string }
const pageToken = (): string => (shared[TOKEN_KEY] ??= randomBytes(24).toString('base64url'))

function tokenOk(url: URL): boolean {
  const got = Buffer.from(url.searchParams.get('t') ?? '')
  const want = Buffer.from(pageToken())
  return got.length === want.length && timingSafeEqual(got, want)
}

/** Kinds of event after which a session's snapshot has changed enough to push it. */
const PUSH_KINDS = new Set<AgentEvent['kind']>(['status', 'init', 'turn-completed', 'assistant-text', 'error', 'permission-request', 'permission-resolved', 'exit'])
/** At most one push per session per this many ms (a burst of text becomes one update). */
const PUSH_COALESCE_MS = 100

/** Registers the route and the tab. `manager()` throws E_STATE while the service is stopped. */
export function registerUi(api: OpenClawPluginApi, manager: () => SessionManager): void {
  api.registerHttpRoute({
    path: UI_ROOT,
    auth: 'gateway',
    match: 'prefix',
    handler: (req, res) => handle(req, res, manager),
  })
  api.session.controls.registerControlUiDescriptor({
    surface: 'tab',
    id: TAB_SLUG,
    slug: TAB_SLUG,
    label: 'Coding sessions',
    description: 'Claude Code and Codex sessions: status, cost, resume chains and timelines, live.',
    icon: 'terminal',
    group: 'control',
    path: PAGE_PATH,
    requiredScopes: ['operator.read'],
  })
}

async function handle(req: IncomingMessage, res: ServerResponse, manager: () => SessionManager): Promise<boolean> {
  const url = new URL(req.url ?? '/', 'http://localhost')
  if (!url.pathname.startsWith(UI_ROOT)) return false
  const rest = url.pathname.slice(UI_ROOT.length).replace(/^\/+/, '')
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD')
    return send(res, 405, { error: { code: 'E_METHOD', message: 'the Coding sessions tab is read-only' } })
  }
  if (rest === '' && !url.pathname.endsWith('/')) {
    // Relative addresses in the page resolve under the root only with the slash.
    res.statusCode = 308
    res.setHeader('location', PAGE_PATH)
    res.end()
    return true
  }
  const asset = ASSETS[rest]
  if (asset) return sendAsset(req, res, asset)
  if (rest.startsWith('api/')) {
    if (!tokenOk(url)) return send(res, 403, { error: { code: 'E_FORBIDDEN', message: 'open the Coding sessions page first: its API answers only the page' } })
    if (req.headers.origin === 'null') {
      res.setHeader('access-control-allow-origin', 'null')
      res.setHeader('access-control-allow-credentials', 'true')
      res.setHeader('vary', 'origin')
    }
  }
  try {
    if (rest === 'api/sessions') {
      const sessions = await manager().list()
      return send(res, 200, { now: Date.now(), sessions })
    }
    const timeline = /^api\/sessions\/([^/]+)\/events$/.exec(rest)
    if (timeline?.[1]) {
      const events = manager().events(decodeURIComponent(timeline[1]))
      return send(res, 200, { events })
    }
    if (rest === 'api/stream') return stream(req, res, manager())
  } catch (e) {
    const err = errorDetails(e)
    return send(res, err.code === 'E_NOT_FOUND' ? 404 : err.code === 'E_STATE' ? 503 : 500, { error: err })
  }
  return send(res, 404, { error: { code: 'E_NOT_FOUND', message: `no such page: ${rest}` } })
}

function send(res: ServerResponse, status: number, body: unknown): true {
  res.statusCode = status
  res.setHeader('content-type', 'application/json; charset=utf-8')
  res.setHeader('cache-control', 'no-store')
  res.end(JSON.stringify(body))
  return true
}

async function sendAsset(req: IncomingMessage, res: ServerResponse, asset: { file: string; type: string }): Promise<true> {
  let body: Buffer
  try {
    body = await readFile(new URL(asset.file, ASSET_DIR))
    if (asset.file === 'index.html') body = Buffer.from(body.toString('utf8').replace('%PAGE_TOKEN%', pageToken()))
  } catch (e) {
    return send(res, 500, { error: { code: 'E_INTERNAL', message: `the page's ${asset.file} is missing from the plugin: ${errorDetails(e).message}` } })
  }
  res.statusCode = 200
  res.setHeader('content-type', asset.type)
  res.setHeader('content-length', body.length)
  res.setHeader('cache-control', asset.file === 'index.html' ? 'no-store' : 'no-cache')
  // The page loads nothing from anywhere else and runs no inline script.
  res.setHeader('content-security-policy', "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'self'")
  res.setHeader('x-content-type-options', 'nosniff')
  res.end(req.method === 'HEAD' ? undefined : body)
  return true
}

/** Server-sent events: a `session` event with the snapshot of each session that changed. */
function stream(req: IncomingMessage, res: ServerResponse, m: SessionManager): true {
  res.statusCode = 200
  res.setHeader('content-type', 'text/event-stream; charset=utf-8')
  res.setHeader('cache-control', 'no-store')
  res.setHeader('x-accel-buffering', 'no')
  res.flushHeaders()
  if (req.method === 'HEAD') {
    res.end()
    return true
  }
  res.write(': coding sessions\n\n')
  const pending = new Map<string, ReturnType<typeof setTimeout>>()
  const push = (id: string): void => {
    let info: SessionInfo
    try {
      info = m.get(id)
    } catch {
      return
    }
    res.write(`event: session\ndata: ${JSON.stringify(info)}\n\n`)
  }
  const off = m.onEvent((e) => {
    if (!PUSH_KINDS.has(e.kind) || pending.has(e.sessionId)) return
    pending.set(
      e.sessionId,
      setTimeout(() => {
        pending.delete(e.sessionId)
        push(e.sessionId)
      }, PUSH_COALESCE_MS),
    )
  })
  // Keeps proxies and the browser from timing the stream out while nothing happens.
  const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000)
  const close = (): void => {
    off()
    clearInterval(keepAlive)
    for (const t of pending.values()) clearTimeout(t)
    pending.clear()
  }
  req.on('close', close)
  res.on('error', close)
  return true
}
