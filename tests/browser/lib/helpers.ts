import { expect, type Page } from '@playwright/test'
import ExcelJS from 'exceljs'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))
export const SCREENSHOTS = path.resolve(here, '../../../docs/screenshots')

export const ENTERPRISE = '杭州云帆科技有限公司'
export const ADMIN = { userid: 'admin', name: '陈晓明', mobile: '13900000000', email: 'admin@example.com', password: 'Officebox#2025' }

export function baseUrl(): string {
  const u = process.env.OFFICEBOX_BASE_URL
  if (!u) throw new Error('OFFICEBOX_BASE_URL is not set (global setup did not run?)')
  return u
}

export async function shot(page: Page, name: string) {
  fs.mkdirSync(SCREENSHOTS, { recursive: true })
  // Let toasts fade out and transitions and images settle.
  await page.locator('.el-message').first().waitFor({ state: 'detached', timeout: 8000 }).catch(() => {})
  await page.waitForTimeout(400)
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`) })
}

export function input(page: Page, testId: string) {
  // Element Plus puts extra attributes on the native <input> of el-input, but on the wrapper of others.
  return page.locator(`input[data-test="${testId}"], textarea[data-test="${testId}"], [data-test="${testId}"] input`).first()
}

/** Completes the setup wizard through the UI when needed; otherwise signs in. */
export async function ensureLoggedIn(page: Page) {
  const status = await (await page.request.get(baseUrl() + '/api/v1/system/status')).json()
  if (!status.setup_done) {
    const r = await page.request.post(baseUrl() + '/api/v1/setup', {
      headers: { 'X-CSRF-Token': '1' },
      data: { enterprise_name: ENTERPRISE, time_zone: 'Asia/Shanghai', admin: ADMIN },
    })
    expect(r.ok(), await r.text()).toBeTruthy()
  }
  await page.goto(baseUrl() + '/contacts')
  // The SPA decides after it loads: either the app shell or the sign-in form appears.
  const loginForm = page.locator('[data-test="login-submit"]')
  await expect(page.locator('.ob-rail').or(loginForm)).toBeVisible()
  if (await loginForm.isVisible()) {
    await input(page, 'login-input').fill(ADMIN.userid)
    await input(page, 'password-input').fill(ADMIN.password)
    await page.locator('[data-test="login-submit"]').click()
    await page.waitForURL(/\/contacts/)
  }
  await expect(page.locator('.ob-rail')).toBeVisible()
}

export interface ImportRow {
  [header: string]: string | number | Date | undefined
}

/** Writes an .xlsx (sheet 1, header row 1) to a temp file and returns its path. */
export async function makeXlsx(name: string, headers: string[], rows: (string | number | Date | undefined)[][]): Promise<string> {
  const wb = new ExcelJS.Workbook()
  const ws = wb.addWorksheet('成员')
  ws.addRow(headers)
  for (const r of rows) ws.addRow(r)
  ws.columns.forEach((c) => (c.width = 18))
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ob-xlsx-'))
  const file = path.join(dir, name)
  await wb.xlsx.writeFile(file)
  return file
}

export async function uploadImport(page: Page, file: string) {
  await page.goto(baseUrl() + '/admin/import')
  await expect(page.locator('[data-test="import-upload"]')).toBeVisible()
  await page.locator('[data-test="import-upload"] input[type=file]').setInputFiles(file)
  await expect(page.locator('[data-test="import-report"]')).toBeVisible()
}
