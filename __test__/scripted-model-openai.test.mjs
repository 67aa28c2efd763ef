// Tests of the scripted model server (openclaw-sessions/testing) itself, over real HTTP with
// the global fetch. Everything stays on 127.0.0.1. This file: part 2: the OpenAI Responses API.
import { test, before, after, beforeEach } from 'node:test'
import assert from 'node:assert/strict'
import { startScriptedModel } from 'openclaw-sessions/testing'
import { scriptedClient, codexOutput, codexText, oaUser, oaAssistant } from './helpers/scripted-client.mjs'

let model

before(async () => {
  model = await startScriptedModel({ maxStallMs: 400 })
})
after(() => model.close())
beforeEach(() => model.reset())
const { codex } = scriptedClient(() => model)

test('OpenAI Responses text reply: SSE sequence, sequence numbers, usage', async () => {
  const input = [
    { type: 'message', role: 'developer', content: [{ type: 'input_text', text: 'You are Codex' }] },
    oaUser('<environment_context>\n  <cwd>/tmp</cwd>\n</environment_context>'),
    oaUser("I'm Zed"),
    oaAssistant('Nice to meet you, Zed!'),
    oaUser("what's my name?"),
  ]
  const { res, events } = await codex(input, { sessionId: 'th-1' })
  assert.equal(res.status, 200)
  const kinds = events.map((e) => e.event)
  const deltas = kinds.filter((k) => k === 'response.output_text.delta').length
  assert.ok(deltas >= 2)
  assert.deepEqual(kinds, [
    'response.created',
    'response.output_item.added',
    'response.content_part.added',
    ...Array(deltas).fill('response.output_text.delta'),
    'response.output_text.done',
    'response.content_part.done',
    'response.output_item.done',
    'response.completed',
  ])
  events.forEach((e, i) => {
    assert.equal(e.data.type, e.event)
    assert.equal(e.data.sequence_number, i)
  })
  const created = events[0].data.response
  assert.match(created.id, /^resp_/)
  assert.equal(created.status, 'in_progress')
  assert.equal(created.model, 'gpt-test')

  const added = events[1].data.item
  assert.deepEqual({ ...added, id: 'x' }, { id: 'x', type: 'message', role: 'assistant', status: 'in_progress', content: [] })
  const text = events.filter((e) => e.event === 'response.output_text.delta').map((e) => e.data.delta).join('')
  assert.equal(text, 'Your name is Zed.')
  for (const e of events.slice(2, -2)) assert.equal(e.data.item_id, added.id)

  const done = events.at(-2).data.item
  assert.deepEqual(done, {
    id: added.id,
    type: 'message',
    role: 'assistant',
    status: 'completed',
    content: [{ type: 'output_text', text: 'Your name is Zed.', annotations: [] }],
  })
  const completed = events.at(-1).data.response
  assert.equal(completed.id, created.id)
  assert.equal(completed.status, 'completed')
  assert.deepEqual(completed.output, [done])
  const u = completed.usage
  assert.equal(u.input_tokens_details.cached_tokens, 0)
  assert.equal(u.output_tokens_details.reasoning_tokens, 0)
  assert.equal(u.output_tokens, 5) // 4 words + 1
  assert.equal(u.total_tokens, u.input_tokens + u.output_tokens)
  assert.equal(model.requests[0].sessionId, 'th-1')
  // environment_context is not a user turn: Zed's intro and the question are turns 1 and 2.
  assert.equal(codexText((await codex([...input.slice(0, 4), oaUser('hi')])).events), 'You said: hi. This is turn 2.')
})

test('OpenAI function_call: default run: rule, tool output in history, Bash mapping', async () => {
  const { events } = await codex([oaUser('run: echo hi')])
  const kinds = events.map((e) => e.event)
  assert.deepEqual(kinds, ['response.created', 'response.output_item.added', 'response.output_item.done', 'response.completed'])
  const call = events[2].data.item
  assert.equal(call.type, 'function_call')
  assert.match(call.id, /^fc_/)
  assert.match(call.call_id, /^call_/)
  assert.equal(call.name, 'exec_command')
  assert.equal(call.arguments, '{"cmd":"echo hi"}')
  assert.equal(call.status, 'completed')
  assert.equal(events[1].data.item.call_id, call.call_id)
  assert.deepEqual(codexOutput(events), [call])

  const history = [
    oaUser('run: echo hi'),
    { type: 'function_call', name: call.name, arguments: call.arguments, call_id: call.call_id },
    { type: 'function_call_output', call_id: call.call_id, output: 'Process exited with code 0\nOutput:\nhi\n' },
  ]
  assert.equal(codexText((await codex(history)).events), 'Tool result: Process exited with code 0\nOutput:\nhi')

  // A Claude-style Bash call scripted once works for Codex too; other names pass through.
  model.enqueue({ text: 'Running.', toolUse: { name: 'Bash', input: { command: 'ls -la', description: 'list' }, id: 'call_mine' } })
  model.enqueue({ toolUse: { name: 'apply_patch', input: { input: '*** Begin Patch' } } })
  let out = codexOutput((await codex([oaUser('a')])).events)
  assert.deepEqual(out.map((i) => i.type), ['message', 'function_call'])
  assert.equal(out[0].content[0].text, 'Running.')
  assert.equal(out[1].call_id, 'call_mine')
  assert.equal(out[1].name, 'exec_command')
  assert.deepEqual(JSON.parse(out[1].arguments), { cmd: 'ls -la' })
  out = codexOutput((await codex([oaUser('b')])).events)
  assert.equal(out[0].name, 'apply_patch')
  assert.deepEqual(JSON.parse(out[0].arguments), { input: '*** Begin Patch' })
})

test('a stall on the OpenAI API ends with response.failed when its reply is an error', async () => {
  model.enqueue({ stall: { ms: 20, then: { error: { status: 500, message: 'late failure' } } } })
  const { res, events } = await codex([oaUser('x')])
  assert.equal(res.status, 200)
  assert.deepEqual(events.map((e) => e.event), ['response.created', 'response.failed'])
  assert.equal(events[1].data.response.status, 'failed')
  assert.equal(events[1].data.response.error.message, 'late failure')
})

test('OpenAI web search: toolUse named web_search streams a web_search_call item, then the text', async () => {
  model.enqueue({ text: 'Found it.', toolUse: { name: 'web_search', input: { query: 'tokio shutdown' } } })
  const { events } = await codex([oaUser('search the web')])
  assert.deepEqual(events.map((e) => e.event), [
    'response.created',
    'response.output_item.added',
    'response.web_search_call.in_progress',
    'response.web_search_call.searching',
    'response.web_search_call.completed',
    'response.output_item.done',
    'response.output_item.added',
    'response.content_part.added',
    'response.output_text.delta',
    'response.output_text.delta',
    'response.output_text.done',
    'response.content_part.done',
    'response.output_item.done',
    'response.completed',
  ])
  const call = events[5].data.item
  assert.match(call.id, /^ws_/)
  assert.deepEqual(call, { id: call.id, type: 'web_search_call', status: 'completed', action: { type: 'search', query: 'tokio shutdown' } })
  // Added carries no action yet, as on the real API.
  assert.deepEqual(events[1].data.item, { id: call.id, type: 'web_search_call', status: 'in_progress' })
  assert.equal(events[2].data.item_id, call.id)
  assert.deepEqual(codexOutput(events).map((i) => i.type), ['web_search_call', 'message'])
  assert.equal(codexText(events), 'Found it.')
  assert.equal(model.requests[0].reply.name, 'web_search')

  // A given id and another action pass through; no text gives the search item alone.
  model.enqueue({ toolUse: { name: 'web_search', id: 'ws_mine', input: { action: { type: 'open_page', url: 'https://example.com' } } } })
  const out = codexOutput((await codex([oaUser('open it')])).events)
  assert.deepEqual(out, [{ id: 'ws_mine', type: 'web_search_call', status: 'completed', action: { type: 'open_page', url: 'https://example.com' } }])
})
