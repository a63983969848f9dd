//! For local tools and tests only (feature `local`): `template.yaml`, embedded at
//! compile time, as the one definition of the routes, CORS settings and table.
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType,
};
use serde_yaml_ng::Value;

pub const TEMPLATE_YAML: &str = include_str!("../../template.yaml");

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("template.yaml: {0}")]
    Shape(String),
    #[error("template.yaml does not parse: {0}")]
    Parse(#[from] serde_yaml_ng::Error),
    #[error("creating the table: {0}")]
    CreateTable(String),
}

/// The parsed template. CloudFormation tags such as `!Ref` read as tagged values.
pub fn template() -> Result<Value, TemplateError> {
    Ok(serde_yaml_ng::from_str(TEMPLATE_YAML)?)
}

fn str_of<'a>(value: &'a Value, key: &str) -> Result<&'a str, TemplateError> {
    value[key].as_str().ok_or_else(|| TemplateError::Shape(format!("{key} is missing or not a string")))
}

fn list_of<'a>(value: &'a Value, key: &str) -> Result<&'a [Value], TemplateError> {
    value[key].as_sequence().map(Vec::as_slice).ok_or_else(|| TemplateError::Shape(format!("{key} is not a list")))
}

/// A function's HTTP API route: `method path` served by the binary `binary`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Route {
    pub binary: String,
    pub method: String,
    pub path: String,
}

/// Every HttpApi event of every `AWS::Serverless::Function` in the template.
pub fn routes() -> Result<Vec<Route>, TemplateError> {
    let template = template()?;
    let resources = template["Resources"].as_mapping().ok_or_else(|| TemplateError::Shape("no Resources".into()))?;
    let mut routes = Vec::new();
    for function in resources.values().filter(|r| r["Type"].as_str() == Some("AWS::Serverless::Function")) {
        let binary = str_of(&function["Metadata"]["BuildProperties"], "Binary")?;
        let events = function["Properties"]["Events"].as_mapping().into_iter().flat_map(|events| events.values());
        for event in events.filter(|event| event["Type"].as_str() == Some("HttpApi")) {
            let props = &event["Properties"];
            routes.push(Route {
                binary: binary.to_owned(),
                method: str_of(props, "Method")?.to_ascii_uppercase(),
                path: str_of(props, "Path")?.to_owned(),
            });
        }
    }
    routes.sort();
    Ok(routes)
}

/// The HTTP API's CORS configuration, with the `AllowedOrigins` parameter's default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cors {
    pub default_origins: Vec<String>,
    pub allow_methods: Vec<String>,
    pub allow_headers: Vec<String>,
    pub expose_headers: Vec<String>,
    pub max_age_seconds: u64,
}

pub fn cors() -> Result<Cors, TemplateError> {
    let template = template()?;
    let api = template["Resources"]
        .as_mapping()
        .and_then(|resources| resources.values().find(|r| r["Type"].as_str() == Some("AWS::Serverless::HttpApi")))
        .ok_or_else(|| TemplateError::Shape("no AWS::Serverless::HttpApi".into()))?;
    let config = &api["Properties"]["CorsConfiguration"];
    let strings = |key: &str| -> Result<Vec<String>, TemplateError> {
        list_of(config, key)?
            .iter()
            .map(|v| v.as_str().map(str::to_owned).ok_or_else(|| TemplateError::Shape(format!("{key} item"))))
            .collect()
    };
    let origins = str_of(&template["Parameters"]["AllowedOrigins"], "Default")?;
    Ok(Cors {
        default_origins: origins.split(',').map(|o| o.trim().to_owned()).filter(|o| !o.is_empty()).collect(),
        allow_methods: strings("AllowMethods")?,
        allow_headers: strings("AllowHeaders")?,
        expose_headers: strings("ExposeHeaders")?,
        max_age_seconds: config["MaxAge"].as_u64().ok_or_else(|| TemplateError::Shape("MaxAge".into()))?,
    })
}

/// The `BlogTable` resource's properties.
pub fn table_properties() -> Result<Value, TemplateError> {
    Ok(template()?["Resources"]["BlogTable"]["Properties"].clone())
}

pub fn key_schema(value: &Value) -> Result<Vec<KeySchemaElement>, TemplateError> {
    value
        .as_sequence()
        .ok_or_else(|| TemplateError::Shape("KeySchema is not a list".into()))?
        .iter()
        .map(|k| {
            KeySchemaElement::builder()
                .attribute_name(str_of(k, "AttributeName")?)
                .key_type(KeyType::from(str_of(k, "KeyType")?))
                .build()
                .map_err(|e| TemplateError::Shape(e.to_string()))
        })
        .collect()
}

/// Creates a table named `name` exactly as `BlogTable` is defined in template.yaml.
pub async fn create_table(client: &Client, name: &str) -> Result<(), TemplateError> {
    let props = table_properties()?;
    let attributes = list_of(&props, "AttributeDefinitions")?
        .iter()
        .map(|a| {
            AttributeDefinition::builder()
                .attribute_name(str_of(a, "AttributeName")?)
                .attribute_type(ScalarAttributeType::from(str_of(a, "AttributeType")?))
                .build()
                .map_err(|e| TemplateError::Shape(e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let indexes = list_of(&props, "GlobalSecondaryIndexes")?
        .iter()
        .map(|g| {
            let projection = ProjectionType::from(str_of(&g["Projection"], "ProjectionType")?);
            GlobalSecondaryIndex::builder()
                .index_name(str_of(g, "IndexName")?)
                .set_key_schema(Some(key_schema(&g["KeySchema"])?))
                .projection(Projection::builder().projection_type(projection).build())
                .build()
                .map_err(|e| TemplateError::Shape(e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::from(str_of(&props, "BillingMode")?))
        .set_attribute_definitions(Some(attributes))
        .set_key_schema(Some(key_schema(&props["KeySchema"])?))
        .set_global_secondary_indexes(Some(indexes))
        .send()
        .await
        .map_err(|e| TemplateError::CreateTable(aws_sdk_dynamodb::error::DisplayErrorContext(&e).to_string()))?;
    Ok(())
}
