'use strict'
// Small helpers shared by the Anthropic and OpenAI wire formats of the scripted model server.
// No protocol knowledge lives here: ids, SSE framing, text chunking, token arithmetic.

const crypto = require('node:crypto')

/** A unique id with the given prefix, e.g. `msg_4f1c...` (24 hex chars). */
function uid(prefix) {
  return prefix + crypto.randomBytes(12).toString('hex')
}

/** Writes one SSE event (`event: <type>\ndata: <json>\n\n`) unless the response is gone. */
function writeEvent(res, type, data) {
  if (res.destroyed || res.writableEnded) return
  res.write(`event: ${type}\ndata: ${JSON.stringify(data)}\n\n`)
}

/** Sends the SSE response head. */
function startSse(res, requestIdHeader) {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    [requestIdHeader]: uid('req_'),
  })
  // Send the head now so a client sees the stream start even while a reply stalls.
  res.flushHeaders()
}

/** Sends a JSON body with the given status (and optional extra headers). */
function sendJson(res, status, obj, headers) {
  if (res.destroyed || res.writableEnded) return
  const body = JSON.stringify(obj)
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    ...headers,
  })
  res.end(body)
}

/** Number of whitespace-separated words in `text`. */
function countWords(text) {
  return String(text || '').split(/\s+/).filter(Boolean).length
}

/** Deterministic input token count: one token per 4 bytes of request body (at least 1). */
function inputTokens(rawLength) {
  return Math.max(1, Math.ceil(rawLength / 4))
}

/** Deterministic output token count for a resolved reply plan: words in it (thinking included), plus one. */
function outputTokens(plan) {
  let words = countWords(plan.text) + countWords(plan.thinking)
  if (plan.kind === 'tool_use') words += countWords(JSON.stringify(plan.input))
  return words + 1
}

/**
 * Splits text into at most `parts` chunks on word boundaries; joining the chunks gives the
 * text back exactly. Empty text gives no chunks.
 */
function splitText(text, parts = 3) {
  if (!text) return []
  const tokens = text.match(/\s*\S+\s*|\s+/g) || [text]
  const n = Math.min(parts, tokens.length)
  const size = Math.ceil(tokens.length / n)
  const chunks = []
  for (let i = 0; i < tokens.length; i += size) chunks.push(tokens.slice(i, i + size).join(''))
  return chunks
}

const ANTHROPIC_ERROR_TYPES = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  529: 'overloaded_error',
}

/** The conventional Anthropic error `type` for an HTTP status. */
function defaultErrorType(status) {
  if (ANTHROPIC_ERROR_TYPES[status]) return ANTHROPIC_ERROR_TYPES[status]
  return status >= 500 ? 'api_error' : 'invalid_request_error'
}

module.exports = {
  uid,
  writeEvent,
  startSse,
  sendJson,
  countWords,
  inputTokens,
  outputTokens,
  splitText,
  defaultErrorType,
}
