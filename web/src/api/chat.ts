// Chat endpoints of docs/messaging.md (conversations, messages, favourites).
import { buildUrl, http, xhrUpload, type ProgressFn, type Query, type XhrUpload } from './client'
import type {
  ChatMember, Conversation, ConversationList, ConversationSettings, Favorite, GroupRules, Id,
  JoinRequest, Message, MessagePage, Receipts, SendBody,
} from './types'

const conv = (id: Id) => `/chat/conversations/${id}`

/**
 * The server leaves out empty fields (no `mentions` when there are none, no `quote`/`file`/
 * `link`/`merged`/`recalled` when null). Everything past this layer sees the documented shape.
 */
export function normalizeMessage(m: Message): Message {
  return {
    ...m,
    text: m.text ?? '',
    sender_name: m.sender_name ?? '',
    mentions: m.mentions ?? [],
    at_all: m.at_all ?? false,
    quote: m.quote ?? null,
    file: m.file ?? null,
    link: m.link ?? null,
    merged: m.merged ? { title: m.merged.title ?? '', items: m.merged.items ?? [] } : null,
    forwarded: m.forwarded ?? false,
    recalled: m.recalled ?? null,
  }
}

export function normalizeConversation(c: Conversation): Conversation {
  return {
    ...c,
    avatar: c.avatar ?? null,
    peer: c.peer ?? null,
    department_id: c.department_id ?? null,
    admin_ids: c.admin_ids ?? [],
    muted_member_ids: c.muted_member_ids ?? [],
    notice: c.notice ?? null,
    pinned_message: c.pinned_message ? normalizeMessage(c.pinned_message) : null,
    last_message: c.last_message ? normalizeMessage(c.last_message) : null,
    dissolved: c.dissolved ?? false,
  }
}

const nc = (p: Promise<Conversation>) => p.then(normalizeConversation)
const nm = (p: Promise<Message>) => p.then(normalizeMessage)

export type UploadKind = 'image' | 'file' | 'voice'

export interface ConversationPatch {
  name?: string
  rules?: GroupRules
  /** The group notice text; an empty text removes it. */
  notice?: string
}

export const chatApi = {
  // Conversations
  conversations: (includeHidden = false) =>
    http
      .get<ConversationList>('/chat/conversations', includeHidden ? { include_hidden: 1 } : undefined)
      .then((r) => ({ ...r, items: r.items.map(normalizeConversation) })),
  conversation: (id: Id) => nc(http.get<Conversation>(conv(id))),
  openDirect: (user_id: Id) => nc(http.post<Conversation>('/chat/direct', { user_id })),
  createGroup: (body: { name?: string; member_ids: Id[]; department_id?: Id }) => nc(http.post<Conversation>('/chat/groups', body)),
  /** Answers the conversation (assumed; callers refetch when the answer is not one). */
  update: (id: Id, body: ConversationPatch) => http.patch<unknown>(conv(id), body),
  uploadAvatar: (id: Id, file: Blob, name?: string) => http.upload<unknown>('POST', `${conv(id)}/avatar`, file, name),
  members: (id: Id) => http.get<{ items: ChatMember[] }>(`${conv(id)}/members`),
  invite: (id: Id, user_ids: Id[]) => http.post<{ pending: number; added: number | Id[] }>(`${conv(id)}/members`, { user_ids }),
  removeMember: (id: Id, uid: Id) => http.del(`${conv(id)}/members/${uid}`),
  requests: (id: Id) => http.get<{ items: JoinRequest[] }>(`${conv(id)}/requests`),
  decide: (id: Id, rid: Id, approve: boolean) => http.post<unknown>(`${conv(id)}/requests/${rid}`, { approve }),
  setAdmin: (id: Id, user_id: Id, admin: boolean) => http.post<unknown>(`${conv(id)}/admins`, { user_id, admin }),
  transfer: (id: Id, user_id: Id) => http.post<unknown>(`${conv(id)}/transfer`, { user_id }),
  muteMember: (id: Id, user_id: Id, muted: boolean) => http.post<unknown>(`${conv(id)}/mute`, { user_id, muted }),
  dissolve: (id: Id) => http.post<unknown>(`${conv(id)}/dissolve`),
  settings: (id: Id, body: ConversationSettings) => http.put<unknown>(`${conv(id)}/settings`, body),
  read: (id: Id, seq: number) => http.post<{ read_seq: number }>(`${conv(id)}/read`, { seq }),
  pin: (id: Id, seq: number | null) => http.post<unknown>(`${conv(id)}/pin`, { seq }),

  // Messages
  messages: (id: Id, q: { before?: number; after?: number; around?: number; limit?: number }) =>
    http.get<MessagePage>(`${conv(id)}/messages`, q as Query).then((r) => ({ ...r, items: r.items.map(normalizeMessage) })),
  send: (id: Id, body: SendBody) => nm(http.post<Message>(`${conv(id)}/messages`, body)),
  upload: (id: Id, kind: UploadKind, file: Blob, name: string, onProgress?: ProgressFn, durationMs?: number): XhrUpload<Message> => {
    const up = xhrUpload<Message>(`${conv(id)}/files`, { kind, duration_ms: durationMs }, file, name, onProgress)
    return { promise: nm(up.promise), abort: up.abort }
  },
  recall: (id: Id, seq: number) => http.post<unknown>(`${conv(id)}/messages/${seq}/recall`),
  receipts: (id: Id, seq: number) => http.get<Receipts>(`${conv(id)}/messages/${seq}/receipts`),
  forward: (from: Id, seqs: number[], to: Id[], mode: 'single' | 'merged') =>
    http.post<{ sent: number[] }>('/chat/forward', { from, seqs, to, mode }),

  // Favourites
  favorites: (q: { q?: string; cursor?: string | null; limit?: number }) =>
    http
      .get<{ items: Favorite[]; next_cursor?: string | null }>('/chat/favorites', q as Query)
      .then((r) => ({ ...r, items: r.items.map((f) => ({ ...f, message: normalizeMessage(f.message) })) })),
  addFavorite: (conversation_id: Id, seq: number) => http.post<Favorite>('/chat/favorites', { conversation_id, seq }),
  removeFavorite: (id: Id) => http.del(`/chat/favorites/${id}`),

  // Addresses (for <img>, <audio>, <a download>)
  fileUrl: (id: Id, seq: number, opts: { thumb?: boolean; download?: boolean } = {}) =>
    buildUrl(`${conv(id)}/messages/${seq}/file`, { thumb: opts.thumb ? 1 : undefined, download: opts.download ? 1 : undefined }),
  mergedFileUrl: (id: Id, seq: number, index: number) => buildUrl(`${conv(id)}/messages/${seq}/merged/${index}/file`),
}
