/**
 * `openclaw-sessions/testing`: a scripted model server for running the real Claude Code and
 * Codex CLIs offline. It listens on a loopback address only, speaks the Anthropic Messages API
 * (`POST /v1/messages`, for Claude Code) and the OpenAI Responses API (`POST /v1/responses`,
 * for Codex), logs every request, and answers from a queue of scripted replies or, when none
 * matches, from deterministic default rules that read only the conversation in the request.
 *
 * @example
 * const { startScriptedModel } = require('openclaw-sessions/testing')
 * const model = await startScriptedModel()
 * model.enqueue({ text: 'hello' }, { prompt: 'say hello' })
 * // ANTHROPIC_BASE_URL=model.url for Claude Code; base_url = `${model.url}/v1` for Codex
 * await model.close()
 */

/** Options of {@link startScriptedModel}. All are optional. */
export interface ScriptedModelOptions {
  /**
   * Address to listen on. Must be a loopback address (`127.x.x.x`, `::1` or `localhost`);
   * anything else makes `startScriptedModel` reject. Default `'127.0.0.1'`.
   */
  host?: string
  /** TCP port; `0` picks a free one (read it back from `model.port`). Default `0`. */
  port?: number
  /**
   * Upper bound, in milliseconds, of every stall (scripted `stall.ms` and the default
   * `sleep N` rule). Default `120000` (2 minutes).
   */
  maxStallMs?: number
}

/** Reply: assistant text, optionally after a thinking block. */
export interface TextReply {
  text: string
  /**
   * Anthropic only: stream a `thinking` content block before the text
   * (`content_block_start {type:'thinking', thinking:'', signature:''}`, `thinking_delta`
   * chunks, one `signature_delta` with a deterministic base64 signature, `content_block_stop`).
   * The OpenAI side ignores it.
   */
  thinking?: string
}

/**
 * Reply: one tool call, optionally after some text (`text` is streamed first).
 *
 * - Anthropic: a `tool_use` block with `stop_reason: 'tool_use'`. `name` defaults to `'Bash'`;
 *   a `cmd` input becomes `command` for `Bash`.
 * - OpenAI: a `function_call` item. Without a name, or with name `'Bash'`, it becomes Codex's
 *   `exec_command` with arguments `{cmd}` (taken from `cmd` or `command`; `description` is
 *   dropped). Any other name is sent as is, with `arguments` = JSON of `input`.
 *
 * So `{ toolUse: { input: { command: 'echo hi' } } }` runs `echo hi` on both CLIs.
 */
export interface ToolUseReply {
  text?: string
  /** Anthropic only: a `thinking` block before the text and the tool call (see {@link TextReply.thinking}). */
  thinking?: string
  toolUse: {
    /**
     * Tool name. Default `'Bash'` (Anthropic) / `'exec_command'` (OpenAI). On the OpenAI side, `'web_search'`
     * streams a hosted `web_search_call` output item (`input: { query }`, or `input: { action }` for another
     * action such as `{ type: 'open_page', url }`) instead of a function call.
     */
    name?: string
    /** Tool input (Anthropic `input`; OpenAI `arguments`, JSON-encoded). Default `{}`. */
    input?: Record<string, unknown>
    /** Anthropic `tool_use.id` / OpenAI `call_id`. Default a fresh `toolu_…` / `call_…`. */
    id?: string
  }
}

/**
 * Reply: an HTTP error. Body for Anthropic `{"type":"error","error":{type, message}}`, for
 * OpenAI `{"error":{type, message, code, param}}`. Inside a stall (the stream has already
 * started with status 200) it is sent as an SSE `error` event / `response.failed` instead.
 */
export interface ErrorReply {
  error: {
    /** HTTP status, 400..599. Claude Code retries 5xx and 529, not 400. */
    status: number
    /**
     * Error type. Default by status: Anthropic `invalid_request_error` (400),
     * `authentication_error` (401), `rate_limit_error` (429), `api_error` (5xx),
     * `overloaded_error` (529); OpenAI `invalid_request_error`, `server_error` (5xx)…
     */
    type?: string
    /** Error message. Default `'Scripted error (HTTP <status>)'`. */
    message?: string
    /** OpenAI `error.code`. Default `null`. */
    code?: string | null
    /** Extra response headers, e.g. `{ 'retry-after': '0' }`. */
    headers?: Record<string, string>
  }
}

/**
 * Reply: start the stream (`message_start` + `ping` / `response.created`), wait, then send
 * `then`. While waiting, Anthropic streams get a `ping` every 10 s. If the client disconnects
 * first, the wait is cancelled and the log entry's `reply.aborted` becomes `true`.
 */
export interface StallReply {
  stall: {
    /** How long to wait, in milliseconds; capped at `maxStallMs`. */
    ms: number
    /** What to send afterwards (not another stall). Default `{ text: 'stalled reply' }`. */
    then?: TextReply | ToolUseReply | ErrorReply
  }
}

/** A scripted reply for {@link ScriptedModel.enqueue}. */
export type ScriptedReply = TextReply | ToolUseReply | ErrorReply | StallReply

/**
 * Which requests a queued reply answers. Absent fields match anything. The queue is scanned
 * first-in first-out and the first matching entry is used.
 */
export interface EnqueueOptions {
  /** Substring of (string) or test against (RegExp) the request's prompt (the last user text block). */
  prompt?: string | RegExp
  /**
   * Substring of (string) or test against (RegExp) any text block of the user messages after
   * the last assistant message: the prompt and what a harness put beside it (the OpenClaw
   * gateway sends a chat message, then a context message, so its prompt is the context).
   */
  text?: string | RegExp
  /**
   * Substring of (string) or test against (RegExp) any tool result the request brings after the
   * model's last output (Anthropic `tool_result` blocks, OpenAI `*_call_output` items), also when
   * a harness put text beside it (the OpenClaw gateway adds a context message); a request with no
   * new tool result never matches. For the model's next step after a tool call, e.g. the
   * OpenClaw agent's reply once a plugin tool answered.
   */
  toolResult?: string | RegExp
  /** Exact session id of the request (see {@link LoggedRequest.sessionId}). */
  sessionId?: string
  /** How many requests this entry answers (a positive integer or `Infinity`). Default `1`. */
  times?: number
}

/** What the server sent, as recorded in {@link LoggedRequest.reply}. */
export type ReplyDescription =
  | { kind: 'text'; text: string; thinking?: string; source?: 'queue' | 'default' }
  | {
      kind: 'tool_use'
      name: string
      input: Record<string, unknown>
      id: string
      text?: string
      thinking?: string
      source?: 'queue' | 'default'
    }
  | { kind: 'error'; status: number; type?: string; message?: string; source?: 'queue' | 'default' }
  | {
      kind: 'stall'
      /** Effective wait in ms (after the `maxStallMs` cap). */
      ms: number
      then: ReplyDescription
      /** `true` once the client disconnected before the stall ended. */
      aborted?: boolean
      source?: 'queue' | 'default'
    }
  | { kind: 'ok' }
  | { kind: 'count_tokens'; inputTokens: number }

/** One entry of {@link ScriptedModel.requests}. */
export interface LoggedRequest {
  /** When the request body was fully received, ms since the epoch. */
  at: number
  method: string
  /** Path with the query string, e.g. `'/v1/messages?beta=true'`. */
  path: string
  /** Request headers, names lowercased. */
  headers: Record<string, string | string[] | undefined>
  /** Parsed JSON body; the raw string if it is not JSON; `null` if empty. */
  body: unknown
  /** `'anthropic'` for `/v1/messages…`, `'openai'` for `/v1/responses…`, else `'other'`. */
  api: 'anthropic' | 'openai' | 'other'
  /**
   * Session id: header `x-claude-code-session-id` (or `session_<uuid>` in
   * `metadata.user_id`) for Anthropic; header `session-id`, `thread-id` or `conversation_id`
   * for OpenAI. `null` if absent.
   */
  sessionId: string | null
  /**
   * The user's prompt: the last real user text in the request (CLI-injected text such as
   * `<system-reminder>` or `<environment_context>` is skipped). When the request only carries
   * a tool result, this is still the text of the user turn that led to it. `null` if none.
   */
  prompt: string | null
  /** Text of the tool result(s) when the last user input is one, else `null`. */
  toolResult: string | null
  /** What was sent back; set before the reply is written. */
  reply: ReplyDescription | null
}

/**
 * Filter for {@link ScriptedModel.waitForRequest}: a predicate, or fields that must match
 * (an object filter only ever matches model requests, `POST /v1/messages` or `/v1/responses`).
 */
export type RequestFilter =
  | ((request: LoggedRequest) => boolean)
  | { api?: 'anthropic' | 'openai'; prompt?: string | RegExp; sessionId?: string }

/** A running scripted model server. */
export interface ScriptedModel {
  /** Base URL, e.g. `'http://127.0.0.1:41234'` (no trailing slash). */
  readonly url: string
  /** The port it listens on. */
  readonly port: number
  /** The loopback address it listens on. */
  readonly host: string
  /** The stall cap in milliseconds. */
  readonly maxStallMs: number
  /** Every request received, oldest first (live array; cleared by `reset()`). */
  readonly requests: LoggedRequest[]
  /** Only the `POST /v1/messages` requests (query string ignored). */
  messagesRequests(): LoggedRequest[]
  /** Only the `POST /v1/responses` requests. */
  responsesRequests(): LoggedRequest[]
  /** Queues a scripted reply. Throws `TypeError` if the reply or options are malformed. */
  enqueue(reply: ScriptedReply, match?: EnqueueOptions): void
  /** Number of queued replies left (sum of the remaining `times`; may be `Infinity`). */
  pending(): number
  /** Drops every queued reply. */
  clearQueue(): void
  /** Clears the request log and the queue. */
  reset(): void
  /**
   * Resolves with the first logged request (already logged or arriving later) that matches
   * `filter` (default: any model request). Rejects after `timeoutMs` (default `10000`) or
   * when the server closes. Handy to know that a stalled turn has reached the model.
   */
  waitForRequest(filter?: RequestFilter, timeoutMs?: number): Promise<LoggedRequest>
  /** Stops listening and destroys every connection, stalled ones included. Idempotent. */
  close(): Promise<void>
}

/**
 * Starts a scripted model server (startup takes a few milliseconds). The promise rejects if
 * `host` is not a loopback address, an option is invalid, or the port is taken.
 */
export function startScriptedModel(options?: ScriptedModelOptions): Promise<ScriptedModel>

/** A throwaway directory tree for one offline CLI run. `cleanup()` removes it. */
export interface OfflineEnv {
  /** The temp dir holding everything below. */
  root: string
  /** The `HOME` the CLI gets. */
  home: string
  /** An empty working directory for the session. */
  workdir: string
  /** The environment to give the CLI (e.g. `new SessionManager({ env })`). */
  env: Record<string, string>
  cleanup(): void
}

/**
 * A fresh `HOME` / `CLAUDE_CONFIG_DIR` and the environment that points Claude Code at the scripted
 * model (`ANTHROPIC_BASE_URL`, a dummy `ANTHROPIC_API_KEY`) with non-essential traffic,
 * auto-update, telemetry and error reporting switched off, and `CLAUDE_CODE_MAX_RETRIES=1`.
 */
export function claudeOfflineEnv(modelUrl: string): OfflineEnv & { configDir: string }

/** Options of {@link codexOfflineEnv} / {@link codexConfig}. */
export interface CodexOfflineOptions {
  /** `sandbox_mode`. Default `'read-only'`. */
  sandbox?: 'read-only' | 'workspace-write' | 'danger-full-access'
  /** `approval_policy`. Default `'never'`. */
  approvalPolicy?: 'untrusted' | 'on-failure' | 'on-request' | 'never'
}

/**
 * A fresh `HOME` / `CODEX_HOME` whose `config.toml` selects a `scripted` Responses-API provider at
 * `${modelUrl}/v1` (no retries, no websockets) with analytics and plugin sync off, and
 * `SCRIPTED_API_KEY` in `env`.
 */
export function codexOfflineEnv(modelUrl: string, options?: CodexOfflineOptions): OfflineEnv & { codexHome: string }

/** The `config.toml` text {@link codexOfflineEnv} writes. */
export function codexConfig(modelUrl: string, options?: CodexOfflineOptions): string
