//! TLS trust on every OS (these run on Linux, macOS and Windows, and under Wine in
//! `.ci/platforms.sh`): a private CA given in `SSL_CERT_FILE` or `SSL_CERT_DIR` is trusted,
//! an unknown CA is refused before any request is sent, unusable `SSL_CERT_*` entries
//! are named in the message, and a server that does not answer in TLS is said at once. The server is an in-process rustls server on 127.0.0.1 with
//! certificates from a fresh private CA (rcgen).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::json;

use crate::util::{Cmd, dest, results};

/// A private CA: its certificate as PEM and what signs with it.
struct Ca {
    pem: String,
    issuer: Issuer<'static, KeyPair>,
}

fn ca(name: &str) -> Ca {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    let key = KeyPair::generate().unwrap();
    let pem = params.self_signed(&key).unwrap().pem();
    Ca { pem, issuer: Issuer::new(params, key) }
}

/// An HTTPS server on 127.0.0.1 whose certificate (localhost, 127.0.0.1) `ca` signed; it
/// answers every request with one published destination and records the request paths.
struct TlsServer {
    port: u16,
    paths: Arc<Mutex<Vec<String>>>,
}

impl TlsServer {
    fn new(ca: &Ca) -> TlsServer {
        let key = KeyPair::generate().unwrap();
        let params = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
        let cert = params.signed_by(&key, &ca.issuer).unwrap();
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let config =
            rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_no_client_auth()
                .with_single_cert(vec![cert.der().clone()], key)
                .unwrap();
        let config = Arc::new(config);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let paths = Arc::new(Mutex::new(Vec::new()));
        let recorded = paths.clone();
        std::thread::spawn(move || {
            for tcp in listener.incoming().flatten() {
                let (config, recorded) = (config.clone(), recorded.clone());
                std::thread::spawn(move || serve(config, tcp, &recorded));
            }
        });
        TlsServer { port, paths }
    }

    fn base(&self, host: &str) -> String {
        format!("https://{host}:{}/api/v1", self.port)
    }

    fn paths(&self) -> Vec<String> {
        self.paths.lock().unwrap().clone()
    }
}

fn serve(config: Arc<rustls::ServerConfig>, tcp: TcpStream, paths: &Mutex<Vec<String>>) {
    let _ = tcp.set_read_timeout(Some(Duration::from_secs(20)));
    let mut tls = rustls::StreamOwned::new(rustls::ServerConnection::new(config).unwrap(), tcp);
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match tls.read(&mut buf) {
            Ok(n) if n > 0 => head.extend_from_slice(&buf[..n]),
            _ => return, // the client refused the certificate, or went away
        }
    }
    let head = String::from_utf8_lossy(&head);
    paths.lock().unwrap().push(head.split(' ').nth(1).unwrap_or_default().to_owned());
    let body = results(json!([dest("x", "published")])).to_string();
    let answer = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = tls.write_all(answer.as_bytes());
    tls.conn.send_close_notify();
    let _ = tls.flush();
}

/// Writes `text` to a fresh file (kept alive by the returned dir) and returns its path.
fn file_with(name: &str, text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

fn s(p: &std::path::Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn a_private_ca_in_ssl_cert_file_is_trusted() {
    let ca = ca("Test Corp CA");
    let server = TlsServer::new(&ca);
    let (_dir, pem) = file_with("corp.pem", &ca.pem);
    let run = Cmd::github(&server.base("localhost")).env("SSL_CERT_FILE", s(&pem)).run();
    run.expect_code(0);
    assert_eq!(run.output("status"), "published");
    assert_eq!(server.paths(), ["/api/v1/posts/post_1/results"]);
}

#[test]
fn a_private_ca_in_ssl_cert_dir_is_trusted_among_other_entries() {
    // An IP address as the host, and the CA in the second of two directories.
    let ca = ca("Test Corp Dir CA");
    let server = TlsServer::new(&ca);
    let (dir, _) = file_with("corp.crt", &ca.pem);
    let missing = dir.path().join("no-such-dir");
    let dirs = std::env::join_paths([missing.as_path(), dir.path()]).unwrap();
    let run = Cmd::github(&server.base("127.0.0.1")).env("SSL_CERT_DIR", dirs.to_str().unwrap()).run();
    run.expect_code(0);
    assert_eq!(server.paths().len(), 1);
}

/// Refused at once: the trust store will not change before the next try (with the default
/// max-errors and timeout, trying again took the whole five minutes).
#[test]
fn an_unknown_ca_is_refused_before_any_request() {
    let server = TlsServer::new(&ca("Unknown CA"));
    let (_dir, other) = file_with("other.pem", &ca("Another CA").pem);
    let run = Cmd::github(&server.base("localhost")).env("SSL_CERT_FILE", s(&other)).run();
    run.expect_code(4);
    assert!(!run.stdout.contains("trying again"), "{}", run.stdout);
    let m = run.output("message").to_lowercase();
    assert!(m.contains("certificate") && !m.contains("http client"), "{m}");
    // Names the server to check (the URL's host, or a proxy that inspects TLS).
    let at = format!("the certificate of the server at localhost:{} is not trusted", server.port);
    assert!(m.contains(&at), "{m}");
    assert_eq!(server.paths(), Vec::<String>::new(), "no request (and no key) over an untrusted connection");
}

/// A plain HTTP server behind an https URL (the wrong port, a proxy without TLS) answers
/// the handshake with an HTTP error page: said at once with what to check, not asked
/// again until the deadline ("received corrupt message" ten times over).
#[test]
fn a_plain_http_server_behind_an_https_url_is_said_at_once() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(Mutex::new(0));
    let counted = Arc::clone(&accepted);
    std::thread::spawn(move || {
        for mut tcp in listener.incoming().flatten() {
            *counted.lock().unwrap() += 1;
            let _ = tcp.read(&mut [0u8; 1024]);
            let _ =
                tcp.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        }
    });
    let run = Cmd::github(&format!("https://127.0.0.1:{port}/api/v1")).input("timeout", "20s").run();
    run.expect_code(4);
    assert!(run.elapsed < Duration::from_secs(5), "took {:?}", run.elapsed);
    assert_eq!(*accepted.lock().unwrap(), 1, "asked once");
    let m = run.output("message");
    assert!(
        m.contains(&format!(
            "the server at 127.0.0.1:{port} does not answer in TLS (plain HTTP on an https URL?): check the URL's \
             scheme and port"
        )),
        "{m}"
    );
}

#[test]
fn unusable_ssl_cert_entries_are_named_when_the_certificate_is_refused() {
    let server = TlsServer::new(&ca("Unknown CA"));
    let (dir, junk) = file_with("junk.pem", "not a certificate\n");
    let missing = dir.path().join("missing.pem");
    let run = Cmd::github(&server.base("localhost"))
        .env("SSL_CERT_FILE", s(&missing))
        .env("SSL_CERT_DIR", s(&junk))
        .input("max-errors", "1")
        .run();
    // The client still starts: the bundled roots and the OS store remain.
    run.expect_code(4);
    let m = run.output("message");
    assert!(m.contains(&format!("SSL_CERT_FILE {} cannot be read", s(&missing))), "{m}");
    assert!(m.contains(&format!("SSL_CERT_DIR entry {} cannot be read", s(&junk))), "{m}");
}

/// A named pipe no one writes to, given as `SSL_CERT_FILE`: opening it would block the one
/// thread that keeps the deadline (a hang past it that ignored SIGTERM). It is named as not
/// a file, and the run ends within its deadline.
#[cfg(unix)]
#[test]
fn a_pipe_as_ssl_cert_file_is_named_not_waited_on() {
    let server = TlsServer::new(&ca("Unknown CA"));
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("ca.fifo");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let run = Cmd::github(&server.base("localhost"))
        .env("SSL_CERT_FILE", s(&fifo))
        .input("max-errors", "1")
        .input("timeout", "5s")
        .run();
    run.expect_code(4);
    let m = run.output("message");
    assert!(m.contains(&format!("SSL_CERT_FILE {} cannot be read: not a regular file", s(&fifo))), "{m}");
    assert!(run.elapsed < std::time::Duration::from_secs(5), "{:?}", run.elapsed);
}
