//! Reads `template.yaml` (the one definition of the table, routes and functions) and
//! creates its table in a local DynamoDB.
#![allow(dead_code)] // each test binary uses a different part

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType,
};
use serde_yaml_ng::Value;

pub fn template() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml");
    let text = std::fs::read_to_string(path).expect("read template.yaml");
    serde_yaml_ng::from_str(&text).expect("parse template.yaml")
}

pub fn table_properties() -> Value {
    template()["Resources"]["BlogTable"]["Properties"].clone()
}

fn str_of<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key].as_str().unwrap_or_else(|| panic!("template: {key} is not a string in {value:?}"))
}

fn key_schema(value: &Value) -> Vec<KeySchemaElement> {
    value
        .as_sequence()
        .expect("KeySchema is a list")
        .iter()
        .map(|k| {
            KeySchemaElement::builder()
                .attribute_name(str_of(k, "AttributeName"))
                .key_type(KeyType::from(str_of(k, "KeyType")))
                .build()
                .expect("key schema element")
        })
        .collect()
}

/// `[(attribute, key type)]` of a KeySchema in the template.
pub fn key_names(value: &Value) -> Vec<(String, String)> {
    key_schema(value).into_iter().map(|k| (k.attribute_name().to_owned(), k.key_type().as_str().to_owned())).collect()
}

/// Creates a table named `name` exactly as `BlogTable` in template.yaml.
pub async fn create_table_from_template(client: &Client, name: &str) {
    let props = table_properties();
    let attributes = props["AttributeDefinitions"].as_sequence().expect("AttributeDefinitions").iter().map(|a| {
        AttributeDefinition::builder()
            .attribute_name(str_of(a, "AttributeName"))
            .attribute_type(ScalarAttributeType::from(str_of(a, "AttributeType")))
            .build()
            .expect("attribute definition")
    });
    let indexes = props["GlobalSecondaryIndexes"].as_sequence().expect("GlobalSecondaryIndexes").iter().map(|g| {
        GlobalSecondaryIndex::builder()
            .index_name(str_of(g, "IndexName"))
            .set_key_schema(Some(key_schema(&g["KeySchema"])))
            .projection(
                Projection::builder()
                    .projection_type(ProjectionType::from(str_of(&g["Projection"], "ProjectionType")))
                    .build(),
            )
            .build()
            .expect("global secondary index")
    });
    client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::from(str_of(&props, "BillingMode")))
        .set_attribute_definitions(Some(attributes.collect()))
        .set_key_schema(Some(key_schema(&props["KeySchema"])))
        .set_global_secondary_indexes(Some(indexes.collect()))
        .send()
        .await
        .expect("create table");
}
