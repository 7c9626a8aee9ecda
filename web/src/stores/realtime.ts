// Wires the tab's WebSocket (api/realtime.ts) to the chat and notice stores: start after sign-in,
// dispatch frames, typing/presence out, desktop notifications, unread total in the title.
import { defineStore } from 'pinia'
import { computed, ref, watch } from 'vue'
import { RealtimeClient, storedSeq, type RealtimeState } from '@/api/realtime'
import { normalizeMessage } from '@/api/chat'
import type { Id, Message, ServerFrame } from '@/api/types'
import { i18n } from '@/i18n'
import { router } from '@/router'
import { useChatStore } from './chat'
import { useNoticeStore } from './notices'
import { useSessionStore } from './session'
import { messagePreview } from '@/pages/chat/lib/text'

const TYPING_EVERY_MS = 3000
const NOTIFY_ASKED_KEY = 'officebox.notify.asked'
const MAX_WATCH = 500

export type NotifyPermission = 'default' | 'granted' | 'denied' | 'unsupported'

function notificationSupported(): boolean {
  return typeof window !== 'undefined' && 'Notification' in window
}

export const useRealtimeStore = defineStore('realtime', () => {
  const chat = useChatStore()
  const notices = useNoticeStore()
  const session = useSessionStore()

  const state = ref<RealtimeState>('idle')
  const started = ref(false)
  /** True once the first connection said hello (used to show "connecting…" only after a drop). */
  const everOpen = ref(false)
  const permission = ref<NotifyPermission>(notificationSupported() ? (Notification.permission as NotifyPermission) : 'unsupported')
  /** Bumped on each `drive.shared` frame; the drive page watches it. */
  const driveShared = ref(0)
  let watched: Id[] = []
  let lastTypingSent = 0
  let lastTypingConv: Id | null = null

  const client = new RealtimeClient({
    onFrame: dispatch,
    onHello: () => {
      everOpen.value = true
    },
    onResync: () => {
      void chat.resync().catch(() => {})
      void notices.reload().catch(() => {})
    },
    onSessionEnded: () => {
      stop()
      session.clear()
      const route = router.currentRoute.value
      if (!route.meta.public) void router.replace({ name: 'login', query: { redirect: route.fullPath } })
    },
    onState: (s) => {
      state.value = s
    },
  })
  client.onOpen(() => {
    // A new socket knows nothing of what we watch.
    if (watched.length) client.send({ type: 'watch_presence', user_ids: watched })
  })

  const offline = computed(() => started.value && everOpen.value && state.value !== 'open')

  async function start() {
    if (started.value) return
    started.value = true
    let since = 0
    try {
      since = await chat.loadList()
    } catch {
      since = storedSeq()
    }
    if (!started.value) return
    void notices.reload().catch(() => {})
    void notices.probeManage()
    client.start(since)
    window.addEventListener('online', onOnline)
    document.addEventListener('visibilitychange', onVisible)
  }

  function stop() {
    started.value = false
    everOpen.value = false
    client.stop()
    window.removeEventListener('online', onOnline)
    document.removeEventListener('visibilitychange', onVisible)
  }

  function onOnline() {
    client.kick()
  }

  function onVisible() {
    if (!document.hidden) client.kick()
  }

  function dispatch(f: ServerFrame, live: boolean) {
    switch (f.type) {
      case 'message': {
        const m = normalizeMessage(f.message)
        if (!live && m.sender_id === chat.meId) {
          // Backlog frames carry 0 as the unread count of my own messages: ask the server instead.
          delete m.unread_count
          chat.applyMessage(m, true)
          chat.scheduleReceipts(m.conversation_id)
        } else {
          chat.applyMessage(m, true)
        }
        if (live) maybeNotify(m)
        break
      }
      case 'recall':
        chat.applyRecall(f.conversation_id, f.message_seq, f.by, f.by_name)
        break
      case 'read':
        chat.applyRead(f.conversation_id, f.user_id, f.read_seq)
        break
      case 'conversation':
        void chat.refetch(f.conversation_id)
        break
      case 'conversation_removed':
        chat.remove(f.conversation_id)
        break
      case 'members':
        chat.membersChanged(f.conversation_id)
        break
      case 'join_requests':
        chat.bumpRequests(f.conversation_id)
        break
      case 'notice':
        notices.applyFrame(f.notice)
        maybeNotifyNotice(f.notice.id, f.notice.title, f.notice.publisher_name, !!f.reminder)
        break
      case 'notice_removed':
        notices.removeItem(f.notice_id)
        break
      case 'typing':
        chat.setTyping(f.conversation_id, f.user_id)
        break
      case 'presence':
        chat.setPresence(f.user_id, f.online)
        break
      case 'drive.shared':
        // Someone shared a file or folder with me: the drive's 共享给我 list reloads.
        driveShared.value++
        if (live) ElMessage.info({ message: i18n.global.t('drive.sharedToast', { name: f.name }), grouping: true })
        break
    }
  }

  // ---- client → server ----

  /** Called on input in the composer; sends at most one typing frame every 3 s per conversation. */
  function typing(conversationId: Id) {
    const now = Date.now()
    if (lastTypingConv === conversationId && now - lastTypingSent < TYPING_EVERY_MS) return
    if (client.send({ type: 'typing', conversation_id: conversationId })) {
      lastTypingSent = now
      lastTypingConv = conversationId
    }
  }

  /** Watch the presence of these members (the open conversation's peer or members). */
  function watchPresence(ids: Id[]) {
    const me = chat.meId
    const next = [...new Set(ids)].filter((id) => id !== me).slice(0, MAX_WATCH).sort((a, b) => a - b)
    if (next.length === watched.length && next.every((v, i) => v === watched[i])) return
    watched = next
    client.send({ type: 'watch_presence', user_ids: next })
  }

  // ---- desktop notifications ----

  /** Ask once, from a user gesture (first send, or the bell button). */
  async function requestPermission(force = false): Promise<NotifyPermission> {
    if (!notificationSupported()) return 'unsupported'
    if (Notification.permission !== 'default') {
      permission.value = Notification.permission as NotifyPermission
      return permission.value
    }
    if (!force) {
      try {
        if (localStorage.getItem(NOTIFY_ASKED_KEY)) return 'default'
        localStorage.setItem(NOTIFY_ASKED_KEY, '1')
      } catch {
        /* storage unavailable: ask anyway */
      }
    }
    try {
      permission.value = (await Notification.requestPermission()) as NotifyPermission
    } catch {
      /* old Safari: callback form only */
    }
    return permission.value
  }

  function show(title: string, body: string, tag: string, onClick: () => void) {
    if (!notificationSupported() || Notification.permission !== 'granted') return
    try {
      const n = new Notification(title, { body, tag })
      n.onclick = () => {
        window.focus()
        onClick()
        n.close()
      }
    } catch {
      /* mobile browsers need a service worker for notifications: skip */
    }
  }

  function maybeNotify(m: Message) {
    if (!document.hidden || m.sender_id === chat.meId || m.kind === 'system') return
    const c = chat.conversations[m.conversation_id]
    if (c?.me.muted) return
    const group = c ? c.kind === 'group' : true
    const title = c?.name || m.sender_name
    show(title, messagePreview(m, chat.meId, group), `conv-${m.conversation_id}`, () => {
      void router.push({ name: 'chat-conversation', params: { id: String(m.conversation_id) } })
    })
  }

  function maybeNotifyNotice(id: Id, title: string, publisher: string, reminder: boolean) {
    if (!document.hidden) return
    const head = reminder ? i18n.global.t('notices.notifyReminder') : i18n.global.t('notices.notifyTitle', { name: publisher })
    show(head, title, `notice-${id}`, () => {
      void router.push({ name: 'notice-detail', params: { id: String(id) } })
    })
  }

  // ---- title ----

  const baseTitle = typeof document !== 'undefined' ? document.title || 'OfficeBox' : 'OfficeBox'
  const titleCount = computed(() => chat.unreadTotal + notices.unreadCount)
  watch(
    [titleCount, () => session.status?.enterprise_name],
    ([n, name]) => {
      const base = name ? `${name} - ${baseTitle}` : baseTitle
      document.title = n > 0 ? `(${n > 99 ? '99+' : n}) ${base}` : base
    },
    { immediate: true },
  )

  return { state, started, offline, permission, driveShared, start, stop, typing, watchPresence, requestPermission }
})
