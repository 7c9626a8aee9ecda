// The one WebSocket of a tab: `/ws?since=SEQ` (docs/messaging.md "Realtime").
// Keeps the highest processed seq, reconnects with exponential backoff and jitter, drops frames
// it has already processed, pings every 25 s. Knows nothing about Vue; the realtime store wires it.
import type { ClientFrame, ServerFrame } from './types'

export type RealtimeState = 'idle' | 'connecting' | 'open' | 'closed'

export interface RealtimeHandlers {
  /** A persisted or live event, deduplicated, in arrival order; `live` is false for the backlog before `hello`. */
  onFrame: (f: ServerFrame, live: boolean) => void
  /** `hello`: backlog delivered, live from here. */
  onHello?: (seq: number) => void
  /** `resync`: the backlog was too large; reload lists. */
  onResync?: (seq: number) => void
  /** The session ended (sign-out elsewhere, revoked, expired): do not reconnect. */
  onSessionEnded?: () => void
  onState?: (s: RealtimeState) => void
}

const STORAGE_KEY = 'officebox.ws.seq'
const PING_MS = 25_000
const BACKOFF_MIN = 500
const BACKOFF_MAX = 10_000
/** Remember this many processed seqs to drop duplicates that arrive out of order. */
const SEEN_MAX = 4000

export function storedSeq(): number {
  try {
    const v = Number(sessionStorage.getItem(STORAGE_KEY))
    return Number.isFinite(v) && v > 0 ? v : 0
  } catch {
    return 0
  }
}

export function wsUrl(since: number): string {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:'
  return `${proto}//${location.host}/ws${since > 0 ? `?since=${since}` : ''}`
}

export class RealtimeClient {
  private ws: WebSocket | null = null
  private handlers: RealtimeHandlers
  private lastSeq = 0
  private seen = new Set<number>()
  private seenOrder: number[] = []
  private attempt = 0
  private retryTimer: ReturnType<typeof setTimeout> | null = null
  private pingTimer: ReturnType<typeof setInterval> | null = null
  private stopped = true
  private state: RealtimeState = 'idle'
  /** The current socket said hello: what follows is live, not backlog. */
  private live = false
  /** Frames to send once the socket opens (watch_presence is re-sent on every open by the store). */
  private onOpenHooks: (() => void)[] = []

  constructor(handlers: RealtimeHandlers) {
    this.handlers = handlers
  }

  get seq(): number {
    return this.lastSeq
  }

  get connected(): boolean {
    return this.state === 'open'
  }

  /** Start (or restart) from `since`: the seq of the snapshot the caller's lists reflect. */
  start(since: number) {
    this.stop()
    this.stopped = false
    this.setSeq(since, true)
    this.connect()
  }

  stop() {
    this.stopped = true
    if (this.retryTimer) clearTimeout(this.retryTimer)
    this.retryTimer = null
    this.clearPing()
    const ws = this.ws
    this.ws = null
    if (ws) {
      ws.onopen = ws.onclose = ws.onerror = ws.onmessage = null
      try {
        ws.close(1000)
      } catch {
        /* already closed */
      }
    }
    this.setState('idle')
  }

  /** Called with every newly opened socket (e.g. to re-send watch_presence). */
  onOpen(hook: () => void) {
    this.onOpenHooks.push(hook)
  }

  send(frame: ClientFrame): boolean {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false
    try {
      this.ws.send(JSON.stringify(frame))
      return true
    } catch {
      return false
    }
  }

  /** Reconnect now (e.g. the browser came back online) instead of waiting for the backoff. */
  kick() {
    if (this.stopped || this.state === 'open' || this.state === 'connecting') return
    if (this.retryTimer) clearTimeout(this.retryTimer)
    this.retryTimer = null
    this.attempt = 0
    this.connect()
  }

  private setSeq(seq: number, force = false) {
    if (!force && seq <= this.lastSeq) return
    this.lastSeq = seq
    try {
      sessionStorage.setItem(STORAGE_KEY, String(seq))
    } catch {
      /* storage unavailable */
    }
  }

  private setState(s: RealtimeState) {
    if (this.state === s) return
    this.state = s
    this.handlers.onState?.(s)
  }

  private connect() {
    if (this.stopped) return
    this.setState('connecting')
    let ws: WebSocket
    try {
      ws = new WebSocket(wsUrl(this.lastSeq))
    } catch {
      this.scheduleRetry()
      return
    }
    this.ws = ws
    this.live = false
    // Frames at or below the seq we connected with belong to the past; the server never sends them.
    const since = this.lastSeq
    ws.onopen = () => {
      this.setState('open')
      this.clearPing()
      this.pingTimer = setInterval(() => this.send({ type: 'ping' }), PING_MS)
      for (const h of this.onOpenHooks) h()
    }
    ws.onmessage = (ev) => {
      if (typeof ev.data !== 'string') return
      let f: ServerFrame
      try {
        f = JSON.parse(ev.data) as ServerFrame
      } catch {
        return
      }
      this.handle(f, since)
    }
    ws.onerror = () => {
      /* onclose follows */
    }
    ws.onclose = (ev) => {
      if (this.ws !== ws) return
      this.ws = null
      this.clearPing()
      this.setState('closed')
      if (ev.code === 4001) {
        this.stopped = true
        this.handlers.onSessionEnded?.()
        return
      }
      this.scheduleRetry()
    }
  }

  private handle(f: ServerFrame, since: number) {
    switch (f.type) {
      case 'pong':
        return
      case 'session_ended':
        this.stopped = true
        this.handlers.onSessionEnded?.()
        return
      case 'hello':
        // A good connection: the next failure starts the backoff from the bottom again.
        this.attempt = 0
        this.live = true
        this.setSeq(f.seq)
        this.handlers.onHello?.(f.seq)
        return
      case 'resync':
        this.attempt = 0
        this.setSeq(f.seq, true)
        this.seen.clear()
        this.seenOrder = []
        this.handlers.onResync?.(f.seq)
        return
    }
    if ('seq' in f && typeof f.seq === 'number') {
      if (f.seq <= since || this.seen.has(f.seq)) return
      this.seen.add(f.seq)
      this.seenOrder.push(f.seq)
      if (this.seenOrder.length > SEEN_MAX) {
        const old = this.seenOrder.splice(0, this.seenOrder.length - SEEN_MAX)
        for (const s of old) this.seen.delete(s)
      }
      this.setSeq(f.seq)
    }
    try {
      this.handlers.onFrame(f, this.live)
    } catch (e) {
      console.error('realtime frame handler failed', e)
    }
  }

  private clearPing() {
    if (this.pingTimer) clearInterval(this.pingTimer)
    this.pingTimer = null
  }

  private scheduleRetry() {
    if (this.stopped) return
    const base = Math.min(BACKOFF_MAX, BACKOFF_MIN * 2 ** this.attempt)
    this.attempt = Math.min(this.attempt + 1, 10)
    // Full jitter between half and all of the step, so many tabs do not reconnect in lockstep.
    const delay = Math.round(base / 2 + Math.random() * (base / 2))
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null
      this.connect()
    }, delay)
  }
}
