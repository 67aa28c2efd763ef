// The slice of the OpenClaw plugin API this plugin uses, written down locally so that the
// example does not depend on the `openclaw` package. A host that offers more is still
// assignable to it.

/** A JSON value, as tool parameters and gateway results travel. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue }

/** A JSON Schema object (the subset tools use to describe their parameters). */
export interface JsonSchema {
  type?: 'object' | 'string' | 'number' | 'integer' | 'boolean' | 'array'
  description?: string
  properties?: Record<string, JsonSchema>
  required?: string[]
  items?: JsonSchema
  enum?: string[]
  minimum?: number
  additionalProperties?: boolean
  default?: JsonValue
}

/** One block of a tool result. */
export interface TextContent {
  type: 'text'
  text: string
}

/** What a tool's `execute` resolves with. */
export interface ToolResult {
  content: TextContent[]
  details?: unknown
}

/** A tool the gateway's agent can call. */
export interface PluginTool {
  name: string
  description: string
  parameters: JsonSchema
  execute(toolCallId: string, params: Record<string, unknown>): Promise<ToolResult>
}

export interface ToolRegistrationOptions {
  /** Optional tools are off until the user allows them. */
  optional?: boolean
}

/** What a chat slash command receives. */
export interface CommandContext {
  /** Everything after the command name, as typed. */
  args?: string
  /** The channel the command came from, e.g. `tg:123`. */
  channel?: string
  senderId?: string
}

export interface CommandResult {
  text: string
}

/** A chat slash command (`/name args`). */
export interface PluginCommand {
  name: string
  description: string
  acceptsArgs?: boolean
  handler(ctx: CommandContext): Promise<CommandResult>
}

/** A gateway RPC method handler: JSON in, JSON out. */
export type GatewayMethodHandler = (params: Record<string, unknown>) => Promise<unknown>

/** A background service the gateway starts and stops with itself. */
export interface PluginService {
  id: string
  start(): void | Promise<void>
  stop(): void | Promise<void>
}

export interface PluginLogger {
  info(message: string): void
  warn(message: string): void
  error(message: string): void
}

/** This plugin's configuration (`plugins.entries.openclaw-sessions.config`). */
export interface PluginConfig {
  /** Most live sessions at once (default 5). */
  maxSessions?: number
  /** The SQLite session store (default `~/.openclaw/agent-sessions.db`). */
  storePath?: string
  /** Where notifications go when a session has no origin channel and no workdir prefix matches. */
  fallbackChannel?: string
  /** Workdir prefix → channel. */
  channels?: Record<string, string>
  /** Environment added to every CLI process. */
  env?: Record<string, string>
  claudePath?: string
  codexPath?: string
  /** The workdir of a launch that names none (default: the gateway's cwd). */
  defaultWorkdir?: string
  /** Automatic replies (agent tool `*_respond`) allowed in a row (default 10). */
  maxAutoResponds?: number
}

/** What `register(api)` is given. */
export interface OpenClawPluginApi {
  registerTool(tool: PluginTool, options?: ToolRegistrationOptions): void
  registerCommand(command: PluginCommand): void
  registerGatewayMethod(method: string, handler: GatewayMethodHandler): void
  registerService(service: PluginService): void
  getConfig?(): PluginConfig
  logger?: PluginLogger
  /** Posts to a chat channel, where the host offers it; otherwise inject `deps.sendMessage`. */
  sendMessage?(channel: string, text: string): Promise<void>
}
