// Conversations, the open conversation's messages, typing and presence. Fed by REST calls and by
// realtime frames (stores/realtime.ts dispatches them here).
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { ApiError } from '@/api/client'
import { chatApi, type UploadKind } from '@/api/chat'
import type { ChatMember, Conversation, Id, Message, MessageFile, SendBody } from '@/api/types'
import { useSessionStore } from './session'
import { newClientId } from '@/pages/chat/lib/text'

export const PAGE = 50
/** The server caps unread counts here. */
export const UNREAD_CAP = 100
const TYPING_MS = 6000

export interface MessageWindow {
  items: Message[]
  hasMoreBefore: boolean
  hasMoreAfter: boolean
  loading: boolean
  loadingBefore: boolean
  loadingAfter: boolean
  /** Bumped on every full reload, so the pane knows to scroll. */
  version: number
  /** Message to highlight after a jump. */
  highlight: number | null
}

/** A message being sent: shown at the bottom until the server answers. */
export interface PendingMessage {
  clientId: string
  conversationId: Id
  kind: 'text' | 'link' | UploadKind
  text: string
  file: Pick<MessageFile, 'name' | 'size'> | null
  /** Local preview of an image being uploaded. */
  previewUrl: string | null
  at: number
  status: 'sending' | 'failed'
  /** 0..1 for uploads. */
  progress: number
  error: string
  retry: (() => void) | null
  abort: (() => void) | null
}

export interface TypingState {
  userId: Id
  until: number
}

function mergeItems(a: Message[], b: Message[]): Message[] {
  const map = new Map<number, Message>()
  for (const m of a) map.set(m.seq, m)
  for (const m of b) map.set(m.seq, m)
  return [...map.values()].sort((x, y) => x.seq - y.seq)
}

function emptyWindow(): MessageWindow {
  return {
    items: [], hasMoreBefore: false, hasMoreAfter: false, loading: false, loadingBefore: false, loadingAfter: false,
    version: 0, highlight: null,
  }
}

export const useChatStore = defineStore('chat', () => {
  const session = useSessionStore()
  const conversations = ref<Record<Id, Conversation>>({})
  const listLoaded = ref(false)
  const listLoading = ref(false)
  const openId = ref<Id | null>(null)
  const windows = ref<Record<Id, MessageWindow>>({})
  const pending = ref<Record<Id, PendingMessage[]>>({})
  const typing = ref<Record<Id, TypingState>>({})
  const presence = ref<Record<Id, boolean>>({})
  const members = ref<Record<Id, ChatMember[]>>({})
  /** Bumped when a conversation's join requests change (the drawer refetches). */
  const requestsTick = ref<Record<Id, number>>({})
  /** Bumped after the list or the open conversation was reloaded wholesale (resync). */
  const resyncTick = ref(0)

  const meId = computed<Id | undefined>(() => session.me?.user.id)

  const sorted = computed<Conversation[]>(() =>
    Object.values(conversations.value)
      .filter((c) => !c.me.hidden || c.id === openId.value)
      .sort((a, b) => Number(b.me.pinned) - Number(a.me.pinned) || b.last_seq - a.last_seq || b.id - a.id),
  )

  /** Unread total for the title and the rail badge: muted conversations do not count. */
  const unreadTotal = computed(() => {
    let n = 0
    for (const c of Object.values(conversations.value)) {
      if (c.me.muted || c.me.hidden) continue
      n += c.me.unread > 0 ? c.me.unread : c.me.marked_unread ? 1 : 0
    }
    return n
  })

  const openConversation = computed<Conversation | null>(() => (openId.value !== null ? (conversations.value[openId.value] ?? null) : null))
  const openWindow = computed<MessageWindow | null>(() => (openId.value !== null ? (windows.value[openId.value] ?? null) : null))

  // ---- conversations ----

  async function loadList(): Promise<number> {
    listLoading.value = true
    try {
      const r = await chatApi.conversations()
      const next: Record<Id, Conversation> = {}
      for (const c of r.items) next[c.id] = c
      // Keep the open conversation even if it is hidden (it is not in the list).
      const open = openId.value
      if (open !== null && !next[open] && conversations.value[open]) next[open] = conversations.value[open]
      conversations.value = next
      listLoaded.value = true
      return r.seq
    } finally {
      listLoading.value = false
    }
  }

  function put(c: Conversation) {
    conversations.value[c.id] = c
  }

  function remove(id: Id) {
    delete conversations.value[id]
    delete members.value[id]
    if (openId.value !== id) delete windows.value[id]
  }

  const refetchTimers = new Map<Id, ReturnType<typeof setTimeout>>()
  const refetchWaiters = new Map<Id, ((c: Conversation | null) => void)[]>()

  /** GET /chat/conversations/{id}, coalesced per id; null when it is gone for me (404). */
  function refetch(id: Id, delay = 150): Promise<Conversation | null> {
    return new Promise((resolve) => {
      const waiters = refetchWaiters.get(id) ?? []
      waiters.push(resolve)
      refetchWaiters.set(id, waiters)
      if (refetchTimers.has(id)) return
      refetchTimers.set(
        id,
        setTimeout(async () => {
          refetchTimers.delete(id)
          const ws = refetchWaiters.get(id) ?? []
          refetchWaiters.delete(id)
          let result: Conversation | null = null
          try {
            result = await chatApi.conversation(id)
            put(result)
          } catch (e) {
            if (e instanceof ApiError && e.status === 404) remove(id)
          }
          for (const w of ws) w(result)
        }, delay),
      )
    })
  }

  async function ensure(id: Id): Promise<Conversation> {
    const have = conversations.value[id]
    if (have) return have
    const c = await chatApi.conversation(id)
    put(c)
    return c
  }

  function patchMe(id: Id, patch: Partial<Conversation['me']>) {
    const c = conversations.value[id]
    if (c) c.me = { ...c.me, ...patch }
  }

  async function setSettings(id: Id, patch: { pinned?: boolean; muted?: boolean; hidden?: boolean; marked_unread?: boolean }) {
    const c = conversations.value[id]
    const before = c ? { ...c.me } : null
    patchMe(id, patch)
    try {
      await chatApi.settings(id, patch)
    } catch (e) {
      if (before) patchMe(id, before)
      throw e
    }
  }

  async function openDirect(userId: Id): Promise<Conversation> {
    const c = await chatApi.openDirect(userId)
    put(c)
    return c
  }

  async function createGroup(body: { name?: string; member_ids: Id[]; department_id?: Id }): Promise<Conversation> {
    const c = await chatApi.createGroup(body)
    put(c)
    return c
  }

  // ---- the open conversation ----

  function setOpen(id: Id | null) {
    const prev = openId.value
    if (prev === id) return
    openId.value = id
    if (prev !== null) {
      // A closed conversation's window goes stale without its events: drop it.
      delete windows.value[prev]
    }
  }

  function win(id: Id): MessageWindow {
    let w = windows.value[id]
    if (!w) {
      windows.value[id] = emptyWindow()
      w = windows.value[id]
    }
    return w
  }

  async function loadLatest(id: Id) {
    const w = win(id)
    w.loading = true
    w.hasMoreAfter = false
    try {
      const page = await chatApi.messages(id, { limit: PAGE })
      const cur = windows.value[id]
      if (!cur) return
      // Live messages that arrived while loading stay (deduplicated by seq).
      const newest = page.items[page.items.length - 1]?.seq ?? 0
      cur.items = mergeItems(page.items, cur.items.filter((m) => m.seq > newest))
      cur.hasMoreBefore = page.has_more_before
      cur.hasMoreAfter = false
      cur.highlight = null
      cur.version++
    } finally {
      const cur = windows.value[id]
      if (cur) cur.loading = false
    }
  }

  async function loadAround(id: Id, seq: number) {
    const w = win(id)
    w.loading = true
    try {
      const page = await chatApi.messages(id, { around: seq, limit: PAGE })
      const cur = windows.value[id]
      if (!cur) return
      cur.items = page.items
      cur.hasMoreBefore = page.has_more_before
      cur.hasMoreAfter = page.has_more_after
      cur.highlight = seq
      cur.version++
    } finally {
      const cur = windows.value[id]
      if (cur) cur.loading = false
    }
  }

  async function loadBefore(id: Id) {
    const w = windows.value[id]
    if (!w || w.loadingBefore || !w.hasMoreBefore || !w.items.length) return
    w.loadingBefore = true
    try {
      const page = await chatApi.messages(id, { before: w.items[0].seq, limit: PAGE })
      const cur = windows.value[id]
      if (!cur) return
      cur.items = mergeItems(page.items, cur.items)
      cur.hasMoreBefore = page.has_more_before
    } finally {
      const cur = windows.value[id]
      if (cur) cur.loadingBefore = false
    }
  }

  async function loadAfter(id: Id) {
    const w = windows.value[id]
    if (!w || w.loadingAfter || !w.hasMoreAfter || !w.items.length) return
    w.loadingAfter = true
    try {
      const page = await chatApi.messages(id, { after: w.items[w.items.length - 1].seq, limit: PAGE })
      const cur = windows.value[id]
      if (!cur) return
      cur.items = mergeItems(cur.items, page.items)
      cur.hasMoreAfter = page.has_more_after
    } finally {
      const cur = windows.value[id]
      if (cur) cur.loadingAfter = false
    }
  }

  function updateMessage(id: Id, seq: number, fn: (m: Message) => Message) {
    const w = windows.value[id]
    if (w) {
      const i = w.items.findIndex((m) => m.seq === seq)
      if (i >= 0) w.items[i] = fn(w.items[i])
    }
    const c = conversations.value[id]
    if (c?.last_message?.seq === seq) c.last_message = fn(c.last_message)
    if (c?.pinned_message?.seq === seq) c.pinned_message = fn(c.pinned_message)
  }

  /** A message that exists on the server (POST answer or realtime frame). */
  function applyMessage(m: Message, live: boolean) {
    const id = m.conversation_id
    const c = conversations.value[id]
    const mine = m.sender_id === meId.value
    if (c) {
      if (!c.last_message || m.seq >= c.last_message.seq) c.last_message = m
      if (m.seq > c.last_seq) c.last_seq = m.seq
      if (c.me.hidden) c.me = { ...c.me, hidden: false }
      if (live && !mine && m.kind !== 'system' && !m.recalled && m.seq > c.me.read_seq) {
        const mentioned = c.me.mentioned || (!!meId.value && (m.mentions.includes(meId.value) || m.at_all))
        c.me = { ...c.me, unread: Math.min(UNREAD_CAP, c.me.unread + 1), mentioned }
      }
      if (mine && m.seq > c.me.read_seq) {
        // My own message: everything before it counts as read on the server too.
        c.me = { ...c.me, read_seq: m.seq, unread: 0, mentioned: false, marked_unread: false }
      }
    } else {
      // A new conversation (someone started a chat with me, or I was added): fetch it.
      void refetch(id)
    }
    const w = windows.value[id]
    if (w && !w.hasMoreAfter) {
      const i = w.items.findIndex((x) => x.seq === m.seq)
      if (i >= 0) {
        // Keep the better-informed unread count (the POST answer counts receipts).
        const prev = w.items[i]
        w.items[i] = { ...m, unread_count: m.unread_count ?? prev.unread_count }
      } else if (!w.items.length || m.seq > w.items[w.items.length - 1].seq) {
        w.items.push(m)
      } else {
        w.items = mergeItems(w.items, [m])
      }
    }
    const tp = typing.value[id]
    if (tp && tp.userId === m.sender_id) delete typing.value[id]
    // My message arrived (maybe from the socket before the POST answered): the placeholder goes.
    if (mine && m.client_id) dropPending(id, m.client_id)
  }

  function applyRecall(id: Id, seq: number, by: Id, byName: string) {
    const at = Date.now()
    updateMessage(id, seq, (m) => ({
      ...m, text: '', mentions: [], at_all: false, quote: null, file: null, link: null, merged: null,
      recalled: { by, by_name: byName, at },
    }))
    const c = conversations.value[id]
    if (c && c.pinned_message?.seq === seq) c.pinned_message = null
    // Unread counts skip recalled messages: let the server recount.
    if (c && seq > c.me.read_seq) void refetch(id, 400)
  }

  const receiptTimers = new Map<Id, ReturnType<typeof setTimeout>>()

  /** Someone read up to `readSeq`: update "已读 / N 人未读" under my messages. */
  function applyRead(id: Id, userId: Id, readSeq: number) {
    const c = conversations.value[id]
    if (userId === meId.value) {
      // My other device read it.
      if (c && readSeq > c.me.read_seq) {
        if (readSeq >= c.last_seq) patchMe(id, { read_seq: readSeq, unread: 0, mentioned: false, marked_unread: false })
        else void refetch(id)
      }
      return
    }
    const w = windows.value[id]
    if (!w) return
    if (c?.kind === 'direct') {
      for (let i = 0; i < w.items.length; i++) {
        const m = w.items[i]
        if (m.sender_id === meId.value && m.seq <= readSeq && (m.unread_count ?? 0) > 0) w.items[i] = { ...m, unread_count: 0 }
      }
      return
    }
    // Groups: who else read is unknown here; re-read the counts of my messages (coalesced).
    scheduleReceipts(id)
  }

  /** Re-read the unread counts of my messages in an open window, at most once per 800 ms. */
  function scheduleReceipts(id: Id) {
    if (!windows.value[id] || receiptTimers.has(id)) return
    receiptTimers.set(
      id,
      setTimeout(() => {
        receiptTimers.delete(id)
        void refreshReceipts(id)
      }, 800),
    )
  }

  async function refreshReceipts(id: Id) {
    const w = windows.value[id]
    if (!w) return
    const mine = w.items.filter(
      (m) => m.sender_id === meId.value && !m.recalled && m.kind !== 'system' && (m.unread_count === undefined || m.unread_count > 0),
    )
    if (!mine.length) return
    const from = mine[0].seq
    try {
      const page = await chatApi.messages(id, { after: from - 1, limit: 200 })
      const counts = new Map(page.items.map((m) => [m.seq, m.unread_count]))
      const cur = windows.value[id]
      if (!cur) return
      for (let i = 0; i < cur.items.length; i++) {
        const m = cur.items[i]
        const n = counts.get(m.seq)
        if (n !== undefined && n !== m.unread_count) cur.items[i] = { ...m, unread_count: n }
      }
    } catch {
      /* next read event tries again */
    }
  }

  const readInFlight = new Map<Id, number>()

  /** Mark the open conversation read up to its newest message. */
  async function markRead(id: Id) {
    const c = conversations.value[id]
    if (!c) return
    const w = windows.value[id]
    const newest = Math.max(c.last_seq, w?.items[w.items.length - 1]?.seq ?? 0)
    if (newest <= 0) return
    if (c.me.read_seq >= newest && !c.me.marked_unread && c.me.unread === 0) return
    if ((readInFlight.get(id) ?? 0) >= newest && !c.me.marked_unread) return
    readInFlight.set(id, newest)
    const before = { ...c.me }
    patchMe(id, { read_seq: Math.max(c.me.read_seq, newest), unread: 0, mentioned: false, marked_unread: false })
    try {
      const r = await chatApi.read(id, newest)
      if (r && typeof r.read_seq === 'number') patchMe(id, { read_seq: Math.max(r.read_seq, conversations.value[id]?.me.read_seq ?? 0) })
    } catch (e) {
      if (conversations.value[id]) patchMe(id, { unread: before.unread, mentioned: before.mentioned })
      if (!(e instanceof ApiError && e.status === 404)) throw e
    } finally {
      readInFlight.delete(id)
    }
  }

  // ---- sending ----

  function addPending(p: PendingMessage) {
    const list = pending.value[p.conversationId] ?? []
    list.push(p)
    pending.value[p.conversationId] = list
  }

  function dropPending(id: Id, clientId: string) {
    const list = pending.value[id]
    if (!list) return
    const i = list.findIndex((p) => p.clientId === clientId)
    if (i >= 0) {
      const [p] = list.splice(i, 1)
      if (p.previewUrl) URL.revokeObjectURL(p.previewUrl)
    }
  }

  function failPending(id: Id, clientId: string, error: string) {
    const p = pending.value[id]?.find((x) => x.clientId === clientId)
    if (p) {
      p.status = 'failed'
      p.error = error
      p.abort = null
    }
  }

  /** Send text or a link. Idempotent retries through `client_id`. */
  function sendBody(id: Id, body: SendBody, previewText: string): Promise<Message> {
    const clientId = body.client_id ?? newClientId()
    const full: SendBody = { ...body, client_id: clientId }
    const p: PendingMessage = {
      clientId, conversationId: id, kind: body.kind, text: previewText, file: null, previewUrl: null, at: Date.now(),
      status: 'sending', progress: 0, error: '', retry: null, abort: null,
    }
    addPending(p)
    const attempt = async (): Promise<Message> => {
      const cur = pending.value[id]?.find((x) => x.clientId === clientId)
      if (cur) {
        cur.status = 'sending'
        cur.error = ''
      }
      try {
        const m = await chatApi.send(id, full)
        dropPending(id, clientId)
        applyMessage(m, false)
        return m
      } catch (e) {
        failPending(id, clientId, e instanceof Error ? e.message : String(e))
        throw e
      }
    }
    const cur = pending.value[id]?.find((x) => x.clientId === clientId)
    if (cur) cur.retry = () => void attempt().catch(() => {})
    return attempt()
  }

  /** Upload a file/image/voice with progress; the server sends it as a message. */
  function sendFile(id: Id, kind: UploadKind, file: Blob, name: string, durationMs?: number): Promise<Message> {
    const clientId = newClientId()
    const previewUrl = kind === 'image' ? URL.createObjectURL(file) : null
    addPending({
      clientId, conversationId: id, kind, text: '', file: { name, size: file.size }, previewUrl, at: Date.now(),
      status: 'sending', progress: 0, error: '', retry: null, abort: null,
    })
    const attempt = async (): Promise<Message> => {
      const cur = pending.value[id]?.find((x) => x.clientId === clientId)
      const up = chatApi.upload(id, kind, file, name, (loaded, total) => {
        const p = pending.value[id]?.find((x) => x.clientId === clientId)
        if (p && total > 0) p.progress = Math.min(1, loaded / total)
      }, durationMs)
      if (cur) {
        cur.status = 'sending'
        cur.error = ''
        cur.progress = 0
        cur.abort = up.abort
      }
      try {
        const m = await up.promise
        dropPending(id, clientId)
        applyMessage(m, false)
        return m
      } catch (e) {
        if (e instanceof ApiError && e.code === 'aborted') {
          dropPending(id, clientId)
        } else {
          failPending(id, clientId, e instanceof Error ? e.message : String(e))
        }
        throw e
      }
    }
    const cur = pending.value[id]?.find((x) => x.clientId === clientId)
    if (cur) cur.retry = () => void attempt().catch(() => {})
    return attempt()
  }

  // ---- members, typing, presence ----

  async function loadMembers(id: Id, force = false): Promise<ChatMember[]> {
    if (members.value[id] && !force) return members.value[id]
    const r = await chatApi.members(id)
    members.value[id] = r.items
    return r.items
  }

  function membersChanged(id: Id) {
    if (members.value[id] || openId.value === id) void loadMembers(id, true).catch(() => {})
    void refetch(id)
  }

  function setTyping(id: Id, userId: Id) {
    if (userId === meId.value) return
    typing.value[id] = { userId, until: Date.now() + TYPING_MS }
    setTimeout(() => {
      const tp = typing.value[id]
      if (tp && tp.until <= Date.now()) delete typing.value[id]
    }, TYPING_MS + 50)
  }

  function setPresence(userId: Id, online: boolean) {
    presence.value[userId] = online
  }

  function bumpRequests(id: Id) {
    requestsTick.value[id] = (requestsTick.value[id] ?? 0) + 1
  }

  /** After `resync` or a reconnect with gaps: reload the list and the open conversation. */
  async function resync() {
    await loadList()
    const id = openId.value
    if (id !== null) {
      const w = windows.value[id]
      if (w?.hasMoreAfter && w.highlight !== null) await loadAround(id, w.highlight)
      else await loadLatest(id)
      if (members.value[id]) await loadMembers(id, true).catch(() => [])
    }
    for (const k of Object.keys(members.value)) {
      if (Number(k) !== id) delete members.value[Number(k)]
    }
    resyncTick.value++
  }

  function reset() {
    conversations.value = {}
    windows.value = {}
    pending.value = {}
    typing.value = {}
    presence.value = {}
    members.value = {}
    listLoaded.value = false
    openId.value = null
  }

  return {
    conversations, listLoaded, listLoading, openId, windows, pending, typing, presence, members, requestsTick, resyncTick,
    meId, sorted, unreadTotal, openConversation, openWindow,
    loadList, put, remove, refetch, ensure, patchMe, setSettings, openDirect, createGroup,
    setOpen, loadLatest, loadAround, loadBefore, loadAfter, updateMessage, applyMessage, applyRecall, applyRead, scheduleReceipts, markRead,
    sendBody, sendFile, dropPending, loadMembers, membersChanged, setTyping, setPresence, bumpRequests, resync, reset,
  }
})
