//! `template.yaml` is the one definition of the table, the functions and their routes;
//! these tests fail when the code or the sample events drift from it.
use std::collections::BTreeSet;

use serde_yaml_ng::Value;
use shared::store::dynamo::schema::{
    AUTHOR_INDEX, AUTHOR_INDEX_PK, AUTHOR_INDEX_SK, PK, POSTS_INDEX, POSTS_INDEX_PK, POSTS_INDEX_SK, SK, TTL,
};
use shared::template;

fn pair(name: &str, key_type: &str) -> (String, String) {
    (name.to_owned(), key_type.to_owned())
}

/// `[(attribute, key type)]` of a KeySchema in the template.
fn key_names(value: &Value) -> Vec<(String, String)> {
    let schema = template::key_schema(value).unwrap();
    schema.into_iter().map(|k| (k.attribute_name().to_owned(), k.key_type().as_str().to_owned())).collect()
}

#[test]
fn table_keys_and_index_match_the_store() {
    let props = template::table_properties().unwrap();
    assert_eq!(key_names(&props["KeySchema"]), [pair(PK, "HASH"), pair(SK, "RANGE")]);
    let indexes = props["GlobalSecondaryIndexes"].as_sequence().unwrap();
    assert_eq!(indexes.len(), 2);
    for (name, pk, sk) in
        [(POSTS_INDEX, POSTS_INDEX_PK, POSTS_INDEX_SK), (AUTHOR_INDEX, AUTHOR_INDEX_PK, AUTHOR_INDEX_SK)]
    {
        let index = indexes.iter().find(|g| g["IndexName"].as_str() == Some(name)).expect(name);
        assert_eq!(key_names(&index["KeySchema"]), [pair(pk, "HASH"), pair(sk, "RANGE")]);
        assert_eq!(index["Projection"]["ProjectionType"].as_str(), Some("ALL"), "listings read whole posts");
    }
    assert_eq!(props["BillingMode"].as_str(), Some("PAY_PER_REQUEST"));
    let ttl = &props["TimeToLiveSpecification"];
    assert_eq!((ttl["AttributeName"].as_str(), ttl["Enabled"].as_bool()), (Some(TTL), Some(true)));
}

/// API Gateway's throttles are shared by every caller: a tight one on a route would let one
/// client starve everyone of it. They stay backstops, the same on every route.
#[test]
fn throttles_are_backstops_shared_by_every_route() {
    let template = template::template().unwrap();
    let api = &template["Resources"]["HttpApi"]["Properties"];
    let defaults = &api["DefaultRouteSettings"];
    assert!(defaults["ThrottlingRateLimit"].as_u64().unwrap() >= 50, "{defaults:?}");
    assert!(defaults["ThrottlingBurstLimit"].as_u64().unwrap() >= 100, "{defaults:?}");
    assert!(api["RouteSettings"].is_null(), "no route is throttled tighter than the rest");
}

/// Every statement of every function's policies is scoped: DynamoDB on the table only to
/// key prefixes (`dynamodb:LeadingKeys`), on an index only `Query`; Secrets Manager only on
/// one secret of the stack, by `Ref`.
#[test]
fn every_function_policy_is_scoped() {
    let template = template::template().unwrap();
    let mut statements = 0;
    for (name, resource) in template["Resources"].as_mapping().unwrap() {
        if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        for policy in resource["Properties"]["Policies"].as_sequence().expect("inline policies") {
            for statement in policy["Statement"].as_sequence().unwrap() {
                statements += 1;
                let actions: Vec<&str> = match &statement["Action"] {
                    Value::String(action) => vec![action.as_str()],
                    list => list.as_sequence().unwrap().iter().map(|a| a.as_str().unwrap()).collect(),
                };
                assert!(actions.iter().all(|a| !a.contains('*')), "{name:?}: {actions:?}");
                if actions == ["appsync:EventPublish"] {
                    let namespace = get_att_target(&statement["Resource"]).unwrap_or_else(|| panic!("{name:?}"));
                    let kind = template["Resources"][namespace]["Type"].as_str();
                    assert_eq!(kind, Some("AWS::AppSync::ChannelNamespace"), "{name:?}: one namespace, not the API");
                    continue;
                }
                if actions == ["ses:SendEmail"] {
                    let from = &statement["Condition"]["StringEquals"]["ses:FromAddress"];
                    assert_eq!(ref_target(from), Some("MailFromAddress"), "{name:?}: sending from one address only");
                    continue;
                }
                if actions.iter().all(|a| a.starts_with("secretsmanager:")) {
                    let secret =
                        ref_target(&statement["Resource"]).unwrap_or_else(|| panic!("{name:?}: {statement:?}"));
                    assert_eq!(template["Resources"][secret]["Type"].as_str(), Some("AWS::SecretsManager::Secret"));
                    continue;
                }
                assert!(actions.iter().all(|a| a.starts_with("dynamodb:")), "{name:?}: {actions:?}");
                let on_index = format!("{:?}", statement["Resource"]).contains("/index/");
                if on_index {
                    assert_eq!(actions, ["dynamodb:Query"], "{name:?}");
                } else {
                    let prefixes = &statement["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"];
                    let prefixes = prefixes.as_sequence().unwrap_or_else(|| panic!("{name:?}: unscoped {actions:?}"));
                    assert!(prefixes.iter().all(|p| p.as_str().is_some_and(|p| p.ends_with("#*") && p.len() > 2)));
                }
            }
        }
    }
    assert!(statements >= 9, "{statements}");
}

/// `(binary, "METHOD /path")` for every function in the template.
fn template_routes() -> BTreeSet<(String, String)> {
    template::routes().unwrap().into_iter().map(|r| (r.binary, format!("{} {}", r.method, r.path))).collect()
}

#[test]
fn every_function_is_built_by_cargo_lambda() {
    let template = template::template().unwrap();
    let functions: Vec<&Value> = template["Resources"]
        .as_mapping()
        .unwrap()
        .values()
        .filter(|r| r["Type"].as_str() == Some("AWS::Serverless::Function"))
        .collect();
    assert!(!functions.is_empty());
    for function in functions {
        assert_eq!(function["Metadata"]["BuildMethod"].as_str(), Some("rust-cargolambda"));
        assert_eq!(function["Properties"]["CodeUri"].as_str(), Some("."), "built from the workspace root");
    }
}

/// Functions that answer no route: a CloudFormation custom resource, a stream consumer.
const NOT_ROUTED: &[&str] = &["signing-key", "publish-post-events", "send-mail"];

/// Every crate in `functions/` is deployed as one function; each of those answering HTTP
/// has exactly one route.
#[test]
fn every_function_crate_is_deployed_once_and_each_route_has_one_function() {
    let functions_dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../functions");
    let crates: BTreeSet<String> = std::fs::read_dir(functions_dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    let template = template::template().unwrap();
    let binaries: Vec<String> = template["Resources"]
        .as_mapping()
        .unwrap()
        .values()
        .filter(|r| r["Type"].as_str() == Some("AWS::Serverless::Function"))
        .map(|r| r["Metadata"]["BuildProperties"]["Binary"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(crates, binaries.iter().cloned().collect::<BTreeSet<_>>());
    assert_eq!(binaries.len(), crates.len(), "a crate deployed twice: {binaries:?}");
    let routes = template_routes();
    let routed: BTreeSet<String> = routes.iter().map(|(binary, _)| binary.clone()).collect();
    let expected: BTreeSet<String> = crates.iter().filter(|c| !NOT_ROUTED.contains(&c.as_str())).cloned().collect();
    assert_eq!(routed, expected);
    assert_eq!(routes.len(), routed.len(), "{routes:?}");
}

fn events_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../events")
}

fn manifest() -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(events_dir().join("expected.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn sample_events_target_their_functions_route() {
    let routes = template_routes();
    for entry in manifest() {
        let name = entry["event"].as_str().unwrap();
        let function = entry["function"].as_str().unwrap().to_owned();
        let event: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(events_dir().join(name)).unwrap()).unwrap();
        let route = match event["version"].as_str() {
            Some("2.0") => event["routeKey"].as_str().unwrap().to_owned(),
            _ => format!("{} {}", event["httpMethod"].as_str().unwrap(), event["resource"].as_str().unwrap()),
        };
        assert!(routes.contains(&(function.clone(), route.clone())), "{name}: {function} does not serve {route}");
    }
}

/// The development public keys `sam local` runs with are those of the development signing
/// keys, and the sample events' bearer tokens verify with them.
#[test]
fn bearer_tokens_in_sample_events_verify_with_the_local_public_keys() {
    let env: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(events_dir().join("sam-local-env.json")).unwrap()).unwrap();
    let public = shared::auth::signing_keys::PublicJwkSet::from_json(
        env["Parameters"]["TOKEN_PUBLIC_JWKS"].as_str().expect("TOKEN_PUBLIC_JWKS in sam-local-env.json"),
    )
    .unwrap();
    assert_eq!(public, shared::testing::dev_signing_keys().public());
    let keys = shared::auth::TokenKeys::verifying(public);
    let tokens = shared::auth::TokenService::new(shared::testing::token_config(), &keys).unwrap();
    let mut checked = 0;
    for entry in manifest() {
        let name = entry["event"].as_str().unwrap();
        let event: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(events_dir().join(name)).unwrap()).unwrap();
        if let Some(auth) = event["headers"]["authorization"].as_str() {
            let token = auth.strip_prefix("Bearer ").expect("bearer scheme");
            tokens.verify(token).unwrap_or_else(|e| panic!("{name}: {e}"));
            checked += 1;
        }
    }
    assert!(checked >= 2, "the create-post events carry tokens");
}

/// `sam local` passes a variable only to functions the template declares it for: every one
/// in the local env file must be declared, in the Globals or by some function.
#[test]
fn local_env_file_declares_only_template_variables() {
    let template = template::template().unwrap();
    let globals = &template["Globals"]["Function"]["Environment"]["Variables"];
    let functions = template["Resources"].as_mapping().unwrap().values();
    let mut declared: Vec<&Value> = vec![globals];
    declared.extend(functions.map(|resource| &resource["Properties"]["Environment"]["Variables"]));
    let env: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(events_dir().join("sam-local-env.json")).unwrap()).unwrap();
    for name in env["Parameters"].as_object().unwrap().keys() {
        let name = Value::from(name.as_str());
        assert!(
            declared.iter().any(|vars| vars.as_mapping().is_some_and(|m| m.contains_key(&name))),
            "{name:?} is not declared in template.yaml"
        );
    }
}

#[test]
fn token_lifetime_parameters_are_the_configuration_bounds() {
    use shared::config::{
        DEFAULT_REFRESH_TTL, DEFAULT_SESSION_MAX, DEFAULT_TOKEN_TTL, REFRESH_TTL_SECONDS, SESSION_MAX_SECONDS,
        TOKEN_TTL_SECONDS,
    };
    let template = template::template().unwrap();
    for (parameter, default, range) in [
        ("TokenTtlSeconds", DEFAULT_TOKEN_TTL, TOKEN_TTL_SECONDS),
        ("RefreshTtlSeconds", DEFAULT_REFRESH_TTL, REFRESH_TTL_SECONDS),
        ("SessionMaxSeconds", DEFAULT_SESSION_MAX, SESSION_MAX_SECONDS),
    ] {
        let declared = &template["Parameters"][parameter];
        let bounds = [&declared["Default"], &declared["MinValue"], &declared["MaxValue"]].map(Value::as_u64);
        assert_eq!(bounds, [Some(default.as_secs()), Some(*range.start()), Some(*range.end())], "{parameter}");
    }
}

/// The `X` of a `!Ref X`.
fn ref_target(value: &Value) -> Option<&str> {
    match value {
        Value::Tagged(tagged) if tagged.tag == "Ref" => tagged.value.as_str(),
        _ => None,
    }
}

/// The resource a `!GetAtt Resource.Attribute` names.
fn get_att_target(value: &Value) -> Option<&str> {
    match value {
        Value::Tagged(tagged) if tagged.tag == "GetAtt" => tagged.value.as_str()?.split('.').next(),
        _ => None,
    }
}

/// Every log group keeps its logs for `LogRetentionDays`, and every function logs to one.
#[test]
fn every_log_has_a_retention_period() {
    let template = template::template().unwrap();
    let resources = template["Resources"].as_mapping().unwrap();
    let of_type = |kind: &'static str| resources.iter().filter(move |(_, r)| r["Type"].as_str() == Some(kind));
    assert!(of_type("AWS::Logs::LogGroup").count() >= 2, "the functions' group and the API's access log");
    for (name, group) in of_type("AWS::Logs::LogGroup") {
        assert_eq!(ref_target(&group["Properties"]["RetentionInDays"]), Some("LogRetentionDays"), "{name:?}");
    }
    let target = ref_target(&template["Globals"]["Function"]["LoggingConfig"]["LogGroup"]).expect("a !Ref");
    assert_eq!(resources[target]["Type"].as_str(), Some("AWS::Logs::LogGroup"), "functions log to {target}");
    for (name, function) in of_type("AWS::Serverless::Function") {
        assert!(function["Properties"]["LoggingConfig"]["LogGroup"].is_null(), "{name:?} logs elsewhere");
    }
}

/// A browser client can read every header the API answers with for it.
#[test]
fn cors_exposes_the_headers_clients_read() {
    let cors = template::cors().unwrap();
    for header in ["etag", "location", "idempotent-replayed", "retry-after"] {
        assert!(cors.expose_headers.iter().any(|h| h == header), "{header} is not exposed");
    }
}
