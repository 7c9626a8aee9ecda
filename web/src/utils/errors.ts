import { ApiError } from '@/api/client'
import { i18n } from '@/i18n'

/** Translated text for an error: `errors.<code>` when known, else the server's message. */
export function errorText(e: unknown): string {
  const t = i18n.global.t
  const te = i18n.global.te
  if (e instanceof ApiError) {
    if (e.code === 'too_many_attempts' && e.retryAfter !== null) {
      return t('errors.too_many_attempts_wait', { n: formatWait(e.retryAfter) })
    }
    if (e.code === 'validation_failed' && e.details?.field) {
      const fk = `fields.${e.details.field}`
      const field = te(fk) ? t(fk) : String(e.details.field)
      return t('errors.validation_failed_field', { field, message: e.message })
    }
    if (e.code === 'weak_password' && Array.isArray(e.details?.rules) && e.details.rules.length) {
      const rules = (e.details.rules as string[]).map((r) => (te(`password.rule_${r}`) ? t(`password.rule_${r}`) : r))
      return t('errors.weak_password') + ' ' + rules.join(t('common.listSep'))
    }
    const key = `errors.${e.code}`
    if (te(key)) return t(key)
    return e.message || e.code
  }
  if (e instanceof Error) return e.message
  return String(e)
}

export function formatWait(seconds: number): string {
  const t = i18n.global.t
  if (seconds < 60) return t('common.seconds', { n: seconds })
  const m = Math.ceil(seconds / 60)
  return t('common.minutes', { n: m })
}

export function notifyError(e: unknown) {
  if (e instanceof ApiError && (e.code === 'unauthorized' || e.code === 'setup_required')) return
  ElMessage.error({ message: errorText(e), grouping: true })
}

export function isApiError(e: unknown, code?: string): e is ApiError {
  return e instanceof ApiError && (code === undefined || e.code === code)
}
