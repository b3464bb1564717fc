//! TLS over the compat adapter on both reactors: a tokio-rustls server and client (ring
//! provider, a self-signed certificate made by rcgen) on coreloop exchange 1 MiB in both
//! directions and close cleanly (close_notify both ways).

use coreloop::net::{TcpListener, TcpStream};
use coreloop::testing::pattern;
use coreloop_compat::Compat;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore, ServerConfig};
use tokio_rustls::{TlsAcceptor, TlsConnector};

fn configs() -> (TlsAcceptor, TlsConnector) {
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let cert = ck.cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(ck.signing_key.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key)
        .unwrap();
    let mut roots = RootCertStore::empty();
    roots.add(cert).unwrap();
    let client = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    (
        TlsAcceptor::from(Arc::new(server)),
        TlsConnector::from(Arc::new(client)),
    )
}

#[coreloop::test]
async fn tls_round_trip() {
    let (acceptor, connector) = configs();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    // The server echoes every byte, then closes after the client does.
    let server = coreloop::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let mut tls = acceptor.accept(Compat::new(stream)).await.unwrap();
        let mut buf = vec![0u8; 10_000];
        let mut echoed = 0;
        loop {
            let n = tls.read(&mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            tls.write_all(&buf[..n]).await.unwrap();
            echoed += n;
        }
        tls.shutdown().await.unwrap();
        echoed
    });
    let stream = TcpStream::connect(addr).await.unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    let tls = connector.connect(name, Compat::new(stream)).await.unwrap();
    let (mut rd, mut wr) = tokio::io::split(tls);
    let data = pattern(1 << 20, 0x5a);
    let sent = data.clone();
    let write = async move {
        wr.write_all(&sent).await.unwrap();
        wr.shutdown().await.unwrap();
    };
    let read = async move {
        let mut got = Vec::new();
        rd.read_to_end(&mut got).await.unwrap();
        got
    };
    let ((), got) = futures_util::future::join(write, read).await;
    assert_eq!(got.len(), data.len());
    assert!(got == data, "echoed bytes differ");
    assert_eq!(server.await.unwrap(), data.len());
}
