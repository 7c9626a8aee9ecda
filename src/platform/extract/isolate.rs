//! Running parsers in a child process: `officebox __extract <format> <path> <limits-json>`
//! (the same binary, a hidden subcommand) writes `{"Ok": Extracted}` or `{"Err": ExtractError}`
//! as JSON to stdout. The parent kills it after the wall-time limit; the child sets its own
//! rlimits (address space, CPU seconds, no files, no core dumps) before touching the input. A
//! panic, an abort on allocation failure, a signal or a hang thus costs one child, never the
//! server.

use super::{extract_in_process, ExtractError, Extracted, Format, Limits};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The hidden subcommand's name.
pub const SUBCOMMAND: &str = "__extract";

static BINARY_HAS_SUBCOMMAND: AtomicBool = AtomicBool::new(false);

/// Called by `cli::run`: this process is the real binary, so re-executing it reaches the hidden
/// subcommand. (Test binaries and benches never pass through `cli::run`.)
pub fn mark_binary_has_subcommand() {
    BINARY_HAS_SUBCOMMAND.store(true, Ordering::Relaxed);
}

/// Where parsers for untrusted formats run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Isolation {
    /// A child process of this executable (which must know [`SUBCOMMAND`]).
    Subprocess(PathBuf),
    /// In this process: panics are caught, but a hang or runaway allocation is not contained.
    /// Only for test binaries, where `current_exe` is the test harness.
    InProcess,
}

impl Isolation {
    /// The child process when running as the real binary, else in-process.
    pub fn detect() -> Isolation {
        match std::env::current_exe() {
            Ok(exe) if BINARY_HAS_SUBCOMMAND.load(Ordering::Relaxed) => Isolation::Subprocess(exe),
            _ => Isolation::InProcess,
        }
    }
}

/// Extracts `path` in a child process of `exe`, waiting at most `limits.timeout()`.
pub fn extract_isolated(exe: &Path, path: &Path, format: Format, limits: &Limits) -> Result<Extracted, ExtractError> {
    let limits_json = serde_json::to_string(limits).map_err(|e| ExtractError::Failed(e.to_string()))?;
    // "./-x", never "-x": a relative name must not parse as an option.
    let path = if path.is_relative() { Path::new(".").join(path) } else { path.to_path_buf() };
    let mut child = Command::new(exe)
        .arg(SUBCOMMAND)
        .arg(format.as_str())
        .arg(&path)
        .arg(limits_json)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| ExtractError::Failed(format!("cannot start the extraction process: {e}")))?;
    // Drain both pipes on threads so a chatty child never blocks on a full pipe.
    let stdout = drain(child.stdout.take(), output_cap(limits));
    let stderr = drain(child.stderr.take(), 4096);
    let Some(status) = wait_until(&mut child, Instant::now() + limits.timeout()) else {
        let _ = child.kill();
        let _ = child.wait();
        return Err(ExtractError::Timeout);
    };
    let out = stdout.join().unwrap_or_default();
    let err = stderr.join().unwrap_or_default();
    if let Some(e) = crash(&status, &err) {
        return Err(e);
    }
    serde_json::from_slice::<Result<Extracted, ExtractError>>(&out)
        .unwrap_or_else(|e| Err(ExtractError::Failed(format!("the extraction process answered badly: {e}"))))
}

/// The child's exit status, or None when the deadline passed (or waiting failed) first.
fn wait_until(child: &mut std::process::Child, deadline: Instant) -> Option<std::process::ExitStatus> {
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            _ => return None,
        }
    }
}

/// Bytes of JSON a well-behaved child can write: the text (escaping can double it) and titles.
fn output_cap(limits: &Limits) -> usize {
    limits.max_output.saturating_mul(2).saturating_add(1 << 20)
}

/// Reads a pipe to its end on a thread, keeping the first `cap` bytes (more marks the answer as
/// unusable by keeping one extra byte, which fails JSON parsing).
fn drain(pipe: Option<impl Read + Send + 'static>, cap: usize) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut kept = Vec::new();
        let Some(mut pipe) = pipe else { return kept };
        let mut buf = [0u8; 16 << 10];
        while let Ok(n) = pipe.read(&mut buf) {
            if n == 0 {
                break;
            }
            let room = (cap + 1).saturating_sub(kept.len());
            kept.extend_from_slice(&buf[..n.min(room)]);
        }
        kept
    })
}

/// A child that did not exit normally: killed by the CPU limit (a timeout), by another signal,
/// or exited with an error before answering.
fn crash(status: &std::process::ExitStatus, stderr: &[u8]) -> Option<ExtractError> {
    if status.success() {
        return None;
    }
    let detail = String::from_utf8_lossy(stderr);
    let detail = detail.trim().lines().last().unwrap_or("").chars().take(300).collect::<String>();
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if status.signal() == Some(libc::SIGXCPU) {
            return Some(ExtractError::Timeout);
        }
        if let Some(sig) = status.signal() {
            return Some(ExtractError::Failed(format!("the extraction process crashed (signal {sig}) {detail}")));
        }
    }
    Some(ExtractError::Failed(format!("the extraction process failed ({status}) {detail}")))
}

/// The child side of [`extract_isolated`], given the hidden subcommand's arguments.
pub fn child_main(format: &str, path: &Path, limits_json: &str) -> ExitCode {
    let answer = answer_channel();
    let result = match (Format::parse(format), serde_json::from_str::<Limits>(limits_json)) {
        (Some(format), Ok(limits)) => {
            limit_resources(&limits);
            extract_in_process(path, format, &limits)
        }
        _ => Err(ExtractError::Failed("bad arguments to the extraction process".into())),
    };
    let written = serde_json::to_vec(&result).map_err(std::io::Error::other).and_then(|json| {
        let mut answer = answer;
        answer.write_all(&json)?;
        answer.flush()
    });
    if written.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Where the JSON answer goes. On unix the real stdout is kept on a new descriptor and fd 1 is
/// pointed at stderr, so stray prints inside a parser library cannot corrupt the answer.
#[cfg(unix)]
fn answer_channel() -> Box<dyn Write> {
    use std::os::fd::FromRawFd;
    // SAFETY: dup/dup2 on the standard descriptors; `saved` is a fresh descriptor we own.
    unsafe {
        let saved = libc::dup(1);
        if saved >= 0 && libc::dup2(2, 1) >= 0 {
            return Box::new(std::fs::File::from_raw_fd(saved));
        }
    }
    Box::new(std::io::stdout())
}

#[cfg(not(unix))]
fn answer_channel() -> Box<dyn Write> {
    Box::new(std::io::stdout())
}

/// Caps the child: address space, CPU time (a little above the wall limit, so the parent's
/// timeout normally fires first), no file writes, no core files. (RLIMIT_FSIZE also covers a
/// stdout redirected to a file, so run `officebox __extract ... | cat` by hand; the parent uses a pipe.)
#[cfg(unix)]
fn limit_resources(limits: &Limits) {
    let cpu = limits.timeout_ms.div_ceil(1000) + 1;
    set(libc::RLIMIT_AS, limits.max_memory, limits.max_memory);
    set(libc::RLIMIT_CPU, cpu, cpu + 1);
    set(libc::RLIMIT_FSIZE, 0, 0);
    set(libc::RLIMIT_CORE, 0, 0);
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
type Resource = libc::__rlimit_resource_t;
#[cfg(all(unix, not(all(target_os = "linux", target_env = "gnu"))))]
type Resource = libc::c_int;

#[cfg(unix)]
fn set(resource: Resource, soft: u64, hard: u64) {
    let lim = libc::rlimit { rlim_cur: soft as libc::rlim_t, rlim_max: hard as libc::rlim_t };
    // SAFETY: setrlimit reads the struct we pass and only changes this process's limits.
    unsafe {
        libc::setrlimit(resource, &lim);
    }
}

#[cfg(not(unix))]
fn limit_resources(_: &Limits) {}

/// The async front: runs extractions on tokio's blocking pool, at most `concurrency` at a time
/// for the isolated formats (text files are cheap and skip the queue).
#[derive(Clone)]
pub struct Extractor {
    pub limits: Limits,
    isolation: Isolation,
    gate: Arc<tokio::sync::Semaphore>,
}

impl Extractor {
    /// One extraction at a time (the target is a 2-core box), isolation as [`Isolation::detect`].
    pub fn new(limits: Limits) -> Extractor {
        Extractor::with_isolation(limits, Isolation::detect(), 1)
    }

    pub fn with_isolation(limits: Limits, isolation: Isolation, concurrency: usize) -> Extractor {
        Extractor { limits, isolation, gate: Arc::new(tokio::sync::Semaphore::new(concurrency.max(1))) }
    }

    pub fn isolation(&self) -> &Isolation {
        &self.isolation
    }

    /// Extracts the file at `path`, choosing the extractor from `name` and `mime`.
    pub async fn extract(&self, path: PathBuf, name: &str, mime: Option<&str>) -> Result<Extracted, ExtractError> {
        let format = super::format_of(name, mime).ok_or(ExtractError::Unsupported)?;
        // The permit moves into the blocking task: a caller that gives up (a closed request)
        // must not free the slot while its child process still runs.
        let permit = if format.needs_isolation() {
            let gate = self.gate.clone().acquire_owned().await;
            Some(gate.map_err(|_| ExtractError::Failed("the extractor is shut down".into()))?)
        } else {
            None
        };
        let (limits, isolation) = (self.limits.clone(), self.isolation.clone());
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            extract_blocking(&path, format, &limits, &isolation)
        })
        .await
        .unwrap_or_else(|e| Err(ExtractError::Failed(format!("the extraction task failed: {e}"))))
    }
}

/// Synchronous form of [`Extractor::extract`] for background jobs that are threads already.
pub fn extract_blocking(
    path: &Path,
    format: Format,
    limits: &Limits,
    isolation: &Isolation,
) -> Result<Extracted, ExtractError> {
    match isolation {
        Isolation::Subprocess(exe) if format.needs_isolation() => {
            super::check_size(path, format, limits)?;
            extract_isolated(exe, path, format, limits)
        }
        _ => extract_in_process(path, format, limits),
    }
}
