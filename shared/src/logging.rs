//! Logging set-up shared by the Lambda functions and local-api.
use tracing::Level;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::prelude::*;

/// Libraries that log whole bodies at TRACE: the SDK's HTTP layers (DynamoDB items hold
/// password hashes) and the Lambda runtime (every raw event: passwords, refresh tokens,
/// `Authorization` headers). They are capped at DEBUG whatever level is asked for.
const WIRE_LOG_TARGETS: [&str; 6] = [
    "aws_smithy_runtime",
    "aws_smithy_http_client",
    "hyper",
    "hyper_util",
    "lambda_runtime",
    "lambda_runtime_api_client",
];
const WIRE_LOG_CAP: LevelFilter = LevelFilter::DEBUG;

/// A filter from `directives` (a level such as "info", or RUST_LOG's `target=level,…`
/// syntax; unparsable text means "info") with the SDK's wire logs capped, so no level,
/// not even one set on a wire-log module's submodule, can print a request or response body.
///
/// `Targets` rather than `EnvFilter`: it does all we use, and leaves the regex engine out
/// of every bootstrap.
pub fn filter(directives: &str) -> Targets {
    let asked: Targets = directives.parse().unwrap_or_else(|_| Targets::new().with_default(Level::INFO));
    let is_wire_log =
        |target: &str| WIRE_LOG_TARGETS.iter().any(|wire| target == *wire || target.starts_with(&format!("{wire}::")));
    let mut capped = Targets::new().with_default(asked.default_level().unwrap_or(LevelFilter::OFF));
    for (target, level) in asked.iter() {
        let level = if is_wire_log(target) { level.min(WIRE_LOG_CAP) } else { level };
        capped = capped.with_target(target, level);
    }
    for wire in WIRE_LOG_TARGETS {
        capped = capped.with_target(wire, level_for(&asked, wire).min(WIRE_LOG_CAP));
    }
    capped
}

/// The most verbose level `targets` lets through for `target`.
fn level_for(targets: &Targets, target: &str) -> LevelFilter {
    [Level::TRACE, Level::DEBUG, Level::INFO, Level::WARN, Level::ERROR]
        .into_iter()
        .find(|level| targets.would_enable(target, level))
        .map_or(LevelFilter::OFF, LevelFilter::from_level)
}

/// For a Lambda function: Lambda's advanced logging controls decide the level
/// (`AWS_LAMBDA_LOG_LEVEL`, else `RUST_LOG`, else INFO) and the format
/// (`AWS_LAMBDA_LOG_FORMAT=JSON` gives one JSON object per line, with the request id).
pub fn init_lambda() {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL").or_else(|_| std::env::var("RUST_LOG"));
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    // No colour codes: CloudWatch shows them as text.
    let lines = tracing_subscriber::fmt::layer().with_target(false).without_time().with_ansi(false);
    let registry = tracing_subscriber::registry().with(filter(level.as_deref().unwrap_or("info")));
    if json { registry.with(lines.json()).init() } else { registry.with(lines).init() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_logs_never_reach_trace() {
        for asked in [
            "trace",
            "aws_smithy_runtime=trace",
            "info,aws_smithy_runtime::client::orchestrator=trace",
            "hyper_util::client=trace,debug",
        ] {
            let capped = filter(asked);
            for target in [
                "aws_smithy_runtime",
                "aws_smithy_runtime::client::orchestrator",
                "aws_smithy_http_client::hyper",
                "hyper::proto",
                "hyper_util::client::legacy",
                "lambda_runtime::layers::api_response",
                "lambda_runtime_api_client",
            ] {
                assert!(!capped.would_enable(target, &Level::TRACE), "{asked}: {target}");
            }
        }
    }

    #[test]
    fn the_cap_never_raises_a_level() {
        let warn = filter("warn");
        assert!(!warn.would_enable("aws_smithy_runtime", &Level::DEBUG));
        assert!(!warn.would_enable("aws_smithy_runtime", &Level::INFO));
        assert!(warn.would_enable("aws_smithy_runtime", &Level::WARN));
        assert!(filter("debug").would_enable("aws_smithy_runtime::client", &Level::DEBUG));
    }

    #[test]
    fn other_targets_get_what_was_asked() {
        let asked = filter("info,shared::store=trace");
        assert!(asked.would_enable("shared::store::dynamo", &Level::TRACE));
        assert!(asked.would_enable("login", &Level::INFO));
        assert!(!asked.would_enable("login", &Level::DEBUG));
        assert!(filter("login=loudest").would_enable("login", &Level::INFO));
    }
}
