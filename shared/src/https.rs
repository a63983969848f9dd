//! A plain HTTP client, for the calls that are not to an AWS service: Google's signing keys
//! and CloudFormation's response URL. rustls on ring with the OS's root certificates, as
//! the SDK's own client (hyper-rustls is already in the tree under it).
use http_body_util::Full;
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

pub type HttpsClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

/// A client for HTTPS URLs, and plain HTTP ones (which only tests and local runs name).
/// Loading the root certificates takes a few milliseconds: build it when first needed.
pub fn client() -> Result<HttpsClient, std::io::Error> {
    let connector =
        hyper_rustls::HttpsConnectorBuilder::new().with_native_roots()?.https_or_http().enable_http1().build();
    Ok(Client::builder(TokioExecutor::new()).build(connector))
}
