//! The AWS SDK configuration, loaded once at init.
use std::time::Duration;

use aws_config::{BehaviorVersion, SdkConfig, timeout::TimeoutConfig};
use aws_sdk_dynamodb::config::SharedHttpClient;
use aws_smithy_http_client::HttpClientError;
use aws_smithy_http_client::tls::{Provider, TlsContext, TrustStore, rustls_provider::CryptoMode};

/// Loads the SDK configuration from the environment (region, credentials, and
/// `AWS_ENDPOINT_URL_DYNAMODB` / `AWS_MAX_ATTEMPTS` where set), with rustls on ring for TLS
/// (a smaller bootstrap than aws-lc) and explicit timeouts: the SDK sets only a connect
/// timeout by default, and a hung call must become a 503 well inside the function timeout.
pub async fn load_sdk_config() -> Result<SdkConfig, HttpClientError> {
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(1))
        .operation_attempt_timeout(Duration::from_secs(2))
        .operation_timeout(Duration::from_secs(5))
        .build();
    let http_client = https_client()?;
    Ok(aws_config::defaults(BehaviorVersion::latest()).http_client(http_client).timeout_config(timeouts).load().await)
}

/// The HTTPS client every SDK client uses: rustls on ring, trusting the compiled-in roots.
pub fn https_client() -> Result<SharedHttpClient, HttpClientError> {
    https_client_trusting(crate::tls::sdk_trust_store())
}

/// An SDK HTTPS client that trusts `roots` alone (tests give it a local server's).
pub fn https_client_trusting(roots: TrustStore) -> Result<SharedHttpClient, HttpClientError> {
    let tls = TlsContext::builder().with_trust_store(roots).build()?;
    Ok(aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .tls_context(tls)
        .build_https())
}
