// A client of the scripted model server for its own tests (__test__/scripted-model*.test.mjs):
// HTTP requests in each API's shape and readers of the SSE replies. `model()` returns the
// server the test file started.
import assert from 'node:assert/strict'

export function parseSse(text) {
  return text
    .split('\n\n')
    .filter((chunk) => chunk.trim() !== '' && !chunk.startsWith(':'))
    .map((chunk) => {
      const event = /^event: (.*)$/m.exec(chunk)[1]
      const data = JSON.parse(/^data: (.*)$/m.exec(chunk)[1])
      return { event, data }
    })
}

/** `post`, `claude` (Anthropic Messages) and `codex` (OpenAI Responses) against `model()`. */
export function scriptedClient(model) {
  function post(path, body, headers = {}) {
    return fetch(model().url + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    })
  }
  async function claude(messages, { sessionId, stream = true, extra = {} } = {}) {
    const headers = sessionId ? { 'X-Claude-Code-Session-Id': sessionId } : {}
    const res = await post('/v1/messages?beta=true', { model: 'claude-test', max_tokens: 100, stream, messages, ...extra }, headers)
    return { res, events: stream && res.ok ? parseSse(await res.text()) : null }
  }
  async function codex(input, { sessionId, stream = true } = {}) {
    const headers = sessionId ? { 'session-id': sessionId, 'thread-id': sessionId } : {}
    const res = await post('/v1/responses', { model: 'gpt-test', stream, input }, headers)
    return { res, events: stream && res.ok ? parseSse(await res.text()) : null }
  }
  return { post, claude, codex }
}

/** The assistant text of an Anthropic SSE stream (all text deltas joined). */
export function claudeText(events) {
  return events
    .filter((e) => e.event === 'content_block_delta' && e.data.delta.type === 'text_delta')
    .map((e) => e.data.delta.text)
    .join('')
}

/** The final output of an OpenAI SSE stream. */
export function codexOutput(events) {
  const done = events.at(-1)
  assert.equal(done.event, 'response.completed')
  return done.data.response.output
}

export function codexText(events) {
  const msg = codexOutput(events).find((i) => i.type === 'message')
  return msg ? msg.content[0].text : null
}

export const user = (text) => ({ role: 'user', content: text })
export const assistant = (text) => ({ role: 'assistant', content: [{ type: 'text', text }] })
export const oaUser = (text) => ({ type: 'message', role: 'user', content: [{ type: 'input_text', text }] })
export const oaAssistant = (text) => ({ type: 'message', role: 'assistant', content: [{ type: 'output_text', text }] })

export function activeTimeouts() {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length
}
