import { i18n } from '@/i18n'
import { useSessionStore } from '@/stores/session'

function tz(): string | undefined {
  try {
    const s = useSessionStore()
    return s.me?.enterprise.time_zone || s.status?.time_zone || undefined
  } catch {
    return undefined
  }
}

function fmt(ms: number, opts: Intl.DateTimeFormatOptions): string {
  const loc = i18n.global.locale.value === 'en' ? 'en-GB' : 'zh-CN'
  try {
    return new Intl.DateTimeFormat(loc, { ...opts, timeZone: tz() }).format(new Date(ms))
  } catch {
    return new Intl.DateTimeFormat(loc, opts).format(new Date(ms))
  }
}

export function formatDateTime(ms: number | null | undefined): string {
  if (!ms && ms !== 0) return '—'
  return fmt(ms, { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false })
}

export function formatDate(ms: number | null | undefined): string {
  if (!ms && ms !== 0) return '—'
  return fmt(ms, { year: 'numeric', month: '2-digit', day: '2-digit' })
}

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  const units = ['KB', 'MB', 'GB', 'TB']
  let v = bytes / 1024
  let i = 0
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024
    i++
  }
  return `${v.toFixed(v >= 10 ? 0 : 1)} ${units[i]}`
}

const PALETTE = ['#1677ff', '#13a8a8', '#52c41a', '#fa8c16', '#eb2f96', '#722ed1', '#2f54eb', '#fa541c', '#08979c', '#d4380d']

/** WeCom-like avatar placeholder: last 1–2 characters of a Chinese name, initials otherwise. */
export function avatarText(name: string): string {
  const n = (name || '').trim()
  if (!n) return '?'
  const han = /[\u3400-\u9fff\uf900-\ufaff]/
  if (han.test(n)) {
    const chars = Array.from(n.replace(/\s+/g, ''))
    return chars.length <= 2 ? chars.join('') : chars.slice(-2).join('')
  }
  const parts = n.split(/[\s._-]+/).filter(Boolean)
  if (parts.length >= 2) return (parts[0][0] + parts[1][0]).toUpperCase()
  return n.slice(0, 2).toUpperCase()
}

export function avatarColor(seed: string | number): string {
  const s = String(seed)
  let h = 0
  for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) >>> 0
  return PALETTE[h % PALETTE.length]
}
