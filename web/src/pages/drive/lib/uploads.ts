// The drive's upload queue: resumable tus uploads (docs/drive.md "Resumable uploads") with
// per-file progress, pause/resume/retry, folder trees (folders are created first, then their
// files uploaded into them) and the 409 name_conflict question.
import { reactive } from 'vue'
import * as tus from 'tus-js-client'
import { API_BASE, ApiError, csrfHeader } from '@/api/client'
import { driveApi, type DriveNode, type OnConflict } from '@/api/drive'
import type { Id } from '@/api/types'
import { errorText, isApiError } from '@/utils/errors'
import { i18n } from '@/i18n'
import { askConflict } from './conflict'

export type UploadStatus = 'queued' | 'running' | 'paused' | 'done' | 'error' | 'skipped'

export interface UploadItem {
  key: number
  name: string
  /** Folder path inside the upload ("资料/2025"), for display. */
  dir: string
  size: number
  parentId: Id
  status: UploadStatus
  sent: number
  error: string
  onConflict?: OnConflict
  file: File
  tus: tus.Upload | null
}

/** A file to upload and the folders (relative to the target) it goes into. */
export interface PendingFile {
  file: File
  dirs: string[]
}

const CONCURRENCY = 3
const CHUNK = 8 * 1024 * 1024
let seq = 0
/** A batch-wide answer to name conflicts ("do the same for the rest"). */
let batchChoice: OnConflict | 'cancel' | null = null

export const uploads = reactive<{ items: UploadItem[]; open: boolean }>({ items: [], open: false })

type DoneFn = (parentId: Id, node: DriveNode | null) => void
const listeners = new Set<DoneFn>()

/** Called after each finished file (and created folder) with the folder it landed in. */
export function onUploaded(fn: DoneFn): () => void {
  listeners.add(fn)
  return () => listeners.delete(fn)
}

function notify(parentId: Id, node: DriveNode | null) {
  for (const fn of listeners) fn(parentId, node)
}

/** Queues plain files and folder trees for upload into `parentId`. */
export async function enqueue(parentId: Id, files: PendingFile[]) {
  if (!files.length) return
  uploads.open = true
  batchChoice = null
  const folders = new Map<string, Id>()
  for (const f of files) {
    let parent = parentId
    let path = ''
    try {
      for (const d of f.dirs) {
        path = path ? `${path}/${d}` : d
        parent = folders.get(path) ?? (await ensureFolder(folders, path, parent, d))
      }
    } catch (e) {
      addItem(f.file, f.dirs.join('/'), parentId, 'error', i18n.global.t('drive.uploads.folderFailed', { name: path }) + ' ' + errorText(e))
      continue
    }
    addItem(f.file, f.dirs.join('/'), parent, 'queued', '')
  }
  pump()
}

/** Creates a folder, or reuses the one of the same name (uploading a folder again merges). */
async function ensureFolder(cache: Map<string, Id>, path: string, parent: Id, name: string): Promise<Id> {
  let id: Id
  try {
    id = (await driveApi.createFolder(parent, name)).id
    notify(parent, null)
  } catch (e) {
    if (!isApiError(e, 'name_conflict') || !e.details?.existing_id) throw e
    id = Number(e.details.existing_id)
  }
  cache.set(path, id)
  return id
}

function addItem(file: File, dir: string, parentId: Id, status: UploadStatus, error: string) {
  uploads.items.push({ key: ++seq, name: file.name, dir, size: file.size, parentId, status, sent: 0, error, file, tus: null })
}

function running() {
  return uploads.items.filter((i) => i.status === 'running').length
}

function pump() {
  for (const item of uploads.items) {
    if (running() >= CONCURRENCY) return
    if (item.status === 'queued') start(item)
  }
}

function find(key: number): UploadItem | undefined {
  return uploads.items.find((i) => i.key === key)
}

function start(item: UploadItem) {
  item.status = 'running'
  item.error = ''
  if (!item.tus) item.tus = makeUpload(item.key)
  item.tus.start()
}

function makeUpload(key: number): tus.Upload {
  const item = find(key)!
  const metadata: Record<string, string> = {
    purpose: 'drive',
    filename: item.name,
    parent_id: String(item.parentId),
    filetype: item.file.type || 'application/octet-stream',
  }
  if (item.onConflict) metadata.on_conflict = item.onConflict
  return new tus.Upload(item.file, {
    endpoint: `${API_BASE}/uploads`,
    chunkSize: CHUNK,
    retryDelays: [0, 1000, 3000, 5000, 10000],
    metadata,
    headers: { 'X-CSRF-Token': csrfHeader() },
    // Resuming after a page reload would need the same session; keep it simple and in memory.
    storeFingerprintForResuming: false,
    onShouldRetry: (err) => {
      const status = err.originalResponse?.getStatus() ?? 0
      // A refusal at creation (name, quota, permission) will not change by retrying.
      if (status >= 400 && status < 500 && err.originalRequest?.getMethod() === 'POST') return false
      return status === 0 || status >= 500 || status === 409 || status === 423
    },
    onProgress: (sent) => {
      const it = find(key)
      if (it) it.sent = sent
    },
    onSuccess: ({ lastResponse }) => {
      const it = find(key)
      if (!it) return
      it.status = 'done'
      it.sent = it.size
      notify(it.parentId, decodeResult(lastResponse.getHeader('X-Officebox-Result')))
      pump()
    },
    onError: (err) => void failed(key, err),
  })
}

async function failed(key: number, err: Error | tus.DetailedError) {
  const item = find(key)
  if (!item) return
  const res = (err as tus.DetailedError).originalResponse
  let body: any = null
  try {
    body = res ? JSON.parse(res.getBody() || 'null') : null
  } catch {
    /* not JSON */
  }
  if (res?.getStatus() === 409 && body?.code === 'name_conflict' && !item.onConflict) {
    item.status = 'paused'
    let choice = batchChoice
    if (!choice) {
      const a = await askConflict(item.name, true, true)
      choice = a.choice
      if (a.all) batchChoice = a.choice
    }
    if (choice === 'cancel') {
      item.status = 'skipped'
    } else {
      item.onConflict = choice
      item.tus = null
      item.status = 'queued'
    }
    pump()
    return
  }
  item.status = 'error'
  item.error = body?.code ? errorText(new ApiError(res!.getStatus(), body.code, body.message, body.details)) : err.message.split('\n')[0]
  pump()
}

/** The created Node from `X-Officebox-Result` (base64url JSON), if the server sent it. */
export function decodeResult(h: string | undefined): DriveNode | null {
  if (!h) return null
  try {
    const b64 = h.replace(/-/g, '+').replace(/_/g, '/')
    const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4))
    const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0))
    return JSON.parse(new TextDecoder().decode(bytes)) as DriveNode
  } catch {
    return null
  }
}

export function pause(key: number) {
  const item = find(key)
  if (!item) return
  if (item.status === 'running') void item.tus?.abort()
  if (item.status === 'running' || item.status === 'queued') item.status = 'paused'
  pump()
}

/** Resume a paused upload or retry a failed one (tus asks the server for the offset first). */
export function resume(key: number) {
  const item = find(key)
  if (!item || !(item.status === 'paused' || item.status === 'error')) return
  item.status = 'queued'
  pump()
}

export function cancel(key: number) {
  const item = find(key)
  if (!item) return
  if (item.tus && item.status !== 'done') void item.tus.abort(true).catch(() => {})
  uploads.items.splice(uploads.items.indexOf(item), 1)
  pump()
}

export function clearFinished() {
  uploads.items = uploads.items.filter((i) => i.status !== 'done' && i.status !== 'skipped')
  if (!uploads.items.length) uploads.open = false
}

// ---- collecting files from inputs and drops ----

/** Files from `<input type=file>` (with `webkitdirectory`, paths come from webkitRelativePath). */
export function fromInput(list: FileList | null): PendingFile[] {
  const out: PendingFile[] = []
  for (const file of Array.from(list ?? [])) {
    const rel = (file as any).webkitRelativePath as string | undefined
    const parts = rel ? rel.split('/').filter(Boolean) : []
    out.push({ file, dirs: parts.slice(0, -1) })
  }
  return out
}

/** Files and whole folder trees from a drop (webkitGetAsEntry; plain files as a fallback). */
export async function fromDrop(dt: DataTransfer): Promise<PendingFile[]> {
  const entries: FileSystemEntry[] = []
  const loose: File[] = []
  for (const item of Array.from(dt.items ?? [])) {
    if (item.kind !== 'file') continue
    const entry = item.webkitGetAsEntry?.()
    if (entry) entries.push(entry)
    else {
      const f = item.getAsFile()
      if (f) loose.push(f)
    }
  }
  if (!entries.length && !loose.length) return Array.from(dt.files).map((file) => ({ file, dirs: [] }))
  const out: PendingFile[] = loose.map((file) => ({ file, dirs: [] }))
  for (const e of entries) await walk(e, [], out)
  return out
}

async function walk(entry: FileSystemEntry, dirs: string[], out: PendingFile[]) {
  if (entry.isFile) {
    const file = await new Promise<File>((res, rej) => (entry as FileSystemFileEntry).file(res, rej))
    out.push({ file, dirs })
    return
  }
  if (!entry.isDirectory) return
  const reader = (entry as FileSystemDirectoryEntry).createReader()
  const here = [...dirs, entry.name]
  let empty = true
  // readEntries answers in batches (100 in Chromium) until it returns an empty list.
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((res, rej) => reader.readEntries(res, rej))
    if (!batch.length) break
    empty = false
    for (const child of batch) await walk(child, here, out)
  }
  if (empty) emptyDirs.push(here)
}

/** Empty folders found by the last drop: created even though no file goes in them. */
const emptyDirs: string[][] = []

/** Creates the empty folders of the last drop under `parentId`. */
export async function createEmptyDirs(parentId: Id) {
  const dirs = emptyDirs.splice(0)
  const cache = new Map<string, Id>()
  for (const d of dirs) {
    let parent = parentId
    let path = ''
    for (const name of d) {
      path = path ? `${path}/${name}` : name
      parent = cache.get(path) ?? (await ensureFolder(cache, path, parent, name).catch(() => parent))
    }
  }
}
