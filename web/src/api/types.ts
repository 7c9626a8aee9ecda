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
