//! Logging set-up shared by the Lambda functions and local-api.
use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::Directive;

/// The SDK's HTTP layers log whole request and response bodies at TRACE, and those hold
/// password hashes. They are capped at DEBUG whatever level is asked for.
const WIRE_LOG_CAPS: [&str; 4] =
    ["aws_smithy_runtime=debug", "aws_smithy_http_client=debug", "hyper=debug", "hyper_util=debug"];

/// An env filter at `level` (e.g. "info", "trace", or RUST_LOG's syntax) with the SDK's
/// wire logs capped, so no log level can print a request or response body.
pub fn filter(level: &str) -> EnvFilter {
    let mut filter = EnvFilter::builder().parse_lossy(level);
    for cap in WIRE_LOG_CAPS {
        if let Ok(directive) = cap.parse::<Directive>() {
            filter = filter.add_directive(directive);
        }
    }
    filter
}

/// For a Lambda function: Lambda's advanced logging controls decide the level
/// (`AWS_LAMBDA_LOG_LEVEL`, else `RUST_LOG`, else INFO) and the format
/// (`AWS_LAMBDA_LOG_FORMAT=JSON` gives one JSON object per line, with the request id).
pub fn init_lambda() {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL").or_else(|_| std::env::var("RUST_LOG"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter(level.as_deref().unwrap_or("info")))
        .with_target(false)
        .without_time();
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    if json { builder.json().init() } else { builder.init() }
}
