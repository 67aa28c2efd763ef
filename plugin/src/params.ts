// Reading tool / gateway parameters, which arrive as untyped JSON. A bad parameter throws a
// ParamError, which the callers turn into a readable result like the addon's own errors.

/**
 * The JSON Schema subset the tools describe their parameters with (the SDK's `parameters` is a
 * TypeBox `TSchema`, which plain JSON Schema objects satisfy).
 */
export interface JsonSchema {
  type?: 'object' | 'string' | 'number' | 'integer' | 'boolean' | 'array'
  description?: string
  properties?: Record<string, JsonSchema>
  required?: string[]
  items?: JsonSchema
  enum?: string[]
  minimum?: number
  additionalProperties?: boolean
}

export class ParamError extends Error {
  readonly code = 'E_INVALID_ARGUMENT'
}

type Params = Record<string, unknown>

export function optString(params: Params, key: string): string | undefined {
  const v = params[key]
  if (v === undefined || v === null || v === '') return undefined
  if (typeof v !== 'string') throw new ParamError(`parameter '${key}' must be a string`)
  return v
}

export function reqString(params: Params, key: string): string {
  const v = optString(params, key)
  if (v === undefined || v.trim() === '') throw new ParamError(`parameter '${key}' is required`)
  return v
}

export function optNumber(params: Params, key: string): number | undefined {
  const v = params[key]
  if (v === undefined || v === null || v === '') return undefined
  const n = typeof v === 'string' ? Number(v) : v
  if (typeof n !== 'number' || !Number.isFinite(n)) throw new ParamError(`parameter '${key}' must be a number`)
  return n
}

export function optBoolean(params: Params, key: string): boolean | undefined {
  const v = params[key]
  if (v === undefined || v === null) return undefined
  if (v === 'true') return true
  if (v === 'false') return false
  if (typeof v !== 'boolean') throw new ParamError(`parameter '${key}' must be a boolean`)
  return v
}

export function optStringArray(params: Params, key: string): string[] | undefined {
  const v = params[key]
  if (v === undefined || v === null) return undefined
  if (typeof v === 'string') return v.split(',').map((s) => s.trim()).filter((s) => s !== '')
  if (!Array.isArray(v) || !v.every((x): x is string => typeof x === 'string')) {
    throw new ParamError(`parameter '${key}' must be an array of strings`)
  }
  return v
}

/** One of `allowed`, or undefined when absent. */
export function optEnum<T extends string>(params: Params, key: string, allowed: readonly T[]): T | undefined {
  const v = optString(params, key)
  if (v === undefined) return undefined
  const found = allowed.find((a) => a === v)
  if (found === undefined) throw new ParamError(`parameter '${key}' must be one of ${allowed.join(', ')} (got '${v}')`)
  return found
}

/** Splits a command's argument string into its first word and the rest. */
export function splitArgs(args: string | undefined): { first: string | undefined; rest: string } {
  const trimmed = (args ?? '').trim()
  if (trimmed === '') return { first: undefined, rest: '' }
  const m = /^(\S+)\s*([\s\S]*)$/.exec(trimmed)
  return m ? { first: m[1], rest: (m[2] ?? '').trim() } : { first: trimmed, rest: '' }
}
