import { test, expect, type Page } from '@playwright/test'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { ADMIN, api, baseUrl, ensureLoggedIn, input, makeXlsx, shot, signIn } from '../lib/helpers'

// 10,000 members through the import wizard, then a backup download and a restore of that very file.
// The server under test is a debug build: every slow step gets a generous timeout.
const STEP = 60_000
const N = 10_000
const SURNAMES = '王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤'
const GIVEN = '伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉建文斌宇浩凯健俊帆然欣怡雪琳晨阳'
const DEPTS = [
  '总部', '总部/行政部', '总部/财务部', '总部/人力资源部', '总部/法务部',
  '总部/研发部', '总部/研发部/后端组', '总部/研发部/前端组', '总部/研发部/测试组', '总部/研发部/运维组', '总部/研发部/移动端组',
  '总部/产品部', '总部/产品部/设计组',
  '总部/销售部', '总部/销售部/华东区', '总部/销售部/华南区', '总部/销售部/华北区',
  '总部/客服部', '总部/市场部/品牌组', '总部/市场部/渠道组',
]
// One member with a name no generated member can have, found later by pinyin.
const PROBE = { row: 5000, userid: 'u05000', name: '诸葛明远', pinyin: 'zhugemingyuan' }

function pad(i: number) {
  return String(i).padStart(5, '0')
}

async function buildFile(): Promise<string> {
  const rows: (string | number)[][] = []
  for (let i = 1; i <= N; i++) {
    const name =
      i === PROBE.row
        ? PROBE.name
        : SURNAMES[i % SURNAMES.length] + GIVEN[Math.floor(i / SURNAMES.length) % GIVEN.length] + (i % 3 === 0 ? GIVEN[(i * 7) % GIVEN.length] : '')
    // Mobiles start at 13810000001 so they cannot collide with those of the earlier specs (138000000xx).
    rows.push([`u${pad(i)}`, name, DEPTS[i % DEPTS.length], String(13810000000 + i), i % 2 ? '男' : '女', `E${pad(i)}`])
  }
  return makeXlsx('members-10k.xlsx', ['账号', '姓名', '部门', '手机', '性别', '工号'], rows)
}

async function findInDirectory(page: Page) {
  await page.goto(baseUrl() + '/contacts')
  await expect(page.locator('[data-test="member-row"]').first()).toBeVisible({ timeout: STEP })
  await input(page, 'contacts-search').fill(PROBE.pinyin)
  await expect(page.locator('[data-test="member-row"]', { hasText: PROBE.name })).toBeVisible({ timeout: STEP })
}

test('import 10,000 members, download a backup and restore it', async ({ page }) => {
  test.setTimeout(300_000)
  await ensureLoggedIn(page)
  const file = await buildFile()

  // 1. Import wizard: dry run without errors, commit, result.
  await page.goto(baseUrl() + '/admin/import')
  await expect(page.locator('[data-test="import-upload"]')).toBeVisible()
  await page.locator('[data-test="import-upload"] input[type=file]').setInputFiles(file)
  await expect(page.locator('[data-test="import-report"]')).toBeVisible({ timeout: STEP })
  await expect(page.locator('[data-test="import-total"]')).toHaveText(String(N))
  await expect(page.locator('[data-test="import-creates"]')).toHaveText(String(N))
  await expect(page.locator('[data-test="import-error-count"]')).toHaveText('0')
  await expect(page.locator('[data-test="import-no-errors"]')).toBeVisible()
  await expect(page.locator('[data-test="import-commit"]')).toBeEnabled()
  await page.locator('[data-test="import-commit"]').click()
  await expect(page.locator('[data-test="import-result"]')).toBeVisible({ timeout: STEP })
  await expect(page.locator('[data-test="import-result-text"]')).toContainText(`新增 ${N} 人`)
  await shot(page, 'import-10k')

  // 2. The directory finds an imported member by pinyin.
  await findInDirectory(page)
  const probe = await api(page, 'GET', `/members?q=${PROBE.userid}`)
  expect(probe.body.items.map((m: any) => m.userid)).toContain(PROBE.userid)

  // 3. Backup: the button hands the browser a .zip download.
  await page.goto(baseUrl() + '/admin/backup')
  await expect(page.locator('[data-test="backup-now"]')).toBeVisible()
  const downloading = page.waitForEvent('download', { timeout: STEP })
  await page.locator('[data-test="backup-now"]').click()
  const download = await downloading
  expect(download.suggestedFilename()).toMatch(/^officebox-\d{8}-\d{6}\.zip$/)
  const zip = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ob-backup-')), download.suggestedFilename())
  await download.saveAs(zip)
  const bytes = fs.readFileSync(zip)
  expect(bytes.subarray(0, 2).toString('latin1')).toBe('PK')
  expect(bytes.length).toBeGreaterThan(10_000)

  // 4. Restore that same file: confirm with the enterprise name, the server restarts in-process.
  const enterprise = (await (await page.request.get(baseUrl() + '/api/v1/system/status')).json()).enterprise_name
  await page.locator('[data-test="restore-input"]').setInputFiles(zip)
  const confirm = page.locator('[data-test="restore-confirm"]')
  await expect(confirm).toBeVisible()
  await expect(confirm).toBeDisabled()
  await input(page, 'restore-confirm-text').fill(enterprise)
  await expect(confirm).toBeEnabled()
  const restored = page.waitForResponse((r) => r.url().endsWith('/api/v1/admin/restore'), { timeout: STEP })
  await confirm.click()
  expect((await restored).status()).toBe(202)
  await expect(page.getByText('服务正在重启')).toBeVisible()

  // The server comes back; the page sends us to the sign-in form (the restore ended all sessions).
  await expect
    .poll(async () => (await page.request.get(baseUrl() + '/healthz').catch(() => null))?.status() ?? 0, { timeout: STEP, intervals: [500] })
    .toBe(200)
  await page.waitForURL(/\/login/, { timeout: STEP })
  expect((await page.request.get(baseUrl() + '/api/v1/auth/me')).status()).toBe(401)
  await signIn(page, ADMIN.userid, ADMIN.password)
  await page.waitForURL(/\/contacts/)

  // 5. The data is still there.
  await findInDirectory(page)
  const after = await api(page, 'GET', `/members?q=${PROBE.userid}`)
  expect(after.body.items.map((m: any) => m.userid)).toContain(PROBE.userid)
  const root = (await api(page, 'GET', '/departments')).body.items.find((d: any) => d.parent_id === 0)
  expect(root.total_count).toBeGreaterThanOrEqual(N)
})
