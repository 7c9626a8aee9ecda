import { test, expect } from '@playwright/test'
import { api, baseUrl, ensureDept, ensureLoggedIn, input, shot, signIn } from '../lib/helpers'

// A branch admin scoped to 研发部 (permissions members + departments) sees only the org page,
// can add a sub-department inside the scope and cannot touch 市场部.
const BRANCH = { userid: 'rd_admin', name: '周研发', mobile: '13700000001', initial: 'Branch#2025a', password: 'Branch#2025b' }

test('branch admin: menu, sub-department inside the scope, nothing outside', async ({ page, browser }) => {
  const errors: string[] = []

  // Arrange as the super admin through the API.
  await ensureLoggedIn(page)
  const rd = await ensureDept(page, '研发部')
  const mk = await ensureDept(page, '市场部')
  const created = await api(page, 'POST', '/admin/members', {
    userid: BRANCH.userid,
    name: BRANCH.name,
    department_ids: [rd],
    position: '研发经理',
    mobile: BRANCH.mobile,
    initial_password: BRANCH.initial,
  })
  expect(created.status, JSON.stringify(created.body)).toBe(201)
  const memberId = created.body.member.id
  const role = await api(page, 'PUT', `/admin/admins/${memberId}`, { kind: 'branch', department_ids: [rd], permissions: ['members', 'departments'] })
  expect(role.status, JSON.stringify(role.body)).toBe(200)

  // A fresh browser context: sign in as the branch admin, the initial password must be changed first.
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 860 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' })
  const bp = await ctx.newPage()
  bp.on('pageerror', (e) => errors.push(String(e)))
  await bp.goto(baseUrl() + '/login')
  await signIn(bp, BRANCH.userid, BRANCH.initial)
  await bp.waitForURL(/\/change-password/)
  await input(bp, 'old-password').fill(BRANCH.initial)
  await input(bp, 'new-password').fill(BRANCH.password)
  await input(bp, 'confirm-password').fill(BRANCH.password)
  await bp.locator('[data-test="change-password-submit"]').click()
  await bp.waitForURL(/\/contacts/)
  await expect(bp.locator('.ob-rail')).toBeVisible()

  // Admin console: only the overview and 部门与成员.
  await bp.locator('[data-test="nav-admin"]').click()
  await bp.waitForURL(/\/admin/)
  const menu = bp.locator('[data-test="admin-menu"]')
  await expect(menu).toBeVisible()
  await expect(menu).toContainText('部门与成员')
  for (const hidden of ['企业信息', '管理员', '备份与恢复', '安全设置', '邮件服务', '批量导入']) await expect(menu).not.toContainText(hidden)
  await expect(bp.locator('[data-test="admin-menu-enterprise"]')).toHaveCount(0)
  await expect(bp.locator('[data-test="admin-menu-backup"]')).toHaveCount(0)

  // Add a sub-department below 研发部 through the node menu.
  await bp.locator('[data-test="admin-menu-org"]').click()
  await bp.waitForURL(/\/admin\/org/)
  await expect(bp.locator('[data-test="dept-node-研发部"]')).toBeVisible()
  await expect(bp.locator('[data-test="dept-node-市场部"]')).toBeVisible()
  await bp.locator('[data-test="dept-more-研发部"]').click()
  await bp.locator('.el-dropdown-menu__item:visible', { hasText: '添加子部门' }).click()
  await input(bp, 'dept-name').fill('平台组')
  await bp.locator('[data-test="dept-save"]').click()
  await expect(bp.locator('[data-test="dept-node-平台组"]')).toBeVisible()
  const depts: { id: number; parent_id: number; name: string }[] = (await api(bp, 'GET', '/departments')).body.items
  expect(depts.find((d) => d.name === '平台组')?.parent_id).toBe(rd)

  // 市场部 is outside the scope: no actions in the tree, and the API refuses with out_of_scope.
  await expect(bp.locator('[data-test="dept-more-研发部"]')).toHaveCount(1)
  await expect(bp.locator('[data-test="dept-more-市场部"]')).toHaveCount(0)
  const refused = await api(bp, 'PATCH', `/admin/departments/${mk}`, { name: '市场部' })
  expect(refused.status).toBe(403)
  expect(refused.body.code).toBe('out_of_scope')
  const refusedCreate = await api(bp, 'POST', '/admin/departments', { name: '越权组', parent_id: mk })
  expect(refusedCreate.status).toBe(403)
  expect(refusedCreate.body.code).toBe('out_of_scope')
  // And super-only areas answer 403 too.
  expect((await api(bp, 'GET', '/admin/backups')).status).toBe(403)

  await bp.locator('[data-test="dept-node-平台组"]').click()
  await shot(bp, 'branch-admin')
  await ctx.close()
  expect(errors, errors.join('\n')).toEqual([])
})
