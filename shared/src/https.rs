//! A plain HTTP client, for the calls that are not to an AWS service: Google's signing keys,
//! CloudFormation's response URL and the realtime API's publishes. rustls on ring with the
//! compiled-in roots ([`crate::tls`]), as the SDK's own client (hyper-rustls is already in
//! the tree under it).
use std::sync::Arc;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

pub type HttpsClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

/// A client for HTTPS URLs, and plain HTTP ones (which only tests and local runs name).
pub fn client() -> Result<HttpsClient, std::io::Error> {
    client_trusting(crate::tls::root_cert_store())
}

/// A client that trusts `roots` alone (tests give it a local server's).
pub fn client_trusting(roots: rustls::RootCertStore) -> Result<HttpsClient, std::io::Error> {
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(std::io::Error::other)?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector =
        hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(tls).https_or_http().enable_http1().build();
    Ok(Client::builder(TokioExecutor::new()).build(connector))
}
