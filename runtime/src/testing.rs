//! Helpers for tests of coreloop and of programs built on it: run one body on both reactors,
//! with a watchdog, and count open descriptors.

use crate::{ReactorKind, Runtime};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// How long one test body may run before the watchdog ends the process
/// (`CORELOOP_TEST_TIMEOUT` seconds, default 120).
fn limit() -> Duration {
    let secs = std::env::var("CORELOOP_TEST_TIMEOUT")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(120);
    Duration::from_secs(secs)
}

/// Ends the process with a message if not dropped within `limit`: a hung test fails loudly
/// instead of hanging CI.
pub struct Watchdog {
    done: Arc<AtomicBool>,
}

impl Watchdog {
    pub fn new(what: String, limit: Duration) -> Watchdog {
        let done = Arc::new(AtomicBool::new(false));
        let flag = done.clone();
        std::thread::spawn(move || {
            let step = Duration::from_millis(50);
            let mut waited = Duration::ZERO;
            while waited < limit {
                if flag.load(Ordering::Acquire) {
                    return;
                }
                std::thread::sleep(step);
                waited += step;
            }
            if !flag.load(Ordering::Acquire) {
                eprintln!("watchdog: {what} still running after {limit:?}; aborting");
                std::process::abort();
            }
        });
        Watchdog { done }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.done.store(true, Ordering::Release);
    }
}

/// Why this machine cannot run io_uring (the kernel refused a ring: `ENOSYS`, `EPERM` from
/// seccomp or `kernel.io_uring_disabled`, `ENOMEM` from `RLIMIT_MEMLOCK`, …), or `None` if it
/// can. Asked once per process.
pub fn uring_refusal() -> Option<&'static str> {
    static REFUSAL: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    REFUSAL
        .get_or_init(|| {
            Runtime::builder()
                .reactor(ReactorKind::Uring)
                .env_override(false)
                .build()
                .err()
                .map(|e| e.to_string())
        })
        .as_deref()
}

/// Polls `fut` once — so the op it starts is queued on the ring, handed to the pool or
/// waiting for readiness — then drops it there: the cancellation tests' way of abandoning
/// an op in flight.
pub async fn start_then_drop<F: Future>(fut: F) {
    let mut fut = std::pin::pin!(fut);
    std::future::poll_fn(|cx| {
        let _ = fut.as_mut().poll(cx);
        std::task::Poll::Ready(())
    })
    .await;
}

/// Whether a test case for `kind` should run here. For io_uring on a kernel that refuses it,
/// says on the terminal (past the test harness's capture) that the case is skipped and why,
/// and returns false: a skipped case is never a silent pass.
pub fn should_run(kind: ReactorKind, test: &str) -> bool {
    if kind != ReactorKind::Uring {
        return true;
    }
    // Set by scripts/valgrind.sh: valgrind cannot run a thread blocked in io_uring_enter
    // alongside others (the blocked thread keeps valgrind's scheduler lock), so the io_uring
    // half of any test that wakes a core from another thread would hang there.
    if let Some(why) = std::env::var_os("CORELOOP_TEST_SKIP_URING") {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED {test} on io_uring: CORELOOP_TEST_SKIP_URING={}",
            why.to_string_lossy()
        );
        return false;
    }
    match uring_refusal() {
        None => true,
        Some(why) => {
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED {test} on io_uring: the kernel refuses it ({why})"
            );
            false
        }
    }
}

/// The reactors a test that loops over both should run: io_uring (unless the kernel refuses
/// it, which [`should_run`] reports), then epoll.
pub fn reactors(test: &str) -> Vec<ReactorKind> {
    [ReactorKind::Uring, ReactorKind::Epoll]
        .into_iter()
        .filter(|k| should_run(*k, test))
        .collect()
}

/// Runs `fut` on a fresh one-core runtime with reactor `kind` (ignoring `CORELOOP_REACTOR`),
/// under a watchdog.
pub fn run<F: Future>(kind: ReactorKind, fut: F) -> F::Output {
    run_with(Runtime::builder().reactor(kind).env_override(false), fut)
}

/// As [`run`], with a builder of the caller's.
///
/// With the `fault-injection` feature and `CORELOOP_FAULTS=1`, every body runs under a seeded
/// random plan that fails the I/O syscalls made on the core with `EINTR` and `EAGAIN`,
/// shortens their counts, and interrupts the reactor's own waits (seed from `CORELOOP_FAULT_SEED`, printed with the count of faults):
/// the same tests must pass with the same results.
pub fn run_with<F: Future>(builder: crate::Builder, fut: F) -> F::Output {
    let rt = builder
        .build()
        .unwrap_or_else(|e| panic!("building the runtime: {e}"));
    let name = std::thread::current().name().unwrap_or("test").to_string();
    let _dog = Watchdog::new(format!("{name} on {}", rt.reactor()), limit());
    let faults = faults::from_env();
    let out = rt.block_on(fut);
    faults::report(faults, &name);
    out
}

/// Pauses any fault plan on this thread until the guard drops: for test steps that check the
/// exact result of a single op (a byte count, how bytes spread over buffers), which injected
/// short counts would legitimately change. Loops and protocols stay under the plan.
pub fn exact() -> impl Drop {
    faults::pause()
}

#[cfg(feature = "fault-injection")]
mod faults {
    pub(super) fn pause() -> crate::sys::fault::Paused {
        crate::sys::fault::pause()
    }

    use crate::sys::fault::{
        Action, Plan, PlanGuard, Rule, URING_OP, injected, seed_from_env, set_process_plan,
    };
    use crate::sys::{Errno, nr};

    /// The syscalls that move bytes or connections: the ones whose faults callers must survive.
    const IO: [usize; 12] = [
        nr::READ,
        nr::WRITE,
        nr::READV,
        nr::WRITEV,
        nr::PREAD64,
        nr::PWRITE64,
        nr::SENDTO,
        nr::RECVFROM,
        nr::SENDMSG,
        nr::RECVMSG,
        nr::ACCEPT4,
        nr::CONNECT,
    ];

    pub(super) fn from_env() -> Option<(PlanGuard, u64)> {
        if std::env::var_os("CORELOOP_FAULTS").is_none_or(|v| v == "0") {
            return None;
        }
        // The reactors' own waits fail too: an interrupted or busy io_uring_enter leaves its
        // entries queued for the next one, an interrupted epoll_pwait is a spurious wake-up.
        let waits = [nr::IO_URING_ENTER, nr::EPOLL_PWAIT];
        let plan = Plan::new(seed_from_env())
            .rule(Rule::new(&waits, Action::Fail(Errno::EINTR)).probability(0.05))
            .rule(Rule::new(&[nr::IO_URING_ENTER], Action::Fail(Errno::EBUSY)).probability(0.02))
            .rule(Rule::new(&[URING_OP], Action::Fail(Errno::EINTR)).probability(0.1))
            .rule(Rule::new(&IO, Action::Fail(Errno::EINTR)).probability(0.1))
            .rule(Rule::new(&IO, Action::Fail(Errno::EAGAIN)).probability(0.05))
            .rule(Rule::new(&IO, Action::Short).probability(0.2));
        // Every other thread that works for coreloop (the cores of a multi-core runtime, the
        // blocking pool) takes on the same plan, with a seed of its own.
        set_process_plan(Some(plan.clone()));
        Some((plan.install(), injected()))
    }

    pub(super) fn report(faults: Option<(PlanGuard, u64)>, name: &str) {
        if let Some((guard, before)) = faults {
            let n = injected() - before;
            eprintln!(
                "{name}: {n} faults injected (CORELOOP_FAULT_SEED={})",
                guard.seed()
            );
        }
    }
}

#[cfg(not(feature = "fault-injection"))]
mod faults {
    pub(super) struct Paused;

    impl Drop for Paused {
        fn drop(&mut self) {}
    }

    pub(super) fn pause() -> Paused {
        Paused
    }

    pub(super) fn from_env() -> Option<()> {
        None
    }

    pub(super) fn report(_: Option<()>, _: &str) {}
}

/// `len` bytes that tell their own offset apart (a lost, repeated or reordered run shows, at
/// any power-of-two period); `seed` gives another sequence.
pub fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).rotate_left(7) as u8 ^ seed)
        .collect()
}

/// A fresh directory under the system temp dir, unique to this process and call, removed
/// (with its contents) on drop.
pub struct TempDir(std::path::PathBuf);

impl TempDir {
    /// Makes `coreloop-<tag>-<pid>-<n>-<nanos>` in the temp dir.
    pub fn new(tag: &str) -> TempDir {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("coreloop-{tag}-{}-{n}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("making {}: {e}", dir.display()));
        TempDir(dir)
    }

    /// The directory.
    pub fn path(&self) -> &std::path::Path {
        &self.0
    }

    /// A path inside it.
    pub fn join(&self, name: &str) -> std::path::PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs test `name` of this test binary again in a child process with the environment
/// variable `var` set, for a check that could crash, hang or abort the whole binary (or that
/// changes process-wide state such as rlimits). Returns true in the child: run the check
/// there. In the parent, waits up to `limit` and panics with the child's output if it failed,
/// was killed by a signal, hung, or ran no test; then returns false.
pub fn in_child(name: &str, var: &str, limit: Duration) -> bool {
    if std::env::var_os(var).is_some() {
        return true;
    }
    use std::io::Read;
    use std::os::unix::process::ExitStatusExt;
    let exe = std::env::current_exe().expect("the test binary's path");
    let mut child = std::process::Command::new(exe)
        .args(["--exact", name, "--nocapture", "--test-threads", "1"])
        .env(var, "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("starting the child test");
    // Read both pipes while the child runs, so a chatty child never blocks on a full pipe.
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = r.read_to_string(&mut text);
            text
        })
    };
    let out = drain(Box::new(child.stdout.take().expect("piped")));
    let err = drain(Box::new(child.stderr.take().expect("piped")));
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("waiting for the child") {
            break Some(s);
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let text = format!(
        "{}{}",
        out.join().unwrap_or_default(),
        err.join().unwrap_or_default()
    );
    let Some(status) = status else {
        panic!("child {name} hung (killed after {limit:?}): {text}");
    };
    assert_eq!(
        status.signal(),
        None,
        "child {name} crashed (signal): {text}"
    );
    assert!(status.success(), "child {name} failed: {text}");
    assert!(
        text.contains("1 passed"),
        "child {name} ran no test: {text}"
    );
    false
}

/// How many descriptors this process has open (`/proc/self/fd`).
pub fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .map(|d| d.count())
        .unwrap_or(0)
}

/// Defines a test module with two tests, `uring` and `epoll`, that run the same async body on
/// each reactor:
///
/// ```ignore
/// coreloop_runtime::reactor_test! {
///     async fn pipe_round_trip() {
///         // ... body, run once on io_uring and once on epoll
///     }
/// }
/// ```
#[macro_export]
macro_rules! reactor_test {
    ($(#[$meta:meta])* async fn $name:ident() $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[test]
            $(#[$meta])*
            fn uring() {
                if $crate::testing::should_run(
                    $crate::ReactorKind::Uring,
                    concat!(module_path!(), "::uring"),
                ) {
                    $crate::testing::run($crate::ReactorKind::Uring, async move $body)
                }
            }

            #[test]
            $(#[$meta])*
            fn epoll() {
                $crate::testing::run($crate::ReactorKind::Epoll, async move $body)
            }
        }
    };
}
