//! What the HTTPS client trusts, decided the same way on every OS. A server certificate is
//! accepted when it chains to any of
//!   1. the bundled Mozilla roots (`webpki-roots`: each root's name, key and name constraints,
//!      ready for webpki, so nothing is parsed at the first handshake);
//!   2. a CA in `SSL_CERT_FILE`, or in a file of a directory listed in `SSL_CERT_DIR`
//!      (separated by `:`, or `;` on Windows);
//!   3. the OS store: on Linux the PEM files in /etc/ssl/certs and /etc/pki/tls/certs (where
//!      distributions install their bundle and the CAs added with update-ca-certificates or
//!      update-ca-trust); on macOS and Windows the system verifier (Keychain, CryptoAPI).
//!
//! 1 and 2 are checked in-process by webpki, identically everywhere. The sources are asked in
//! that order, each loaded the first time a certificate reaches it: a server with a public
//! certificate costs no file read at all, however large the `SSL_CERT_*` bundles are.

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
type Loader = Box<dyn Fn(&Arc<CryptoProvider>) -> Loaded + Send + Sync>;

/// The TLS configuration of the API client, and its trust (for `Trust::notes`).
pub fn client_config() -> anyhow::Result<(rustls::ClientConfig, Arc<Trust>)> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let (file, dirs) = (std::env::var_os("SSL_CERT_FILE"), std::env::var_os("SSL_CERT_DIR"));
    let trust = Arc::new(Trust::new(
        &provider,
        vec![
            Box::new(|p| Loaded::of(bundled_verifier(p))),
            Box::new(move |p| {
                let (certs, notes) = env_certs(file.clone(), dirs.clone());
                Loaded { verifier: webpki_verifier(certs, p), notes }
            }),
            Box::new(|p| Loaded::of(os_verifier(p))),
        ],
    ));
    let verifier: Verifier = trust.clone();
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok((config, trust))
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

/// The most read from one certificate file: Mozilla's whole bundle is about 220 KB.
const MOST_PEM: u64 = 16 << 20;

/// Appends every PEM certificate in the file; returns how many. Only a regular file (links
/// followed) is read, and only up to `MOST_PEM`: this runs in the handshake, on the one
/// thread that also keeps the deadline and hears signals, so a named pipe (opening one
/// blocks until a writer comes) or a device (`/dev/zero` never ends) would stop it all.
fn load_file(path: &Path, out: &mut Vec<CertificateDer<'static>>) -> std::io::Result<usize> {
    use std::io::{Error, ErrorKind, Read};
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(Error::new(ErrorKind::InvalidInput, "not a regular file"));
    }
    if meta.len() > MOST_PEM {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            format!("{} bytes, more than a CA bundle", meta.len()),
        ));
    }
    let mut pem = Vec::with_capacity(meta.len() as usize);
    std::fs::File::open(path)?.take(MOST_PEM).read_to_end(&mut pem)?;
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

/// The bundled Mozilla roots, as trust anchors.
fn bundled_verifier(provider: &Arc<CryptoProvider>) -> Option<Verifier> {
    anchors_verifier(RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() }, provider)
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
    anchors_verifier(roots, provider)
}

fn anchors_verifier(roots: RootCertStore, provider: &Arc<CryptoProvider>) -> Option<Verifier> {
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

/// What one source of trust gave when it was loaded: a verifier (none if it holds no usable
/// certificate) and notes on what it could not use.
struct Loaded {
    verifier: Option<Verifier>,
    notes: Vec<String>,
}

impl Loaded {
    fn of(verifier: Option<Verifier>) -> Loaded {
        Loaded { verifier, notes: Vec::new() }
    }
}

/// One source of trust, loaded the first time a certificate reaches it.
struct Source {
    load: Loader,
    loaded: OnceLock<Loaded>,
}

/// The sources in order; a certificate any of them accepts is accepted.
pub struct Trust {
    sources: Vec<Source>,
    provider: Arc<CryptoProvider>,
}

impl fmt::Debug for Trust {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let loaded: Vec<bool> = self.sources.iter().map(|s| s.loaded.get().is_some()).collect();
        f.debug_struct("Trust").field("loaded", &loaded).finish_non_exhaustive()
    }
}

impl Trust {
    fn new(provider: &Arc<CryptoProvider>, loaders: Vec<Loader>) -> Trust {
        let sources = loaders.into_iter().map(|load| Source { load, loaded: OnceLock::new() }).collect();
        Trust { sources, provider: provider.clone() }
    }

    /// The `SSL_CERT_FILE` / `SSL_CERT_DIR` entries that gave no certificate, once a refused
    /// certificate has made them be read (before that, nothing is known).
    pub fn notes(&self) -> Vec<String> {
        self.sources.iter().filter_map(|s| s.loaded.get()).flat_map(|l| l.notes.iter().cloned()).collect()
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
        // A name, date or usage that is wrong is wrong for every source, so asking the next
        // source after any refusal can only add the CAs it knows.
        let mut refusal: Option<Error> = None;
        for source in &self.sources {
            let loaded = source.loaded.get_or_init(|| (source.load)(&self.provider));
            let Some(verifier) = &loaded.verifier else { continue };
            match verifier.verify_server_cert(end_entity, intermediates, server_name, ocsp, now) {
                Ok(verified) => return Ok(verified),
                // Keep the first refusal that says more than "unknown issuer".
                Err(e) if refusal.as_ref().is_none_or(is_unknown_issuer) => refusal = Some(e),
                Err(_) => {}
            }
        }
        Err(refusal.unwrap_or(Error::InvalidCertificate(CertificateError::UnknownIssuer)))
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

fn is_unknown_issuer(e: &Error) -> bool {
    *e == Error::InvalidCertificate(CertificateError::UnknownIssuer)
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

    /// A source trusting `certs`, counting its loads in `loads`.
    fn source(certs: Vec<CertificateDer<'static>>, loads: &Arc<AtomicUsize>) -> Loader {
        let loads = loads.clone();
        Box::new(move |p| {
            loads.fetch_add(1, Ordering::SeqCst);
            Loaded {
                verifier: webpki_verifier(certs.clone(), p),
                notes: vec![format!("{} certs", certs.len())],
            }
        })
    }

    fn verify(t: &Trust, cert: &CertificateDer<'_>, host: &str) -> Result<ServerCertVerified, Error> {
        let name = ServerName::try_from(host.to_owned()).unwrap();
        t.verify_server_cert(cert, &[], &name, &[], UnixTime::now())
    }

    #[test]
    fn nothing_is_loaded_before_a_certificate_and_later_sources_only_when_needed() {
        let (first, _, issuer) = ca("First CA");
        let (second, _, _) = ca("Second CA");
        let (a, b) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let t = Trust::new(&provider(), vec![source(vec![first], &a), source(vec![second], &b)]);
        assert_eq!((a.load(Ordering::SeqCst), b.load(Ordering::SeqCst)), (0, 0));
        assert!(verify(&t, &leaf(&issuer), "api.corp.test").is_ok());
        assert!(verify(&t, &leaf(&issuer), "api.corp.test").is_ok());
        assert_eq!((a.load(Ordering::SeqCst), b.load(Ordering::SeqCst)), (1, 0));
        assert_eq!(t.notes(), ["1 certs"], "only what was loaded has notes");
    }

    #[test]
    fn a_later_source_is_trusted_in_addition_and_loaded_once() {
        let (first, _, _) = ca("First CA");
        let (second, _, issuer) = ca("Second CA");
        let (a, b) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let t = Trust::new(&provider(), vec![source(vec![first], &a), source(vec![second], &b)]);
        assert!(verify(&t, &leaf(&issuer), "api.corp.test").is_ok());
        assert!(verify(&t, &leaf(&issuer), "api.corp.test").is_ok());
        assert_eq!((a.load(Ordering::SeqCst), b.load(Ordering::SeqCst)), (1, 1));
        let (_, _, unknown) = ca("Unknown CA");
        let refused = verify(&t, &leaf(&unknown), "api.corp.test");
        assert_eq!(refused.unwrap_err(), Error::InvalidCertificate(CertificateError::UnknownIssuer));
    }

    #[test]
    fn a_ca_of_the_same_name_in_an_earlier_source_does_not_hide_a_later_one() {
        // Same subject, other key (e.g. a re-keyed corporate CA): webpki reports a bad
        // signature rather than an unknown issuer; the later source still decides.
        let (old, _, _) = ca("Corp CA");
        let (new, _, new_issuer) = ca("Corp CA");
        let n = Arc::new(AtomicUsize::new(0));
        let t = Trust::new(&provider(), vec![source(vec![old], &n), source(vec![new], &n)]);
        assert!(verify(&t, &leaf(&new_issuer), "api.corp.test").is_ok());
    }

    #[test]
    fn the_refusal_that_names_the_problem_is_reported() {
        let (other, _, _) = ca("Other CA");
        let (corp, _, issuer) = ca("Corp CA");
        let n = Arc::new(AtomicUsize::new(0));
        let t = Trust::new(&provider(), vec![source(vec![other], &n), source(vec![corp], &n)]);
        let err = verify(&t, &leaf(&issuer), "other.corp.test").unwrap_err();
        assert!(err.to_string().contains("not valid for name"), "{err}");
    }

    #[test]
    fn the_bundled_roots_refuse_a_private_ca_and_the_config_speaks_http1() {
        // The public CAs that sign most API hosts are there, by name.
        let names: Vec<&[u8]> = webpki_roots::TLS_SERVER_ROOTS.iter().map(|a| a.subject.as_ref()).collect();
        for cn in ["ISRG Root X1", "DigiCert Global Root G2", "GTS Root R1", "Amazon Root CA 1"] {
            assert!(names.iter().any(|n| memchr::memmem::find(n, cn.as_bytes()).is_some()), "{cn}");
        }
        let t = Trust::new(&provider(), vec![Box::new(|p| Loaded::of(bundled_verifier(p)))]);
        let (_, _, private) = ca("Private CA");
        let refused = verify(&t, &leaf(&private), "api.corp.test");
        assert_eq!(refused.unwrap_err(), Error::InvalidCertificate(CertificateError::UnknownIssuer));
        let (config, trust) = client_config().unwrap();
        assert_eq!(config.alpn_protocols, [b"http/1.1".to_vec()]);
        assert!(trust.notes().is_empty(), "nothing is read before a handshake");
    }

    #[test]
    fn ssl_cert_file_and_every_ssl_cert_dir_entry_are_read() {
        let (certs, notes) = env_certs(None, Some(OsString::new()));
        assert!(certs.is_empty() && notes.is_empty());
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
