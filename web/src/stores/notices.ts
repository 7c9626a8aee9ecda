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
  /** null until GET /notices/manage answered: true when it succeeded (a publisher). */
  const canPublish = ref<boolean | null>(null)

  const unreadCount = computed(() => items.value.filter((n) => !n.read).length)

  async function reload() {
    loading.value = true
    try {
      const r = await noticeApi.list({ limit: PAGE })
      items.value = r.items
      nextCursor.value = r.next_cursor
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
      await noticeApi.manage()
      canPublish.value = true
    } catch {
      canPublish.value = false
    }
  }

  /** A `notice` frame: delivered or reminded. It goes to the top as unread-first order says. */
  function applyFrame(n: NoticeSummary) {
    const rest = items.value.filter((x) => x.id !== n.id)
    items.value = [n, ...rest]
  }

  function patch(id: Id, p: Partial<NoticeSummary>) {
    const i = items.value.findIndex((x) => x.id === id)
    if (i >= 0) items.value[i] = { ...items.value[i], ...p }
  }

  function removeItem(id: Id) {
    items.value = items.value.filter((x) => x.id !== id)
  }

  function reset() {
    items.value = []
    nextCursor.value = null
    loaded.value = false
    canPublish.value = null
  }

  return { items, nextCursor, loaded, loading, canPublish, unreadCount, reload, loadMore, probeManage, applyFrame, patch, removeItem, reset }
})
