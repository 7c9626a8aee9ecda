// Types mirroring docs/api.md (HTTP API v1). Times are UTC milliseconds.

export type Id = number

export interface SystemStatus {
  setup_done: boolean
  enterprise_name: string
  has_logo: boolean
  version: string
  time_zone: string
}

export type MemberStatus = 'active' | 'disabled' | 'inactive' | 'left'

export interface Member {
  id: Id
  userid: string
  name: string
  alias: string
  position: string
  mobile: string
  email: string
  gender: 0 | 1 | 2
  telephone: string
  has_avatar: boolean
  status: MemberStatus
  department_ids: Id[]
  main_department_id: Id
  leader_of: Id[]
  supervisor_ids: Id[]
  employee_no: string
  hire_date: string | null
  custom: Record<string, string>
  tag_ids: Id[]
  handover_to: Id | null
  created_at: number
  updated_at: number
}

export type Permission = 'members' | 'departments' | 'tags' | 'import' | 'apps' | 'audit'
export const ALL_PERMISSIONS: Permission[] = ['members', 'departments', 'tags', 'import', 'apps', 'audit']

export interface AdminRole {
  kind: 'super' | 'branch'
  department_ids: Id[]
  permissions: Permission[]
}

export interface Me {
  user: Member
  csrf_token: string
  must_change_password: boolean
  admin: AdminRole | null
  enterprise: { name: string; time_zone: string; has_logo: boolean; verified: boolean }
}

export interface PasswordPolicy {
  min_length: number
  require_upper: boolean
  require_lower: boolean
  require_digit: boolean
  require_symbol: boolean
}

export interface SessionInfo {
  id: string
  created_at: number
  last_seen_at: number
  expires_at: number
  ip: string
  user_agent: string
  current: boolean
}

export interface TokenInfo {
  kind: 'invite' | 'reset'
  name: string
  userid: string
}

export interface Department {
  id: Id
  parent_id: Id
  name: string
  order: number
  leader_ids: Id[]
  /** Members directly in this department. */
  member_count: number
  /** Distinct members in this department and everything below it. */
  total_count: number
}

export interface Tag {
  id: Id
  name: string
  member_ids: Id[]
  department_ids: Id[]
}

export interface CustomField {
  key: string
  label: string
  kind?: 'text'
}

export interface Enterprise {
  name: string
  time_zone: string
  legal_name: string
  credit_code: string
  address: string
  verified: boolean
  has_logo: boolean
  has_licence: boolean
}

export interface Page<T> {
  items: T[]
  next_cursor: string | null
}

export interface Invite {
  link: string
  qr_svg: string
  expires_at: number
  emailed: boolean
  /** Set when sending the mail failed (the invite itself was still created). */
  mail_error?: string
}

export interface ResetResult {
  link?: string
  qr_svg?: string
  emailed: boolean
  mail_error?: string
}

export interface MemberInput {
  userid: string
  name: string
  alias: string
  position: string
  mobile: string
  email: string
  gender: 0 | 1 | 2
  telephone: string
  department_ids: Id[]
  main_department_id?: Id
  supervisor_ids: Id[]
  leader_of: Id[]
  employee_no: string
  hire_date: string | null
  custom: Record<string, string>
  initial_password?: string
  send_invite?: boolean
}

export interface ImportError {
  row: number
  column: string
  code: string
  reason: string
}

export interface DryRunReport {
  import_id: string
  total_rows: number
  creates: number
  updates: number
  new_departments: string[]
  errors: ImportError[]
}

export interface ImportResult {
  creates: number
  updates: number
  new_departments: string[] | number
}

export interface AdminEntry {
  member: Member
  role: AdminRole
}

export interface SecuritySettings {
  password: PasswordPolicy
  session_idle_minutes: number
  session_absolute_hours: number
}

/** Admin-set chat limits (GET/PUT /admin/chat/settings). */
export interface ChatLimits {
  max_group_members: number
  max_text_chars: number
  max_attachment_mb: number
  recall_window_minutes: number
}

/** Members granted the right to publish announcements (GET/PUT /admin/notices/publishers). */
export interface NoticePublishers {
  user_ids: Id[]
  members: { user_id: Id; name: string; department: string }[]
}

export interface SmtpSettings {
  enabled: boolean
  host: string
  port: number
  security: 'none' | 'starttls' | 'tls'
  username: string
  password?: string
  has_password?: boolean
  from_address: string
  from_name: string
}

export interface AuditEntry {
  id: Id
  at: number
  actor_id: Id | null
  actor_name: string
  action: string
  target: string
  ip: string
  details: unknown
}

export interface BackupFile {
  name: string
  size: number
  created_at: number
}

export interface BackupSettings {
  daily_enabled: boolean
  hour: number
  keep: number
}

// ---- Messaging (docs/messaging.md) ----

export type ConversationKind = 'direct' | 'group'
export type ConvRole = 'owner' | 'admin' | 'member'
export type Who = 'anyone' | 'admins'
export type MessageKind = 'text' | 'image' | 'file' | 'voice' | 'link' | 'merged' | 'system'

export interface GroupRules {
  invite: Who
  approval: boolean
  at_all: Who
  mute_all: boolean
  history_visible: boolean
}

export interface GroupNotice {
  text: string
  by: Id
  at: number
}

export interface ConversationMe {
  role: ConvRole
  pinned: boolean
  muted: boolean
  hidden: boolean
  marked_unread: boolean
  read_seq: number
  /** Capped at 100 by the server (shown as "99+"). */
  unread: number
  /** An unread message @-mentions me or @all. */
  mentioned: boolean
}

export interface PeerRef {
  id: Id
  name: string
  avatar: string | null
}

export interface Conversation {
  id: Id
  kind: ConversationKind
  name: string
  avatar: string | null
  peer: PeerRef | null
  department_id: Id | null
  owner_id: Id
  admin_ids: Id[]
  member_count: number
  rules: GroupRules
  muted_member_ids: Id[]
  notice: GroupNotice | null
  pinned_message: Message | null
  last_message: Message | null
  last_seq: number
  dissolved: boolean
  me: ConversationMe
}

export interface MessageFile {
  name: string
  size: number
  mime: string
  width?: number | null
  height?: number | null
  duration_ms?: number | null
}

export interface MessageLink {
  url: string
  title: string
  description?: string | null
}

export interface MessageQuote {
  seq: number
  sender_name: string
  preview: string
}

export interface MergedItem {
  sender_name: string
  at: number
  kind: MessageKind
  text: string
  file?: MessageFile | null
}

export interface MergedBundle {
  title: string
  items: MergedItem[]
}

export interface RecallInfo {
  by: Id
  by_name: string
  at: number
}

export interface Message {
  seq: number
  conversation_id: Id
  sender_id: Id
  sender_name: string
  at: number
  kind: MessageKind
  text: string
  mentions: Id[]
  at_all: boolean
  quote: MessageQuote | null
  file: MessageFile | null
  link: MessageLink | null
  merged: MergedBundle | null
  forwarded: boolean
  recalled: RecallInfo | null
  /** Only on the caller's own messages: groups = members who have not read it; direct 0 = read. */
  unread_count?: number
  /** The sender's idempotency key (given back to the sender's devices). */
  client_id?: string
}

export interface MessagePage {
  items: Message[]
  has_more_before: boolean
  has_more_after: boolean
}

export interface ConversationList {
  items: Conversation[]
  seq: number
}

export interface ChatMember {
  user_id: Id
  name: string
  role: ConvRole
  joined_at: number
  muted: boolean
}

export interface JoinRequest {
  id: Id
  user_id: Id
  name: string
  inviter_id: Id
  inviter_name: string
  at: number
}

export interface UserRef {
  user_id: Id
  name: string
}

export interface Receipts {
  read: UserRef[]
  unread: UserRef[]
}

export interface Favorite {
  id: Id
  at: number
  conversation_id: Id
  conversation_name: string
  message: Message
}

export interface ConversationSettings {
  pinned?: boolean
  muted?: boolean
  hidden?: boolean
  marked_unread?: boolean
}

export type SendBody =
  | { kind: 'text'; text: string; mentions: Id[]; at_all: boolean; quote_seq?: number; client_id?: string }
  | { kind: 'link'; link: { url: string; title: string; description?: string }; quote_seq?: number; client_id?: string }
  /** A snapshot of a drive file (docs/drive.md "Sharing", Chat). */
  | { kind: 'file'; drive_node_id: Id; client_id?: string }

// ---- Announcements ----

export interface NoticeSummary {
  id: Id
  title: string
  excerpt: string
  /** URL of the cover (`/api/v1/notices/{id}/files/{sha}`) or null. */
  cover: string | null
  publisher_name: string
  /** null while scheduled (only managers see those). */
  published_at: number | null
  pinned: boolean
  read: boolean
  confirmed: boolean
  require_confirm: boolean
  expire_at: number | null
}

export interface NoticeUpload {
  sha: string
  name: string
  size: number
  mime: string
  /** PNG, JPEG, GIF or WebP (usable as cover or inline image). */
  image?: boolean
}

export interface NoticeAttachment {
  sha: string
  name: string
  size: number
  mime: string
  url: string
}

export interface NoticeAudience {
  all: boolean
  department_ids: Id[]
  tag_ids: Id[]
  user_ids: Id[]
}

/** What only the publisher (or a super admin) sees. */
export interface NoticeManageInfo {
  status: 'scheduled' | 'published'
  publisher_id: Id
  audience: NoticeAudience
  publish_at: number | null
  total: number
  read_count: number
  confirmed_count: number
  reminded_at: number | null
  created_at: number
}

/** GET /notices/{id}. */
export interface Notice extends NoticeSummary {
  /** Sanitised by the server (ammonia); the only HTML rendered with v-html besides search snippets. */
  html: string
  attachments: NoticeAttachment[]
  read_at: number | null
  confirmed_at: number | null
  manage?: NoticeManageInfo
}

/** A row of GET /notices/manage: the summary and the manage info flattened into one object. */
export type NoticeManageItem = NoticeSummary & NoticeManageInfo

export interface NoticeManagePage {
  items: NoticeManageItem[]
  next_cursor: string | null
  can_publish: boolean
}

export interface NoticeInput {
  title: string
  html: string
  cover_sha?: string | null
  attachments?: { sha: string; name?: string }[]
  audience: NoticeAudience
  require_confirm: boolean
  publish_at?: number | null
  expire_at?: number | null
  pinned: boolean
}

export interface NoticeUserRef extends UserRef {
  /** Main department. */
  department?: string
}

export interface NoticeStats {
  total: number
  read: number
  unread: number
  confirmed: number
  read_users: NoticeUserRef[]
  unread_users: NoticeUserRef[]
  confirmed_users: NoticeUserRef[]
}

// ---- Search ----

export type SearchKind = 'person' | 'group' | 'message' | 'notice'

export interface SearchHit {
  kind: SearchKind
  key?: string
  id: Id
  /** Unified search: the title; people search answers `name` instead. */
  title?: string
  name?: string
  position?: string
  department_ids?: Id[]
  /** HTML with <b>…</b> only, everything else escaped by the server. */
  snippet: string
  at?: number
  conversation_id?: Id
  seq?: number
}

// ---- Realtime frames (server → client) ----

export interface NoticeFrame {
  type: 'notice'
  seq: number
  notice: NoticeSummary
  /** A reminder (to unread recipients only) rather than the first delivery. */
  reminder?: boolean
}

export type ServerFrame =
  | { type: 'hello'; seq: number }
  | { type: 'resync'; seq: number }
  | { type: 'pong' }
  | { type: 'session_ended' }
  | { type: 'message'; seq: number; conversation_id: Id; message: Message }
  | { type: 'recall'; seq: number; conversation_id: Id; message_seq: number; by: Id; by_name: string }
  | { type: 'read'; seq: number; conversation_id: Id; user_id: Id; read_seq: number }
  | { type: 'conversation'; seq: number; conversation_id: Id }
  | { type: 'conversation_removed'; seq: number; conversation_id: Id }
  | { type: 'members'; seq: number; conversation_id: Id }
  | { type: 'join_requests'; seq: number; conversation_id: Id }
  | NoticeFrame
  | { type: 'notice_removed'; seq: number; notice_id: Id }
  | { type: 'typing'; conversation_id: Id; user_id: Id }
  | { type: 'presence'; user_id: Id; online: boolean }
  | { type: 'drive.shared'; seq: number; node_id: Id; name: string }

export type ClientFrame =
  | { type: 'typing'; conversation_id: Id }
  | { type: 'watch_presence'; user_ids: Id[] }
  | { type: 'ping' }
