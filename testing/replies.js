'use strict'
// Scripted replies: validation of what users enqueue, and the reply queue itself.
//
// A user reply (`{text}`, `{toolUse}`, `{error}`, `{stall}`) becomes an API-neutral "plan":
//   {kind: 'text', text, thinking?}
//   {kind: 'tool_use', name?, input, id?, text?, thinking?}
//   {kind: 'error', status, type?, message?, code?, headers?}
//   {kind: 'stall', ms, then: <text | tool_use | error plan>}
// Each wire format (anthropic.js, openai.js) then resolves tool names and ids its own way.

function fail(message) {
  throw new TypeError(`scripted model: ${message}`)
}

function isObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}

/** Validates a user reply object and turns it into a plan. Throws TypeError when malformed. */
function normalizeReply(reply, { allowStall = true } = {}) {
  if (!isObject(reply)) fail('a reply must be an object like {text}, {toolUse}, {error} or {stall}')
  const kinds = ['toolUse', 'error', 'stall'].filter((k) => reply[k] !== undefined)
  if (kinds.length > 1) fail(`a reply may hold only one of toolUse, error, stall (got ${kinds.join(', ')})`)
  if (reply.text !== undefined && typeof reply.text !== 'string') fail('reply.text must be a string')
  if (reply.thinking !== undefined && typeof reply.thinking !== 'string') fail('reply.thinking must be a string')
  if (reply.thinking !== undefined && (reply.error !== undefined || reply.stall !== undefined)) {
    fail('thinking goes with text or toolUse replies (for a stall, put it in stall.then)')
  }

  if (reply.stall !== undefined) {
    if (!allowStall) fail('stall.then cannot itself be a stall')
    if (reply.text !== undefined) fail('a stall reply cannot also have text; put it in stall.then')
    const { ms, then } = reply.stall || {}
    if (typeof ms !== 'number' || !(ms >= 0)) fail('stall.ms must be a number >= 0')
    const next = then === undefined ? { text: 'stalled reply' } : then
    return { kind: 'stall', ms, then: normalizeReply(next, { allowStall: false }) }
  }

  if (reply.error !== undefined) {
    const e = reply.error
    if (!isObject(e)) fail('reply.error must be an object')
    if (!Number.isInteger(e.status) || e.status < 400 || e.status > 599) {
      fail('error.status must be an HTTP error status (400..599)')
    }
    if (e.headers !== undefined && !isObject(e.headers)) fail('error.headers must be an object')
    return {
      kind: 'error',
      status: e.status,
      type: e.type,
      message: e.message,
      code: e.code,
      headers: e.headers,
    }
  }

  if (reply.toolUse !== undefined) {
    const t = reply.toolUse
    if (!isObject(t)) fail('reply.toolUse must be an object')
    if (t.name !== undefined && (typeof t.name !== 'string' || t.name === '')) fail('toolUse.name must be a non-empty string')
    if (t.input !== undefined && !isObject(t.input)) fail('toolUse.input must be an object')
    if (t.id !== undefined && typeof t.id !== 'string') fail('toolUse.id must be a string')
    return withThinking({ kind: 'tool_use', name: t.name, input: t.input || {}, id: t.id, text: reply.text }, reply)
  }

  if (reply.text === undefined) fail('a reply needs text, toolUse, error or stall')
  return withThinking({ kind: 'text', text: reply.text }, reply)
}

/** Adds the optional `thinking` of a text / tool-use reply to its plan. */
function withThinking(plan, reply) {
  if (reply.thinking !== undefined) plan.thinking = reply.thinking
  return plan
}

/** The queue of scripted replies, matched in FIFO order by prompt, message text, tool result and session id. */
class ReplyQueue {
  constructor() {
    this.entries = []
  }

  add(reply, match = {}) {
    if (!isObject(match)) fail('enqueue options must be an object')
    const { prompt, text, toolResult, sessionId, times = 1 } = match
    if (prompt !== undefined && typeof prompt !== 'string' && !(prompt instanceof RegExp)) {
      fail('match.prompt must be a string or a RegExp')
    }
    if (text !== undefined && typeof text !== 'string' && !(text instanceof RegExp)) {
      fail('match.text must be a string or a RegExp')
    }
    if (toolResult !== undefined && typeof toolResult !== 'string' && !(toolResult instanceof RegExp)) {
      fail('match.toolResult must be a string or a RegExp')
    }
    if (sessionId !== undefined && typeof sessionId !== 'string') fail('match.sessionId must be a string')
    if (!(times === Infinity || (Number.isInteger(times) && times >= 1))) {
      fail('match.times must be a positive integer or Infinity')
    }
    this.entries.push({ plan: normalizeReply(reply), prompt, text, toolResult, sessionId, left: times })
  }

  /** Takes one use of the first entry matching the request (`conv`: its parsed conversation); returns its plan or null. */
  take(conv, sessionId) {
    const i = this.entries.findIndex((e) => matches(e, conv, sessionId))
    if (i < 0) return null
    const entry = this.entries[i]
    entry.left -= 1
    if (entry.left <= 0) this.entries.splice(i, 1)
    return entry.plan
  }

  pending() {
    return this.entries.reduce((sum, e) => sum + e.left, 0)
  }

  clear() {
    this.entries = []
  }
}

function matchesText(pattern, text) {
  if (typeof pattern === 'string') return text.includes(pattern)
  pattern.lastIndex = 0
  return pattern.test(text)
}

function matches(entry, conv, sessionId) {
  if (entry.sessionId !== undefined && entry.sessionId !== sessionId) return false
  if (entry.prompt !== undefined && (conv.prompt === null || !matchesText(entry.prompt, conv.prompt))) return false
  if (entry.text !== undefined && !conv.lastUserTexts.some((t) => matchesText(entry.text, t))) return false
  if (entry.toolResult !== undefined && !conv.newToolResults.some((t) => matchesText(entry.toolResult, t))) return false
  return true
}

module.exports = { normalizeReply, ReplyQueue }
