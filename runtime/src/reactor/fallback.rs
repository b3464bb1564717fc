//! Which reactor a core runs, and the one clear message when `auto` falls back to epoll.

use std::fmt;
use std::io;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// The reactor to run.
///
/// # Examples
///
/// ```
/// use coreloop_runtime::{ReactorKind, Runtime};
///
/// let rt = Runtime::builder().reactor(ReactorKind::Auto).build()?;
/// // What `auto` resolved to: io_uring, or epoll if the kernel refused it.
/// assert_ne!(rt.reactor(), ReactorKind::Auto);
/// println!("running on {} ({:?})", rt.reactor().name(), rt.choice());
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReactorKind {
    /// io_uring, strictly: if the kernel refuses it, building the runtime fails with the reason.
    Uring,
    /// epoll.
    Epoll,
    /// io_uring if the kernel allows it, else epoll (saying once why).
    Auto,
}

impl ReactorKind {
    /// Parses `uring`, `io_uring`, `epoll` or `auto`.
    pub fn parse(s: &str) -> io::Result<ReactorKind> {
        match s.trim().to_ascii_lowercase().as_str() {
            "uring" | "io_uring" | "io-uring" => Ok(ReactorKind::Uring),
            "epoll" => Ok(ReactorKind::Epoll),
            "auto" | "" => Ok(ReactorKind::Auto),
            other => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("unknown reactor {other:?}: expected uring, epoll or auto"),
            )),
        }
    }

    /// `CORELOOP_REACTOR`, if it is set.
    pub fn from_env() -> io::Result<Option<ReactorKind>> {
        match std::env::var("CORELOOP_REACTOR") {
            Ok(v) => ReactorKind::parse(&v)
                .map(Some)
                .map_err(|e| io::Error::new(e.kind(), format!("CORELOOP_REACTOR: {e}"))),
            Err(_) => Ok(None),
        }
    }

    /// The name `CORELOOP_REACTOR` and the builder use for this kind: `"uring"`, `"epoll"` or
    /// `"auto"`.
    pub fn name(self) -> &'static str {
        match self {
            ReactorKind::Uring => "uring",
            ReactorKind::Epoll => "epoll",
            ReactorKind::Auto => "auto",
        }
    }
}

/// `"uring".parse::<ReactorKind>()`: the same names as [`ReactorKind::parse`] (and
/// `CORELOOP_REACTOR`), so a flag parser (`clap`, `argh`, ...) takes a `ReactorKind` directly.
///
/// ```
/// use coreloop_runtime::ReactorKind;
/// assert_eq!("epoll".parse::<ReactorKind>().unwrap(), ReactorKind::Epoll);
/// assert!("kqueue".parse::<ReactorKind>().is_err());
/// ```
impl std::str::FromStr for ReactorKind {
    type Err = io::Error;

    fn from_str(s: &str) -> io::Result<ReactorKind> {
        ReactorKind::parse(s)
    }
}

impl fmt::Display for ReactorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What was asked for, what runs, and why they differ.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Choice {
    /// What the builder (or `CORELOOP_REACTOR`) asked for.
    pub requested: ReactorKind,
    /// What runs: `Uring` or `Epoll`.
    pub running: ReactorKind,
    /// Why io_uring was not used, when `auto` fell back.
    pub reason: Option<String>,
}

impl Choice {
    /// What runs for a request: io_uring unless a fallback `reason` is given, epoll for an
    /// epoll request.
    pub(crate) fn new(requested: ReactorKind, reason: Option<String>) -> Choice {
        let running = if requested == ReactorKind::Epoll || reason.is_some() {
            ReactorKind::Epoll
        } else {
            ReactorKind::Uring
        };
        Choice {
            requested,
            running,
            reason,
        }
    }
}

impl fmt::Display for Choice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.reason {
            Some(r) => write!(
                f,
                "coreloop: reactor {} (asked for {}): {r}",
                self.running, self.requested
            ),
            None => write!(
                f,
                "coreloop: reactor {} (asked for {})",
                self.running, self.requested
            ),
        }
    }
}

type Hook = std::sync::Arc<dyn Fn(&Choice) + Send + Sync>;

static HOOK: Mutex<Option<Hook>> = Mutex::new(None);
static SAID: AtomicBool = AtomicBool::new(false);

/// Replaces what happens when `auto` falls back to epoll (by default: one line on stderr, once
/// per process). The hook is called for every fallback, on the core that fell back.
pub fn set_fallback_hook(hook: impl Fn(&Choice) + Send + Sync + 'static) {
    *HOOK.lock().unwrap_or_else(|e| e.into_inner()) = Some(std::sync::Arc::new(hook));
}

pub(crate) fn report_fallback(choice: &Choice) {
    // Called outside the lock, so a hook may set the hook (or fall back itself).
    let hook = HOOK.lock().unwrap_or_else(|e| e.into_inner()).clone();
    match hook {
        Some(h) => h(choice),
        None => {
            if !SAID.swap(true, Ordering::Relaxed) {
                eprintln!("{choice}");
            }
        }
    }
}
