//! `Errno`: every named value equals libc's, and conversions to `io::Error` keep the code.

use coreloop_runtime::sys::Errno;
use std::io;

/// Every name `Errno::all()` holds, with libc's value for it.
const LIBC: &[(&str, i32)] = &[
    ("EPERM", libc::EPERM),
    ("ENOENT", libc::ENOENT),
    ("ESRCH", libc::ESRCH),
    ("EINTR", libc::EINTR),
    ("EIO", libc::EIO),
    ("ENXIO", libc::ENXIO),
    ("E2BIG", libc::E2BIG),
    ("ENOEXEC", libc::ENOEXEC),
    ("EBADF", libc::EBADF),
    ("ECHILD", libc::ECHILD),
    ("EAGAIN", libc::EAGAIN),
    ("ENOMEM", libc::ENOMEM),
    ("EACCES", libc::EACCES),
    ("EFAULT", libc::EFAULT),
    ("ENOTBLK", libc::ENOTBLK),
    ("EBUSY", libc::EBUSY),
    ("EEXIST", libc::EEXIST),
    ("EXDEV", libc::EXDEV),
    ("ENODEV", libc::ENODEV),
    ("ENOTDIR", libc::ENOTDIR),
    ("EISDIR", libc::EISDIR),
    ("EINVAL", libc::EINVAL),
    ("ENFILE", libc::ENFILE),
    ("EMFILE", libc::EMFILE),
    ("ENOTTY", libc::ENOTTY),
    ("ETXTBSY", libc::ETXTBSY),
    ("EFBIG", libc::EFBIG),
    ("ENOSPC", libc::ENOSPC),
    ("ESPIPE", libc::ESPIPE),
    ("EROFS", libc::EROFS),
    ("EMLINK", libc::EMLINK),
    ("EPIPE", libc::EPIPE),
    ("EDOM", libc::EDOM),
    ("ERANGE", libc::ERANGE),
    ("EDEADLK", libc::EDEADLK),
    ("ENAMETOOLONG", libc::ENAMETOOLONG),
    ("ENOLCK", libc::ENOLCK),
    ("ENOSYS", libc::ENOSYS),
    ("ENOTEMPTY", libc::ENOTEMPTY),
    ("ELOOP", libc::ELOOP),
    ("ENOMSG", libc::ENOMSG),
    ("EIDRM", libc::EIDRM),
    ("ECHRNG", libc::ECHRNG),
    ("EL2NSYNC", libc::EL2NSYNC),
    ("EL3HLT", libc::EL3HLT),
    ("EL3RST", libc::EL3RST),
    ("ELNRNG", libc::ELNRNG),
    ("EUNATCH", libc::EUNATCH),
    ("ENOCSI", libc::ENOCSI),
    ("EL2HLT", libc::EL2HLT),
    ("EBADE", libc::EBADE),
    ("EBADR", libc::EBADR),
    ("EXFULL", libc::EXFULL),
    ("ENOANO", libc::ENOANO),
    ("EBADRQC", libc::EBADRQC),
    ("EBADSLT", libc::EBADSLT),
    ("EBFONT", libc::EBFONT),
    ("ENOSTR", libc::ENOSTR),
    ("ENODATA", libc::ENODATA),
    ("ETIME", libc::ETIME),
    ("ENOSR", libc::ENOSR),
    ("ENONET", libc::ENONET),
    ("ENOPKG", libc::ENOPKG),
    ("EREMOTE", libc::EREMOTE),
    ("ENOLINK", libc::ENOLINK),
    ("EADV", libc::EADV),
    ("ESRMNT", libc::ESRMNT),
    ("ECOMM", libc::ECOMM),
    ("EPROTO", libc::EPROTO),
    ("EMULTIHOP", libc::EMULTIHOP),
    ("EDOTDOT", libc::EDOTDOT),
    ("EBADMSG", libc::EBADMSG),
    ("EOVERFLOW", libc::EOVERFLOW),
    ("ENOTUNIQ", libc::ENOTUNIQ),
    ("EBADFD", libc::EBADFD),
    ("EREMCHG", libc::EREMCHG),
    ("ELIBACC", libc::ELIBACC),
    ("ELIBBAD", libc::ELIBBAD),
    ("ELIBSCN", libc::ELIBSCN),
    ("ELIBMAX", libc::ELIBMAX),
    ("ELIBEXEC", libc::ELIBEXEC),
    ("EILSEQ", libc::EILSEQ),
    ("ERESTART", libc::ERESTART),
    ("ESTRPIPE", libc::ESTRPIPE),
    ("EUSERS", libc::EUSERS),
    ("ENOTSOCK", libc::ENOTSOCK),
    ("EDESTADDRREQ", libc::EDESTADDRREQ),
    ("EMSGSIZE", libc::EMSGSIZE),
    ("EPROTOTYPE", libc::EPROTOTYPE),
    ("ENOPROTOOPT", libc::ENOPROTOOPT),
    ("EPROTONOSUPPORT", libc::EPROTONOSUPPORT),
    ("ESOCKTNOSUPPORT", libc::ESOCKTNOSUPPORT),
    ("EOPNOTSUPP", libc::EOPNOTSUPP),
    ("EPFNOSUPPORT", libc::EPFNOSUPPORT),
    ("EAFNOSUPPORT", libc::EAFNOSUPPORT),
    ("EADDRINUSE", libc::EADDRINUSE),
    ("EADDRNOTAVAIL", libc::EADDRNOTAVAIL),
    ("ENETDOWN", libc::ENETDOWN),
    ("ENETUNREACH", libc::ENETUNREACH),
    ("ENETRESET", libc::ENETRESET),
    ("ECONNABORTED", libc::ECONNABORTED),
    ("ECONNRESET", libc::ECONNRESET),
    ("ENOBUFS", libc::ENOBUFS),
    ("EISCONN", libc::EISCONN),
    ("ENOTCONN", libc::ENOTCONN),
    ("ESHUTDOWN", libc::ESHUTDOWN),
    ("ETOOMANYREFS", libc::ETOOMANYREFS),
    ("ETIMEDOUT", libc::ETIMEDOUT),
    ("ECONNREFUSED", libc::ECONNREFUSED),
    ("EHOSTDOWN", libc::EHOSTDOWN),
    ("EHOSTUNREACH", libc::EHOSTUNREACH),
    ("EALREADY", libc::EALREADY),
    ("EINPROGRESS", libc::EINPROGRESS),
    ("ESTALE", libc::ESTALE),
    ("EUCLEAN", libc::EUCLEAN),
    ("ENOTNAM", libc::ENOTNAM),
    ("ENAVAIL", libc::ENAVAIL),
    ("EISNAM", libc::EISNAM),
    ("EREMOTEIO", libc::EREMOTEIO),
    ("EDQUOT", libc::EDQUOT),
    ("ENOMEDIUM", libc::ENOMEDIUM),
    ("EMEDIUMTYPE", libc::EMEDIUMTYPE),
    ("ECANCELED", libc::ECANCELED),
    ("ENOKEY", libc::ENOKEY),
    ("EKEYEXPIRED", libc::EKEYEXPIRED),
    ("EKEYREVOKED", libc::EKEYREVOKED),
    ("EKEYREJECTED", libc::EKEYREJECTED),
    ("EOWNERDEAD", libc::EOWNERDEAD),
    ("ENOTRECOVERABLE", libc::ENOTRECOVERABLE),
    ("ERFKILL", libc::ERFKILL),
    ("EHWPOISON", libc::EHWPOISON),
];

#[test]
fn every_errno_matches_libc() {
    for &(name, num, desc) in Errno::all() {
        let libc_num = LIBC
            .iter()
            .find(|e| e.0 == name)
            .unwrap_or_else(|| panic!("{name} is missing from the libc table"))
            .1;
        assert_eq!(num, libc_num, "{name}");
        assert!(!desc.is_empty(), "{name} has no description");
        let e = Errno::from_raw(num);
        assert_eq!(e.name(), Some(name));
    }
    assert_eq!(Errno::all().len(), LIBC.len());
}

#[test]
fn names_are_unique_and_constants_agree() {
    let mut nums: Vec<i32> = Errno::all().iter().map(|e| e.1).collect();
    nums.sort_unstable();
    nums.dedup();
    assert_eq!(nums.len(), Errno::all().len());
    assert_eq!(Errno::EWOULDBLOCK, Errno::EAGAIN);
    assert_eq!(Errno::ECONNREFUSED.raw(), libc::ECONNREFUSED);
}

#[test]
fn io_error_keeps_kind_and_code() {
    let cases = [
        (Errno::ECONNREFUSED, io::ErrorKind::ConnectionRefused),
        (Errno::ECONNRESET, io::ErrorKind::ConnectionReset),
        (Errno::EAGAIN, io::ErrorKind::WouldBlock),
        (Errno::ENOENT, io::ErrorKind::NotFound),
        (Errno::EACCES, io::ErrorKind::PermissionDenied),
        (Errno::EINVAL, io::ErrorKind::InvalidInput),
        (Errno::EINTR, io::ErrorKind::Interrupted),
        (Errno::EPIPE, io::ErrorKind::BrokenPipe),
        (Errno::EEXIST, io::ErrorKind::AlreadyExists),
        (Errno::EADDRINUSE, io::ErrorKind::AddrInUse),
        (Errno::ETIMEDOUT, io::ErrorKind::TimedOut),
    ];
    for (e, kind) in cases {
        let err = io::Error::from(e);
        assert_eq!(err.kind(), kind, "{e:?}");
        assert_eq!(err.raw_os_error(), Some(e.raw()), "{e:?}");
    }
}

#[test]
fn display_and_debug() {
    assert_eq!(
        Errno::EAGAIN.to_string(),
        "EAGAIN: Resource temporarily unavailable"
    );
    assert_eq!(format!("{:?}", Errno::EINTR), "EINTR");
    assert_eq!(format!("{:?}", Errno::from_raw(4000)), "Errno(4000)");
    assert_eq!(Errno::from_raw(4000).to_string(), "unknown error 4000");
}

#[test]
fn raw_returns_split_at_minus_4095() {
    assert_eq!(Errno::result(-11), Err(Errno::EAGAIN));
    assert_eq!(Errno::result(-1), Err(Errno::EPERM));
    assert_eq!(Errno::result(-4095), Err(Errno::from_raw(4095)));
    // Just outside the error range: a value (e.g. a large pointer), not an error.
    assert_eq!(Errno::result(-4096), Ok((-4096isize) as usize));
    assert_eq!(Errno::result(0), Ok(0));
    assert_eq!(Errno::result(7), Ok(7));
}
