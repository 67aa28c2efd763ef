'use strict'
// openclaw-sessions/testing: a scripted model server on a loopback address, so the real
// Claude Code and Codex CLIs can run end to end offline. It speaks the Anthropic Messages API
// (POST /v1/messages) and the OpenAI Responses API (POST /v1/responses), logs every request,
// answers from a queue of scripted replies, and otherwise from deterministic default rules
// (rules.js) that read only the conversation in the request.
//
// It never opens an outgoing connection and refuses to listen on a non-loopback address.

const http = require('node:http')
const net = require('node:net')

const anthropic = require('./anthropic')
const openai = require('./openai')
const { defaultReply } = require('./rules')
const { ReplyQueue } = require('./replies')
const u = require('./util')

const DEFAULT_MAX_STALL_MS = 120000
const KEEP_ALIVE_EVERY_MS = 10000
const DEFAULT_WAIT_MS = 10000

function isLoopback(host) {
  if (host === 'localhost' || host === '::1') return true
  return net.isIPv4(host) && host.startsWith('127.')
}

function readBody(req) {
  return new Promise((resolve) => {
    const chunks = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', () => resolve(null))
  })
}

/** What the request log keeps of a reply plan. */
function describe(plan, source) {
  const d = { kind: plan.kind }
  if (plan.kind === 'text') d.text = plan.text
  if (plan.kind === 'tool_use') Object.assign(d, { name: plan.name, input: plan.input, id: plan.id })
  if (plan.kind === 'tool_use' && plan.text !== undefined) d.text = plan.text
  if ((plan.kind === 'text' || plan.kind === 'tool_use') && plan.thinking !== undefined) d.thinking = plan.thinking
  if (plan.kind === 'error') {
    Object.assign(d, { status: plan.status, type: plan.type, message: plan.message })
  }
  if (plan.kind === 'stall') Object.assign(d, { ms: plan.ms, then: describe(plan.then) })
  if (source) d.source = source
  return d
}

function isModelRequest(r) {
  const pathname = r.path.split('?')[0]
  return r.method === 'POST' && (pathname === '/v1/messages' || pathname === '/v1/responses')
}

function toFilter(filter) {
  if (typeof filter === 'function') return filter
  const f = filter || {}
  return (r) => {
    if (!isModelRequest(r) || (f.api !== undefined && r.api !== f.api)) return false
    if (f.sessionId !== undefined && r.sessionId !== f.sessionId) return false
    if (f.prompt === undefined) return true
    if (r.prompt === null) return false
    if (typeof f.prompt === 'string') return r.prompt.includes(f.prompt)
    f.prompt.lastIndex = 0
    return f.prompt.test(r.prompt)
  }
}

/**
 * Starts a scripted model server. See index.d.ts for the full documentation.
 * @param {{host?: string, port?: number, maxStallMs?: number}} [options]
 */
async function startScriptedModel(options = {}) {
  const host = options.host === undefined ? '127.0.0.1' : options.host
  const port = options.port === undefined ? 0 : options.port
  const maxStallMs = options.maxStallMs === undefined ? DEFAULT_MAX_STALL_MS : options.maxStallMs
  if (typeof host !== 'string' || !isLoopback(host)) {
    throw new Error(`scripted model: host must be a loopback address (127.x.x.x, ::1, localhost), got ${host}`)
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new TypeError('scripted model: port must be 0..65535')
  if (typeof maxStallMs !== 'number' || !(maxStallMs >= 0)) throw new TypeError('scripted model: maxStallMs must be >= 0')

  const requests = []
  const queue = new ReplyQueue()
  const stalls = new Set() // stop functions of the replies that are stalling now
  const sockets = new Set()
  const waiters = new Set()
  let closed = null

  function log(entry) {
    requests.push(entry)
    for (const w of waiters) {
      if (w.filter(entry)) w.resolve(entry)
    }
  }

  // Replies with a plan on an API. A stall starts the stream (or, without streaming, just
  // waits), then replies with `plan.then`; a client that disconnects stops the timers.
  function reply(api, ctx, plan, entry) {
    if (plan.kind !== 'stall') {
      if (!ctx.stream) return api.sendWhole(ctx, plan)
      if (plan.kind === 'error' && !ctx.started) return api.sendError(ctx.res, plan)
      if (!ctx.started) api.begin(ctx)
      return api.finish(ctx, plan)
    }
    if (ctx.stream) api.begin(ctx)
    const pinger = ctx.stream ? setInterval(() => api.keepAlive(ctx), KEEP_ALIVE_EVERY_MS) : null
    const timer = setTimeout(() => {
      stop()
      reply(api, ctx, plan.then, entry)
    }, plan.ms)
    function stop() {
      clearTimeout(timer)
      clearInterval(pinger)
      stalls.delete(stop)
      ctx.res.removeListener('close', onClose)
    }
    function onClose() {
      stop()
      entry.reply.aborted = true
    }
    stalls.add(stop)
    ctx.res.on('close', onClose)
  }

  function modelRequest(api, res, entry, raw) {
    let body
    try {
      body = JSON.parse(raw)
    } catch {
      body = null
    }
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      const plan = { kind: 'error', status: 400, type: 'invalid_request_error', message: 'Request body is not a JSON object' }
      entry.body = raw === '' ? null : raw
      entry.reply = describe(plan)
      log(entry)
      return api.sendError(res, plan)
    }
    const parsed = api.parseRequest(body, entry.headers)
    Object.assign(entry, {
      body,
      sessionId: parsed.sessionId,
      prompt: parsed.conv.prompt,
      toolResult: parsed.conv.toolResult,
    })
    const scripted = queue.take(parsed.conv, parsed.sessionId)
    let plan = api.resolve(scripted || defaultReply(parsed.conv, { maxStallMs }))
    if (plan.kind === 'stall') plan = { ...plan, ms: Math.min(plan.ms, maxStallMs) }
    entry.reply = describe(plan, scripted ? 'queue' : 'default')
    log(entry)
    const ctx = { res, model: parsed.model, stream: parsed.stream, inputTokens: u.inputTokens(Buffer.byteLength(raw)) }
    reply(api, ctx, plan, entry)
  }

  async function handle(req, res) {
    res.on('error', () => {})
    const raw = await readBody(req)
    if (raw === null || closed) return res.destroy()
    const path = req.url || '/'
    const pathname = path.split('?')[0]
    const api = pathname.startsWith('/v1/messages') ? 'anthropic' : pathname.startsWith('/v1/responses') ? 'openai' : 'other'
    const entry = {
      at: Date.now(),
      method: req.method,
      path,
      headers: { ...req.headers },
      body: null,
      api,
      sessionId: null,
      prompt: null,
      toolResult: null,
      reply: null,
    }
    const post = req.method === 'POST'

    if (post && pathname === '/v1/messages') return modelRequest(anthropic, res, entry, raw)
    if (post && pathname === '/v1/responses') return modelRequest(openai, res, entry, raw)

    let body = null
    if (raw !== '') {
      try {
        body = JSON.parse(raw)
      } catch {
        body = raw
      }
    }
    entry.body = body

    if ((req.method === 'HEAD' || req.method === 'GET') && pathname === '/') {
      entry.reply = { kind: 'ok' }
      log(entry)
      return u.sendJson(res, 200, { ok: true, name: 'scripted-model' })
    }
    if (post && pathname === '/v1/messages/count_tokens') {
      if (body !== null && typeof body === 'object' && !Array.isArray(body)) {
        const parsed = anthropic.parseRequest(body, entry.headers)
        Object.assign(entry, { sessionId: parsed.sessionId, prompt: parsed.conv.prompt, toolResult: parsed.conv.toolResult })
        const count = u.inputTokens(Buffer.byteLength(raw))
        entry.reply = { kind: 'count_tokens', inputTokens: count }
        log(entry)
        return u.sendJson(res, 200, { input_tokens: count })
      }
      const plan = { kind: 'error', status: 400, type: 'invalid_request_error', message: 'Request body is not a JSON object' }
      entry.reply = describe(plan)
      log(entry)
      return anthropic.sendError(res, plan)
    }
    const plan = { kind: 'error', status: 404, type: undefined, message: `No route for ${req.method} ${pathname}` }
    entry.reply = describe(plan)
    log(entry)
    return (api === 'openai' ? openai : anthropic).sendError(res, plan)
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err) => {
      // A bug in the server must not crash the test process: answer 500 and keep serving.
      if (!res.headersSent) u.sendJson(res, 500, { type: 'error', error: { type: 'api_error', message: String(err && err.stack) } })
      else res.destroy()
    })
  })
  server.keepAliveTimeout = 2000
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  server.on('clientError', (_err, socket) => socket.destroy())

  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.removeListener('error', reject)
      resolve()
    })
  })
  const actualPort = server.address().port
  const urlHost = host.includes(':') ? `[${host}]` : host

  const model = {
    url: `http://${urlHost}:${actualPort}`,
    port: actualPort,
    host,
    maxStallMs,
    requests,
    messagesRequests: () => requests.filter((r) => r.method === 'POST' && r.path.split('?')[0] === '/v1/messages'),
    responsesRequests: () => requests.filter((r) => r.method === 'POST' && r.path.split('?')[0] === '/v1/responses'),
    enqueue(replyObject, match) {
      queue.add(replyObject, match)
    },
    pending: () => queue.pending(),
    clearQueue() {
      queue.clear()
    },
    reset() {
      requests.length = 0
      queue.clear()
    },
    waitForRequest(filter, timeoutMs = DEFAULT_WAIT_MS) {
      const test = toFilter(filter)
      const found = requests.find(test)
      if (found) return Promise.resolve(found)
      if (closed) return Promise.reject(new Error('scripted model: server is closed'))
      return new Promise((resolve, reject) => {
        const w = {
          filter: test,
          resolve(entry) {
            clearTimeout(timer)
            waiters.delete(w)
            resolve(entry)
          },
          reject(err) {
            clearTimeout(timer)
            waiters.delete(w)
            reject(err)
          },
        }
        const timer = setTimeout(() => w.reject(new Error(`scripted model: no matching request within ${timeoutMs} ms`)), timeoutMs)
        waiters.add(w)
      })
    },
    close() {
      if (!closed) {
        closed = new Promise((resolve) => server.close(() => resolve()))
        for (const stop of [...stalls]) stop()
        for (const w of [...waiters]) w.reject(new Error('scripted model: server closed'))
        for (const s of sockets) s.destroy()
      }
      return closed
    },
  }
  return model
}

const { claudeOfflineEnv, codexOfflineEnv, codexConfig } = require('./env')

module.exports = { startScriptedModel, claudeOfflineEnv, codexOfflineEnv, codexConfig }
