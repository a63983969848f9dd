//! The roots of trust the HTTPS clients verify servers against, compiled into the binary
//! from Mozilla's root certificates as the rustls project packages them
//! (`webpki-root-certs`, versioned in `Cargo.lock`). Reading the operating system's store
//! instead opens and parses every file of a certificate directory at init, on every cold
//! start, and trusts whatever the image holds.
//!
//! The AWS SDK's client trusts Amazon Trust Services' roots alone: every AWS endpoint the
//! functions call presents a certificate of theirs, so no other authority's mistake can
//! stand in for DynamoDB, Secrets Manager or SES; and a handful of roots cost nothing at
//! init, where the SDK takes them as PEM and parses them again. The plain client (Google's
//! keys, CloudFormation's response URL, the realtime API) trusts the whole set.
use aws_smithy_http_client::tls::TrustStore;
use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;

/// Amazon Trust Services' roots (https://www.amazontrust.com/repository/), by subject name.
pub const AMAZON_TRUST_SERVICES_ROOTS: [&str; 5] = [
    "Amazon Root CA 1",
    "Amazon Root CA 2",
    "Amazon Root CA 3",
    "Amazon Root CA 4",
    "Starfield Services Root Certificate Authority - G2",
];

/// The AWS SDK's trust store: Amazon Trust Services' roots only.
pub fn sdk_trust_store() -> TrustStore {
    let roots: Vec<pem::Pem> =
        amazon_trust_services_roots().map(|cert| pem::Pem::new("CERTIFICATE", cert.as_ref())).collect();
    TrustStore::empty().with_native_roots(false).with_pem_certificate(pem::encode_many(&roots).into_bytes())
}

/// The compiled-in roots whose subject names one of [`AMAZON_TRUST_SERVICES_ROOTS`].
fn amazon_trust_services_roots() -> impl Iterator<Item = &'static CertificateDer<'static>> {
    webpki_root_certs::TLS_SERVER_ROOT_CERTS.iter().filter(|cert| {
        let mut parsed = RootCertStore::empty();
        parsed.add_parsable_certificates([(*cert).clone()]);
        parsed.roots.first().is_some_and(|anchor| {
            let subject = anchor.subject.as_ref();
            AMAZON_TRUST_SERVICES_ROOTS
                .iter()
                .any(|name| subject.windows(name.len()).any(|part| part == name.as_bytes()))
        })
    })
}

/// Every compiled-in root, as rustls takes them, for the plain HTTPS client.
pub fn root_cert_store() -> RootCertStore {
    let mut roots = RootCertStore::empty();
    roots.add_parsable_certificates(webpki_root_certs::TLS_SERVER_ROOT_CERTS.iter().cloned());
    roots
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sdk_trusts_each_amazon_trust_services_root_and_nothing_else() {
        let subjects: Vec<String> = amazon_trust_services_roots()
            .map(|cert| {
                let mut parsed = RootCertStore::empty();
                parsed.add_parsable_certificates([cert.clone()]);
                String::from_utf8_lossy(parsed.roots[0].subject.as_ref()).into_owned()
            })
            .collect();
        assert_eq!(subjects.len(), AMAZON_TRUST_SERVICES_ROOTS.len(), "{subjects:?}");
        for name in AMAZON_TRUST_SERVICES_ROOTS {
            assert_eq!(subjects.iter().filter(|s| s.contains(name)).count(), 1, "{name} in {subjects:?}");
        }
    }
}
