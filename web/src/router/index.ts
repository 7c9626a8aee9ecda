import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router'
import { useSessionStore } from '@/stores/session'
import type { Permission } from '@/api/types'

declare module 'vue-router' {
  interface RouteMeta {
    /** Reachable without a session. */
    public?: boolean
    /** Page of the setup flow. */
    setup?: boolean
    /** Admin page: any of these permissions (or 'super'). */
    perms?: (Permission | 'super')[]
    title?: string
  }
}

export const adminPages: { name: string; path: string; title: string; icon: string; perms: (Permission | 'super')[] }[] = [
  { name: 'admin-enterprise', path: 'enterprise', title: 'admin.menu.enterprise', icon: 'OfficeBuilding', perms: ['super'] },
  { name: 'admin-org', path: 'org', title: 'admin.menu.org', icon: 'User', perms: ['members', 'departments'] },
  { name: 'admin-tags', path: 'tags', title: 'admin.menu.tags', icon: 'PriceTag', perms: ['tags'] },
  { name: 'admin-import', path: 'import', title: 'admin.menu.import', icon: 'Upload', perms: ['import'] },
  { name: 'admin-admins', path: 'admins', title: 'admin.menu.admins', icon: 'Avatar', perms: ['super'] },
  { name: 'admin-security', path: 'security', title: 'admin.menu.security', icon: 'Lock', perms: ['super'] },
  { name: 'admin-smtp', path: 'smtp', title: 'admin.menu.smtp', icon: 'Message', perms: ['super'] },
  { name: 'admin-messaging', path: 'messaging', title: 'admin.menu.messaging', icon: 'ChatDotRound', perms: ['super'] },
  { name: 'admin-audit', path: 'audit', title: 'admin.menu.audit', icon: 'Document', perms: ['audit'] },
  { name: 'admin-drive', path: 'drive', title: 'admin.menu.drive', icon: 'Folder', perms: ['super'] },
  { name: 'admin-backup', path: 'backup', title: 'admin.menu.backup', icon: 'Box', perms: ['super'] },
]

const adminComponents: Record<string, () => Promise<any>> = {
  'admin-enterprise': () => import('@/pages/admin/EnterprisePage.vue'),
  'admin-org': () => import('@/pages/admin/OrgPage.vue'),
  'admin-tags': () => import('@/pages/admin/TagsPage.vue'),
  'admin-import': () => import('@/pages/admin/ImportPage.vue'),
  'admin-admins': () => import('@/pages/admin/AdminsPage.vue'),
  'admin-security': () => import('@/pages/admin/SecurityPage.vue'),
  'admin-smtp': () => import('@/pages/admin/SmtpPage.vue'),
  'admin-messaging': () => import('@/pages/admin/MessagingPage.vue'),
  'admin-audit': () => import('@/pages/admin/AuditPage.vue'),
  'admin-drive': () => import('@/pages/admin/DriveSettingsPage.vue'),
  'admin-backup': () => import('@/pages/admin/BackupPage.vue'),
}

const routes: RouteRecordRaw[] = [
  { path: '/setup', name: 'setup', component: () => import('@/pages/setup/SetupWizard.vue'), meta: { public: true, setup: true } },
  { path: '/login', name: 'login', component: () => import('@/pages/auth/LoginPage.vue'), meta: { public: true } },
  { path: '/activate/:token', name: 'activate', component: () => import('@/pages/auth/TokenPage.vue'), meta: { public: true } },
  { path: '/reset/:token', name: 'reset', component: () => import('@/pages/auth/TokenPage.vue'), meta: { public: true } },
  { path: '/s/:token', name: 'share', component: () => import('@/pages/drive/SharePage.vue'), meta: { public: true } },
  { path: '/change-password', name: 'change-password', component: () => import('@/pages/auth/ForcedPasswordPage.vue') },
  {
    path: '/',
    component: () => import('@/components/AppLayout.vue'),
    children: [
      { path: '', redirect: { name: 'contacts' } },
      { path: 'messages', name: 'messages', redirect: { name: 'chat' } },
      { path: 'chat', name: 'chat', component: () => import('@/pages/chat/ChatPage.vue') },
      { path: 'chat/:id(\\d+)', name: 'chat-conversation', component: () => import('@/pages/chat/ChatPage.vue') },
      { path: 'favorites', name: 'favorites', component: () => import('@/pages/chat/FavoritesPage.vue') },
      { path: 'notices', name: 'notices', component: () => import('@/pages/notices/NoticesPage.vue') },
      { path: 'notices/new', name: 'notice-new', component: () => import('@/pages/notices/NoticeEditor.vue') },
      { path: 'notices/:id(\\d+)', name: 'notice-detail', component: () => import('@/pages/notices/NoticesPage.vue') },
      { path: 'notices/:id(\\d+)/edit', name: 'notice-edit', component: () => import('@/pages/notices/NoticeEditor.vue') },
      { path: 'notices/:id(\\d+)/stats', name: 'notice-stats', component: () => import('@/pages/notices/NoticeStatsPage.vue') },
      { path: 'search', name: 'search', component: () => import('@/pages/search/SearchPage.vue') },
      { path: 'contacts', name: 'contacts', component: () => import('@/pages/contacts/ContactsPage.vue') },
      { path: 'workbench', name: 'workbench', component: () => import('@/pages/placeholder/ComingSoonPage.vue'), props: { feature: 'workbench' } },
      { path: 'drive', name: 'drive', component: () => import('@/pages/drive/DrivePage.vue') },
      { path: 'drive/f/:id(\\d+)', name: 'drive-folder', component: () => import('@/pages/drive/DrivePage.vue') },
      { path: 'drive/shared', name: 'drive-shared', component: () => import('@/pages/drive/DrivePage.vue') },
      { path: 'drive/bin/:space(\\d+)', name: 'drive-bin', component: () => import('@/pages/drive/DrivePage.vue') },
      { path: 'calendar', name: 'calendar', component: () => import('@/pages/placeholder/ComingSoonPage.vue'), props: { feature: 'calendar' } },
      { path: 'profile', name: 'profile', component: () => import('@/pages/profile/ProfilePage.vue') },
      {
        path: 'admin',
        component: () => import('@/pages/admin/AdminLayout.vue'),
        children: [
          { path: '', name: 'admin', component: () => import('@/pages/admin/AdminHome.vue') },
          ...adminPages.map((p) => ({
            path: p.path,
            name: p.name,
            component: adminComponents[p.name],
            meta: { perms: p.perms, title: p.title },
          })),
        ],
      },
    ],
  },
  { path: '/:pathMatch(.*)*', name: 'not-found', component: () => import('@/pages/placeholder/NotFoundPage.vue'), meta: { public: true } },
]

export const router = createRouter({
  history: createWebHistory('/'),
  routes,
  scrollBehavior: () => ({ top: 0 }),
})

router.beforeEach(async (to) => {
  const session = useSessionStore()
  let status
  try {
    status = await session.loadStatus()
  } catch {
    // Server unreachable: let the page render; it will show errors itself.
    return true
  }
  if (!status.setup_done) {
    return to.name === 'setup' ? true : { name: 'setup' }
  }
  if (to.name === 'setup') {
    // Finishing steps of the wizard run after setup (logo upload); allow while logged in.
    if (to.query.step) return true
    return { name: 'contacts' }
  }
  if (to.meta.public) {
    if (to.name === 'login') {
      const me = await session.loadMe().catch(() => null)
      if (me) return me.must_change_password ? { name: 'change-password' } : (safeRedirect(to.query.redirect) ?? { name: 'contacts' })
    }
    return true
  }
  const me = await session.loadMe().catch(() => null)
  if (!me) return { name: 'login', query: to.fullPath !== '/' ? { redirect: to.fullPath } : {} }
  if (me.must_change_password && to.name !== 'change-password') return { name: 'change-password' }
  if (!me.must_change_password && to.name === 'change-password') return { name: 'contacts' }
  if (to.path.startsWith('/admin')) {
    if (!me.admin) return { name: 'contacts' }
    const perms = to.meta.perms
    if (perms && !perms.some((p) => session.can(p))) return { name: 'admin' }
  }
  return true
})

export function safeRedirect(v: unknown): string | null {
  if (typeof v !== 'string') return null
  if (!v.startsWith('/') || v.startsWith('//')) return null
  return v
}
