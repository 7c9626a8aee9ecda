// One "name already exists" question at a time (替换为新版本 / 保留两者 / 取消), asked by
// whoever hit a 409 name_conflict: uploads, new folders, renames, moves, copies, restores.
import { reactive } from 'vue'
import type { OnConflict } from '@/api/drive'
import { isApiError } from '@/utils/errors'

export type ConflictChoice = OnConflict | 'cancel'

interface Pending {
  name: string
  /** File writes may become a new version; folders and renames cannot. */
  allowVersion: boolean
  /** More conflicts may follow (a batch): offer "do the same for the rest". */
  batch: boolean
  resolve: (c: { choice: ConflictChoice; all: boolean }) => void
}

export const conflictState = reactive<{ current: Pending | null; queue: Pending[] }>({ current: null, queue: [] })

function next() {
  if (!conflictState.current) conflictState.current = conflictState.queue.shift() ?? null
}

/** Asks the user; resolves when they pick (one dialog at a time, the rest wait in line). */
export function askConflict(name: string, allowVersion: boolean, batch = false): Promise<{ choice: ConflictChoice; all: boolean }> {
  return new Promise((resolve) => {
    conflictState.queue.push({ name, allowVersion, batch, resolve })
    next()
  })
}

export function answerConflict(choice: ConflictChoice, all: boolean) {
  const cur = conflictState.current
  conflictState.current = null
  cur?.resolve({ choice, all })
  next()
}

/**
 * Runs `op()`; on 409 name_conflict asks what to do and runs `op(choice)` again.
 * Resolves to null when the user cancels.
 */
export async function withConflict<T>(name: string, allowVersion: boolean, op: (c?: OnConflict) => Promise<T>): Promise<T | null> {
  try {
    return await op()
  } catch (e) {
    if (!isApiError(e, 'name_conflict')) throw e
    const { choice } = await askConflict(name, allowVersion)
    if (choice === 'cancel') return null
    return await op(choice)
  }
}
