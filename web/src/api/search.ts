// Global search (docs/messaging.md "Search"; people also answered by the older kind=person form).
import { http, type Query } from './client'
import type { Id, SearchHit, SearchKind } from './types'

export interface SearchQuery {
  q: string
  kinds?: SearchKind[]
  conversation_id?: Id
  sender_id?: Id
  from?: number
  to?: number
  type?: 'file' | 'image' | 'link'
  limit?: number
}

export const searchApi = {
  search: (q: SearchQuery) => {
    const query: Query = {
      q: q.q,
      kinds: q.kinds?.join(','),
      conversation_id: q.conversation_id,
      sender_id: q.sender_id,
      from: q.from,
      to: q.to,
      type: q.type,
      limit: q.limit,
    }
    return http.get<{ items: SearchHit[] }>('/search', query)
  },
  /** The people-only search that exists today (kind=person). */
  people: (q: string, limit = 20) => http.get<{ items: SearchHit[] }>('/search', { q, kind: 'person', limit }),
}
