// Plain-text helpers for messages. Nothing here produces HTML: bubbles render segments as text
// nodes and build <a> elements from them, so user text is always escaped by Vue.
import { i18n } from '@/i18n'
import type { Id, Message, MergedItem, MessageKind } from '@/api/types'

export type Segment =
  | { kind: 'text'; text: string }
  | { kind: 'link'; text: string; href: string }
  | { kind: 'mention'; text: string; me: boolean }

// http(s) URLs and bare www. hosts; trailing punctuation is left out of the link.
const URL_RE = /\b(?:https?:\/\/|www\.)[^\s<>"'`，。！？；：、（）【】《》]+/gi
const TRAILING = /[.,;:!?)\]}'"»]+$/

/** Only http(s) links become anchors; anything else stays text. */
export function safeHref(raw: string): string | null {
  const candidate = /^www\./i.test(raw) ? `https://${raw}` : raw
  try {
    const u = new URL(candidate)
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return null
    return u.href
  } catch {
    return null
  }
}

function linkify(text: string, out: Segment[]) {
  let last = 0
  URL_RE.lastIndex = 0
  for (let m = URL_RE.exec(text); m; m = URL_RE.exec(text)) {
    let raw = m[0]
    const trail = TRAILING.exec(raw)
    if (trail) raw = raw.slice(0, raw.length - trail[0].length)
    const href = raw ? safeHref(raw) : null
    if (!href) continue
    if (m.index > last) out.push({ kind: 'text', text: text.slice(last, m.index) })
    out.push({ kind: 'link', text: raw, href })
    last = m.index + raw.length
    URL_RE.lastIndex = last
  }
  if (last < text.length) out.push({ kind: 'text', text: text.slice(last) })
}

/**
 * Split message text into text / link / @mention segments. Mentions are highlighted when the
 * text contains "@Name" for a mentioned member (names come from the member list) or "@所有人".
 */
export function segments(text: string, mentionNames: string[] = [], myName = '', atAll = false): Segment[] {
  const names = [...new Set(mentionNames.filter(Boolean))]
  if (atAll) names.push(...allNames())
  names.sort((a, b) => b.length - a.length)
  const out: Segment[] = []
  if (!names.length) {
    linkify(text, out)
    return out
  }
  let i = 0
  let buf = ''
  while (i < text.length) {
    if (text[i] === '@') {
      const hit = names.find((n) => text.startsWith(n, i + 1))
      if (hit) {
        if (buf) linkify(buf, out)
        buf = ''
        const isAll = allNames().includes(hit)
        out.push({ kind: 'mention', text: '@' + hit, me: isAll || (!!myName && hit === myName) })
        i += hit.length + 1
        continue
      }
    }
    buf += text[i]
    i++
  }
  if (buf) linkify(buf, out)
  return out
}

/** The names "@all" is written with in both languages. */
export function allNames(): string[] {
  return ['所有人', 'all', 'All']
}

function t(key: string, named?: Record<string, unknown>): string {
  return named ? i18n.global.t(key, named) : i18n.global.t(key)
}

export function kindLabel(kind: MessageKind): string {
  switch (kind) {
    case 'image':
      return t('chat.preview.image')
    case 'file':
      return t('chat.preview.file')
    case 'voice':
      return t('chat.preview.voice')
    case 'link':
      return t('chat.preview.link')
    case 'merged':
      return t('chat.preview.merged')
    default:
      return ''
  }
}

/** "X 撤回了一条消息" / "你撤回了一条消息". */
export function recallText(m: Pick<Message, 'recalled' | 'sender_name'>, meId: Id | undefined): string {
  const r = m.recalled
  if (!r) return ''
  if (meId !== undefined && r.by === meId) return t('chat.recall.you')
  return t('chat.recall.other', { name: r.by_name || m.sender_name })
}

/** One-line body of a message (no sender prefix). */
export function bodyPreview(m: Pick<Message, 'kind' | 'text' | 'file' | 'link' | 'merged'>): string {
  switch (m.kind) {
    case 'text':
    case 'system':
      return oneLine(m.text)
    case 'image':
      return kindLabel('image')
    case 'voice':
      return kindLabel('voice')
    case 'file':
      return `${kindLabel('file')} ${m.file?.name ?? ''}`.trim()
    case 'link':
      return `${kindLabel('link')} ${m.link?.title || m.link?.url || ''}`.trim()
    case 'merged':
      return `${kindLabel('merged')} ${m.merged?.title ?? ''}`.trim()
  }
  return oneLine(m.text)
}

/** Conversation-list preview: recall tombstones, "sender: " prefix in groups. */
export function messagePreview(m: Message | null, meId: Id | undefined, group: boolean): string {
  if (!m) return ''
  if (m.recalled) return recallText(m, meId)
  const body = bodyPreview(m)
  if (group && m.kind !== 'system' && m.sender_id !== meId && m.sender_name) return `${m.sender_name}: ${body}`
  return body
}

export function mergedItemPreview(it: MergedItem): string {
  return bodyPreview({ kind: it.kind, text: it.text, file: it.file ?? null, link: null, merged: null })
}

export function oneLine(s: string): string {
  return (s || '').replace(/\s+/g, ' ').trim()
}

export function formatDuration(ms: number | null | undefined): string {
  const s = Math.max(0, Math.round((ms ?? 0) / 1000))
  if (s < 60) return `${s}″`
  return `${Math.floor(s / 60)}′${String(s % 60).padStart(2, '0')}″`
}

/**
 * A fresh idempotency key for a send. Time-ordered on purpose (base-36 milliseconds first, then
 * 96 random bits): the server files these keys by time, so ordered ids keep its index compact.
 */
export function newClientId(): string {
  const c = globalThis.crypto
  const rnd = new Uint8Array(12)
  if (c && typeof c.getRandomValues === 'function') c.getRandomValues(rnd)
  else for (let i = 0; i < rnd.length; i++) rnd[i] = Math.floor(Math.random() * 256)
  return Date.now().toString(36).padStart(9, '0') + '-' + Array.from(rnd, (b) => b.toString(16).padStart(2, '0')).join('')
}
