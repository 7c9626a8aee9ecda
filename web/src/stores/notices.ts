// The announcement centre: list (unread first), unread badge, whether I may publish.
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { noticeApi } from '@/api/notices'
import type { Id, NoticeSummary } from '@/api/types'

const PAGE = 30

export const useNoticeStore = defineStore('notices', () => {
  const items = ref<NoticeSummary[]>([])
  const nextCursor = ref<string | null>(null)
  const loaded = ref(false)
  const loading = ref(false)
  /** null until GET /notices/manage answered (`can_publish`). */
  const canPublish = ref<boolean | null>(null)
  /** The server's unread count (capped at 100), kept in step with events and reads. */
  const unread = ref(0)
  /** Ids withdrawn while this tab was open (an open detail shows it). */
  const removed = ref<Set<Id>>(new Set())

  const unreadCount = computed(() => Math.max(unread.value, items.value.filter((n) => !n.read && !expired(n)).length))

  function expired(n: NoticeSummary): boolean {
    return !!n.expire_at && n.expire_at <= Date.now()
  }

  async function reload() {
    loading.value = true
    try {
      const r = await noticeApi.list({ limit: PAGE })
      items.value = r.items
      nextCursor.value = r.next_cursor
      unread.value = typeof r.unread === 'number' ? r.unread : r.items.filter((n) => !n.read).length
      loaded.value = true
    } finally {
      loading.value = false
    }
  }

  async function loadMore() {
    if (!nextCursor.value || loading.value) return
    loading.value = true
    try {
      const r = await noticeApi.list({ cursor: nextCursor.value, limit: PAGE })
      const have = new Set(items.value.map((n) => n.id))
      items.value.push(...r.items.filter((n) => !have.has(n.id)))
      nextCursor.value = r.next_cursor
    } finally {
      loading.value = false
    }
  }

  async function probeManage() {
    try {
      const r = await noticeApi.manage({ limit: 1 })
      canPublish.value = r.can_publish !== false
    } catch {
      canPublish.value = false
    }
  }

  /** A `notice` frame (delivery or reminder): to the top, counted unread if it was not. */
  function applyFrame(n: NoticeSummary) {
    const old = items.value.find((x) => x.id === n.id)
    if ((!old || old.read) && !n.read) unread.value++
    items.value = [n, ...items.value.filter((x) => x.id !== n.id)]
    removed.value.delete(n.id)
  }

  function patch(id: Id, p: Partial<NoticeSummary>) {
    const i = items.value.findIndex((x) => x.id === id)
    if (i < 0) return
    const before = items.value[i]
    if (!before.read && p.read === true) unread.value = Math.max(0, unread.value - 1)
    items.value[i] = { ...before, ...p }
  }

  function removeItem(id: Id) {
    const old = items.value.find((x) => x.id === id)
    if (old && !old.read) unread.value = Math.max(0, unread.value - 1)
    items.value = items.value.filter((x) => x.id !== id)
    removed.value.add(id)
  }

  function reset() {
    items.value = []
    nextCursor.value = null
    loaded.value = false
    canPublish.value = null
    unread.value = 0
    removed.value = new Set()
  }

  return {
    items, nextCursor, loaded, loading, canPublish, unread, removed, unreadCount,
    reload, loadMore, probeManage, applyFrame, patch, removeItem, reset,
  }
})
