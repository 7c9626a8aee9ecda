//! The drive (微盘). `dav`: the WebDAV view of it.

pub mod dav;
