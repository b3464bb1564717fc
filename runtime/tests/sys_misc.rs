//! timerfd, clocks, signals, resource limits and scheduling against the real kernel.

use coreloop_runtime::sys::Errno;
use coreloop_runtime::sys::io::{self, fcntl_cmd::*};
use coreloop_runtime::sys::resource::*;
use coreloop_runtime::sys::sched;
use coreloop_runtime::sys::signal::*;
use coreloop_runtime::sys::timerfd::*;
use std::time::Duration;

#[test]
fn timerfd_fires() {
    let t = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK).unwrap();
    assert_ne!(io::fcntl(t.raw(), F_GETFD, 0).unwrap() & FD_CLOEXEC, 0);
    assert_eq!(timerfd_read(t.raw()), Err(Errno::EAGAIN), "not armed yet");

    let spec = Itimerspec {
        it_interval: Timespec::default(),
        it_value: Timespec::from_duration(Duration::from_millis(10)),
    };
    let old = timerfd_settime(t.raw(), 0, &spec).unwrap();
    assert_eq!(old, Itimerspec::default());
    std::thread::sleep(Duration::from_millis(30));
    assert!(timerfd_read(t.raw()).unwrap() >= 1);
    assert_eq!(
        timerfd_read(t.raw()),
        Err(Errno::EAGAIN),
        "one-shot: read resets it"
    );
}

#[test]
fn timerfd_absolute_and_periodic() {
    let t = timerfd_create(CLOCK_MONOTONIC, 0).unwrap();
    let now = clock_gettime(CLOCK_MONOTONIC).unwrap();
    let at = Timespec::from_duration(now.as_duration().unwrap() + Duration::from_millis(5));
    let spec = Itimerspec {
        it_interval: Timespec::from_duration(Duration::from_millis(5)),
        it_value: at,
    };
    timerfd_settime(t.raw(), TFD_TIMER_ABSTIME, &spec).unwrap();
    let left = timerfd_gettime(t.raw()).unwrap();
    assert_eq!(left.it_interval, spec.it_interval);
    // Blocking read: returns once the first expiry has passed.
    assert!(timerfd_read(t.raw()).unwrap() >= 1);
    std::thread::sleep(Duration::from_millis(25));
    assert!(
        timerfd_read(t.raw()).unwrap() >= 2,
        "periodic timer kept counting"
    );

    // Disarm.
    let off = Itimerspec::default();
    timerfd_settime(t.raw(), 0, &off).unwrap();
    assert_eq!(timerfd_gettime(t.raw()).unwrap(), off);
}

#[test]
fn clock_gettime_agrees_with_libc() {
    let mine = clock_gettime(CLOCK_REALTIME).unwrap();
    let std_now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    assert!((mine.tv_sec - std_now.as_secs() as i64).abs() <= 1);
    let a = clock_gettime(CLOCK_MONOTONIC).unwrap();
    let b = clock_gettime(CLOCK_MONOTONIC).unwrap();
    assert!(b >= a);
    assert!((0..1_000_000_000).contains(&a.tv_nsec));
    assert_eq!(clock_gettime(12345), Err(Errno::EINVAL));
}

#[test]
fn signalfd_reads_a_blocked_signal() {
    // The mask is per thread: do it all on a thread of our own, so no other test's thread has
    // SIGUSR1 blocked or receives it. tgkill aims the signal at this thread only.
    std::thread::spawn(|| {
        let set = SigSet::of(&[SIGUSR1]);
        let old = rt_sigprocmask(SIG_BLOCK, Some(&set)).unwrap();
        assert!(!old.contains(SIGUSR1));
        let now = rt_sigprocmask(SIG_BLOCK, None).unwrap();
        assert!(now.contains(SIGUSR1));

        let sfd = signalfd(&set, SFD_NONBLOCK).unwrap();
        assert_ne!(io::fcntl(sfd.raw(), F_GETFD, 0).unwrap() & FD_CLOEXEC, 0);
        assert_eq!(signalfd_read(sfd.raw()), Err(Errno::EAGAIN));

        let tid = sched::gettid();
        tgkill(sched::getpid(), tid, SIGUSR1).unwrap();
        let info = signalfd_read(sfd.raw()).unwrap();
        assert_eq!(info.ssi_signo, SIGUSR1);
        assert_eq!(info.ssi_pid, std::process::id());
        assert_eq!(signalfd_read(sfd.raw()), Err(Errno::EAGAIN), "consumed");

        // Nothing is pending any more, so unblocking is safe.
        rt_sigprocmask(SIG_SETMASK, Some(&old)).unwrap();
    })
    .join()
    .unwrap();
}

#[test]
fn sigset_bits_and_kill_probe() {
    let mut s = SigSet::empty();
    s.add(SIGINT).add(SIGTERM).add(64).add(0).add(65);
    assert!(s.contains(SIGINT) && s.contains(SIGTERM) && s.contains(64));
    assert!(!s.contains(SIGHUP) && !s.contains(0));
    assert_eq!(s.bits(), (1 << 1) | (1 << 14) | (1 << 63));
    s.remove(SIGINT);
    assert!(!s.contains(SIGINT));
    assert_eq!(size_of::<SigSet>(), 8);
    // Signal 0 checks that the process exists without sending anything.
    kill(sched::getpid(), 0).unwrap();
    assert_eq!(kill(sched::getpid(), 99), Err(Errno::EINVAL));
}

#[test]
fn prlimit_matches_getrlimit() {
    let mine = getrlimit(RLIMIT_NOFILE).unwrap();
    let mut theirs = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: theirs is a writable rlimit for the call.
    let rc = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut theirs) };
    assert_eq!(rc, 0);
    assert_eq!(mine.cur, theirs.rlim_cur);
    assert_eq!(mine.max, theirs.rlim_max);
    assert!(mine.cur <= mine.max);

    // Setting the soft limit to its current value changes nothing and is always allowed.
    let old = prlimit64(0, RLIMIT_NOFILE, Some(&mine)).unwrap();
    assert_eq!(old, mine);
    assert!(getrlimit(RLIMIT_MEMLOCK).is_ok());
}

#[test]
fn affinity_round_trip() {
    // A thread of our own, so changing its affinity touches no other test.
    std::thread::spawn(|| {
        let set = sched::sched_getaffinity(0).unwrap();
        assert!(set.count() >= 1);
        sched::sched_setaffinity(0, &set).unwrap();
        assert_eq!(sched::sched_getaffinity(0).unwrap(), set);
        // Pin to one allowed CPU, and back.
        let first = set.cpus().next().unwrap();
        let mut one = sched::CpuSet::new();
        one.set(first);
        sched::sched_setaffinity(0, &one).unwrap();
        assert_eq!(sched::sched_getaffinity(0).unwrap(), one);
        sched::sched_setaffinity(0, &set).unwrap();
    })
    .join()
    .unwrap();
}

#[test]
fn gettid_and_getpid_match_libc() {
    // SAFETY: gettid and getpid take no arguments and cannot fail.
    let (tid, pid) = unsafe { (libc::gettid(), libc::getpid()) };
    assert_eq!(sched::gettid(), tid);
    assert_eq!(sched::getpid(), pid);
    let other = std::thread::spawn(sched::gettid).join().unwrap();
    assert_ne!(other, sched::gettid());
}

#[test]
fn layouts_and_constants_match_libc() {
    assert_eq!(size_of::<SignalfdSiginfo>(), 128);
    assert_eq!(
        size_of::<SignalfdSiginfo>(),
        size_of::<libc::signalfd_siginfo>()
    );
    assert_eq!(
        std::mem::offset_of!(SignalfdSiginfo, ssi_arch),
        std::mem::offset_of!(libc::signalfd_siginfo, ssi_arch)
    );
    assert_eq!(size_of::<Itimerspec>(), size_of::<libc::itimerspec>());
    assert_eq!(size_of::<Rlimit>(), size_of::<libc::rlimit64>());
    let c = |a: u32, b: i32| assert_eq!(a as i64, b as i64);
    c(CLOCK_REALTIME, libc::CLOCK_REALTIME);
    c(CLOCK_MONOTONIC, libc::CLOCK_MONOTONIC);
    c(CLOCK_BOOTTIME, libc::CLOCK_BOOTTIME);
    c(TFD_CLOEXEC, libc::TFD_CLOEXEC);
    c(TFD_NONBLOCK, libc::TFD_NONBLOCK);
    c(TFD_TIMER_ABSTIME, libc::TFD_TIMER_ABSTIME);
    c(SFD_CLOEXEC, libc::SFD_CLOEXEC);
    c(SFD_NONBLOCK, libc::SFD_NONBLOCK);
    c(SIG_BLOCK, libc::SIG_BLOCK);
    c(SIG_UNBLOCK, libc::SIG_UNBLOCK);
    c(SIG_SETMASK, libc::SIG_SETMASK);
    for (mine, theirs) in [
        (SIGHUP, libc::SIGHUP),
        (SIGINT, libc::SIGINT),
        (SIGQUIT, libc::SIGQUIT),
        (SIGABRT, libc::SIGABRT),
        (SIGKILL, libc::SIGKILL),
        (SIGUSR1, libc::SIGUSR1),
        (SIGSEGV, libc::SIGSEGV),
        (SIGUSR2, libc::SIGUSR2),
        (SIGPIPE, libc::SIGPIPE),
        (SIGALRM, libc::SIGALRM),
        (SIGTERM, libc::SIGTERM),
        (SIGCHLD, libc::SIGCHLD),
        (SIGCONT, libc::SIGCONT),
        (SIGSTOP, libc::SIGSTOP),
        (SIGWINCH, libc::SIGWINCH),
    ] {
        c(mine, theirs);
    }
    c(RLIMIT_NOFILE, libc::RLIMIT_NOFILE as i32);
    c(RLIMIT_MEMLOCK, libc::RLIMIT_MEMLOCK as i32);
    c(RLIMIT_STACK, libc::RLIMIT_STACK as i32);
    c(RLIMIT_CORE, libc::RLIMIT_CORE as i32);
    c(RLIMIT_NPROC, libc::RLIMIT_NPROC as i32);
    c(RLIMIT_AS, libc::RLIMIT_AS as i32);
    assert_eq!(RLIM_INFINITY, libc::RLIM64_INFINITY);
}
