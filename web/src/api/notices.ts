// Announcement endpoints of docs/messaging.md (/notices).
import { buildUrl, http, xhrUpload, type ProgressFn, type XhrUpload } from './client'
import type { Id, Notice, NoticeInput, NoticeManagePage, NoticeStats, NoticeSummary, NoticeUpload } from './types'

export const noticeApi = {
  list: (q: { cursor?: string | null; limit?: number } = {}) =>
    http.get<{ items: NoticeSummary[]; next_cursor: string | null; unread?: number }>('/notices', { cursor: q.cursor, limit: q.limit }),
  /** Full announcement; the server marks it read. */
  get: (id: Id) => http.get<Notice>(`/notices/${id}`),
  confirm: (id: Id) => http.post<NoticeSummary>(`/notices/${id}/confirm`),
  create: (body: NoticeInput) => http.post<Notice>('/notices', body),
  /** Before publication only; `null` clears cover_sha / publish_at / expire_at. */
  update: (id: Id, body: Partial<NoticeInput>) => http.patch<Notice>(`/notices/${id}`, body),
  withdraw: (id: Id) => http.del(`/notices/${id}`),
  upload: (file: Blob, name: string, onProgress?: ProgressFn): XhrUpload<NoticeUpload> =>
    xhrUpload<NoticeUpload>('/notices/uploads', undefined, file, name, onProgress),
  stats: (id: Id) => http.get<NoticeStats>(`/notices/${id}/stats`),
  remind: (id: Id) => http.post<{ reminded: number }>(`/notices/${id}/remind`),
  statsXlsxUrl: (id: Id) => buildUrl(`/notices/${id}/stats.xlsx`),
  /** Announcements I manage, newest first, and whether I may publish. */
  manage: (q: { cursor?: string | null; limit?: number } = {}) =>
    http.get<NoticeManagePage>('/notices/manage', { cursor: q.cursor, limit: q.limit }, { silent: true }),
  /** My own pending upload (editor preview and inline images). */
  uploadUrl: (sha: string) => buildUrl(`/notices/uploads/${encodeURIComponent(sha)}`),
}
