// Tests of the scripted model server (openclaw-sessions/testing) itself, over real HTTP with
// the global fetch. Everything stays on 127.0.0.1. This file: part 1: server basics, the Anthropic API, the reply queue and stalls.
import { test, before, after, beforeEach } from 'node:test'
import assert from 'node:assert/strict'
import { startScriptedModel } from 'openclaw-sessions/testing'
import { scriptedClient, claudeText, codexOutput, codexText, user, assistant, oaUser, activeTimeouts } from './helpers/scripted-client.mjs'

let model

before(async () => {
  model = await startScriptedModel({ maxStallMs: 400 })
})
after(() => model.close())
beforeEach(() => model.reset())
const { post, claude, codex } = scriptedClient(() => model)

// ---- server basics ---------------------------------------------------------------------

test('listens on a loopback port and refuses other hosts', async () => {
  assert.match(model.url, /^http:\/\/127\.0\.0\.1:\d+$/)
  assert.equal(model.url, `http://127.0.0.1:${model.port}`)
  assert.ok(model.port > 0)
  await assert.rejects(startScriptedModel({ host: '0.0.0.0' }), /loopback/)
  await assert.rejects(startScriptedModel({ host: '192.168.1.10' }), /loopback/)
})

test('starts in well under 100 ms and closes promptly', async () => {
  const t0 = performance.now()
  const m = await startScriptedModel()
  assert.ok(performance.now() - t0 < 100, 'startup took too long')
  const head = await fetch(m.url + '/', { method: 'HEAD' })
  assert.equal(head.status, 200)
  await m.close()
  await m.close() // idempotent
  await assert.rejects(fetch(m.url + '/'))
})

test('HEAD / and GET / answer 200, unknown routes 404 JSON, count_tokens a count', async () => {
  assert.equal((await fetch(model.url + '/', { method: 'HEAD' })).status, 200)
  assert.equal((await fetch(model.url + '/')).status, 200)

  const missing = await fetch(model.url + '/v1/nothing')
  assert.equal(missing.status, 404)
  const body = await missing.json()
  assert.equal(body.type, 'error')
  assert.equal(body.error.type, 'not_found_error')

  const count = await post('/v1/messages/count_tokens?beta=true', { model: 'm', messages: [user('x'.repeat(400))] })
  assert.equal(count.status, 200)
  const { input_tokens } = await count.json()
  assert.ok(Number.isInteger(input_tokens) && input_tokens >= 100, `implausible count ${input_tokens}`)
  assert.equal(model.messagesRequests().length, 0, 'count_tokens is not a messages request')
})

// ---- Anthropic -------------------------------------------------------------------------

test('Anthropic text reply streams the exact SSE event sequence', async () => {
  model.enqueue({ text: 'Hello from the scripted model, friend' })
  const { res, events } = await claude([user('hi')])
  assert.equal(res.status, 200)
  assert.match(res.headers.get('content-type'), /^text\/event-stream/)
  const kinds = events.map((e) => e.event)
  const deltas = kinds.filter((k) => k === 'content_block_delta').length
  assert.ok(deltas >= 2, 'text should arrive in several chunks')
  assert.deepEqual(kinds, [
    'message_start',
    'ping',
    'content_block_start',
    ...Array(deltas).fill('content_block_delta'),
    'content_block_stop',
    'message_delta',
    'message_stop',
  ])
  for (const e of events) assert.equal(e.data.type, e.event)

  const msg = events[0].data.message
  assert.match(msg.id, /^msg_/)
  assert.equal(msg.type, 'message')
  assert.equal(msg.role, 'assistant')
  assert.equal(msg.model, 'claude-test')
  assert.deepEqual(msg.content, [])
  assert.equal(msg.stop_reason, null)
  assert.ok(msg.usage.input_tokens > 0)
  assert.deepEqual(events[2].data.content_block, { type: 'text', text: '' })
  assert.equal(claudeText(events), 'Hello from the scripted model, friend')

  const delta = events.at(-2).data
  assert.deepEqual(delta.delta, { stop_reason: 'end_turn', stop_sequence: null })
  assert.equal(delta.usage.output_tokens, 7) // 6 words + 1
})

test('Anthropic tool_use reply: text block, tool_use block with input_json_delta, stop_reason tool_use', async () => {
  model.enqueue({ text: 'Let me check.', toolUse: { name: 'Bash', input: { command: 'echo hi' }, id: 'toolu_fixed' } })
  const { events } = await claude([user('check')])
  const starts = events.filter((e) => e.event === 'content_block_start').map((e) => e.data)
  assert.equal(starts.length, 2)
  assert.deepEqual(starts[0], { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } })
  assert.deepEqual(starts[1].content_block, { type: 'tool_use', id: 'toolu_fixed', name: 'Bash', input: {} })
  const jsonDeltas = events.filter((e) => e.event === 'content_block_delta' && e.data.index === 1)
  assert.equal(jsonDeltas.length, 1)
  assert.equal(jsonDeltas[0].data.delta.type, 'input_json_delta')
  assert.deepEqual(JSON.parse(jsonDeltas[0].data.delta.partial_json), { command: 'echo hi' })
  assert.equal(events.filter((e) => e.event === 'content_block_stop').length, 2)
  assert.equal(events.at(-2).data.delta.stop_reason, 'tool_use')
  assert.equal(events.at(-1).event, 'message_stop')
  assert.equal(claudeText(events), 'Let me check.')
})

test('Anthropic thinking: a thinking block first (thinking_delta, signature_delta), scripted and by default rule', async () => {
  model.enqueue({ thinking: 'I should run a command first.', toolUse: { input: { command: 'echo hi' }, id: 'toolu_th' } })
  let { events } = await claude([user('check')])
  const starts = events.filter((e) => e.event === 'content_block_start').map((e) => e.data)
  assert.deepEqual(
    starts.map((s) => [s.index, s.content_block.type]),
    [
      [0, 'thinking'],
      [1, 'tool_use'],
    ],
  )
  assert.deepEqual(starts[0].content_block, { type: 'thinking', thinking: '', signature: '' })
  const block0 = events.filter((e) => e.event !== 'content_block_start' && e.data.index === 0).map((e) => e.data)
  const thinkingDeltas = block0.filter((d) => d.delta?.type === 'thinking_delta')
  assert.ok(thinkingDeltas.length >= 1)
  assert.equal(thinkingDeltas.map((d) => d.delta.thinking).join(''), 'I should run a command first.')
  // Deltas in order: thinking chunks, one signature, then the stop.
  assert.deepEqual(
    block0.map((d) => d.delta?.type ?? d.type),
    [...thinkingDeltas.map(() => 'thinking_delta'), 'signature_delta', 'content_block_stop'],
  )
  const signature = block0.find((d) => d.delta?.type === 'signature_delta').delta.signature
  assert.match(signature, /^[A-Za-z0-9+/]{20,}={0,2}$/)
  assert.equal(events.at(-2).data.delta.stop_reason, 'tool_use')
  // 6 thinking words + 2 words of JSON input (`{"command":"echo hi"}`) + 1
  assert.equal(events.at(-2).data.usage.output_tokens, 6 + 2 + 1)
  assert.deepEqual(model.requests[0].reply, {
    kind: 'tool_use',
    name: 'Bash',
    input: { command: 'echo hi' },
    id: 'toolu_th',
    thinking: 'I should run a command first.',
    source: 'queue',
  })

  // The same thinking always gets the same signature; non-streaming carries the whole block.
  model.enqueue({ thinking: 'I should run a command first.', text: 'ok' })
  const whole = await (await claude([user('x')], { stream: false })).res.json()
  assert.deepEqual(whole.content, [
    { type: 'thinking', thinking: 'I should run a command first.', signature },
    { type: 'text', text: 'ok' },
  ])

  // Default rule: "think about X" answers with a thinking block and text.
  ;({ events } = await claude([user('Please think about the weather.')]))
  assert.deepEqual(
    events.filter((e) => e.event === 'content_block_start').map((e) => e.data.content_block.type),
    ['thinking', 'text'],
  )
  const thought = events
    .filter((e) => e.data.delta?.type === 'thinking_delta')
    .map((e) => e.data.delta.thinking)
    .join('')
  assert.equal(thought, 'The user wants me to think about the weather. Let me consider it step by step.')
  assert.equal(claudeText(events), 'Here is my answer about the weather.')
  assert.equal(model.requests.at(-1).reply.source, 'default')

  // Validation, and the OpenAI side drops thinking.
  assert.throws(() => model.enqueue({ thinking: 5, text: 'a' }), TypeError)
  assert.throws(() => model.enqueue({ thinking: 'a', error: { status: 400 } }), TypeError)
  assert.throws(() => model.enqueue({ thinking: 'a', stall: { ms: 1 } }), TypeError)
  model.enqueue({ stall: { ms: 1, then: { thinking: 'hmm', text: 'late' } } })
  ;({ events } = await claude([user('y')]))
  assert.deepEqual(
    events.filter((e) => e.event === 'content_block_start').map((e) => e.data.content_block.type),
    ['thinking', 'text'],
  )
  model.enqueue({ thinking: 'hidden', text: 'visible' })
  const oa = await codex([oaUser('z')])
  assert.deepEqual(codexOutput(oa.events).map((i) => i.type), ['message'])
  assert.equal(codexText(oa.events), 'visible')
  assert.equal(codexOutput(oa.events).length, 1)
})

test('Anthropic non-streaming request gets one JSON Message', async () => {
  model.enqueue({ toolUse: { input: { command: 'ls' } } })
  const { res } = await claude([user('list')], { stream: false })
  const msg = await res.json()
  assert.equal(msg.type, 'message')
  assert.equal(msg.stop_reason, 'tool_use')
  assert.equal(msg.content[0].type, 'tool_use')
  assert.equal(msg.content[0].name, 'Bash')
  assert.match(msg.content[0].id, /^toolu_/)
  assert.deepEqual(msg.content[0].input, { command: 'ls' })
})

test('scripted errors: HTTP status and Anthropic / OpenAI error bodies', async () => {
  model.enqueue({ error: { status: 400, message: 'bad thing' } })
  let { res } = await claude([user('x')])
  assert.equal(res.status, 400)
  assert.deepEqual(await res.json(), { type: 'error', error: { type: 'invalid_request_error', message: 'bad thing' } })

  model.enqueue({ error: { status: 529 } })
  ;({ res } = await claude([user('x')]))
  assert.equal(res.status, 529)
  assert.equal((await res.json()).error.type, 'overloaded_error')

  model.enqueue({ error: { status: 500, type: 'server_error', message: 'boom', code: 'server_is_down' } })
  ;({ res } = await codex([oaUser('x')]))
  assert.equal(res.status, 500)
  const body = await res.json()
  assert.equal(body.error.type, 'server_error')
  assert.equal(body.error.message, 'boom')
  assert.equal(body.error.code, 'server_is_down')

  assert.deepEqual(
    model.requests.map((r) => [r.reply.kind, r.reply.status]),
    [['error', 400], ['error', 529], ['error', 500]],
  )
})

test('malformed JSON gets a 400 error, is logged raw, and the server keeps serving', async () => {
  const res = await post('/v1/messages', '{"model": "m", "messages": [')
  assert.equal(res.status, 400)
  assert.equal((await res.json()).error.type, 'invalid_request_error')
  assert.equal(model.requests[0].body, '{"model": "m", "messages": [')
  assert.equal(model.requests[0].reply.status, 400)

  const bad = await post('/v1/responses', 'not json')
  assert.equal(bad.status, 400)
  assert.ok((await bad.json()).error.message)

  const { events } = await claude([user('still alive')])
  assert.equal(claudeText(events), 'You said: still alive. This is turn 1.')
})

test('enqueue validates replies and options', () => {
  assert.throws(() => model.enqueue({}), TypeError)
  assert.throws(() => model.enqueue({ text: 1 }), TypeError)
  assert.throws(() => model.enqueue({ error: { status: 200 } }), TypeError)
  assert.throws(() => model.enqueue({ stall: { ms: 10, then: { stall: { ms: 1 } } } }), TypeError)
  assert.throws(() => model.enqueue({ text: 'a' }, { times: 0 }), TypeError)
  assert.throws(() => model.enqueue({ text: 'a' }, { prompt: 5 }), TypeError)
  assert.equal(model.pending(), 0)
})

// ---- queue -----------------------------------------------------------------------------

test('queue matches by prompt (substring and RegExp) in FIFO order, with times', async () => {
  model.enqueue({ text: 'for apples' }, { prompt: 'apple' })
  model.enqueue({ text: 'for numbers' }, { prompt: /number \d+/i, times: 2 })
  model.enqueue({ text: 'anything' })
  assert.equal(model.pending(), 4)

  // "Number 7" skips the apple entry, takes the RegExp entry although a wildcard is queued later.
  assert.equal(claudeText((await claude([user('Number 7')])).events), 'for numbers')
  assert.equal(claudeText((await claude([user('an apple a day')])).events), 'for apples')
  assert.equal(claudeText((await claude([user('number 8')])).events), 'for numbers')
  assert.equal(model.pending(), 1)
  // The RegExp entry is used up: "number 9" now falls to the wildcard.
  assert.equal(claudeText((await claude([user('number 9')])).events), 'anything')
  assert.equal(model.pending(), 0)
  // Empty queue: default rules.
  assert.equal(claudeText((await claude([user('apple')])).events), 'You said: apple. This is turn 1.')
  assert.deepEqual(
    model.requests.map((r) => r.reply.source),
    ['queue', 'queue', 'queue', 'queue', 'default'],
  )
})

test('queue matches by session id so parallel sessions do not steal replies', async () => {
  model.enqueue({ text: 'for B' }, { sessionId: 'session-b' })
  model.enqueue({ text: 'for A' }, { sessionId: 'session-a' })
  model.enqueue({ text: 'codex thread' }, { sessionId: 'thread-1', prompt: 'go' })

  const [a, none, b] = await Promise.all([
    claude([user('hello')], { sessionId: 'session-a' }),
    claude([user('hello')], { sessionId: 'session-c' }),
    claude([user('hello')], { sessionId: 'session-b' }),
  ])
  assert.equal(claudeText(a.events), 'for A')
  assert.equal(claudeText(b.events), 'for B')
  assert.equal(claudeText(none.events), 'You said: hello. This is turn 1.')

  assert.equal(codexText((await codex([oaUser('stop')], { sessionId: 'thread-1' })).events), 'You said: stop. This is turn 1.')
  assert.equal(codexText((await codex([oaUser('go')], { sessionId: 'thread-1' })).events), 'codex thread')
  assert.equal(model.pending(), 0)

  model.enqueue({ text: 'x' }, { times: Infinity })
  assert.equal(model.pending(), Infinity)
  model.clearQueue()
  assert.equal(model.pending(), 0)
})

test('queue matches by tool result: the next step after a tool call, never a request without one', async () => {
  model.enqueue({ text: 'Started it.' }, { toolResult: /Launched claude session/ })
  assert.throws(() => model.enqueue({ text: 'a' }, { toolResult: 5 }), TypeError)
  const call = { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'claude_launch', input: {} }] }
  const result = (text) => ({ role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'text', text }] }] })
  // A text prompt that names the result does not match; another tool result does not either.
  assert.equal(claudeText((await claude([user('Launched claude session j')])).events), 'You said: Launched claude session j. This is turn 1.')
  assert.equal(claudeText((await claude([user('go'), call, result('E_NOT_FOUND')])).events), 'Tool result: E_NOT_FOUND')
  assert.equal(claudeText((await claude([user('go'), call, result('Launched claude session j (1234)')])).events), 'Started it.')
  // Beside text a harness added (the OpenClaw gateway's context message) it still matches.
  model.enqueue({ text: 'Started it again.' }, { toolResult: 'Launched claude session' })
  const withText = { ...result('Launched claude session k'), content: [...result('Launched claude session k').content, { type: 'text', text: 'context' }] }
  assert.equal(claudeText((await claude([user('go'), call, withText])).events), 'Started it again.')
  // OpenAI: a call output after the model's function call.
  model.enqueue({ text: 'Codex next step.' }, { toolResult: /exit 0/ })
  const fc = { type: 'function_call', call_id: 'c1', name: 'exec_command', arguments: '{}' }
  const out = { type: 'function_call_output', call_id: 'c1', output: 'exit 0' }
  assert.equal(codexText((await codex([oaUser('go'), fc, out])).events), 'Codex next step.')
  assert.equal(model.pending(), 0)
})

// ---- stalls ----------------------------------------------------------------------------

test('a stall starts the stream, is capped at maxStallMs, then sends its reply', async () => {
  model.enqueue({ stall: { ms: 60000, then: { text: 'finally' } } })
  const t0 = performance.now()
  const { events } = await claude([user('wait')])
  const took = performance.now() - t0
  assert.ok(took >= 350 && took < 3000, `stall took ${took} ms, cap is 400`)
  assert.equal(events[0].event, 'message_start')
  assert.equal(events.filter((e) => e.event === 'message_start').length, 1)
  assert.equal(claudeText(events), 'finally')
  assert.deepEqual(model.requests[0].reply, {
    kind: 'stall',
    ms: 400,
    then: { kind: 'text', text: 'finally' },
    source: 'queue',
  })
})

test('a client that disconnects during a stall cancels it without leaking timers', async () => {
  const baseline = activeTimeouts()
  model.enqueue({ stall: { ms: 60000 } })
  const controller = new AbortController()
  const res = await post('/v1/responses', { model: 'm', stream: true, input: [oaUser('hang')] })
  const reader = res.body.getReader()
  const first = new TextDecoder().decode((await reader.read()).value)
  assert.match(first, /event: response\.created/)
  assert.ok(activeTimeouts() > baseline, 'the stall should hold a timer')
  await reader.cancel()
  controller.abort()
  const deadline = Date.now() + 2000
  while (!model.requests[0].reply.aborted && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
  assert.equal(model.requests[0].reply.aborted, true)
  assert.equal(activeTimeouts(), baseline)
})

test('close() ends stalled connections promptly', async () => {
  const m = await startScriptedModel()
  m.enqueue({ stall: { ms: 60000 } })
  const res = await fetch(m.url + '/v1/messages', {
    method: 'POST',
    body: JSON.stringify({ model: 'm', stream: true, messages: [user('hang')] }),
  })
  const reader = res.body.getReader()
  await reader.read()
  const t0 = performance.now()
  await m.close()
  assert.ok(performance.now() - t0 < 500, 'close waited for the stall')
  await assert.rejects(async () => {
    for (;;) if ((await reader.read()).done) throw new Error('stream ended without its reply')
  })
})

test('waitForRequest resolves when a matching model request arrives', async () => {
  const waiting = model.waitForRequest({ prompt: 'slow 300' })
  const turn = claude([user('please go slow 300')], { sessionId: 's-wait' })
  const seen = await waiting
  assert.equal(seen.sessionId, 's-wait')
  assert.equal(seen.reply.kind, 'stall')
  assert.equal(claudeText((await turn).events), 'Done after 300 ms.')
  await assert.rejects(model.waitForRequest({ prompt: 'never sent' }, 50), /no matching request/)
})

// ---- request log -----------------------------------------------------------------------

test('the request log records method, path, headers, body, api, session, prompt and reply', async () => {
  const big = 'x'.repeat(120000)
  const messages = [
    user([
      { type: 'text', text: '<system-reminder>\ncontext\n</system-reminder>' },
      { type: 'text', text: 'first prompt' },
    ]),
    assistant('ok'),
    user([
      { type: 'text', text: big },
      { type: 'text', text: 'second prompt' },
      { type: 'text', text: '<system-reminder>late</system-reminder>' },
    ]),
  ]
  await claude(messages, { sessionId: 'abc-123' })
  const [r] = model.messagesRequests()
  assert.equal(model.requests.length, 1)
  assert.ok(r.at <= Date.now() && r.at > Date.now() - 10000)
  assert.equal(r.method, 'POST')
  assert.equal(r.path, '/v1/messages?beta=true')
  assert.equal(r.headers['x-claude-code-session-id'], 'abc-123')
  assert.equal(r.headers['content-type'], 'application/json')
  assert.equal(r.body.model, 'claude-test')
  assert.equal(r.body.messages[2].content[0].text.length, 120000)
  assert.equal(r.api, 'anthropic')
  assert.equal(r.sessionId, 'abc-123')
  assert.equal(r.prompt, 'second prompt')
  assert.equal(r.toolResult, null)
  assert.deepEqual(r.reply, { kind: 'text', text: 'You said: second prompt. This is turn 2.', source: 'default' })

  await fetch(model.url + '/', { method: 'HEAD' })
  await codex('plain string input', { sessionId: 't-9' })
  assert.equal(model.requests.length, 3)
  assert.equal(model.messagesRequests().length, 1)
  const [o] = model.responsesRequests()
  assert.equal(o.api, 'openai')
  assert.equal(o.sessionId, 't-9')
  assert.equal(o.prompt, 'plain string input')
  assert.equal(model.requests[1].api, 'other')
  model.reset()
  assert.equal(model.requests.length, 0)
})

// ---- default rules ---------------------------------------------------------------------

test('default rules read the history in the request (Anthropic)', async () => {
  const say = async (messages) => claudeText((await claude(messages)).events)

  assert.equal(await say([user("Hi, I'm Alice")]), 'Nice to meet you, Alice!')
  assert.equal(await say([user('my name is bob.')]), 'Nice to meet you, bob!')
  assert.equal(await say([user("What's my name?")]), "I don't know your name yet.")
  assert.equal(
    await say([user('Call me Ishmael.'), assistant('Hi'), user('how are you'), assistant('fine'), user('what is my name')]),
    'Your name is Ishmael.',
  )
  assert.equal(await say([user('one'), assistant('a'), user('two'), assistant('b'), user('three')]), 'You said: three. This is turn 3.')
  assert.equal(await say([user('please ask me something')]), 'Which file should I edit?')

  const { events } = await claude([user('run: echo hi')])
  const tool = events.find((e) => e.event === 'content_block_start').data.content_block
  assert.equal(tool.type, 'tool_use')
  assert.equal(tool.name, 'Bash')
  const input = JSON.parse(events.find((e) => e.data.delta?.type === 'input_json_delta').data.delta.partial_json)
  assert.deepEqual(input, { command: 'echo hi', description: 'Run the requested command' })

  const withResult = [
    user('run: echo hi'),
    { role: 'assistant', content: [{ type: 'tool_use', id: tool.id, name: 'Bash', input }] },
    {
      role: 'user',
      content: [
        { type: 'tool_result', tool_use_id: tool.id, content: [{ type: 'text', text: '  hi\n' }] },
        { type: 'text', text: '<system-reminder>todo</system-reminder>' },
      ],
    },
  ]
  assert.equal(await say(withResult), 'Tool result: hi')
  assert.equal(model.requests.at(-1).prompt, 'run: echo hi')
  assert.equal(model.requests.at(-1).toolResult, '  hi\n')
  // A tool result earlier in the history does not count: only the last user message decides.
  assert.equal(await say([...withResult, assistant('done'), user('thanks')]), 'You said: thanks. This is turn 2.')
  const long = [user('x'), { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't', content: 'y'.repeat(500) }] }]
  assert.equal(await say(long), 'Tool result: ' + 'y'.repeat(200))

  const t0 = performance.now()
  assert.equal(await say([user('sleep 150')]), 'Done after 150 ms.')
  assert.ok(performance.now() - t0 >= 140)
  assert.equal(await say([user('sleep 99999')]), 'Done after 400 ms.') // capped at maxStallMs
})

