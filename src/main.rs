fn main() -> std::process::ExitCode {
    limit_malloc_arenas();
    officebox::cli::run()
}

/// glibc gives threads their own malloc arenas (up to 8 per core). The server's threads
/// (actix workers, the blocking pool that runs bcrypt and snapshot reads, the writer, the
/// indexer) then each keep freed memory of their own: RSS tripled under load (chat_load: 265-273
/// MB after 8 s of sends vs ~100 MB with two arenas, same CPU a message). Two arenas suit the
/// small machines OfficeBox targets; `MALLOC_ARENA_MAX` in the environment still wins. Must run
/// before any other thread starts.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        extern "C" {
            fn mallopt(param: i32, value: i32) -> i32;
        }
        const M_ARENA_MAX: i32 = -8;
        // SAFETY: mallopt only adjusts allocator parameters; called while single-threaded.
        unsafe {
            mallopt(M_ARENA_MAX, 2);
        }
    }
}
