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

// The optional CloudFront distribution in front of the API (docs/deploy.md#cloudfront-in-front-of-the-api).

/// The parameter that turns it on, and the condition everything of it hangs on.
const CLOUDFRONT_PARAMETER: &str = "CloudFrontDistribution";

/// AWS's managed policies, whose ids are fixed: caching off; every viewer header but `Host`
/// (with `Authorization`) forwarded, what an API Gateway origin needs.
const CACHING_DISABLED: &str = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad";
const ALL_VIEWER_EXCEPT_HOST_HEADER: &str = "b689b0a8-53d0-40ab-baf2-68738e2966ac";

const ALL_METHODS: [&str; 7] = ["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"];

/// The strings of a YAML list (nothing for anything else).
fn strings(value: &Value) -> Vec<&str> {
    value.as_sequence().map(|items| items.iter().filter_map(Value::as_str).collect()).unwrap_or_default()
}

/// The text of a `!Sub 'text'`.
fn sub_text(value: &Value) -> Option<&str> {
    match value {
        Value::Tagged(tagged) if tagged.tag == "Sub" => tagged.value.as_str(),
        _ => None,
    }
}

/// The operands of an `!Equals [a, b]`.
fn equals_operands(value: &Value) -> Option<&[Value]> {
    match value {
        Value::Tagged(tagged) if tagged.tag == "Equals" => tagged.value.as_sequence().map(Vec::as_slice),
        _ => None,
    }
}

/// The template's one CloudFront distribution: its logical id and its `DistributionConfig`.
fn distribution(template: &Value) -> (&str, &Value) {
    let resources = template["Resources"].as_mapping().unwrap();
    let mut found = resources.iter().filter(|(_, r)| r["Type"].as_str() == Some("AWS::CloudFront::Distribution"));
    let (name, resource) = found.next().expect("a CloudFront distribution");
    assert!(found.next().is_none(), "one CloudFront distribution");
    (name.as_str().unwrap(), &resource["Properties"]["DistributionConfig"])
}

/// `openapi.yaml`, as JSON.
fn openapi() -> serde_json::Value {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi.yaml")).unwrap();
    serde_yaml_ng::from_str(&text).unwrap()
}

/// The template's routes whose `200` openapi.yaml marks public (`PublicCache`), each with its
/// operation. local-api's `public_answers_are_cacheable_and_revalidate_to_not_modified`
/// checks that exactly these routes' functions send the public `Cache-Control`.
fn public_routes(spec: &serde_json::Value) -> Vec<(template::Route, &serde_json::Value)> {
    template::routes()
        .unwrap()
        .into_iter()
        .filter_map(|route| {
            let operation = &spec["paths"][route.path.as_str()][route.method.to_lowercase().as_str()];
            let cache_control = &operation["responses"]["200"]["headers"]["Cache-Control"]["$ref"];
            cache_control.as_str().is_some_and(|r| r.ends_with("/PublicCache")).then_some((route, operation))
        })
        .collect()
}

/// A route path as a CloudFront path pattern: each `{parameter}` segment becomes `*`.
fn path_pattern(path: &str) -> String {
    path.split('/').map(|segment| if segment.starts_with('{') { "*" } else { segment }).collect::<Vec<_>>().join("/")
}

/// Whether a CloudFront path pattern matches `path`: `*` is any run of characters (`/`
/// included), `?` any one character, everything else itself.
fn pattern_matches(pattern: &[u8], path: &[u8]) -> bool {
    match (pattern.first(), path.first()) {
        (None, None) => true,
        (Some(&b'*'), _) => {
            pattern_matches(&pattern[1..], path) || (!path.is_empty() && pattern_matches(pattern, &path[1..]))
        }
        (Some(&b'?'), Some(_)) => pattern_matches(&pattern[1..], &path[1..]),
        (Some(p), Some(c)) if p == c => pattern_matches(&pattern[1..], &path[1..]),
        _ => false,
    }
}

#[test]
fn the_path_pattern_matcher_reads_patterns_as_cloudfront_does() {
    for (pattern, path, matches) in [
        ("/posts", "/posts", true),
        ("/posts", "/posts/x", false),
        ("/posts/*", "/posts/x", true),
        ("/posts/*", "/posts/x/y", true),
        ("/posts/*", "/posts", false),
        ("/users/*/posts", "/users/x/posts", true),
        ("/users/*/posts", "/users/x/sessions", false),
        ("/me?", "/me/", true),
        ("*", "/anything", true),
    ] {
        assert_eq!(pattern_matches(pattern.as_bytes(), path.as_bytes()), matches, "{pattern} on {path}");
    }
}

/// Off unless a deployment asks: the parameter defaults to `disabled`, and the distribution,
/// its policies and its output all hang on the one condition that is true only for `enabled`.
#[test]
fn cloudfront_is_off_unless_the_parameter_turns_it_on() {
    let template = template::template().unwrap();
    let parameter = &template["Parameters"][CLOUDFRONT_PARAMETER];
    assert_eq!(parameter["Default"].as_str(), Some("disabled"));
    let allowed: BTreeSet<&str> = strings(&parameter["AllowedValues"]).into_iter().collect();
    assert_eq!(allowed, BTreeSet::from(["disabled", "enabled"]));

    let (name, _) = distribution(&template);
    let resources = template["Resources"].as_mapping().unwrap();
    let condition = resources[name]["Condition"].as_str().expect("the distribution is conditional");
    let operands = equals_operands(&template["Conditions"][condition]).expect("an !Equals condition");
    assert_eq!(operands.len(), 2, "{operands:?}");
    assert_eq!(ref_target(&operands[0]), Some(CLOUDFRONT_PARAMETER));
    assert_eq!(operands[1].as_str(), Some("enabled"));

    let cloudfront: Vec<(&Value, &Value)> = resources
        .iter()
        .filter(|(_, r)| r["Type"].as_str().is_some_and(|t| t.starts_with("AWS::CloudFront::")))
        .collect();
    assert!(cloudfront.len() >= 3, "the distribution, its cache policy and its CORS policy: {cloudfront:?}");
    for (resource_name, resource) in cloudfront {
        assert_eq!(resource["Condition"].as_str(), Some(condition), "{resource_name:?} is made without the parameter");
    }

    let outputs = template["Outputs"].as_mapping().unwrap();
    let domain = format!("{name}.DomainName");
    let conditional_output_of_domain = outputs.values().any(|output| {
        output["Condition"].as_str() == Some(condition) && format!("{:?}", output["Value"]).contains(domain.as_str())
    });
    assert!(conditional_output_of_domain, "an output of {domain}, on the same condition");
}

/// The public reads, and only they, are cached: one behaviour per public route's path, no
/// header (so never `Authorization`) and no cookie in their cache key, the paging parameters
/// openapi.yaml declares as the only query strings; everything else goes through the
/// default behaviour uncached. Every behaviour allows every method and forwards every viewer
/// header but `Host`, so `POST /posts` and `PATCH`/`DELETE /posts/{id}` reach the API with
/// `Authorization` and `If-Match`; only GET and HEAD are ever cached.
#[test]
fn cloudfront_caches_only_the_public_reads_and_never_by_authorization() {
    let template = template::template().unwrap();
    let (_, config) = distribution(&template);

    // The one origin: the HTTP API's own endpoint, over TLS 1.2 only.
    let origins = config["Origins"].as_sequence().expect("Origins");
    assert_eq!(origins.len(), 1, "{origins:?}");
    let origin = &origins[0];
    let resources = template["Resources"].as_mapping().unwrap();
    let (api, _) = resources
        .iter()
        .find(|(_, r)| r["Type"].as_str() == Some("AWS::Serverless::HttpApi"))
        .expect("an AWS::Serverless::HttpApi");
    let api = api.as_str().unwrap();
    let endpoint = format!("${{{api}}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}");
    assert_eq!(sub_text(&origin["DomainName"]), Some(endpoint.as_str()), "the origin is {api}");
    let custom = &origin["CustomOriginConfig"];
    assert_eq!(custom["OriginProtocolPolicy"].as_str(), Some("https-only"));
    assert_eq!(strings(&custom["OriginSSLProtocols"]), ["TLSv1.2"]);
    let origin_id = origin["Id"].as_str().unwrap();

    let all_methods: BTreeSet<&str> = ALL_METHODS.into_iter().collect();
    let default = &config["DefaultCacheBehavior"];
    assert_eq!(default["CachePolicyId"].as_str(), Some(CACHING_DISABLED), "the default behaviour caches nothing");
    assert_eq!(default["OriginRequestPolicyId"].as_str(), Some(ALL_VIEWER_EXCEPT_HOST_HEADER));
    assert_eq!(strings(&default["AllowedMethods"]).into_iter().collect::<BTreeSet<_>>(), all_methods);
    assert_eq!(default["TargetOriginId"].as_str(), Some(origin_id));

    let spec = openapi();
    let public = public_routes(&spec);
    assert!(!public.is_empty(), "openapi.yaml marks the public reads");
    for (route, _) in &public {
        assert_eq!(route.method, "GET", "only reads are public: {route:?}");
    }
    let expected_patterns: BTreeSet<String> = public.iter().map(|(route, _)| path_pattern(&route.path)).collect();
    // Their paging parameters: the query strings of the public reads' operations ($refs resolved).
    let mut expected_query = BTreeSet::new();
    for (_, operation) in &public {
        for parameter in operation["parameters"].as_array().into_iter().flatten() {
            let parameter = match parameter["$ref"].as_str() {
                Some(pointer) => spec.pointer(pointer.trim_start_matches('#')).expect(pointer),
                None => parameter,
            };
            if parameter["in"].as_str() == Some("query") {
                expected_query.insert(parameter["name"].as_str().unwrap().to_owned());
            }
        }
    }
    assert!(!expected_query.is_empty(), "the listings page with query strings");

    let behaviors = config["CacheBehaviors"].as_sequence().expect("CacheBehaviors");
    let mut patterns = BTreeSet::new();
    for behavior in behaviors {
        let pattern = behavior["PathPattern"].as_str().unwrap();
        assert!(patterns.insert(pattern.to_owned()), "{pattern} twice");
        assert_eq!(behavior["TargetOriginId"].as_str(), Some(origin_id), "{pattern}");
        assert_eq!(strings(&behavior["AllowedMethods"]).into_iter().collect::<BTreeSet<_>>(), all_methods, "{pattern}");
        assert_eq!(strings(&behavior["CachedMethods"]), ["GET", "HEAD"], "{pattern}");
        assert_eq!(behavior["OriginRequestPolicyId"].as_str(), Some(ALL_VIEWER_EXCEPT_HOST_HEADER), "{pattern}");

        let policy =
            ref_target(&behavior["CachePolicyId"]).unwrap_or_else(|| panic!("{pattern}: a cache policy of the stack"));
        assert_eq!(resources[policy]["Type"].as_str(), Some("AWS::CloudFront::CachePolicy"), "{pattern}");
        let policy_config = &resources[policy]["Properties"]["CachePolicyConfig"];
        // Kept only as long as the API's Cache-Control says: nothing it did not mark.
        assert_eq!(policy_config["MinTTL"].as_u64(), Some(0), "{policy}");
        assert_eq!(policy_config["DefaultTTL"].as_u64(), Some(0), "{policy}");
        assert!(policy_config["MaxTTL"].as_u64().is_some_and(|ttl| ttl > 0), "{policy}");
        let key = &policy_config["ParametersInCacheKeyAndForwardedToOrigin"];
        assert_eq!(key["HeadersConfig"]["HeaderBehavior"].as_str(), Some("none"), "{policy}: no header in the key");
        assert!(key["HeadersConfig"]["Headers"].is_null(), "{policy}: no header in the key");
        assert!(!format!("{key:?}").to_ascii_lowercase().contains("authorization"), "{policy}: {key:?}");
        assert_eq!(key["CookiesConfig"]["CookieBehavior"].as_str(), Some("none"), "{policy}: no cookie in the key");
        assert!(key["CookiesConfig"]["Cookies"].is_null(), "{policy}: no cookie in the key");
        let query = &key["QueryStringsConfig"];
        assert_eq!(query["QueryStringBehavior"].as_str(), Some("whitelist"), "{policy}");
        let query: BTreeSet<String> = strings(&query["QueryStrings"]).into_iter().map(str::to_owned).collect();
        assert_eq!(query, expected_query, "{policy}: the paging parameters");
    }
    assert_eq!(patterns, expected_patterns, "one cached behaviour per public read");

    // No other read falls under a cached pattern: a GET there would be cached for everyone.
    let sample = |path: &str| {
        path.split('/')
            .map(|segment| if segment.starts_with('{') { "x" } else { segment })
            .collect::<Vec<_>>()
            .join("/")
    };
    for route in template::routes().unwrap() {
        let path = sample(&route.path);
        let cached = patterns.iter().find(|pattern| pattern_matches(pattern.as_bytes(), path.as_bytes()));
        if let Some(pattern) = cached.filter(|_| route.method == "GET" || route.method == "HEAD") {
            let is_public = public.iter().any(|(public_route, _)| *public_route == route);
            assert!(is_public, "{} {} is cached by {pattern} but is not public", route.method, route.path);
        }
    }
}

/// A cached answer was made for one request's `Origin` (or none), so on the cached paths
/// CloudFront writes the CORS headers per request, with the HTTP API's own settings.
#[test]
fn cloudfront_answers_cors_on_the_cached_paths_as_the_api_does() {
    let template = template::template().unwrap();
    let (_, config) = distribution(&template);
    let cors = template::cors().unwrap();
    let owned = |value: &Value| strings(value).into_iter().map(str::to_owned).collect::<Vec<String>>();
    let behaviors = config["CacheBehaviors"].as_sequence().expect("CacheBehaviors");
    assert!(!behaviors.is_empty());
    for behavior in behaviors {
        let pattern = behavior["PathPattern"].as_str().unwrap();
        let policy = ref_target(&behavior["ResponseHeadersPolicyId"]).unwrap_or_else(|| panic!("{pattern}: no CORS"));
        let policy = &template["Resources"][policy];
        assert_eq!(policy["Type"].as_str(), Some("AWS::CloudFront::ResponseHeadersPolicy"), "{pattern}");
        let headers = &policy["Properties"]["ResponseHeadersPolicyConfig"]["CorsConfig"];
        assert_eq!(
            headers["OriginOverride"].as_bool(),
            Some(true),
            "{pattern}: the cached answer's own are someone else's"
        );
        assert_eq!(headers["AccessControlAllowCredentials"].as_bool(), Some(false), "{pattern}");
        assert_eq!(ref_target(&headers["AccessControlAllowOrigins"]["Items"]), Some("AllowedOrigins"), "{pattern}");
        assert_eq!(owned(&headers["AccessControlAllowMethods"]["Items"]), cors.allow_methods, "{pattern}");
        assert_eq!(owned(&headers["AccessControlAllowHeaders"]["Items"]), cors.allow_headers, "{pattern}");
        assert_eq!(owned(&headers["AccessControlExposeHeaders"]["Items"]), cors.expose_headers, "{pattern}");
        assert_eq!(headers["AccessControlMaxAgeSec"].as_u64(), Some(cors.max_age_seconds), "{pattern}");
    }
}
