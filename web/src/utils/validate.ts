// Client-side hints mirroring docs/api.md rules; the server stays the authority.
export const USERID_RE = /^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$/
export const MOBILE_RE = /^[0-9+\- ]{5,32}$/
export const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/
export const PHONE_RE = /^[0-9+\-() ]{0,32}$/
/** 18 characters: digits and upper-case letters except I, O, S, V, Z. */
export const CREDIT_CODE_RE = /^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$/
