// The baseline for `npm run bench`'s ingest table: what the TypeScript session managers do,
// in plain Node: child_process + readline + JSON.parse per line, with the same bookkeeping as
// the core (status, turns, cost, tokens, an output ring of 200 lines, a bounded event log with
// sequence numbers).
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'

export function nodeIngest(program, args, { env, expectedTurns }) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint()
    const child = spawn(program, args, { env, stdio: ['ignore', 'pipe', 'ignore'] })
    const s = { status: 'starting', turns: 0, cost: 0, input: 0, output: 0, seq: 0, events: [], lines: [] }
    const record = (e) => {
      s.seq += 1
      s.events.push({ seq: s.seq, at: Date.now(), ...e })
      if (s.events.length > 1000) s.events.shift()
    }
    const rl = createInterface({ input: child.stdout, crlfDelay: Infinity })
    rl.on('line', (line) => {
      let m
      try {
        m = JSON.parse(line)
      } catch {
        record({ kind: 'error' })
        return
      }
      if (s.status === 'starting') s.status = 'running'
      switch (m.type) {
        case 'assistant':
        case 'item.completed': {
          const blocks = m.message?.content ?? (m.item ? [{ type: m.item.type === 'agent_message' ? 'text' : 'other', text: m.item.text }] : [])
          for (const b of blocks) {
            if (b.type === 'text') {
              for (const l of String(b.text).split('\n')) {
                s.lines.push(l)
                if (s.lines.length > 200) s.lines.shift()
              }
            }
            record({ kind: b.type === 'text' ? 'assistant-text' : 'other', block: b })
          }
          break
        }
        case 'result':
        case 'turn.completed':
          s.turns += 1
          s.cost = m.total_cost_usd ?? s.cost
          s.input += m.usage?.input_tokens ?? 0
          s.output += m.usage?.output_tokens ?? 0
          s.status = 'waiting-for-input'
          record({ kind: 'turn-completed', turn: s.turns })
          break
        default:
          record({ kind: 'other', type: m.type })
      }
    })
    child.on('error', reject)
    child.on('close', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9
      if (s.turns !== expectedTurns) reject(new Error(`baseline saw ${s.turns} turns, expected ${expectedTurns}`))
      else resolve({ seconds, state: s })
    })
  })
}
