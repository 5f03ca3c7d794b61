//! What the HTTPS client trusts, decided the same way on every OS. A server certificate is
//! accepted when it chains to any of
//!   1. a CA in `SSL_CERT_FILE`, or in a file of a directory listed in `SSL_CERT_DIR`
//!      (separated by `:`, or `;` on Windows), read once when the client is built;
//!   2. the bundled Mozilla roots (`webpki-root-certs`);
//!   3. the OS store: on Linux the PEM files in /etc/ssl/certs and /etc/pki/tls/certs (where
//!      distributions install their bundle and the CAs added with update-ca-certificates or
//!      update-ca-trust); on macOS and Windows the system verifier (Keychain, CryptoAPI).
//!
//! 1 and 2 are checked in-process by webpki, identically everywhere. 3 is consulted only
//! when they refuse the certificate, and is loaded on first use, so a server with a public
//! certificate never costs a read of the OS store.

use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, Error, RootCertStore, SignatureScheme};

type Verifier = Arc<dyn ServerCertVerifier>;
type OsLoader = Box<dyn Fn(&Arc<CryptoProvider>) -> Option<Verifier> + Send + Sync>;

/// The TLS configuration of the API client, and notes on `SSL_CERT_FILE` / `SSL_CERT_DIR`
/// entries that could not be used (shown if a handshake then fails for an unknown issuer).
pub fn client_config() -> anyhow::Result<(rustls::ClientConfig, Vec<String>)> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let (mut certs, notes) = env_certs(std::env::var_os("SSL_CERT_FILE"), std::env::var_os("SSL_CERT_DIR"));
    certs.extend(webpki_root_certs::TLS_SERVER_ROOT_CERTS.iter().cloned());
    let trust = Trust::new(&provider, certs, Box::new(os_verifier))?;
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(trust))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok((config, notes))
}

/// The certificates named by `SSL_CERT_FILE` and `SSL_CERT_DIR`, and a note for each entry
/// that gave none (missing, unreadable, or holding no PEM certificate).
fn env_certs(file: Option<OsString>, dirs: Option<OsString>) -> (Vec<CertificateDer<'static>>, Vec<String>) {
    let mut certs = Vec::new();
    let mut notes = Vec::new();
    if let Some(file) = file.filter(|f| !f.is_empty()) {
        let path = PathBuf::from(file);
        match load_file(&path, &mut certs) {
            Ok(0) => notes.push(format!("SSL_CERT_FILE {} holds no PEM certificate", path.display())),
            Ok(_) => {}
            Err(e) => notes.push(format!("SSL_CERT_FILE {} cannot be read: {e}", path.display())),
        }
    }
    for dir in dirs.iter().flat_map(std::env::split_paths).filter(|d| !d.as_os_str().is_empty()) {
        match load_dir(&dir, &mut certs) {
            Ok(0) => notes.push(format!("SSL_CERT_DIR entry {} holds no PEM certificate", dir.display())),
            Ok(_) => {}
            Err(e) => notes.push(format!("SSL_CERT_DIR entry {} cannot be read: {e}", dir.display())),
        }
    }
    (certs, notes)
}

/// Appends every PEM certificate in the file; returns how many.
fn load_file(path: &Path, out: &mut Vec<CertificateDer<'static>>) -> std::io::Result<usize> {
    let pem = std::fs::read(path)?;
    let before = out.len();
    out.extend(CertificateDer::pem_slice_iter(&pem).filter_map(Result::ok));
    Ok(out.len() - before)
}

/// Appends the certificates of every file in the directory (links followed, not recursive).
fn load_dir(dir: &Path, out: &mut Vec<CertificateDer<'static>>) -> std::io::Result<usize> {
    let before = out.len();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_file() {
            // One unreadable file does not hide the others, as with OpenSSL's CApath.
            let _ = load_file(&path, out);
        }
    }
    Ok(out.len() - before)
}

fn webpki_verifier(
    mut certs: Vec<CertificateDer<'static>>,
    provider: &Arc<CryptoProvider>,
) -> Option<Verifier> {
    // A CA directory lists each certificate several times (hash link, name link, bundle).
    certs.sort_unstable_by(|a, b| a.as_ref().cmp(b.as_ref()));
    certs.dedup();
    let mut roots = RootCertStore::empty();
    roots.add_parsable_certificates(certs);
    // Fails only for an empty store: then this source trusts nothing.
    let verifier =
        WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone()).build().ok()?;
    Some(verifier)
}

#[cfg(any(target_vendor = "apple", windows))]
fn os_verifier(provider: &Arc<CryptoProvider>) -> Option<Verifier> {
    let verifier = rustls_platform_verifier::Verifier::new(provider.clone()).ok()?;
    Some(Arc::new(verifier))
}

/// The system CA directories (as in openssl-probe; each holds its distribution's bundle).
#[cfg(not(any(target_vendor = "apple", windows)))]
const SYSTEM_CA_DIRS: &[&str] = &["/etc/ssl/certs", "/etc/pki/tls/certs"];

#[cfg(not(any(target_vendor = "apple", windows)))]
fn os_verifier(provider: &Arc<CryptoProvider>) -> Option<Verifier> {
    let mut certs = Vec::new();
    for dir in SYSTEM_CA_DIRS {
        let _ = load_dir(Path::new(dir), &mut certs);
    }
    webpki_verifier(certs, provider)
}

/// Sources 1 and 2 first; the OS store, loaded once, when they refuse a certificate.
struct Trust {
    local: Verifier,
    os: OnceLock<Option<Verifier>>,
    load_os: OsLoader,
    provider: Arc<CryptoProvider>,
}

impl fmt::Debug for Trust {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Trust").field("os_loaded", &self.os.get().is_some()).finish_non_exhaustive()
    }
}

impl Trust {
    fn new(
        provider: &Arc<CryptoProvider>,
        local: Vec<CertificateDer<'static>>,
        load_os: OsLoader,
    ) -> anyhow::Result<Self> {
        let local = webpki_verifier(local, provider)
            .ok_or_else(|| anyhow::anyhow!("no usable root certificate for TLS"))?;
        Ok(Self { local, os: OnceLock::new(), load_os, provider: provider.clone() })
    }

    fn os(&self) -> Option<&Verifier> {
        self.os.get_or_init(|| (self.load_os)(&self.provider)).as_ref()
    }
}

impl ServerCertVerifier for Trust {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        let local = self.local.verify_server_cert(end_entity, intermediates, server_name, ocsp, now);
        let Err(Error::InvalidCertificate(local_err)) = local else { return local };
        // Any store that accepts the certificate is enough (a name, date or usage that is
        // wrong is wrong for every store, so the OS store cannot accept it either).
        let Some(os) = self.os() else { return Err(Error::InvalidCertificate(local_err)) };
        match os.verify_server_cert(end_entity, intermediates, server_name, ocsp, now) {
            Ok(verified) => Ok(verified),
            // The local verdict names what is wrong with a chain it knows; else the OS's.
            Err(_) if local_err != CertificateError::UnknownIssuer => {
                Err(Error::InvalidCertificate(local_err))
            }
            Err(os_err) => Err(os_err),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};

    use super::*;

    fn provider() -> Arc<CryptoProvider> {
        Arc::new(rustls::crypto::ring::default_provider())
    }

    /// A CA certificate (as DER and PEM) and its issuer.
    fn ca(name: &str) -> (CertificateDer<'static>, String, Issuer<'static, KeyPair>) {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        (cert.der().clone(), cert.pem(), Issuer::new(params, key))
    }

    fn leaf(issuer: &Issuer<'static, KeyPair>) -> CertificateDer<'static> {
        let params = CertificateParams::new(vec!["api.corp.test".to_owned()]).unwrap();
        params.signed_by(&KeyPair::generate().unwrap(), issuer).unwrap().der().clone()
    }

    /// A Trust over `local` whose OS store is `os`, counting how often the OS store is loaded.
    fn trust(
        local: Vec<CertificateDer<'static>>,
        os: Option<CertificateDer<'static>>,
    ) -> (Trust, Arc<AtomicUsize>) {
        let loads = Arc::new(AtomicUsize::new(0));
        let counter = loads.clone();
        let load_os: OsLoader = Box::new(move |p| {
            counter.fetch_add(1, Ordering::SeqCst);
            webpki_verifier(os.iter().cloned().collect(), p)
        });
        (Trust::new(&provider(), local, load_os).unwrap(), loads)
    }

    fn verify(t: &Trust, cert: &CertificateDer<'_>, host: &str) -> Result<ServerCertVerified, Error> {
        let name = ServerName::try_from(host.to_owned()).unwrap();
        t.verify_server_cert(cert, &[], &name, &[], UnixTime::now())
    }

    #[test]
    fn a_local_ca_is_trusted_without_reading_the_os_store() {
        let (ca_der, _, issuer) = ca("Local CA");
        let (t, loads) = trust(vec![ca_der], None);
        assert!(verify(&t, &leaf(&issuer), "api.corp.test").is_ok());
        assert_eq!(loads.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn the_os_store_is_trusted_in_addition_and_loaded_once() {
        let (local, _, _) = ca("Local CA");
        let (os_ca, _, os_issuer) = ca("OS CA");
        let (t, loads) = trust(vec![local], Some(os_ca));
        assert!(verify(&t, &leaf(&os_issuer), "api.corp.test").is_ok());
        assert!(verify(&t, &leaf(&os_issuer), "api.corp.test").is_ok());
        assert_eq!(loads.load(Ordering::SeqCst), 1);
        let (_, _, unknown) = ca("Unknown CA");
        let refused = verify(&t, &leaf(&unknown), "api.corp.test");
        assert_eq!(refused.unwrap_err(), Error::InvalidCertificate(CertificateError::UnknownIssuer));
    }

    #[test]
    fn a_local_ca_of_the_same_name_does_not_hide_the_os_store() {
        // Same subject, other key (e.g. a re-keyed corporate CA): webpki reports a bad
        // signature rather than an unknown issuer; the OS store still decides.
        let (old, _, _) = ca("Corp CA");
        let (new, _, new_issuer) = ca("Corp CA");
        let (t, _) = trust(vec![old], Some(new));
        assert!(verify(&t, &leaf(&new_issuer), "api.corp.test").is_ok());
    }

    #[test]
    fn a_wrong_name_is_refused_whichever_store_knows_the_ca() {
        let (ca_der, _, issuer) = ca("Local CA");
        let (t, _) = trust(vec![ca_der.clone()], Some(ca_der));
        let err = verify(&t, &leaf(&issuer), "other.corp.test").unwrap_err();
        assert!(err.to_string().contains("not valid for name"), "{err}");
    }

    #[test]
    fn with_no_ssl_cert_variables_the_bundled_roots_alone_make_a_client() {
        let (certs, notes) = env_certs(None, Some(OsString::new()));
        assert!(certs.is_empty() && notes.is_empty());
        let bundled = webpki_root_certs::TLS_SERVER_ROOT_CERTS.to_vec();
        let t = Trust::new(&provider(), bundled, Box::new(|_| None)).unwrap();
        let (_, _, private) = ca("Private CA");
        let refused = verify(&t, &leaf(&private), "api.corp.test");
        assert_eq!(refused.unwrap_err(), Error::InvalidCertificate(CertificateError::UnknownIssuer));
        let (config, _) = client_config().unwrap();
        assert_eq!(config.alpn_protocols, [b"http/1.1".to_vec()]);
    }

    #[test]
    fn ssl_cert_file_and_every_ssl_cert_dir_entry_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let (_, a, _) = ca("A");
        let (_, b, _) = ca("B");
        let (_, c, _) = ca("C");
        let bundle = dir.path().join("bundle.pem");
        std::fs::write(&bundle, format!("{a}\n# comment\n{b}")).unwrap();
        let certs_dir = dir.path().join("certs");
        std::fs::create_dir(&certs_dir).unwrap();
        std::fs::write(certs_dir.join("c.0"), &c).unwrap();
        std::fs::write(certs_dir.join("README"), "no certificate here").unwrap();
        let empty = dir.path().join("empty");
        std::fs::create_dir(&empty).unwrap();
        let missing = dir.path().join("missing");
        let dirs = std::env::join_paths([&certs_dir, &empty, &missing]).unwrap();
        let (certs, notes) = env_certs(Some(bundle.into_os_string()), Some(dirs));
        assert_eq!(certs.len(), 3);
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(notes[0].contains("holds no PEM certificate") && notes[0].contains("empty"), "{notes:?}");
        assert!(notes[1].contains("cannot be read") && notes[1].contains("missing"), "{notes:?}");
        let (certs, notes) = env_certs(Some(dir.path().join("none.pem").into_os_string()), None);
        assert!(certs.is_empty() && notes[0].starts_with("SSL_CERT_FILE "), "{notes:?}");
    }
}
