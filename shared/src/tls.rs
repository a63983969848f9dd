//! The roots of trust every HTTPS client here verifies servers against: Mozilla's root
//! certificates as the rustls project packages them (`webpki-root-certs`), compiled into
//! the binary. Reading the operating system's store instead opens and parses every file
//! of a certificate directory at init, on every cold start; and a function then trusts
//! whatever its image's store holds rather than a list pinned in `Cargo.lock`.
use aws_smithy_http_client::tls::TrustStore;
use rustls::RootCertStore;

/// The AWS SDK's trust store: the compiled-in roots only (the SDK takes them as PEM).
pub fn sdk_trust_store() -> TrustStore {
    let roots: Vec<pem::Pem> = webpki_root_certs::TLS_SERVER_ROOT_CERTS
        .iter()
        .map(|cert| pem::Pem::new("CERTIFICATE", cert.as_ref()))
        .collect();
    TrustStore::empty().with_native_roots(false).with_pem_certificate(pem::encode_many(&roots).into_bytes())
}

/// The same roots as rustls takes them, for the plain HTTPS client.
pub fn root_cert_store() -> RootCertStore {
    let mut roots = RootCertStore::empty();
    roots.add_parsable_certificates(webpki_root_certs::TLS_SERVER_ROOT_CERTS.iter().cloned());
    roots
}
