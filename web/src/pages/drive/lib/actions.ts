// The drive's write actions with their prompts, conflict questions and messages. Each returns
// whether something changed, so the page knows to refresh.
import { driveApi, type DriveNode, type OnConflict, type Space } from '@/api/drive'
import type { Id } from '@/api/types'
import { i18n } from '@/i18n'
import { notifyError } from '@/utils/errors'
import { withConflict } from './conflict'

const t = (k: string, p?: Record<string, unknown>) => (p ? i18n.global.t(k, p) : i18n.global.t(k))

/** A name prompt; null when cancelled. */
export async function askName(title: string, label: string, initial = ''): Promise<string | null> {
  try {
    const r = await ElMessageBox.prompt(label, title, {
      inputValue: initial,
      inputValidator: (v) => !!v.trim() || t('drive.nameRequired'),
    })
    return r.value.trim()
  } catch {
    return null
  }
}

/** Follows a URL as a download (same origin: the session cookie goes along). */
export function follow(url: string) {
  const a = document.createElement('a')
  a.href = url
  a.rel = 'noopener'
  document.body.appendChild(a)
  a.click()
  a.remove()
}

/** One file downloads as itself; anything else as a streamed zip named after `zipName`. */
export function downloadNodes(nodes: DriveNode[], zipName: string) {
  if (!nodes.length) return
  if (nodes.length === 1 && nodes[0].kind === 'file') follow(driveApi.contentUrl(nodes[0].id))
  else follow(driveApi.zipUrl(nodes.map((n) => n.id), nodes.length === 1 ? nodes[0].name : zipName))
}

export async function renameNode(n: DriveNode, name: string): Promise<boolean> {
  try {
    const r = await withConflict(name, false, (c) => driveApi.rename(n.id, name, c))
    if (r) ElMessage.success(t('drive.renamed'))
    return !!r
  } catch (e) {
    notifyError(e)
    return false
  }
}

export async function newFolderIn(parent: Id): Promise<boolean> {
  const name = await askName(t('drive.newFolder'), t('drive.folderName'), t('drive.newFolderDefault'))
  if (!name) return false
  try {
    return !!(await withConflict(name, false, (c) => driveApi.createFolder(parent, name, c)))
  } catch (e) {
    notifyError(e)
    return false
  }
}

/** To the recycle bin, after a confirmation. */
export async function removeNodes(nodes: DriveNode[]): Promise<boolean> {
  if (!nodes.length) return false
  try {
    await ElMessageBox.confirm(t('drive.deleteConfirm', { n: nodes.length }), t('drive.delete'), { type: 'warning' })
  } catch {
    return false
  }
  try {
    for (const n of nodes) await driveApi.remove(n.id)
    ElMessage.success(t('drive.deletedToBin'))
  } catch (e) {
    notifyError(e)
  }
  return true
}

/** Move or copy each node into `target`, asking about name clashes one by one. */
export async function transfer(mode: 'move' | 'copy', nodes: DriveNode[], target: Id): Promise<boolean> {
  try {
    for (const n of nodes) {
      const op = (c?: OnConflict) => (mode === 'move' ? driveApi.move(n.id, target, c) : driveApi.copy(n.id, target, c))
      await withConflict(n.name, false, op)
    }
    ElMessage.success(mode === 'move' ? t('drive.moved') : t('drive.copied'))
  } catch (e) {
    notifyError(e)
  }
  return true
}

export async function createTeamSpace(): Promise<Space | null> {
  const name = await askName(t('drive.newTeamSpace'), t('drive.teamSpaceName'))
  if (!name) return null
  try {
    return await driveApi.createSpace(name)
  } catch (e) {
    notifyError(e)
    return null
  }
}
