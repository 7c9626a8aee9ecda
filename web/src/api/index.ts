// Typed endpoint functions. One function per endpoint of docs/api.md.
import { http, buildUrl, type Query } from './client'
import type {
  AdminEntry, AdminRole, AuditEntry, BackupFile, BackupSettings, ChatLimits, CustomField, Department, DryRunReport,
  Enterprise, Id, ImportResult, Invite, Me, Member, MemberInput, NoticePublishers, Page, PasswordPolicy, ResetResult,
  SecuritySettings, SessionInfo, SmtpSettings, SystemStatus, Tag, TokenInfo,
} from './types'

export * from './types'
export { ApiError, setCsrfToken, onApiError } from './client'

export const api = {
  // System and setup
  status: () => http.get<SystemStatus>('/system/status', undefined, { silent: true }),
  setup: (body: {
    enterprise_name: string
    time_zone: string
    admin: { userid: string; name: string; password: string; mobile?: string; email?: string }
  }) => http.post<Me>('/setup', body),
  timeZones: () => http.get<string[]>('/time-zones', undefined, { silent: true }),
  logoUrl: (v?: string | number) => buildUrl('/enterprise/logo', v !== undefined ? { v } : undefined),

  // Auth
  login: (login: string, password: string) => http.post<Me>('/auth/login', { login, password }, { silent: true }),
  logout: () => http.post<void>('/auth/logout'),
  me: () => http.get<Me>('/auth/me', undefined, { silent: true }),
  changePassword: (old_password: string, new_password: string) =>
    http.post<void>('/auth/password', { old_password, new_password }, { silent: true }),
  passwordPolicy: () => http.get<PasswordPolicy>('/auth/password-policy', undefined, { silent: true }),
  sessions: () => http.get<{ items: SessionInfo[] }>('/auth/sessions'),
  revokeSession: (id: string) => http.del(`/auth/sessions/${encodeURIComponent(id)}`),
  logoutAll: () => http.post<void>('/auth/logout-all'),
  tokenInfo: (token: string) => http.get<TokenInfo>(`/auth/token/${encodeURIComponent(token)}`, undefined, { silent: true }),
  activate: (token: string, password: string) => http.post<Me>('/auth/activate', { token, password }, { silent: true }),
  forgot: (login: string) => http.post<void>('/auth/forgot', { login }, { silent: true }),
  reset: (token: string, new_password: string) => http.post<void>('/auth/reset', { token, new_password }, { silent: true }),
  updateProfile: (body: { alias?: string; telephone?: string }) => http.patch<Member>('/me/profile', body),
  uploadAvatar: (file: Blob, name?: string) => http.upload<Member>('PUT', '/me/avatar', file, name),

  // Directory
  departments: () => http.get<{ items: Department[] }>('/departments'),
  members: (q: {
    department_id?: Id
    recursive?: boolean
    q?: string
    status?: string
    cursor?: string | null
    limit?: number
  }) => http.get<Page<Member>>('/members', q as Query),
  member: (id: Id) => http.get<Member>(`/members/${id}`),
  avatarUrl: (m: Pick<Member, 'id' | 'updated_at'>) => buildUrl(`/members/${m.id}/avatar`, { v: m.updated_at }),
  tags: () => http.get<{ items: Tag[] }>('/tags'),
  customFields: () => http.get<{ items: CustomField[] }>('/custom-fields'),
  enterprise: () => http.get<Enterprise>('/enterprise'),

  // Admin: enterprise
  adminEnterprise: () => http.get<Enterprise>('/admin/enterprise'),
  updateEnterprise: (body: Pick<Enterprise, 'name' | 'time_zone' | 'legal_name' | 'credit_code' | 'address'>) =>
    http.put<Enterprise>('/admin/enterprise', body),
  uploadLogo: (file: Blob, name?: string) => http.upload<Enterprise>('PUT', '/admin/enterprise/logo', file, name),
  uploadLicence: (file: Blob, name?: string) => http.upload<Enterprise>('PUT', '/admin/enterprise/licence', file, name),
  licenceUrl: (v?: string | number) => buildUrl('/admin/enterprise/licence', v !== undefined ? { v } : undefined),
  verifyEnterprise: (verified: boolean) => http.post<Enterprise>('/admin/enterprise/verify', { verified }),

  // Admin: departments
  createDepartment: (body: { name: string; parent_id: Id; order?: number }) =>
    http.post<Department>('/admin/departments', body),
  updateDepartment: (id: Id, body: { name?: string; parent_id?: Id; order?: number; leader_ids?: Id[] }) =>
    http.patch<Department>(`/admin/departments/${id}`, body),
  deleteDepartment: (id: Id) => http.del(`/admin/departments/${id}`),

  // Admin: members
  createMember: (body: MemberInput) => http.post<{ member: Member; invite: Invite | null }>('/admin/members', body),
  updateMember: (id: Id, body: Partial<MemberInput>) => http.patch<Member>(`/admin/members/${id}`, body),
  disableMember: (id: Id) => http.post<Member>(`/admin/members/${id}/disable`),
  enableMember: (id: Id) => http.post<Member>(`/admin/members/${id}/enable`),
  offboardMember: (id: Id, handover_to: Id) => http.post<Member>(`/admin/members/${id}/offboard`, { handover_to }),
  inviteMember: (id: Id, send_email: boolean) => http.post<Invite>(`/admin/members/${id}/invite`, { send_email }),
  resetMemberPassword: (id: Id, password?: string) =>
    http.post<ResetResult>(`/admin/members/${id}/reset-password`, password ? { password } : {}),
  saveCustomFields: (items: { key: string; label: string }[]) =>
    http.put<{ items: CustomField[] }>('/admin/custom-fields', { items }),

  // Admin: tags
  createTag: (name: string) => http.post<Tag>('/admin/tags', { name }),
  updateTag: (id: Id, body: { name?: string; member_ids?: Id[]; department_ids?: Id[] }) =>
    http.patch<Tag>(`/admin/tags/${id}`, body),
  deleteTag: (id: Id) => http.del(`/admin/tags/${id}`),

  // Admin: import / export
  downloadTemplate: () => http.download('GET', '/admin/import/template', undefined, 'officebox-import-template.xlsx'),
  importDryRun: (file: Blob, name?: string) => http.upload<DryRunReport>('POST', '/admin/import/dry-run', file, name),
  importCommit: (import_id: string) => http.post<ImportResult>('/admin/import/commit', { import_id }),
  exportMembers: (department_id?: Id) =>
    http.download('GET', '/admin/export/members', { department_id }, 'officebox-members.xlsx'),

  // Admin: admins
  admins: () => http.get<{ items: AdminEntry[] }>('/admin/admins'),
  setAdmin: (memberId: Id, role: AdminRole) => http.put<AdminRole>(`/admin/admins/${memberId}`, role),
  removeAdmin: (memberId: Id) => http.del(`/admin/admins/${memberId}`),

  // Admin: security / smtp
  security: () => http.get<SecuritySettings>('/admin/security'),
  saveSecurity: (body: SecuritySettings) => http.put<SecuritySettings>('/admin/security', body),
  smtp: () => http.get<SmtpSettings>('/admin/smtp'),
  saveSmtp: (body: SmtpSettings) => http.put<SmtpSettings>('/admin/smtp', body),
  testSmtp: (to: string) => http.post<void>('/admin/smtp/test', { to }),

  // Admin: messaging
  chatLimits: () => http.get<ChatLimits>('/admin/chat/settings'),
  saveChatLimits: (body: ChatLimits) => http.put<ChatLimits>('/admin/chat/settings', body),
  noticePublishers: () => http.get<NoticePublishers>('/admin/notices/publishers'),
  saveNoticePublishers: (user_ids: Id[]) => http.put<NoticePublishers>('/admin/notices/publishers', { user_ids }),

  // Admin: audit
  audit: (q: { actor_id?: Id; action?: string; from?: number; to?: number; q?: string; cursor?: string | null; limit?: number }) =>
    http.get<Page<AuditEntry>>('/admin/audit', q as Query),
  exportAudit: (q: { actor_id?: Id; action?: string; from?: number; to?: number; q?: string }) =>
    http.download('GET', '/admin/audit/export', q as Query, 'officebox-audit.xlsx'),

  // Admin: backup
  backupNow: () => http.download('POST', '/admin/backup', undefined, 'officebox-backup.zip'),
  backups: () => http.get<{ items: BackupFile[]; settings: BackupSettings }>('/admin/backups'),
  backupUrl: (name: string) => buildUrl(`/admin/backups/${encodeURIComponent(name)}`),
  saveBackupSettings: (body: BackupSettings) => http.put<BackupSettings>('/admin/backup-settings', body),
  restore: (file: Blob, name?: string) => http.upload<{ status: string }>('POST', '/admin/restore', file, name),
}
