import { test, expect } from '@playwright/test'
import { ensureLoggedIn, makeXlsx, shot, uploadImport } from '../lib/helpers'

test('an import file with errors shows row/column/reason and cannot be committed', async ({ page }) => {
  await ensureLoggedIn(page)
  const file = await makeXlsx(
    'bad-members.xlsx',
    ['账号', '姓名', '部门', '手机', '邮箱'],
    [
      ['sunba', '孙八', '研发部', '13800000011', ''],
      ['bad id!', '周九', '研发部', '13800000012', ''], // row 3: invalid userid
      ['wushi', '', '市场部', '13800000013', ''], // row 4: name missing
      ['zhengshiyi', '郑十一', '市场部', 'not-a-phone', ''], // row 5: invalid mobile
      ['sunba', '孙八二', '研发部', '13800000015', ''], // row 6: duplicate userid in file
    ],
  )
  await uploadImport(page, file)
  await expect(page.locator('[data-test="import-has-errors"]')).toBeVisible()
  const table = page.locator('[data-test="import-errors-table"]')
  await expect(table).toBeVisible()
  const rows = table.locator('.el-table__body tr')
  expect(await rows.count()).toBeGreaterThanOrEqual(3)
  // Row numbers are Excel rows (header = 1), columns are the file's header texts.
  await expect(table).toContainText('账号')
  await expect(table).toContainText('姓名')
  await expect(table).toContainText('手机')
  for (const row of ['3', '4', '5']) {
    await expect(table.locator('.el-table__body tr td:first-child', { hasText: new RegExp(`^${row}$`) }).first()).toBeVisible()
  }
  await expect(page.locator('[data-test="import-commit"]')).toBeDisabled()
  const count = Number(await page.locator('[data-test="import-error-count"]').textContent())
  expect(count).toBeGreaterThanOrEqual(3)
  await shot(page, 'import-errors')
})
