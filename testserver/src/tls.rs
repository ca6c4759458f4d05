//! Serving certificates: loaded from `--tls-cert-file`/`--tls-private-key-file`, or
//! generated on first start into the cert dir (a CA, a serving certificate signed by
//! it, and an admin client certificate for the kubeconfig) and reused afterwards.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// Why TLS material could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file could not be read or written.
    #[error("cannot access {path}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A certificate or key could not be generated or parsed.
    #[error("invalid certificate material: {0}")]
    Invalid(String),
}

/// PEM-encoded certificate material the server and its kubeconfig use.
#[derive(Debug, Clone)]
pub struct TlsMaterial {
    /// The CA that signed the serving certificate (PEM); empty when the serving
    /// certificate was given by the user.
    pub ca_pem: String,
    /// Serving certificate chain (PEM).
    pub cert_pem: String,
    /// Serving key (PEM).
    pub key_pem: String,
    /// Admin client certificate and key (PEM), when generated.
    pub admin_cert_pem: String,
    /// Admin client key (PEM).
    pub admin_key_pem: String,
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> TlsError + '_ {
    move |source| TlsError::Io {
        path: path.to_owned(),
        source,
    }
}

fn invalid(e: impl std::fmt::Display) -> TlsError {
    TlsError::Invalid(e.to_string())
}

/// Names the generated serving certificate is valid for.
fn sans(extra: &[String]) -> Vec<SanType> {
    let mut names: Vec<String> = [
        "localhost",
        "kubernetes",
        "kubernetes.default",
        "kubernetes.default.svc",
        "kubernetes.default.svc.cluster.local",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    names.extend(extra.iter().cloned());
    let mut out = Vec::new();
    for ip in ["127.0.0.1", "::1", "10.96.0.1"] {
        if let Ok(ip) = ip.parse() {
            out.push(SanType::IpAddress(ip));
        }
    }
    for n in names {
        if let Ok(ip) = n.parse() {
            out.push(SanType::IpAddress(ip));
        } else if let Ok(name) = n.clone().try_into() {
            out.push(SanType::DnsName(name));
        }
    }
    out
}

/// Generates a CA, a serving certificate and an admin client certificate in memory.
pub fn generate(extra_sans: &[String]) -> Result<TlsMaterial, TlsError> {
    let ca_key = KeyPair::generate().map_err(invalid)?;
    let mut ca_params = CertificateParams::default();
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "kubeforge-ca");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca_params.self_signed(&ca_key).map_err(invalid)?;
    let issuer = Issuer::new(ca_params, ca_key);

    let key = KeyPair::generate().map_err(invalid)?;
    let mut params = CertificateParams::default();
    params
        .distinguished_name
        .push(DnType::CommonName, "kube-apiserver");
    params.subject_alt_names = sans(extra_sans);
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let cert = params.signed_by(&key, &issuer).map_err(invalid)?;

    let admin_key = KeyPair::generate().map_err(invalid)?;
    let mut admin = CertificateParams::default();
    admin
        .distinguished_name
        .push(DnType::CommonName, "kubernetes-admin");
    admin
        .distinguished_name
        .push(DnType::OrganizationName, "system:masters");
    admin.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let admin_cert = admin.signed_by(&admin_key, &issuer).map_err(invalid)?;

    Ok(TlsMaterial {
        ca_pem: ca_cert.pem(),
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
        admin_cert_pem: admin_cert.pem(),
        admin_key_pem: admin_key.serialize_pem(),
    })
}

const FILES: [&str; 5] = [
    "ca.crt",
    "apiserver.crt",
    "apiserver.key",
    "admin.crt",
    "admin.key",
];

/// Loads the generated material from `dir`, generating and writing it on first use.
pub fn load_or_generate(dir: &Path, extra_sans: &[String]) -> Result<TlsMaterial, TlsError> {
    let paths: Vec<PathBuf> = FILES.iter().map(|f| dir.join(f)).collect();
    if paths.iter().all(|p| p.exists()) {
        let read = |p: &PathBuf| std::fs::read_to_string(p).map_err(io_err(p));
        return Ok(TlsMaterial {
            ca_pem: read(&paths[0])?,
            cert_pem: read(&paths[1])?,
            key_pem: read(&paths[2])?,
            admin_cert_pem: read(&paths[3])?,
            admin_key_pem: read(&paths[4])?,
        });
    }
    let m = generate(extra_sans)?;
    std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    let contents = [
        &m.ca_pem,
        &m.cert_pem,
        &m.key_pem,
        &m.admin_cert_pem,
        &m.admin_key_pem,
    ];
    for (p, c) in paths.iter().zip(contents) {
        std::fs::write(p, c).map_err(io_err(p))?;
    }
    restrict(&paths[2]);
    restrict(&paths[4]);
    Ok(m)
}

#[cfg(unix)]
fn restrict(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
}

#[cfg(not(unix))]
fn restrict(_path: &Path) {}

/// Loads a user-given certificate chain and key.
pub fn load_files(cert: &Path, key: &Path) -> Result<TlsMaterial, TlsError> {
    Ok(TlsMaterial {
        ca_pem: String::new(),
        cert_pem: std::fs::read_to_string(cert).map_err(io_err(cert))?,
        key_pem: std::fs::read_to_string(key).map_err(io_err(key))?,
        admin_cert_pem: String::new(),
        admin_key_pem: String::new(),
    })
}

/// A rustls server config (ring provider, ALPN h2 and http/1.1).
pub fn server_config(m: &TlsMaterial) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(m.cert_pem.as_bytes())
        .collect::<Result<_, _>>()
        .map_err(invalid)?;
    if certs.is_empty() {
        return Err(TlsError::Invalid(
            "no certificate in the serving certificate file".into(),
        ));
    }
    let key = PrivateKeyDer::from_pem_slice(m.key_pem.as_bytes()).map_err(invalid)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(invalid)?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(invalid)?;
    cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(cfg))
}
