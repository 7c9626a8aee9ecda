import { expect, test, type Browser, type Page } from '@playwright/test'
import { api, baseUrl, ensureLoggedIn, shot } from '../lib/helpers'

// Two people in two browser contexts: a message arrives live, the receipt flips to 已读, a
// recall disappears on the other side, and an announcement arrives and its read list updates.

const PASSWORD = 'Chat-Pass-2025'

async function member(admin: Page, userid: string, name: string, dept: number): Promise<number> {
  const existing = await api(admin, 'GET', `/members?q=${encodeURIComponent(userid)}`)
  const hit = (existing.body.items as { id: number; userid: string }[]).find((m) => m.userid === userid)
  if (hit) return hit.id
  const r = await api(admin, 'POST', '/admin/members', {
    userid,
    name,
    department_ids: [dept],
    main_department_id: dept,
    mobile: `137${String(Date.now()).slice(-8)}`,
    initial_password: PASSWORD,
  })
  expect(r.status, JSON.stringify(r.body)).toBe(201)
  return r.body.member.id
}

async function personPage(browser: Browser, login: string): Promise<Page> {
  const ctx = await browser.newContext({ baseURL: baseUrl() })
  const page = await ctx.newPage()
  const r = await page.request.post(baseUrl() + '/api/v1/auth/login', {
    headers: { 'X-CSRF-Token': '1' },
    data: { login, password: PASSWORD },
  })
  expect(r.ok(), await r.text()).toBeTruthy()
  // The admin set a temporary password: replace it, as the person would on first sign-in.
  const csrf = (await r.json()).csrf_token as string
  const changed = await page.request.post(baseUrl() + '/api/v1/auth/password', {
    headers: { 'X-CSRF-Token': csrf },
    data: { old_password: PASSWORD, new_password: PASSWORD + '-own' },
  })
  expect(changed.ok(), await changed.text()).toBeTruthy()
  return page
}

function message(page: Page, text: string) {
  return page.locator('[data-test="message-list"] [data-test^="msg-"]', { hasText: text }).last()
}

test('two people chat live: receipt, recall, announcement read list', async ({ browser, page: admin }) => {
  await ensureLoggedIn(admin)
  const depts = (await api(admin, 'GET', '/departments')).body.items as { id: number; parent_id: number }[]
  const root = depts.find((d) => d.parent_id === 0)!.id
  const aId = await member(admin, 'wangfang', '王芳', root)
  const bId = await member(admin, 'liqiang', '李强', root)

  const a = await personPage(browser, 'wangfang')
  const b = await personPage(browser, 'liqiang')
  const opened = await api(a, 'POST', '/chat/direct', { user_id: bId })
  expect(opened.status, JSON.stringify(opened.body)).toBe(200)
  const conv = opened.body.id as number

  await a.goto(`/chat/${conv}`)
  await b.goto('/chat')
  await expect(a.locator('[data-test="composer-input"]').first()).toBeVisible()

  // A writes; B's conversation list shows it live, unread.
  const text = '你好李强，下午三点开会 <b>别迟到</b>'
  const box = a.locator('textarea[data-test="composer-input"], [data-test="composer-input"] textarea').first()
  await box.fill(text)
  await box.press('Enter')
  await expect(message(a, '下午三点开会')).toBeVisible()
  await expect(b.locator(`[data-test="conv-${conv}"]`)).toContainText('下午三点开会')
  await expect(b.locator(`[data-test="conv-${conv}"] [data-test="conv-unread"]`)).toBeVisible()
  // Typed markup is shown as text, never as HTML.
  await expect(message(a, '下午三点开会')).toContainText('<b>别迟到</b>')
  await expect(a.locator(`[data-test="receipt"]`).last()).toHaveText('未读')
  await shot(a, '07-chat-sender-unread')

  // B opens the chat: the message is read and A's receipt flips to 已读 without a reload.
  await b.locator(`[data-test="conv-${conv}"]`).click()
  await expect(message(b, '下午三点开会')).toBeVisible()
  await expect(a.locator(`[data-test="receipt"]`).last()).toHaveText('已读')
  await shot(b, '07-chat-receiver')

  // A recalls it: B sees the tombstone, the text is gone.
  await message(a, '下午三点开会').locator('.ob-msg-bubble, [class*="bubble"]').first().click({ button: 'right' })
  await a.locator('[data-test="context-menu"]').getByText('撤回', { exact: true }).click()
  await expect(b.locator('[data-test="message-list"]')).toContainText('王芳 撤回了一条消息')
  await expect(b.locator('[data-test="message-list"]')).not.toContainText('下午三点开会')
  await expect(a.locator('[data-test="message-list"]')).toContainText('你撤回了一条消息')
  await shot(b, '07-chat-recalled')

  // An announcement to everyone arrives in B's centre; its read list updates when B reads it.
  const created = await api(admin, 'POST', '/notices', {
    title: '国庆放假通知',
    html: '<p>10 月 1 日至 7 日放假，<b>请提前安排工作</b>。</p>',
    audience: { all: true },
    require_confirm: true,
  })
  expect(created.status, JSON.stringify(created.body)).toBe(201)
  const noticeId = created.body.id as number
  await b.goto('/notices')
  await expect(b.locator('[data-test="notice-list"]')).toContainText('国庆放假通知')
  await admin.goto(baseUrl() + `/notices/${noticeId}/stats`)
  await expect(admin.locator('[data-test="stats-unread"]')).not.toHaveText('0')
  const unreadBefore = Number(await admin.locator('[data-test="stats-unread"]').innerText())
  expect(unreadBefore).toBeGreaterThanOrEqual(2)
  await b.locator('[data-test="notice-list"]').getByText('国庆放假通知').first().click()
  await expect(b.locator('[data-test="notice-detail"]')).toContainText('请提前安排工作')
  await b.locator('[data-test="notice-confirm"]').click()
  await expect(b.locator('[data-test="notice-confirmed"]')).toBeVisible()
  await shot(b, '07-notice-read')
  // The publisher's own view of the notice may count as a read too: compare B's row, not totals.
  await expect(async () => {
    await admin.reload()
    const unread = Number(await admin.locator('[data-test="stats-unread"]').innerText())
    expect(unread).toBeLessThan(unreadBefore)
  }).toPass({ timeout: 15_000 })
  const stats = await api(admin, 'GET', `/notices/${noticeId}/stats`)
  const names = (xs: { name: string }[]) => xs.map((x) => x.name)
  expect(names(stats.body.read_users)).toContain('李强')
  expect(names(stats.body.confirmed_users)).toContain('李强')
  expect(names(stats.body.unread_users)).toContain('王芳')
  await expect(admin.locator('[data-test="notice-stats"]')).toContainText('王芳')
  await admin.locator('[data-test="notice-stats"]').getByText(/^已读 \(/).click()
  await expect(admin.locator('[data-test="notice-stats"]')).toContainText('李强')
  await shot(admin, '07-notice-stats')

  // Global search finds the announcement and the person (by pinyin) for B.
  await b.goto(baseUrl() + '/search?q=' + encodeURIComponent('放假'))
  await expect(b.getByRole('main')).toContainText('国庆放假通知')
  await shot(b, '07-search')

  // On a phone-sized screen the chat is list first, then the conversation.
  const say = await api(a, 'POST', `/chat/conversations/${conv}/messages`, { text: '手机上也能看到吗？' })
  expect(say.status).toBe(201)
  await b.setViewportSize({ width: 390, height: 844 })
  await b.goto(baseUrl() + '/chat')
  await b.locator(`[data-test="conv-${conv}"]`).click()
  await expect(message(b, '手机上也能看到吗')).toBeVisible()
  await expect(b.locator('[data-test="chat-back"]')).toBeVisible()
  await shot(b, '07-chat-phone')
  expect(aId).toBeGreaterThan(0)
})
