// The two tool families, `claude_*` and `codex_*`: everything that differs between them is
// here; the tools, commands and gateway methods are written once over a BackendFamily.
import type { Backend, SpawnOptions } from 'openclaw-sessions'
import type { LaunchDefaults } from './config.js'
import type { JsonSchema } from './params.js'
import { optBoolean, optEnum, optNumber, optString, optStringArray } from './params.js'

type Params = Record<string, unknown>

/** The backend-specific part of a launch. */
export interface LaunchExtras {
  backend: Backend
  options: Partial<SpawnOptions>
}

export interface BackendFamily {
  /** The tool / command prefix. */
  id: 'claude' | 'codex' | 'agent'
  /** For people. */
  title: string
  /** The addon backends whose sessions this family's tools see. */
  backends: readonly Backend[]
  /** Launch parameters only this family has (JSON Schema properties). */
  launchSchema: Record<string, JsonSchema>
  /** Reads those parameters; the config's defaults fill what is not given. */
  launchExtras(params: Params, defaults: LaunchDefaults): LaunchExtras
}

const SANDBOXES = ['read-only', 'workspace-write', 'danger-full-access'] as const
const APPROVALS = ['untrusted', 'on-failure', 'on-request', 'never'] as const

/** Drops undefined values: the addon rejects unknown keys and we only send what was given. */
export function defined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {}
  for (const key of Object.keys(o) as Array<keyof T>) {
    if (o[key] !== undefined) out[key] = o[key]
  }
  return out
}

export const claude: BackendFamily = {
  id: 'claude',
  title: 'Claude Code',
  backends: ['claude'],
  launchSchema: {
    max_budget_usd: { type: 'number', minimum: 0, description: 'Stop the session once its cost reaches this many USD (Claude --max-budget-usd; default: the config\'s defaultBudgetUsd).' },
    system_prompt: { type: 'string', description: 'Appended to Claude Code\'s system prompt (--append-system-prompt).' },
    permission_mode: {
      type: 'string',
      enum: ['default', 'acceptEdits', 'auto', 'bypassPermissions', 'dontAsk', 'plan'],
      description: 'Claude Code --permission-mode (default: the config\'s permissionMode).',
    },
    allowed_tools: { type: 'array', items: { type: 'string' }, description: "Tools allowed without asking, e.g. ['Read', 'Bash(git *)']." },
  },
  launchExtras: (p, d) => ({
    backend: 'claude',
    options: defined({
      maxBudgetUsd: optNumber(p, 'max_budget_usd') ?? d.budgetUsd,
      appendSystemPrompt: optString(p, 'system_prompt'),
      permissionMode: optString(p, 'permission_mode') ?? d.permissionMode,
      allowedTools: optStringArray(p, 'allowed_tools'),
    }),
  }),
}

export const codex: BackendFamily = {
  id: 'codex',
  title: 'Codex',
  backends: ['codex', 'codex-exec'],
  launchSchema: {
    exec: { type: 'boolean', description: 'Run as `codex exec` (one process per turn) instead of `codex app-server`.' },
    sandbox: { type: 'string', enum: [...SANDBOXES], description: 'Codex --sandbox.' },
    approval_policy: { type: 'string', enum: [...APPROVALS], description: 'Codex approval policy.' },
  },
  launchExtras: (p) => ({
    backend: optBoolean(p, 'exec') ? 'codex-exec' : 'codex',
    options: defined({
      sandbox: optEnum(p, 'sandbox', SANDBOXES),
      approvalPolicy: optEnum(p, 'approval_policy', APPROVALS),
    }),
  }),
}

/** Every backend: the gateway methods, which take a `backend` parameter instead. */
export const anyBackend: BackendFamily = {
  id: 'agent',
  title: 'All agents',
  backends: ['claude', 'codex', 'codex-exec'],
  launchSchema: {},
  launchExtras: (p, d) => {
    const backend = optEnum(p, 'backend', ['claude', 'codex', 'codex-exec'] as const) ?? 'claude'
    const extras = (backend === 'claude' ? claude : codex).launchExtras(p, d)
    return backend === 'codex-exec' ? { ...extras, backend } : extras
  },
}

export const families: readonly BackendFamily[] = [claude, codex]
