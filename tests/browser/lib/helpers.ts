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

/** Calls the HTTP API with the page's session cookie and its CSRF token (for arranging test data). */
export async function api<T = any>(page: Page, method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', apiPath: string, data?: unknown): Promise<{ status: number; body: T }> {
  let headers: Record<string, string> = {}
  if (method !== 'GET') {
    const me = await page.request.get(baseUrl() + '/api/v1/auth/me')
    headers = { 'X-CSRF-Token': me.ok() ? (await me.json()).csrf_token : '1' }
  }
  const r = await page.request.fetch(baseUrl() + '/api/v1' + apiPath, { method, headers, data })
  const text = await r.text()
  return { status: r.status(), body: (text ? JSON.parse(text) : null) as T }
}

/** Returns the id of the department `name` under `parentId` (root when omitted), creating it if needed. */
export async function ensureDept(page: Page, name: string, parentId?: number): Promise<number> {
  const depts: { id: number; parent_id: number; name: string }[] = (await api(page, 'GET', '/departments')).body.items
  const parent = parentId ?? depts.find((d) => d.parent_id === 0)!.id
  const hit = depts.find((d) => d.parent_id === parent && d.name === name)
  if (hit) return hit.id
  const r = await api(page, 'POST', '/admin/departments', { name, parent_id: parent })
  expect(r.status, JSON.stringify(r.body)).toBe(201)
  return r.body.id
}

/** Signs in through the login form (the page must show it). */
export async function signIn(page: Page, login: string, password: string) {
  await input(page, 'login-input').fill(login)
  await input(page, 'password-input').fill(password)
  await page.locator('[data-test="login-submit"]').click()
}
