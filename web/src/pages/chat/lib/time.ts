// Chat times in the viewer's local time, WeCom style.
import { i18n } from '@/i18n'

function loc(): string {
  return i18n.global.locale.value === 'en' ? 'en-GB' : 'zh-CN'
}

function startOfDay(d: Date): number {
  return new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime()
}

const DAY = 86_400_000

export function dayKey(ms: number): number {
  return startOfDay(new Date(ms))
}

export function clock(ms: number): string {
  return new Intl.DateTimeFormat(loc(), { hour: '2-digit', minute: '2-digit', hour12: false }).format(new Date(ms))
}

/** Conversation list: 14:05 / 昨天 / 周二 / 03/12 / 2023/03/12. */
export function listTime(ms: number | null | undefined): string {
  if (!ms) return ''
  const now = new Date()
  const d = new Date(ms)
  const today = startOfDay(now)
  const day = startOfDay(d)
  if (day === today) return clock(ms)
  if (day === today - DAY) return i18n.global.t('chat.time.yesterday')
  if (today - day < 6 * DAY) return new Intl.DateTimeFormat(loc(), { weekday: 'short' }).format(d)
  if (d.getFullYear() === now.getFullYear()) return new Intl.DateTimeFormat(loc(), { month: '2-digit', day: '2-digit' }).format(d)
  return new Intl.DateTimeFormat(loc(), { year: 'numeric', month: '2-digit', day: '2-digit' }).format(d)
}

/** Day separator in the message pane: 今天 / 昨天 / 2024年3月12日 星期二. */
export function dayLabel(ms: number): string {
  const today = startOfDay(new Date())
  const day = dayKey(ms)
  if (day === today) return i18n.global.t('chat.time.today')
  if (day === today - DAY) return i18n.global.t('chat.time.yesterday')
  return new Intl.DateTimeFormat(loc(), { year: 'numeric', month: 'long', day: 'numeric', weekday: 'short' }).format(new Date(ms))
}

export function fullTime(ms: number | null | undefined): string {
  if (!ms) return ''
  return new Intl.DateTimeFormat(loc(), {
    year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false,
  }).format(new Date(ms))
}
