//! Security: hostile API text cannot inject workflow commands, outputs or markup; the key
//! never leaks even when the API echoes it; proxies are honoured; TLS trusts a corporate
//! CA from SSL_CERT_FILE and works with no system trust store at all.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::server::{RESULTS, Reply, Server};
use crate::util::{Cmd, KEY, dest, results};

const HOSTILE: &str = "::error::pwned\n::set-output name=status::published\n##[error]legacy %0A%25 \
    | <script>alert(1)</script> **bold** [link](javascript:x) `code` ghadelimiter_0123\r\nEOF";

#[test]
fn hostile_api_text_stays_inert_everywhere() {
    let evil = json!({
        "account_id": 1, "account_name": HOSTILE, "platform": format!("x\n{HOSTILE}"), "status": "failed",
        "error": HOSTILE, "attempts": 1, "next_retry_at": null, "platform_post_url": "javascript:alert(1)"
    });
    let mut ok = dest("instagram", "published");
    ok["platform_post_url"] = json!("https://instagram.example/p/1?a=(b)|c");
    let server = Server::new().results(vec![Reply::ok(results(json!([ok, evil])))]);
    let run = Cmd::github(&server.base_url()).run();
    // `util` already checked that no line we printed is a command we did not write.
    run.expect_code(1);
    assert_eq!(run.output("status"), "partial", "a value must not set another output");
    let results = run.results();
    assert_eq!(results[1]["error"], HOSTILE, "values round-trip exactly through GITHUB_OUTPUT");
    let annotations: Vec<&str> = run.stdout.lines().filter(|l| l.starts_with("::error")).collect();
    assert_eq!(annotations.len(), 2, "why the step failed, then the destination:\n{}", run.stdout);
    assert!(annotations[0].contains("destinations failed"), "{}", annotations[0]);
    assert!(
        annotations[1].contains("pwned ::set-output") && annotations[1].contains("%250A%2525"),
        "{}",
        annotations[1]
    );
    assert!(!run.summary.contains("](javascript") && !run.summary.contains("**bold**"));
    for bad in ["<script>", "](", "`code`"] {
        let in_table = run.summary.lines().filter(|l| l.starts_with("| ❌")).any(|l| l.contains(bad));
        assert!(!in_table, "{bad} reached the summary table:\n{}", run.summary);
    }
    assert!(
        run.summary.contains("[view post](<https://instagram.example/p/1?a=(b)\\|c>)"),
        "{}",
        run.summary
    );
    let table_rows = run.summary.lines().filter(|l| l.starts_with("| ")).count();
    assert_eq!(table_rows, 3, "header plus two rows; hostile text must not add rows:\n{}", run.summary);
}

#[test]
fn a_key_echoed_by_the_api_is_scrubbed() {
    let body = json!({"error": {"code": "unauthorized", "message": format!("key {KEY} is revoked")}});
    let server = Server::new().results(vec![Reply::status(401, body)]);
    let run = Cmd::github(&server.base_url()).results_file().run();
    run.expect_code(4);
    assert!(run.output("message").contains("key *** is revoked"), "{}", run.output("message"));
}

#[test]
fn a_key_spelled_with_json_escapes_is_scrubbed_too() {
    let escaped = KEY.replace('_', "\\u005f");
    let body = format!(
        r#"{{"data": {{"results": [{{"platform": "x", "account_id": 1, "account_name": "@{escaped}", "status": "failed", "error": "{escaped}"}}]}}}}"#
    );
    let server = Server::new().results(vec![Reply::Raw(200, vec![], body.into_bytes())]);
    let run = Cmd::github(&server.base_url()).results_file().run();
    run.expect_code(1);
    assert_eq!(run.results()[0]["account_name"], "@***");
}

#[test]
fn a_key_split_by_truncation_is_still_scrubbed() {
    // The message is cut at 300 characters, in the middle of the key.
    let body = json!({"error": {"code": "unauthorized", "message": format!("{}{KEY}", "x".repeat(280))}});
    let server = Server::new().results(vec![Reply::status(401, body)]);
    Cmd::github(&server.base_url()).run().expect_code(4);
    let mut echo = dest("x", "failed");
    echo["account_name"] = json!(format!("@{KEY}"));
    echo["error"] = json!(format!("{}{KEY} rejected", "e".repeat(290)));
    echo["platform_post_url"] = json!(format!("https://x.example/{KEY}"));
    let server = Server::new().results(vec![Reply::ok(results(json!([echo])))]);
    let run = Cmd::github(&server.base_url()).results_file().run();
    run.expect_code(1);
    assert_eq!(run.results()[0]["account_name"], "@***");
}

#[test]
fn a_loopback_api_never_goes_through_a_proxy() {
    // A proxy would see the key in clear over plain http.
    let api = Server::new().results(vec![Reply::ok(results(json!([dest("x", "published")])))]);
    let proxy = Server::new();
    let proxy_url = format!("http://127.0.0.1:{}", proxy.port());
    Cmd::github(&api.base_url())
        .env("HTTP_PROXY", &proxy_url)
        .env("http_proxy", &proxy_url)
        .run()
        .expect_code(0);
    assert_eq!(proxy.requests().len(), 0);
    assert_eq!(api.hits("GET", RESULTS), 1);
    let run = Cmd::plain().env("HTTP_PROXY", &proxy_url).env("HTTPS_PROXY", &proxy_url).run_args(&["--demo"]);
    run.expect_code(1);
    assert_eq!(proxy.requests().len(), 0, "the simulator is reached directly too");
}

#[test]
fn no_proxy_bypasses_the_https_proxy() {
    let proxy = Server::new();
    let run = Cmd::github("https://api.posteverywhere.test/api/v1")
        .env("HTTPS_PROXY", &format!("http://127.0.0.1:{}", proxy.port()))
        .env("NO_PROXY", "api.posteverywhere.test")
        .input("max-errors", "1")
        .run();
    run.expect_code(4);
    assert_eq!(proxy.requests().len(), 0);
}

#[test]
fn https_proxy_gets_a_connect_tunnel() {
    let proxy =
        Server::new().route("CONNECT", "api.posteverywhere.test:443", vec![Reply::status(403, json!({}))]);
    let run = Cmd::github("https://api.posteverywhere.test/api/v1")
        .env("HTTPS_PROXY", &format!("http://127.0.0.1:{}", proxy.port()))
        .input("max-errors", "1")
        .run();
    run.expect_code(4);
    assert_eq!(proxy.hits("CONNECT", "api.posteverywhere.test:443"), 1, "{:?}", proxy.requests());
}

#[cfg(target_os = "linux")] // OpenSSL s_server; macOS/Windows verify against their own stores
fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl must be installed (.ci/run installs it)");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A TLS server with a certificate from a fresh private CA, serving the results file.
#[cfg(target_os = "linux")] // OpenSSL s_server; macOS/Windows verify against their own stores
struct TlsServer {
    child: Child,
    port: u16,
    ca: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

#[cfg(target_os = "linux")] // OpenSSL s_server; macOS/Windows verify against their own stores
impl Drop for TlsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(target_os = "linux")] // OpenSSL s_server; macOS/Windows verify against their own stores
fn tls_server() -> TlsServer {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    openssl(
        d,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=Test Corp CA",
        ],
    );
    openssl(
        d,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "srv.key",
            "-out",
            "srv.csr",
            "-subj",
            "/CN=localhost",
        ],
    );
    std::fs::write(d.join("ext.cnf"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n").unwrap();
    openssl(
        d,
        &[
            "x509",
            "-req",
            "-in",
            "srv.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "srv.pem",
            "-days",
            "2",
            "-extfile",
            "ext.cnf",
        ],
    );
    let www = d.join("www/api/v1/posts/post_1");
    std::fs::create_dir_all(&www).unwrap();
    std::fs::write(www.join("results"), results(json!([dest("x", "published")])).to_string()).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new("openssl")
        .args([
            "s_server",
            "-quiet",
            "-accept",
            &format!("127.0.0.1:{port}"),
            "-cert",
            "../srv.pem",
            "-key",
            "../srv.key",
            "-WWW",
        ])
        .current_dir(d.join("www"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(start.elapsed() < Duration::from_secs(10), "openssl s_server did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    TlsServer { child, port, ca: d.join("ca.pem"), _dir: dir }
}

#[cfg(target_os = "linux")] // OpenSSL s_server; macOS/Windows verify against their own stores
#[test]
fn a_corporate_ca_from_ssl_cert_file_is_trusted() {
    let tls = tls_server();
    let base = format!("https://localhost:{}/api/v1", tls.port);
    let run = Cmd::github(&base).env("SSL_CERT_FILE", tls.ca.to_str().unwrap()).run();
    run.expect_code(0);
    assert_eq!(run.output("status"), "published");
    // Without the CA the same server is untrusted: see `works_with_no_system_trust_store`.
}

#[cfg(target_os = "linux")] // OpenSSL s_server; macOS/Windows verify against their own stores
#[test]
fn works_with_no_system_trust_store() {
    // No CA bundle anywhere: the client still starts (bundled web roots) and completes a
    // real TLS handshake, which rejects the private CA it does not know.
    let tls = tls_server();
    let run = Cmd::github(&format!("https://localhost:{}/api/v1", tls.port))
        .env("SSL_CERT_FILE", "/nonexistent/ca.pem")
        .env("SSL_CERT_DIR", "/nonexistent")
        .input("max-errors", "1")
        .run();
    run.expect_code(4);
    let m = run.output("message").to_lowercase();
    assert!(!m.contains("http client"), "{m}");
    assert!(m.contains("certificate") || m.contains("unknownissuer"), "{m}");
}
