//! The rustls client configuration: CA roots, client certificate, server name
//! override and `insecure-skip-tls-verify`, always with the ring provider passed
//! explicitly (a process-default provider is never consulted: mixing providers in one
//! process makes rustls' default lookup panic).

use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};

use crate::config::{Config, Identity};
use crate::core::Error;

fn config_error(e: impl std::error::Error + Send + Sync + 'static) -> Error {
    Error::Config(Box::new(e))
}

fn config_message(msg: &str) -> Error {
    Error::Config(msg.into())
}

/// Builds the TLS configuration a [`Config`] asks for. ALPN offers HTTP/2 first, so
/// servers that speak it (kube-apiserver does) multiplex every request of a client
/// over one connection.
///
/// `identity` replaces the config's client certificate (one an exec plugin provided).
pub(crate) fn client_config(
    config: &Config,
    identity: Option<&Identity>,
) -> Result<rustls::ClientConfig, Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(config_error)?;
    let verifier: Arc<dyn ServerCertVerifier> = if config.accept_invalid_certs {
        Arc::new(AcceptAnyCert(provider.clone()))
    } else {
        let mut roots = RootCertStore::empty();
        for der in &config.root_certs {
            roots
                .add(CertificateDer::from(der.clone()))
                .map_err(config_error)?;
        }
        if roots.is_empty() {
            // Nothing to trust: every TLS handshake fails verification, which is the
            // honest answer for a config without a CA (plain HTTP still works).
            Arc::new(RejectAll(provider.clone()))
        } else {
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .build()
                .map_err(config_error)?
        }
    };
    let verifier: Arc<dyn ServerCertVerifier> = match &config.tls_server_name {
        Some(name) if !config.accept_invalid_certs => Arc::new(FixedServerName {
            inner: verifier,
            name: ServerName::try_from(name.clone()).map_err(config_error)?,
        }),
        _ => verifier,
    };
    let builder = builder
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let mut tls = match identity.or(config.identity.as_ref()) {
        Some(identity) => {
            let certs: Vec<CertificateDer<'static>> =
                CertificateDer::pem_slice_iter(&identity.cert_pem)
                    .collect::<Result<_, _>>()
                    .map_err(config_error)?;
            if certs.is_empty() {
                return Err(config_message(
                    "the client certificate PEM holds no certificate",
                ));
            }
            let key = PrivateKeyDer::from_pem_slice(&identity.key_pem).map_err(config_error)?;
            builder
                .with_client_auth_cert(certs, key)
                .map_err(config_error)?
        }
        None => builder.with_no_client_auth(),
    };
    tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(tls)
}

/// Verifies the server certificate against a configured name (`tls-server-name`)
/// instead of the host in the URL.
#[derive(Debug)]
struct FixedServerName {
    inner: Arc<dyn ServerCertVerifier>,
    name: ServerName<'static>,
}

impl ServerCertVerifier for FixedServerName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.inner
            .verify_server_cert(end_entity, intermediates, &self.name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// `insecure-skip-tls-verify`: any certificate is accepted, but handshake signatures
/// are still checked (the peer must hold the key of the certificate it shows).
#[derive(Debug)]
struct AcceptAnyCert(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCert {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// No CA configured and verification not disabled: no server can be trusted.
#[derive(Debug)]
struct RejectAll(Arc<CryptoProvider>);

impl ServerCertVerifier for RejectAll {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Err(rustls::Error::General(
            "no certificate authority is configured to verify the server with".into(),
        ))
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
