import type { PasswordPolicy } from '@/api/types'

export const DEFAULT_POLICY: PasswordPolicy = {
  min_length: 8,
  require_upper: false,
  require_lower: true,
  require_digit: true,
  require_symbol: false,
}

export type Rule = 'min_length' | 'upper' | 'lower' | 'digit' | 'symbol'

/** Client-side hint only; the server is the authority (422 weak_password). */
export function checkPassword(pw: string, p: PasswordPolicy): { rule: Rule; ok: boolean }[] {
  const out: { rule: Rule; ok: boolean }[] = [{ rule: 'min_length', ok: Array.from(pw).length >= p.min_length }]
  if (p.require_upper) out.push({ rule: 'upper', ok: /[A-Z]/.test(pw) })
  if (p.require_lower) out.push({ rule: 'lower', ok: /[a-z]/.test(pw) })
  if (p.require_digit) out.push({ rule: 'digit', ok: /[0-9]/.test(pw) })
  if (p.require_symbol) out.push({ rule: 'symbol', ok: /[^A-Za-z0-9]/.test(pw) })
  return out
}
