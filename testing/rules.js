'use strict'
// The default replies of the scripted model: what it says when no queued reply matches.
//
// Every rule reads only the conversation carried by the request, so a reply that mentions
// earlier turns proves the CLI really sent the history. Both wire formats are first reduced to
// the same `Conversation` shape (see anthropic.js / openai.js), so the rules are API-neutral.

/**
 * @typedef {object} Conversation
 * @property {string|null} prompt     last real user text (null if there is none)
 * @property {string[]} userTexts     every real user text, oldest first (the prompt is last)
 * @property {number} userTurns       number of user messages with at least one real text
 * @property {string|null} toolResult text of the tool result(s) if the last user input is one
 * @property {string[]} newToolResults  texts of the tool results after the model's last output
 *                                    (also when a harness put user text beside them)
 */

/**
 * True for user text that the CLI injected rather than the user typed: Claude Code's
 * `<system-reminder>` blocks, Codex's `<environment_context>` / AGENTS.md messages, and
 * generally any text that is one whole `<tag>...</tag>` element.
 */
function isInjectedText(text) {
  const t = String(text).trim()
  if (t === '') return true
  if (t.startsWith('<system-reminder>')) return true
  if (t.startsWith('# AGENTS.md instructions')) return true
  const m = /^<([A-Za-z_][\w -]*)>/.exec(t)
  return Boolean(m && t.endsWith(`</${m[1]}>`))
}

const ASKS_NAME = /\bwhat(?:['’]s|\s+is)\s+my\s+name\b/i
const NAME_PATTERNS = [
  /\bmy\s+name\s+is\s+(\S+)/i,
  /\bcall\s+me\s+(\S+)/i,
  // "I'm X" / "I am X" only with a capitalised X, so "I'm fine" is not a name.
  /\b[Ii](?:['’]m|\s+am)\s+(\p{Lu}\S*)/u,
]

/** The name the text introduces ("my name is X", "call me X", "I'm X", "I am X"), or null. */
function findName(text) {
  for (const re of NAME_PATTERNS) {
    const m = re.exec(text)
    if (!m) continue
    const name = m[1].replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, '')
    if (name) return name
  }
  return null
}

/**
 * The default reply for a conversation, as a reply plan (`{kind: 'text'|'tool_use'|'stall'}`).
 * Rules, first that fits:
 *  1. last user input is a tool result  -> `Tool result: <first 200 chars>`
 *  2. prompt starts with `run:`          -> a shell tool call running the rest
 *  3. "what's my name"                   -> the name from an earlier user text, if any
 *  4. prompt introduces a name           -> `Nice to meet you, <name>!`
 *  5. prompt contains "ask me"           -> a question
 *  6. prompt contains `think about X`    -> a thinking block, then `Here is my answer about X.`
 *  7. prompt has `sleep N` / `slow N`    -> stall N ms (capped), then `Done after N ms.`
 *  8. otherwise                          -> `You said: <prompt>. This is turn <k>.`
 * @param {Conversation} conv
 * @param {{maxStallMs: number}} options
 */
function defaultReply(conv, { maxStallMs }) {
  if (conv.toolResult !== null) {
    return { kind: 'text', text: `Tool result: ${conv.toolResult.trim().slice(0, 200)}` }
  }
  const prompt = conv.prompt === null ? '' : conv.prompt
  const trimmed = prompt.trim()

  const run = /^run:\s*([\s\S]+)$/i.exec(trimmed)
  if (run) {
    const command = run[1].trim()
    return {
      kind: 'tool_use',
      name: undefined,
      input: { command, description: 'Run the requested command' },
      id: undefined,
      text: undefined,
    }
  }

  if (ASKS_NAME.test(prompt)) {
    const earlier = conv.userTexts.slice(0, -1)
    for (let i = earlier.length - 1; i >= 0; i--) {
      const name = findName(earlier[i])
      if (name) return { kind: 'text', text: `Your name is ${name}.` }
    }
    return { kind: 'text', text: "I don't know your name yet." }
  }

  const name = findName(prompt)
  if (name) return { kind: 'text', text: `Nice to meet you, ${name}!` }

  if (/ask me/i.test(prompt)) return { kind: 'text', text: 'Which file should I edit?' }

  const think = /\bthink about\s+([^\n]*)/i.exec(prompt)
  if (think) {
    const topic = think[1].trim().replace(/[.?!]+$/, '') || 'it'
    return {
      kind: 'text',
      thinking: `The user wants me to think about ${topic}. Let me consider it step by step.`,
      text: `Here is my answer about ${topic}.`,
    }
  }

  const slow = /\b(?:sleep|slow)\s+(\d+)\b/i.exec(prompt)
  if (slow) {
    const ms = Math.min(Number(slow[1]), maxStallMs)
    return { kind: 'stall', ms, then: { kind: 'text', text: `Done after ${ms} ms.` } }
  }

  return { kind: 'text', text: `You said: ${prompt}. This is turn ${conv.userTurns}.` }
}

module.exports = { defaultReply, isInjectedText, findName }
