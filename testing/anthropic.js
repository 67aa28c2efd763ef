'use strict'
// Anthropic Messages API wire format (what Claude Code speaks): request parsing and replies.
// Streams follow the real API: message_start, ping, per block content_block_start /
// content_block_delta / content_block_stop, then message_delta and message_stop. A reply with
// `thinking` starts with a `thinking` block (thinking_delta chunks, then one signature_delta).

const crypto = require('node:crypto')

const { isInjectedText } = require('./rules')
const u = require('./util')

/** Text of a tool_result block's content (a string or an array of content blocks). */
function toolResultText(content) {
  if (typeof content === 'string') return content
  if (Array.isArray(content)) {
    return content
      .filter((b) => b && b.type === 'text' && typeof b.text === 'string')
      .map((b) => b.text)
      .join('\n')
  }
  return content == null ? '' : JSON.stringify(content)
}

/** Real user texts and tool results in one message's content. */
function splitContent(content) {
  const texts = []
  const results = []
  if (typeof content === 'string') {
    if (!isInjectedText(content)) texts.push(content)
  } else if (Array.isArray(content)) {
    for (const block of content) {
      if (!block || typeof block !== 'object') continue
      if (block.type === 'text' && typeof block.text === 'string' && !isInjectedText(block.text)) {
        texts.push(block.text)
      } else if (block.type === 'tool_result') {
        results.push(toolResultText(block.content))
      }
    }
  }
  return { texts, results }
}

/** Reduces a Messages API request body to the API-neutral conversation (see rules.js). */
function parseConversation(body) {
  const messages = Array.isArray(body.messages) ? body.messages : []
  const userTexts = []
  let lastUserTexts = []
  let newToolResults = []
  let userTurns = 0
  let toolResult = null
  let lastUser = -1
  messages.forEach((m, i) => {
    if (m && m.role === 'user') lastUser = i
  })
  messages.forEach((m, i) => {
    if (m && m.role === 'assistant') {
      lastUserTexts = []
      newToolResults = []
    }
    if (!m || m.role !== 'user') return
    const { texts, results } = splitContent(m.content)
    newToolResults.push(...results)
    if (texts.length > 0) {
      userTurns += 1
      userTexts.push(...texts)
      lastUserTexts.push(...texts)
    }
    if (i === lastUser && texts.length === 0 && results.length > 0) toolResult = results.join('\n')
  })
  const prompt = userTexts.length > 0 ? userTexts[userTexts.length - 1] : null
  return { prompt, userTexts, lastUserTexts, newToolResults, userTurns, toolResult }
}

/** Session id: the `x-claude-code-session-id` header, else `session_<uuid>` in metadata.user_id. */
function sessionId(headers, body) {
  const h = headers['x-claude-code-session-id']
  if (typeof h === 'string' && h !== '') return h
  const userId = body && body.metadata && body.metadata.user_id
  const m = typeof userId === 'string' ? /session_([0-9a-f-]{36})/i.exec(userId) : null
  return m ? m[1] : null
}

function parseRequest(body, headers) {
  return {
    conv: parseConversation(body),
    sessionId: sessionId(headers, body),
    model: typeof body.model === 'string' ? body.model : 'scripted-model',
    stream: body.stream === true,
  }
}

/**
 * Fills in what a tool call needs on this API: the name defaults to `Bash`, a `cmd` input
 * (Codex style) becomes `command`, the id defaults to `toolu_<unique>`.
 */
function resolve(plan) {
  if (plan.kind === 'stall') return { ...plan, then: resolve(plan.then) }
  if (plan.kind !== 'tool_use') return plan
  let input = plan.input
  const name = plan.name || 'Bash'
  if (name === 'Bash' && input.command === undefined && typeof input.cmd === 'string') {
    const { cmd, ...rest } = input
    input = { command: cmd, ...rest }
  }
  const resolved = { kind: 'tool_use', name, input, id: plan.id || u.uid('toolu_'), text: plan.text }
  if (plan.thinking !== undefined) resolved.thinking = plan.thinking
  return resolved
}

/**
 * A deterministic stand-in for the opaque signature the real API puts on thinking blocks:
 * base64 of a SHA-256 over the thinking text, so the same thinking always gets the same one.
 */
function thinkingSignature(thinking) {
  const digest = crypto.createHash('sha256').update(`scripted-thinking:${thinking}`).digest()
  return Buffer.concat([Buffer.from('scripted-sig:'), digest]).toString('base64')
}

function errorBody(plan) {
  const type = plan.type || u.defaultErrorType(plan.status)
  return { type: 'error', error: { type, message: plan.message || `Scripted error (HTTP ${plan.status})` } }
}

/** Replies with an HTTP error status and the Anthropic error JSON. */
function sendError(res, plan) {
  u.sendJson(res, plan.status, errorBody(plan), plan.headers)
}

function contentBlocks(plan) {
  const blocks = []
  if (plan.thinking !== undefined) {
    blocks.push({ type: 'thinking', thinking: plan.thinking, signature: thinkingSignature(plan.thinking) })
  }
  if (plan.text !== undefined && (plan.kind === 'text' || plan.text !== '')) {
    blocks.push({ type: 'text', text: plan.text })
  }
  if (plan.kind === 'tool_use') blocks.push({ type: 'tool_use', id: plan.id, name: plan.name, input: plan.input })
  return blocks
}

function message(ctx, content, stopReason, outputTokens) {
  return {
    id: ctx.messageId,
    type: 'message',
    role: 'assistant',
    model: ctx.model,
    content,
    stop_reason: stopReason,
    stop_sequence: null,
    usage: {
      input_tokens: ctx.inputTokens,
      output_tokens: outputTokens,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
    },
  }
}

/** Starts the SSE stream: response head, `message_start` and one `ping`. */
function begin(ctx) {
  ctx.started = true
  ctx.messageId = ctx.messageId || u.uid('msg_')
  u.startSse(ctx.res, 'request-id')
  u.writeEvent(ctx.res, 'message_start', { type: 'message_start', message: message(ctx, [], null, 1) })
  keepAlive(ctx)
}

/** A keep-alive `ping` event, sent while a reply stalls. */
function keepAlive(ctx) {
  u.writeEvent(ctx.res, 'ping', { type: 'ping' })
}

/** Streams the rest of a started reply (blocks, message_delta, message_stop) and ends it. */
function finish(ctx, plan) {
  const { res } = ctx
  if (plan.kind === 'error') {
    // The stream has started, so the status is already 200: send an SSE `error` event.
    u.writeEvent(res, 'error', errorBody(plan))
    res.end()
    return
  }
  contentBlocks(plan).forEach((block, index) => {
    if (block.type === 'thinking') {
      u.writeEvent(res, 'content_block_start', {
        type: 'content_block_start',
        index,
        content_block: { type: 'thinking', thinking: '', signature: '' },
      })
      for (const chunk of u.splitText(block.thinking)) {
        u.writeEvent(res, 'content_block_delta', { type: 'content_block_delta', index, delta: { type: 'thinking_delta', thinking: chunk } })
      }
      u.writeEvent(res, 'content_block_delta', {
        type: 'content_block_delta',
        index,
        delta: { type: 'signature_delta', signature: block.signature },
      })
    } else if (block.type === 'text') {
      u.writeEvent(res, 'content_block_start', { type: 'content_block_start', index, content_block: { type: 'text', text: '' } })
      for (const chunk of u.splitText(block.text)) {
        u.writeEvent(res, 'content_block_delta', { type: 'content_block_delta', index, delta: { type: 'text_delta', text: chunk } })
      }
    } else {
      u.writeEvent(res, 'content_block_start', {
        type: 'content_block_start',
        index,
        content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} },
      })
      u.writeEvent(res, 'content_block_delta', {
        type: 'content_block_delta',
        index,
        delta: { type: 'input_json_delta', partial_json: JSON.stringify(block.input) },
      })
    }
    u.writeEvent(res, 'content_block_stop', { type: 'content_block_stop', index })
  })
  u.writeEvent(res, 'message_delta', {
    type: 'message_delta',
    delta: { stop_reason: plan.kind === 'tool_use' ? 'tool_use' : 'end_turn', stop_sequence: null },
    usage: { output_tokens: u.outputTokens(plan) },
  })
  u.writeEvent(res, 'message_stop', { type: 'message_stop' })
  res.end()
}

/** Replies to a non-streaming request with one JSON Message object. */
function sendWhole(ctx, plan) {
  if (plan.kind === 'error') return sendError(ctx.res, plan)
  ctx.messageId = ctx.messageId || u.uid('msg_')
  const stopReason = plan.kind === 'tool_use' ? 'tool_use' : 'end_turn'
  u.sendJson(ctx.res, 200, message(ctx, contentBlocks(plan), stopReason, u.outputTokens(plan)), {
    'request-id': u.uid('req_'),
  })
}

module.exports = {
  name: 'anthropic',
  parseRequest,
  parseConversation,
  resolve,
  sendError,
  begin,
  keepAlive,
  finish,
  sendWhole,
  thinkingSignature,
}
