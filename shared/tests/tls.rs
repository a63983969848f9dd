//! The HTTPS clients trust the compiled-in roots and nothing else (`shared::tls`): a local
//! TLS server whose certificate chains to a CA outside them is refused by the AWS SDK's
//! client and by the plain one, while the same server is reached when its CA is the one trusted (so the
//! refusal is the certificate's, not a server that is not there).
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_smithy_http_client::tls::TrustStore;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const CA: &str = include_str!("data/untrusted-ca.pem");
const CHAIN: &str = include_str!("data/localhost-chain.pem");
const KEY: &str = include_str!("data/localhost-key.pem");

/// A TLS server on loopback for `localhost`, its certificate issued by the test CA, that
/// answers every request with an empty DynamoDB `ListTables`; how many handshakes completed.
async fn untrusted_server() -> (u16, Arc<AtomicUsize>) {
    let chain: Vec<CertificateDer<'static>> =
        CertificateDer::pem_slice_iter(CHAIN.as_bytes()).collect::<Result<_, _>>().unwrap();
    let key = PrivateKeyDer::from_pem_slice(KEY.as_bytes()).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let handshakes = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&handshakes);
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, counted) = (acceptor.clone(), Arc::clone(&counted));
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else { return };
                counted.fetch_add(1, Ordering::SeqCst);
                let mut request = [0u8; 4096];
                let _ = tls.read(&mut request).await;
                let body = r#"{"TableNames":[]}"#;
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/x-amz-json-1.0\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.write_all(answer.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    (port, handshakes)
}

fn dynamodb(port: u16, http_client: aws_sdk_dynamodb::config::SharedHttpClient) -> aws_sdk_dynamodb::Client {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "test"))
        .endpoint_url(format!("https://localhost:{port}"))
        .http_client(http_client)
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

#[tokio::test]
async fn the_sdk_client_refuses_a_certificate_outside_the_compiled_in_roots() {
    let (port, handshakes) = untrusted_server().await;
    let refused = dynamodb(port, shared::aws::https_client().unwrap()).list_tables().send().await;
    let error = format!("{:?}", refused.expect_err("an untrusted certificate must be refused"));
    assert!(error.contains("UnknownIssuer"), "refused for another reason: {error}");
    assert_eq!(handshakes.load(Ordering::SeqCst), 0);

    let trusting = shared::aws::https_client_trusting(TrustStore::empty().with_pem_certificate(CA.as_bytes())).unwrap();
    let tables = dynamodb(port, trusting).list_tables().send().await.expect("the same server, its CA trusted");
    assert_eq!(tables.table_names(), &[] as &[String]);
    assert_eq!(handshakes.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn the_plain_client_refuses_a_certificate_outside_the_compiled_in_roots() {
    let (port, handshakes) = untrusted_server().await;
    let get = |client: shared::https::HttpsClient| async move {
        let request = hyper::Request::get(format!("https://localhost:{port}/")).body(Full::new(Bytes::new())).unwrap();
        client.request(request).await
    };
    let refused = get(shared::https::client().unwrap()).await;
    let error = format!("{:?}", refused.expect_err("an untrusted certificate must be refused"));
    assert!(error.contains("UnknownIssuer"), "refused for another reason: {error}");
    assert_eq!(handshakes.load(Ordering::SeqCst), 0);

    let mut roots = rustls::RootCertStore::empty();
    roots.add_parsable_certificates(CertificateDer::pem_slice_iter(CA.as_bytes()).map(Result::unwrap));
    let answer = get(shared::https::client_trusting(roots).unwrap()).await.expect("the same server, its CA trusted");
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.into_body().collect().await.unwrap().to_bytes(), r#"{"TableNames":[]}"#);
}

/// Every compiled-in root parses, and they hold the roots AWS's endpoints and Google's key
/// endpoint chain to.
#[test]
fn the_compiled_in_roots_parse_and_cover_aws_and_google() {
    let roots = shared::tls::root_cert_store();
    assert_eq!(roots.len(), webpki_root_certs::TLS_SERVER_ROOT_CERTS.len());
    let subjects: Vec<String> =
        roots.roots.iter().map(|anchor| String::from_utf8_lossy(anchor.subject.as_ref()).into_owned()).collect();
    for needed in [
        "Amazon Root CA 1",
        "Amazon Root CA 2",
        "Amazon Root CA 3",
        "Amazon Root CA 4",
        "Starfield Services Root Certificate Authority - G2",
        "GTS Root R1",
    ] {
        assert!(subjects.iter().any(|s| s.contains(needed)), "{needed} is not among the roots");
    }
}
