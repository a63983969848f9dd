//! The roots of trust the HTTPS clients verify servers against, compiled into the binary
//! from Mozilla's root certificates as the rustls project packages them
//! (`webpki-root-certs`, versioned in `Cargo.lock`). Reading the operating system's store
//! instead opens and parses every file of a certificate directory at init, on every cold
//! start, and trusts whatever the image holds.
//!
//! The AWS SDK's client trusts Amazon Trust Services' roots alone: every AWS endpoint the
//! functions call presents a certificate of theirs, so no other authority's mistake can
//! stand in for DynamoDB, Secrets Manager or SES; and a handful of roots cost nothing at
//! init, where the SDK takes them as PEM and parses them again. They are kept as that PEM
//! beside this file (a test checks it holds exactly those roots of the crate's set), so a
//! binary that only calls AWS links five certificates, not the whole set. The plain client
//! (Google's keys, CloudFormation's response URL, the realtime API) trusts the whole set.
use aws_smithy_http_client::tls::TrustStore;
use rustls::RootCertStore;

/// Amazon Trust Services' roots (https://www.amazontrust.com/repository/), as PEM: Amazon
/// Root CA 1–4 and Starfield Services Root Certificate Authority - G2.
const AMAZON_TRUST_SERVICES_PEM: &[u8] = include_bytes!("tls/amazon-trust-services.pem");

/// The AWS SDK's trust store: Amazon Trust Services' roots only.
pub fn sdk_trust_store() -> TrustStore {
    TrustStore::empty().with_native_roots(false).with_pem_certificate(AMAZON_TRUST_SERVICES_PEM)
}

/// Every compiled-in root, as rustls takes them, for the plain HTTPS client.
pub fn root_cert_store() -> RootCertStore {
    let mut roots = RootCertStore::empty();
    roots.add_parsable_certificates(webpki_root_certs::TLS_SERVER_ROOT_CERTS.iter().cloned());
    roots
}

#[cfg(test)]
mod tests {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;

    use super::*;

    /// The subject names of Amazon Trust Services' roots.
    const AMAZON_TRUST_SERVICES_ROOTS: [&str; 5] = [
        "Amazon Root CA 1",
        "Amazon Root CA 2",
        "Amazon Root CA 3",
        "Amazon Root CA 4",
        "Starfield Services Root Certificate Authority - G2",
    ];

    fn subject(cert: &CertificateDer<'static>) -> String {
        let mut parsed = RootCertStore::empty();
        parsed.add_parsable_certificates([cert.clone()]);
        parsed
            .roots
            .first()
            .map(|anchor| String::from_utf8_lossy(anchor.subject.as_ref()).into_owned())
            .unwrap_or_default()
    }

    #[test]
    fn the_sdk_trusts_exactly_the_amazon_trust_services_roots_of_the_compiled_in_set() {
        let mut committed: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(AMAZON_TRUST_SERVICES_PEM)
            .collect::<Result<_, _>>()
            .expect("the committed PEM parses");
        let mut from_the_set: Vec<CertificateDer<'static>> = webpki_root_certs::TLS_SERVER_ROOT_CERTS
            .iter()
            .filter(|cert| AMAZON_TRUST_SERVICES_ROOTS.iter().any(|name| subject(cert).contains(name)))
            .cloned()
            .collect();
        assert_eq!(from_the_set.len(), AMAZON_TRUST_SERVICES_ROOTS.len());
        committed.sort_by(|a, b| a.as_ref().cmp(b.as_ref()));
        from_the_set.sort_by(|a, b| a.as_ref().cmp(b.as_ref()));
        assert!(committed == from_the_set, "the PEM beside tls.rs differs from webpki-root-certs' roots");
    }
}
