// Small helpers shared by the drive views: role ranks, file type badges.
import type { DriveNode, DriveRole } from '@/api/drive'

const RANK: Record<DriveRole, number> = { preview: 0, viewer: 1, uploader: 2, editor: 3, manager: 4 }

/** Does `role` allow what `min` allows? */
export function atLeast(role: DriveRole | undefined, min: DriveRole): boolean {
  return role !== undefined && RANK[role] >= RANK[min]
}

/** A short type label and its colour for the file badge (no icon font needed). */
export function fileBadge(n: Pick<DriveNode, 'kind' | 'name' | 'mime'>): { label: string; color: string } {
  if (n.kind === 'folder') return { label: '', color: '#f5b82e' }
  const ext = (n.name.includes('.') ? n.name.split('.').pop()! : '').toLowerCase()
  const mime = n.mime ?? ''
  if (['doc', 'docx', 'odt', 'rtf'].includes(ext)) return { label: 'W', color: '#2b579a' }
  if (['xls', 'xlsx', 'ods', 'csv'].includes(ext)) return { label: 'X', color: '#217346' }
  if (['ppt', 'pptx', 'odp', 'key'].includes(ext)) return { label: 'P', color: '#d24726' }
  if (ext === 'pdf' || mime === 'application/pdf') return { label: 'PDF', color: '#e2574c' }
  if (mime.startsWith('image/')) return { label: 'IMG', color: '#8e5cd9' }
  if (mime.startsWith('video/')) return { label: 'VID', color: '#d9488f' }
  if (mime.startsWith('audio/')) return { label: 'AUD', color: '#f08c2e' }
  if (['zip', 'rar', '7z', 'gz', 'tar', 'bz2', 'xz'].includes(ext)) return { label: 'ZIP', color: '#8a6d3b' }
  if (['md', 'txt', 'log'].includes(ext) || mime.startsWith('text/')) return { label: 'TXT', color: '#5b6b7f' }
  return { label: ext ? ext.slice(0, 4).toUpperCase() : 'FILE', color: '#7a8699' }
}
