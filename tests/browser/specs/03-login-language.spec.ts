import { test, expect } from '@playwright/test'
import { ADMIN, baseUrl, ensureLoggedIn, input, shot } from '../lib/helpers'

test('language switch is remembered; sign-out and sign-in with a wrong then right password', async ({ page }) => {
  await ensureLoggedIn(page)

  // Switch to English from the profile menu; it survives a reload (localStorage).
  await page.locator('[data-test="profile-menu"]').click()
  await page.locator('.el-dropdown-menu__item:visible', { hasText: 'English' }).click()
  await expect(page.locator('[data-test="nav-contacts"]')).toContainText('Contacts')
  await page.reload()
  await expect(page.locator('[data-test="nav-contacts"]')).toContainText('Contacts')
  await expect(page.locator('[data-test="nav-admin"]')).toContainText('Admin')
  await page.locator('[data-test="profile-menu"]').click()
  await page.locator('.el-dropdown-menu__item:visible', { hasText: '简体中文' }).click()
  await expect(page.locator('[data-test="nav-contacts"]')).toContainText('通讯录')

  // Sign out, then a wrong password shows the translated invalid_credentials message.
  await page.locator('[data-test="profile-menu"]').click()
  await page.locator('.el-dropdown-menu__item:visible', { hasText: '退出登录' }).click()
  await page.waitForURL(/\/login/)
  await expect(page.locator('[data-test="enterprise-name"]')).not.toBeEmpty()
  await input(page, 'login-input').fill(ADMIN.mobile)
  await input(page, 'password-input').fill('wrong-password-1')
  await page.locator('[data-test="login-submit"]').click()
  await expect(page.locator('[data-test="login-error"]')).toContainText('账号或密码错误')
  await shot(page, 'login')

  await input(page, 'password-input').fill(ADMIN.password)
  await page.locator('[data-test="login-submit"]').click()
  await page.waitForURL(/\/contacts/)
  await expect(page.locator('.ob-rail')).toBeVisible()

  // Coming-soon pages render a tidy empty state.
  await page.locator('[data-test="nav-workbench"]').click()
  await expect(page.getByText('即将上线')).toBeVisible()

  // Profile page lists this session.
  await page.goto(baseUrl() + '/profile')
  await expect(page.locator('[data-test="sessions-table"]')).toContainText('当前设备')
})
