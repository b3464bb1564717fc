//! Issue 10, defect 10: a connection taken out of the runtime with `into_std` (as the docs
//! recommend for moving it to another core) must no longer wake the core it came from.

use coreloop_net::TcpListener;
use coreloop_runtime::{reactor_stats, reactor_test, time};
use std::io::Write;
use std::time::Duration;

reactor_test! {
    async fn a_handed_off_stream_no_longer_wakes_its_old_core() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut peer = std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (s, _) = l.accept().await.unwrap();
        // A read waits on it (registering it with the reactor), then gives up.
        let r = time::timeout(Duration::from_millis(10), s.read(Vec::with_capacity(8))).await;
        assert!(r.is_err());
        // Handed off: this core owns nothing now.
        let handed: std::net::TcpStream = s.into_std().unwrap();
        let before = reactor_stats().unwrap();
        for _ in 0..20 {
            peer.write_all(b"x").unwrap();
            time::sleep(Duration::from_millis(2)).await;
        }
        let after = reactor_stats().unwrap();
        drop(handed);
        let events = after.events - before.events;
        assert_eq!(
            events, 0,
            "a stream taken out with into_std still woke its old core {events} times"
        );
    }
}
