import type { Id } from '@/api/types'

/** Unsent composer text per conversation, kept while the tab lives (survives leaving the page). */
export const drafts = new Map<Id, string>()
