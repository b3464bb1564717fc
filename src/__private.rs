//! What the expansions of `#[coreloop::main]` and `#[coreloop::test]` call. Not a public API:
//! it may change in any release.

use coreloop_runtime::ReactorKind;
use std::future::Future;

/// How `#[coreloop::main(cores = N)]` turns one output per core into `main`'s output.
pub trait MainOutput: Sized {
    /// The outputs of every core, in core order, as one.
    fn combine(outs: Vec<Self>) -> Self;
}

impl MainOutput for () {
    fn combine(_: Vec<()>) {}
}

impl<E> MainOutput for Result<(), E> {
    /// The first core's error, if any.
    fn combine(outs: Vec<Self>) -> Self {
        outs.into_iter().collect()
    }
}

/// One core per CPU this process may run on (`cores = "all"`).
pub fn available_cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The value a test returns when its case is skipped.
pub trait TestOutput {
    /// A passing value.
    fn skipped() -> Self;
}

impl TestOutput for () {
    fn skipped() {}
}

impl<E> TestOutput for Result<(), E> {
    fn skipped() -> Self {
        Ok(())
    }
}

/// Runs one case of a `#[coreloop::test]`: the body on a one-core runtime with reactor
/// `kind`, under the test watchdog and any fault plan. An io_uring case on a kernel that
/// refuses io_uring prints that it is skipped, and why, and passes without running.
///
/// `should_panic` is the expected text of a `#[should_panic]` test: a skipped case of such a
/// test panics with a message that says it was skipped and contains that text, since
/// returning would fail it.
pub fn run_test<F, Fut>(
    kind: ReactorKind,
    name: &str,
    should_panic: Option<&str>,
    body: F,
) -> Fut::Output
where
    F: FnOnce() -> Fut,
    Fut: Future,
    Fut::Output: TestOutput,
{
    let refusal = match kind {
        ReactorKind::Uring => coreloop_runtime::testing::uring_refusal(),
        _ => None,
    };
    if let (Some(reason), Some(expected)) = (refusal, should_panic) {
        panic!(
            "{name}: SKIPPED: the kernel refuses io_uring ({reason}); the body did not run \
             (a #[should_panic] case cannot pass by returning): {expected}"
        );
    }
    run_or_skip(kind, name, refusal, body)
}

fn run_or_skip<F, Fut>(kind: ReactorKind, name: &str, refusal: Option<&str>, body: F) -> Fut::Output
where
    F: FnOnce() -> Fut,
    Fut: Future,
    Fut::Output: TestOutput,
{
    if let Some(reason) = refusal {
        eprintln!("{name}: skipped: the kernel refuses io_uring ({reason})");
        return TestOutput::skipped();
    }
    coreloop_runtime::testing::run(kind, body())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_uring_case_is_skipped_without_running_the_body() {
        let mut ran = false;
        let out: Result<(), String> =
            run_or_skip(ReactorKind::Uring, "t", Some("EPERM from seccomp"), || {
                ran = true;
                async { Err("ran".to_string()) }
            });
        assert_eq!(out, Ok(()));
        assert!(!ran, "the body ran although io_uring was refused");
    }

    #[test]
    fn a_case_with_its_reactor_runs_the_body() {
        let out: Result<(), String> = run_or_skip(ReactorKind::Epoll, "t", None, || async {
            Err(format!("ran on {:?}", coreloop_runtime::current_reactor()))
        });
        assert_eq!(out, Err("ran on Some(Epoll)".to_string()));
    }

    #[test]
    fn main_outputs_combine_to_the_first_error() {
        let outs: Vec<Result<(), u8>> = vec![Ok(()), Err(1), Err(2)];
        assert_eq!(MainOutput::combine(outs), Err(1));
        assert_eq!(MainOutput::combine(vec![Ok::<(), u8>(()); 3]), Ok(()));
    }
}
