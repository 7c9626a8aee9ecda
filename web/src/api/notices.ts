// Announcement endpoints of docs/messaging.md (/notices).
import { buildUrl, http, xhrUpload, type ProgressFn, type XhrUpload } from './client'
import type { Id, Notice, NoticeInput, NoticeStats, NoticeSummary, NoticeUpload } from './types'

export const noticeApi = {
  list: (q: { cursor?: string | null; limit?: number } = {}) =>
    http.get<{ items: NoticeSummary[]; next_cursor: string | null }>('/notices', { cursor: q.cursor, limit: q.limit }),
  /** Full announcement; the server marks it read. */
  get: (id: Id) => http.get<Notice>(`/notices/${id}`),
  confirm: (id: Id) => http.post<unknown>(`/notices/${id}/confirm`),
  create: (body: NoticeInput) => http.post<Notice>('/notices', body),
  update: (id: Id, body: Partial<NoticeInput>) => http.patch<Notice>(`/notices/${id}`, body),
  withdraw: (id: Id) => http.del(`/notices/${id}`),
  upload: (file: Blob, name: string, onProgress?: ProgressFn): XhrUpload<NoticeUpload> =>
    xhrUpload<NoticeUpload>('/notices/uploads', undefined, file, name, onProgress),
  stats: (id: Id) => http.get<NoticeStats>(`/notices/${id}/stats`),
  remind: (id: Id) => http.post<{ reminded: number }>(`/notices/${id}/remind`),
  statsXlsxUrl: (id: Id) => buildUrl(`/notices/${id}/stats.xlsx`),
  /** Announcements I may manage; succeeds only for publishers (403 otherwise). */
  manage: () => http.get<{ items: NoticeSummary[]; next_cursor?: string | null } | NoticeSummary[]>('/notices/manage', undefined, { silent: true }),
}
