import { test, expect } from '@playwright/test'
import { baseUrl, ensureLoggedIn, input, shot } from '../lib/helpers'

test('every admin console page renders and the main forms save', async ({ page }) => {
  const errors: string[] = []
  page.on('pageerror', (e) => errors.push(String(e)))
  await ensureLoggedIn(page)

  const pages: [string, string][] = [
    ['enterprise', '企业信息'],
    ['org', '组织架构'],
    ['tags', '标签'],
    ['import', '批量导入'],
    ['admins', '管理员'],
    ['security', '安全设置'],
    ['smtp', '邮件服务'],
    ['messaging', '消息与公告'],
    ['audit', '操作日志'],
    ['backup', '备份与恢复'],
  ]
  for (const [path, title] of pages) {
    await page.goto(`${baseUrl()}/admin/${path}`)
    await expect(page.locator('.ob-admin-main')).toContainText(title)
    await expect(page.locator(`[data-test="admin-menu-${path}"]`)).toHaveClass(/is-active/)
  }

  // Security settings save (the number inputs must not block the form).
  await page.goto(`${baseUrl()}/admin/security`)
  const saved = page.waitForResponse((r) => r.url().endsWith('/api/v1/admin/security') && r.request().method() === 'PUT')
  await page.getByRole('button', { name: '保存' }).click()
  expect((await saved).ok()).toBeTruthy()

  // Chat limits save; the publishers list shows.
  await page.goto(`${baseUrl()}/admin/messaging`)
  await expect(page.locator('[data-test="chat-settings-form"]')).toBeVisible()
  await expect(page.locator('[data-test="publishers-list"]')).toBeVisible()
  const chatSaved = page.waitForResponse((r) => r.url().endsWith('/api/v1/admin/chat/settings') && r.request().method() === 'PUT')
  await page.locator('[data-test="chat-settings-save"]').click()
  expect((await chatSaved).ok()).toBeTruthy()
  await expect(page.locator('.el-message--success')).toBeVisible()

  // An invalid unified social credit code is shown on its field.
  await page.goto(`${baseUrl()}/admin/enterprise`)
  await input(page, 'ent-credit-code').fill('12345')
  await page.locator('[data-test="ent-save"]').click()
  await expect(page.locator('.el-form-item__error')).toContainText('统一社会信用代码')
  await input(page, 'ent-credit-code').fill('')
  await page.locator('[data-test="ent-save"]').click()
  await expect(page.locator('.el-form-item__error')).toHaveCount(0)
  await expect(page.locator('[data-test="ent-save"]')).not.toHaveClass(/is-loading/)
  await shot(page, 'admin-enterprise')

  // The audit log lists the setup.
  await page.goto(`${baseUrl()}/admin/audit`)
  await expect(page.locator('[data-test="audit-table"]')).toContainText('完成初始化')

  expect(errors, errors.join('\n')).toEqual([])
})
