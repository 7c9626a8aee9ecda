// Which actions a node offers, from the caller's effective role (docs/drive.md "Roles").
import type { DriveNode } from '@/api/drive'
import { i18n } from '@/i18n'
import { atLeast } from './files'

export type NodeAction = 'open' | 'download' | 'share' | 'rename' | 'move' | 'copy' | 'versions' | 'sendToChat' | 'delete'

export interface ActionItem {
  key: NodeAction
  label: string
  danger?: boolean
  divided?: boolean
}

export function nodeActions(n: DriveNode, myId: number | undefined): ActionItem[] {
  const t = i18n.global.t
  const out: ActionItem[] = []
  const own = n.created_by?.id === myId
  out.push({ key: 'open', label: n.kind === 'folder' ? t('drive.open') : t('drive.preview') })
  if (atLeast(n.role, 'viewer')) out.push({ key: 'download', label: n.kind === 'folder' ? t('drive.downloadZip') : t('drive.download') })
  if (n.role === 'manager') out.push({ key: 'share', label: t('drive.share') })
  if (atLeast(n.role, 'editor')) out.push({ key: 'rename', label: t('drive.rename'), divided: true })
  if (atLeast(n.role, 'editor')) out.push({ key: 'move', label: t('drive.move') })
  if (atLeast(n.role, 'viewer')) out.push({ key: 'copy', label: t('drive.copy') })
  if (n.kind === 'file' && atLeast(n.role, 'viewer')) out.push({ key: 'versions', label: t('drive.versions') })
  // The server needs viewer to snapshot the file into a message (docs/drive.md "Sharing").
  if (n.kind === 'file' && atLeast(n.role, 'viewer')) out.push({ key: 'sendToChat', label: t('drive.sendToChat.action') })
  if (atLeast(n.role, 'editor') || (n.role === 'uploader' && own)) out.push({ key: 'delete', label: t('drive.delete'), danger: true, divided: true })
  return out
}
