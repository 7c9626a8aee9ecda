import { test, expect } from '@playwright/test'
import { ADMIN, ENTERPRISE, baseUrl, input, makeXlsx, shot } from '../lib/helpers'

// One sequential story on a fresh server: setup → departments → Excel import → directory search → member card.
test.describe.configure({ mode: 'serial' })

test('setup, departments, import, directory', async ({ page, browser }) => {
  const errors: string[] = []
  page.on('pageerror', (e) => errors.push(String(e)))
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) errors.push(m.text())
  })

  // 1. A fresh server sends every route to the setup wizard.
  await page.goto(baseUrl() + '/contacts')
  await page.waitForURL(/\/setup$/)
  await expect(page.locator('[data-test="setup-wizard"]')).toBeVisible()
  await expect(page.getByText('欢迎使用 OfficeBox')).toBeVisible()

  await input(page, 'setup-enterprise-name').fill(ENTERPRISE)
  await expect(page.locator('[data-test="setup-timezone"]')).toContainText('Asia/Shanghai')
  await page.locator('[data-test="setup-next"]').click()

  await input(page, 'setup-userid').fill(ADMIN.userid)
  await input(page, 'setup-name').fill(ADMIN.name)
  await input(page, 'setup-mobile').fill(ADMIN.mobile)
  await input(page, 'setup-email').fill(ADMIN.email)
  await input(page, 'setup-password').fill(ADMIN.password)
  await input(page, 'setup-confirm').fill(ADMIN.password)
  await expect(page.locator('[data-test="password-policy"]')).toBeVisible()
  await shot(page, 'setup')
  await page.locator('[data-test="setup-submit"]').click()

  // Setup logs us in; the optional logo step follows.
  await expect(page.locator('[data-test="setup-skip-logo"]')).toBeVisible()
  await page.locator('[data-test="setup-skip-logo"]').click()
  await page.locator('[data-test="setup-finish"]').click()
  await page.waitForURL(/\/contacts/)
  await expect(page.locator('.ob-rail')).toBeVisible()
  await expect(page.locator('[data-test="nav-admin"]')).toBeVisible()

  // 2. Admin console: create two departments under the root.
  await page.locator('[data-test="nav-admin"]').click()
  await page.waitForURL(/\/admin/)
  await expect(page.locator('[data-test="admin-menu"]')).toBeVisible()
  await page.locator('[data-test="admin-menu-org"]').click()
  await page.waitForURL(/\/admin\/org/)
  for (const name of ['研发部', '市场部']) {
    await page.locator('[data-test="dept-create"]').click()
    await input(page, 'dept-name').fill(name)
    await page.locator('[data-test="dept-save"]').click()
    await expect(page.locator(`[data-test="dept-node-${name}"]`)).toBeVisible()
  }

  // 3. Import members from an Excel file made here.
  const file = await makeXlsx(
    'members.xlsx',
    ['账号', '姓名', '部门', '职务', '手机', '邮箱', '性别', '直属上级', '工号', '入职日期'],
    [
      ['zhangsan', '张三', '研发部/后端组', '后端工程师', '13800000001', 'zhangsan@example.com', '男', 'lisi', 'E1001', '2023-03-01'],
      ['lisi', '李四', '研发部', '研发总监', '13800000002', 'lisi@example.com', '男', '', 'E1002', '2021-07-15'],
      ['wangwu', '王五', '研发部/前端组', '前端工程师', '13800000003', '', '男', 'lisi', 'E1003', '2024-01-08'],
      ['zhaoliu', '赵六', '市场部', '市场经理', '13800000004', 'zhaoliu@example.com', '女', '', 'E1004', '2022-05-20'],
      ['qianqi', '钱七', '市场部/品牌组;研发部', '品牌专员', '13800000005', '', '女', 'zhaoliu', 'E1005', '2024-09-02'],
    ],
  )
  await page.locator('[data-test="admin-menu-import"]').click()
  await page.waitForURL(/\/admin\/import/)
  await page.locator('[data-test="import-upload"] input[type=file]').setInputFiles(file)
  await expect(page.locator('[data-test="import-report"]')).toBeVisible()
  await expect(page.locator('[data-test="import-no-errors"]')).toBeVisible()
  await expect(page.locator('[data-test="import-error-count"]')).toHaveText('0')
  await expect(page.locator('[data-test="import-total"]')).toHaveText('5')
  await expect(page.locator('[data-test="import-creates"]')).toHaveText('5')
  await expect(page.locator('[data-test="import-commit"]')).toBeEnabled()
  await shot(page, 'import-report')
  await page.locator('[data-test="import-commit"]').click()
  await expect(page.locator('[data-test="import-result"]')).toBeVisible()
  await expect(page.locator('[data-test="import-result-text"]')).toContainText('5')

  // Admin console overview with the imported data.
  await page.locator('[data-test="admin-menu-home"]').click()
  await page.waitForURL(/\/admin$/)
  await expect(page.locator('.ob-stat-value').first()).not.toHaveText('—')
  await page.locator('[data-test="admin-menu-org"]').click()
  await expect(page.locator('[data-test="admin-member-table"]')).toContainText('张三')
  await shot(page, 'admin-console')

  // 4. Directory: pinyin search (full and initials) finds 张三.
  await page.locator('[data-test="nav-contacts"]').click()
  await page.waitForURL(/\/contacts/)
  await expect(page.locator('[data-test="member-row"]').first()).toBeVisible()
  await expect(page.locator('[data-test="dept-tree"]')).toContainText('研发部')
  await expect(page.locator('[data-test="dept-tree"]')).toContainText('后端组')
  await shot(page, 'directory')

  const search = input(page, 'contacts-search')
  await search.fill('zhangsan')
  await expect(page.locator('[data-test="member-row"]', { hasText: '张三' })).toBeVisible()
  await search.fill('')
  await search.fill('zs')
  await expect(page.locator('[data-test="member-row"]', { hasText: '张三' })).toBeVisible()

  // 5. Member card with departments, supervisor and fields.
  await page.locator('[data-test="member-row"]', { hasText: '张三' }).first().click()
  const card = page.locator('[data-test="member-card"]')
  await expect(card).toBeVisible()
  await expect(page.locator('[data-test="member-card-name"]')).toHaveText('张三')
  await expect(card).toContainText('zhangsan')
  await expect(card).toContainText('13800000001')
  await expect(card).toContainText('后端组')
  await expect(card).toContainText('李四')
  await shot(page, 'member-card')

  // 6. The same directory on a phone-sized screen (rail becomes a bottom tab bar).
  const phone = await browser.newContext({
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
    locale: 'zh-CN',
    storageState: await page.context().storageState(),
  })
  const mp = await phone.newPage()
  await mp.goto(baseUrl() + '/contacts')
  await expect(mp.locator('[data-test="member-row"]').first()).toBeVisible()
  const rail = await mp.locator('.ob-rail').boundingBox()
  expect(rail && rail.y > 700).toBeTruthy()
  await shot(mp, 'directory-phone')
  await phone.close()

  expect(errors, errors.join('\n')).toEqual([])
})
