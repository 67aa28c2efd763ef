'use strict'
// OpenAI Responses API wire format (what Codex speaks): request parsing and replies.
// Streams: response.created, then per output item output_item.added ... output_item.done
// (messages also get content_part / output_text events), then response.completed.

const { isInjectedText } = require('./rules')
const u = require('./util')

const SESSION_HEADERS = ['session-id', 'session_id', 'thread-id', 'thread_id', 'conversation_id', 'conversation-id']

function contentTexts(content) {
  if (typeof content === 'string') return [content]
  if (!Array.isArray(content)) return []
  return content
    .filter((p) => p && typeof p.text === 'string' && (p.type === 'input_text' || p.type === 'text' || p.type === undefined))
    .map((p) => p.text)
}

/** Text of a `function_call_output` item's `output` (string, content parts, or other JSON). */
function outputText(output) {
  if (typeof output === 'string') return output
  if (Array.isArray(output)) {
    return output
      .filter((p) => p && typeof p.text === 'string')
      .map((p) => p.text)
      .join('\n')
  }
  return output == null ? '' : JSON.stringify(output)
}

/** Reduces a Responses API request body to the API-neutral conversation (see rules.js). */
function parseConversation(body) {
  let items = body.input
  if (typeof items === 'string') items = [{ type: 'message', role: 'user', content: items }]
  if (!Array.isArray(items)) items = []
  const userTexts = []
  let lastUserTexts = []
  let newToolResults = []
  let userTurns = 0
  let results = []
  for (const item of items) {
    if (!item || typeof item !== 'object') continue
    const type = item.type === undefined ? 'message' : item.type
    if (type !== 'message' || item.role === 'assistant') lastUserTexts = []
    // Tool results after the model's last output (its message or call), beside any user text.
    if (item.role === 'assistant' || (type !== 'message' && !/_call_output$/.test(type))) newToolResults = []
    if (type === 'message' && item.role === 'user') {
      const texts = contentTexts(item.content).filter((t) => !isInjectedText(t))
      if (texts.length > 0) {
        userTurns += 1
        userTexts.push(...texts)
        lastUserTexts.push(...texts)
        results = []
      }
    } else if (/_call_output$/.test(type)) {
      results.push(outputText(item.output))
      newToolResults.push(outputText(item.output))
    }
  }
  const last = items[items.length - 1]
  const endsWithResult = Boolean(last && typeof last.type === 'string' && /_call_output$/.test(last.type))
  const prompt = userTexts.length > 0 ? userTexts[userTexts.length - 1] : null
  // The tool result text is every call output since the last real user message.
  return { prompt, userTexts, lastUserTexts, newToolResults, userTurns, toolResult: endsWithResult ? results.join('\n') : null }
}

/** Session id: the first present of `session-id`, `thread-id`, `conversation_id` (and spellings). */
function sessionId(headers) {
  for (const name of SESSION_HEADERS) {
    const v = headers[name]
    if (typeof v === 'string' && v !== '') return v
  }
  return null
}

function parseRequest(body, headers) {
  return {
    conv: parseConversation(body),
    sessionId: sessionId(headers),
    model: typeof body.model === 'string' ? body.model : 'scripted-model',
    stream: body.stream === true,
  }
}

/**
 * Tool name that stands for the Responses API's hosted web search: `{ toolUse: { name:
 * 'web_search', input: { query } } }` (or `input: { action }` for another action such as
 * `{type: 'open_page', url}`) streams a completed `web_search_call` item
 * `{id: 'ws_…', type: 'web_search_call', status: 'completed', action: {type: 'search', query}}`,
 * followed by the reply's text, if any. Nothing comes back for it in the next request, so the
 * turn ends with this response.
 */
const WEB_SEARCH = 'web_search'

/**
 * Fills in what a tool call needs on this API. A call without a name, or named `Bash`
 * (Claude style), becomes Codex's `exec_command` with `{cmd}` taken from `cmd` or `command`
 * (and `description` dropped). The `id` given becomes the `call_id`. A reply's `thinking` is
 * Anthropic-only and is dropped here.
 */
function resolve(plan) {
  if (plan.kind === 'stall') return { ...plan, then: resolve(plan.then) }
  if (plan.kind === 'text') return { kind: 'text', text: plan.text }
  if (plan.kind !== 'tool_use') return plan
  if (plan.name === WEB_SEARCH) {
    // The hosted web search tool: a `web_search_call` output item, not a function call.
    return { kind: 'tool_use', name: WEB_SEARCH, input: plan.input, id: plan.id || u.uid('ws_'), text: plan.text }
  }
  let name = plan.name
  let input = plan.input
  if (!name || name === 'Bash') {
    const rest = { ...input }
    delete rest.command
    delete rest.description
    name = 'exec_command'
    input = rest.cmd === undefined && input.command !== undefined ? { cmd: input.command, ...rest } : rest
  }
  return { kind: 'tool_use', name, input, id: plan.id || u.uid('call_'), text: plan.text }
}

function defaultType(status) {
  if (status === 401) return 'invalid_api_key'
  if (status === 429) return 'rate_limit_exceeded'
  return status >= 500 ? 'server_error' : 'invalid_request_error'
}

function errorObject(plan) {
  return {
    type: plan.type || defaultType(plan.status),
    message: plan.message || `Scripted error (HTTP ${plan.status})`,
    code: plan.code === undefined ? null : plan.code,
  }
}

/** Replies with an HTTP error status and the OpenAI error JSON. */
function sendError(res, plan) {
  u.sendJson(res, plan.status, { error: { ...errorObject(plan), param: null } }, plan.headers)
}

function messageItem(text) {
  return {
    id: u.uid('msg_'),
    type: 'message',
    role: 'assistant',
    status: 'completed',
    content: [{ type: 'output_text', text, annotations: [] }],
  }
}

/** The completed output items for a plan; ids are fixed on first use so events agree. */
function outputItems(plan) {
  const items = []
  if (plan.kind === 'tool_use' && plan.name === WEB_SEARCH) {
    const { query, action } = plan.input
    items.push({
      id: plan.id,
      type: 'web_search_call',
      status: 'completed',
      action: action !== undefined ? action : { type: 'search', query: query === undefined ? '' : String(query) },
    })
    if (plan.text !== undefined && plan.text !== '') items.push(messageItem(plan.text))
    return items
  }
  if (plan.text !== undefined && (plan.kind === 'text' || plan.text !== '')) items.push(messageItem(plan.text))
  if (plan.kind === 'tool_use') {
    items.push({
      type: 'function_call',
      id: u.uid('fc_'),
      call_id: plan.id,
      name: plan.name,
      arguments: JSON.stringify(plan.input),
      status: 'completed',
    })
  }
  return items
}

function response(ctx, status, output, usage) {
  return {
    id: ctx.responseId,
    object: 'response',
    created_at: ctx.createdAt,
    status,
    model: ctx.model,
    output,
    usage,
  }
}

function usage(ctx, plan) {
  const output = u.outputTokens(plan)
  return {
    input_tokens: ctx.inputTokens,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: ctx.inputTokens + output,
  }
}

function init(ctx) {
  ctx.responseId = ctx.responseId || u.uid('resp_')
  ctx.createdAt = ctx.createdAt || Math.floor(Date.now() / 1000)
  ctx.seq = ctx.seq || 0
}

function emit(ctx, type, data) {
  u.writeEvent(ctx.res, type, { type, sequence_number: ctx.seq++, ...data })
}

/** Starts the SSE stream: response head and `response.created`. */
function begin(ctx) {
  init(ctx)
  ctx.started = true
  u.startSse(ctx.res, 'x-request-id')
  emit(ctx, 'response.created', { response: response(ctx, 'in_progress', [], null) })
}

/** Keep-alive while a reply stalls: an SSE comment, which every client ignores. */
function keepAlive(ctx) {
  if (!ctx.res.destroyed && !ctx.res.writableEnded) ctx.res.write(': keep-alive\n\n')
}

function streamItem(ctx, item, outputIndex) {
  if (item.type === 'web_search_call') {
    // As the real API: added (in progress, no action yet), the search's progress events, done.
    emit(ctx, 'response.output_item.added', {
      output_index: outputIndex,
      item: { id: item.id, type: 'web_search_call', status: 'in_progress' },
    })
    for (const phase of ['in_progress', 'searching', 'completed']) {
      emit(ctx, `response.web_search_call.${phase}`, { output_index: outputIndex, item_id: item.id })
    }
    emit(ctx, 'response.output_item.done', { output_index: outputIndex, item })
    return
  }
  if (item.type === 'function_call') {
    emit(ctx, 'response.output_item.added', {
      output_index: outputIndex,
      item: { ...item, arguments: '', status: 'in_progress' },
    })
    emit(ctx, 'response.output_item.done', { output_index: outputIndex, item })
    return
  }
  const text = item.content[0].text
  const at = { item_id: item.id, output_index: outputIndex, content_index: 0 }
  emit(ctx, 'response.output_item.added', {
    output_index: outputIndex,
    item: { id: item.id, type: 'message', role: 'assistant', status: 'in_progress', content: [] },
  })
  emit(ctx, 'response.content_part.added', { ...at, part: { type: 'output_text', text: '', annotations: [] } })
  for (const delta of u.splitText(text)) emit(ctx, 'response.output_text.delta', { ...at, delta })
  emit(ctx, 'response.output_text.done', { ...at, text })
  emit(ctx, 'response.content_part.done', { ...at, part: { type: 'output_text', text, annotations: [] } })
  emit(ctx, 'response.output_item.done', { output_index: outputIndex, item })
}

/** Streams the output items of a started reply, then `response.completed`, and ends it. */
function finish(ctx, plan) {
  if (plan.kind === 'error') {
    // The stream has started with status 200: report the failure as `response.failed`.
    const err = errorObject(plan)
    emit(ctx, 'response.failed', {
      response: { ...response(ctx, 'failed', [], null), error: { code: err.code || err.type, message: err.message } },
    })
    ctx.res.end()
    return
  }
  const items = outputItems(plan)
  items.forEach((item, i) => streamItem(ctx, item, i))
  emit(ctx, 'response.completed', { response: response(ctx, 'completed', items, usage(ctx, plan)) })
  ctx.res.end()
}

/** Replies to a non-streaming request with one JSON response object. */
function sendWhole(ctx, plan) {
  if (plan.kind === 'error') return sendError(ctx.res, plan)
  init(ctx)
  u.sendJson(ctx.res, 200, response(ctx, 'completed', outputItems(plan), usage(ctx, plan)), {
    'x-request-id': u.uid('req_'),
  })
}

module.exports = {
  name: 'openai',
  parseRequest,
  parseConversation,
  resolve,
  sendError,
  begin,
  keepAlive,
  finish,
  sendWhole,
}
