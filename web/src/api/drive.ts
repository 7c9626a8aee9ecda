// The drive (微盘) endpoints of docs/drive.md, and the public share-link side.
import { buildUrl, http, type Query } from './client'
import type { Id } from './types'

export type DriveRole = 'preview' | 'viewer' | 'uploader' | 'editor' | 'manager'
export const DRIVE_ROLES: DriveRole[] = ['preview', 'viewer', 'uploader', 'editor', 'manager']
export type OnConflict = 'rename' | 'version'
export type PreviewKind = 'image' | 'pdf' | 'audio' | 'video' | 'text' | 'office'
export type PrincipalKind = 'user' | 'department' | 'tag'

export interface UserRef {
  id: Id
  name: string
}

export interface Space {
  id: Id
  kind: 'personal' | 'team'
  name: string
  owner_id: Id
  root_id: Id
  quota: number | null
  used: number
  role: DriveRole
  created_at: number
}

export interface Grant {
  kind: PrincipalKind
  id: Id
  name: string
  role: DriveRole
}

export interface SpaceDetail extends Space {
  members: Grant[]
}

export interface DriveNode {
  id: Id
  space_id: Id
  parent_id: Id | null
  kind: 'folder' | 'file'
  name: string
  size: number
  mime: string | null
  version: number
  created_by: UserRef
  created_at: number
  updated_by: UserRef
  updated_at: number
  role: DriveRole
  preview: PreviewKind | null
  thumbnail: boolean
  shared: boolean
  /** GET /drive/nodes/{id} and search hits. */
  path?: { id: Id; name: string }[]
  /** Search hits: HTML with <b> only. */
  snippet?: string
}

export interface Activity {
  id: Id
  at: number
  actor: UserRef
  action: string
  node_id: Id
  name: string
  details?: any
}

export interface Version {
  version: number
  size: number
  sha256: string
  by: UserRef
  at: number
  current: boolean
}

export interface BinEntry {
  node: DriveNode
  deleted_at: number
  deleted_by: UserRef | Id
  purge_at: number
}

export interface ShareLink {
  id: Id
  node_id: Id
  /** Only in the creation answer: the token is stored hashed, listings carry null. */
  url: string | null
  has_password: boolean
  expires_at: number | null
  max_downloads: number | null
  downloads: number
  preview_only: boolean
  created_by: UserRef | Id
  created_at: number
  revoked: boolean
}

export interface LinkLogEntry {
  at: number
  ip: string
  action: 'open' | 'preview' | 'download' | 'wrong_password'
  node_id: Id
}

export interface PreviewText {
  kind: string
  text?: string
  /** Office documents may come per sheet (titled) or per slide (platform::extract sections). */
  sections?: { title?: string | null; text: string }[]
  truncated?: boolean
  language?: string
}

export interface DriveUsage {
  user: { used: number; quota: number | null }
  enterprise: { used: number; quota: number | null }
}

export interface DriveSettings {
  max_file_size: number
  versions_kept: number
  bin_days: number
  default_user_quota: number | null
  enterprise_quota: number | null
  team_space_creators: 'everyone' | 'admins'
}

export interface AppPassword {
  id: Id
  name: string
  created_at?: number
  last_used_at?: number | null
  password?: string
}

export type SortKey = 'name' | 'updated' | 'size'

export interface PublicLink {
  /** The shared file or folder. */
  id: Id
  name: string
  kind: 'folder' | 'file'
  size: number
  needs_password: boolean
  preview_only: boolean
  expires_at: number | null
  /** Some servers also send these; the page works without them. */
  node_id?: Id
  mime?: string | null
  preview?: PreviewKind | null
}

const n = (id: Id) => `/drive/nodes/${id}`

export const driveApi = {
  spaces: () => http.get<{ items: Space[] }>('/drive/spaces'),
  createSpace: (name: string, quota?: number | null) => http.post<Space>('/drive/spaces', { name, quota }),
  space: (id: Id) => http.get<SpaceDetail>(`/drive/spaces/${id}`),
  updateSpace: (id: Id, body: { name?: string; quota?: number | null }) => http.patch<Space>(`/drive/spaces/${id}`, body),
  deleteSpace: (id: Id) => http.del(`/drive/spaces/${id}`),
  putMember: (id: Id, g: { kind: PrincipalKind; id: Id; role: DriveRole }) => http.put<unknown>(`/drive/spaces/${id}/members`, g),
  removeMember: (id: Id, kind: PrincipalKind, pid: Id) => http.del(`/drive/spaces/${id}/members/${kind}/${pid}`),
  activity: (id: Id, q: { before?: number | null; limit?: number } = {}) =>
    http.get<{ items: Activity[]; next: number | null }>(`/drive/spaces/${id}/activity`, q as Query),
  usage: () => http.get<DriveUsage>('/drive/usage'),

  node: (id: Id) => http.get<DriveNode>(n(id)),
  children: (id: Id, q: { sort?: SortKey; order?: 'asc' | 'desc'; limit?: number; cursor?: string | null } = {}) =>
    http.get<{ items: DriveNode[]; next_cursor: string | null }>(`${n(id)}/children`, q as Query),
  createFolder: (parent: Id, name: string, on_conflict?: OnConflict) =>
    http.post<DriveNode>(`${n(parent)}/folders`, { name, on_conflict }),
  rename: (id: Id, name: string, on_conflict?: OnConflict) => http.patch<DriveNode>(n(id), { name, on_conflict }),
  move: (id: Id, parent_id: Id, on_conflict?: OnConflict) => http.post<DriveNode>(`${n(id)}/move`, { parent_id, on_conflict }),
  copy: (id: Id, parent_id: Id, on_conflict?: OnConflict) => http.post<DriveNode>(`${n(id)}/copy`, { parent_id, on_conflict }),
  remove: (id: Id) => http.del(n(id)),
  /** Saves the file of a chat message (or of item `index` of a merged record) into `parent`. */
  fromChat: (parent: Id, conversation_id: Id, seq: number, on_conflict?: OnConflict, index?: number) =>
    http.post<DriveNode>(`${n(parent)}/from-chat`, { conversation_id, seq, index, on_conflict }),
  contentUrl: (id: Id, inline = false, version?: number) =>
    buildUrl(`${n(id)}/content`, { disposition: inline ? 'inline' : 'attachment', version }),
  thumbnailUrl: (node: Pick<DriveNode, 'id' | 'version'>) => buildUrl(`${n(node.id)}/thumbnail`, { v: node.version }),
  preview: (id: Id) => http.get<PreviewText>(`${n(id)}/preview`),
  zipUrl: (ids: Id[], name?: string) => buildUrl('/drive/zip', { ids: ids.join(','), name }),
  versions: (id: Id) => http.get<{ items: Version[] }>(`${n(id)}/versions`),
  restoreVersion: (id: Id, v: number) => http.post<DriveNode>(`${n(id)}/versions/${v}/restore`),
  bin: (space: Id) => http.get<{ items: BinEntry[] }>(`/drive/spaces/${space}/bin`),
  restoreFromBin: (node: Id, on_conflict?: OnConflict) => http.post<DriveNode>(`/drive/bin/${node}/restore`, { on_conflict }),
  purge: (node: Id) => http.del(`/drive/bin/${node}`),
  emptyBin: (space: Id) => http.del(`/drive/spaces/${space}/bin`),

  grants: (id: Id) => http.get<{ items: Grant[] }>(`${n(id)}/grants`),
  putGrant: (id: Id, g: { kind: PrincipalKind; id: Id; role: DriveRole }) => http.put<unknown>(`${n(id)}/grants`, g),
  removeGrant: (id: Id, kind: PrincipalKind, pid: Id) => http.del(`${n(id)}/grants/${kind}/${pid}`),
  shared: () => http.get<{ items: DriveNode[] }>('/drive/shared'),
  links: (id: Id) => http.get<{ items: ShareLink[] }>(`${n(id)}/links`),
  createLink: (
    id: Id,
    body: { password?: string; expires_at?: number | null; max_downloads?: number | null; preview_only?: boolean },
  ) => http.post<ShareLink>(`${n(id)}/links`, body),
  revokeLink: (id: Id) => http.del(`/drive/links/${id}`),
  linkLog: (id: Id) => http.get<{ items: LinkLogEntry[] }>(`/drive/links/${id}/log`),

  /** Global search, kind `file`: hits carry the Node, its path and a snippet. */
  search: async (q: string, space_id?: Id, limit = 50): Promise<{ items: DriveNode[] }> => {
    const r = await http.get<{ items: any[] }>('/search', { kinds: 'file', q, space_id, limit })
    const items = r.items
      .filter((h) => h.kind === 'file' || h.node)
      .map((h) => {
        const node: DriveNode = h.node ?? h
        const path = (h.path ?? node.path ?? []).filter((p: { id: Id }) => p.id !== node.id)
        return { ...node, path, snippet: h.snippet ?? node.snippet }
      })
    return { items }
  },

  settings: () => http.get<DriveSettings>('/admin/settings/drive'),
  saveSettings: (s: DriveSettings) => http.put<DriveSettings>('/admin/settings/drive', s),

  appPasswords: () => http.get<{ items: AppPassword[] }>('/me/app-passwords'),
  createAppPassword: (name: string) => http.post<AppPassword>('/me/app-passwords', { name }),
  deleteAppPassword: (id: Id) => http.del(`/me/app-passwords/${id}`),
}

const p = (token: string) => `/public/links/${encodeURIComponent(token)}`

/** The share-link side: no session, a per-link cookie after unlock. */
export const publicApi = {
  link: (token: string) => http.get<PublicLink>(p(token), undefined, { silent: true }),
  unlock: (token: string, password: string) => http.post<void>(`${p(token)}/unlock`, { password }, { silent: true }),
  nodes: (token: string, parent?: Id | null, cursor?: string | null) =>
    http.get<{ items: DriveNode[]; next_cursor?: string | null }>(
      `${p(token)}/nodes`,
      { parent, cursor: cursor || undefined },
      { silent: true },
    ),
  preview: (token: string, id: Id) => http.get<PreviewText>(`${p(token)}/nodes/${id}/preview`, undefined, { silent: true }),
  contentUrl: (token: string, id: Id, inline = false) =>
    buildUrl(`${p(token)}/nodes/${id}/content`, { disposition: inline ? 'inline' : 'attachment' }),
  thumbnailUrl: (token: string, id: Id) => buildUrl(`${p(token)}/nodes/${id}/thumbnail`),
  zipUrl: (token: string, ids: Id[], name?: string) => buildUrl(`${p(token)}/zip`, { ids: ids.join(','), name }),
}
