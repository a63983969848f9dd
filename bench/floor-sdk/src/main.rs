//! The SDK floor: what any function on DynamoDB must pay. The client is built at init
//! with the functions' own SDK configuration (`shared::aws`); each request writes one
//! item and reads it back with a consistent GetItem.
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use lambda_http::{Body, Error, Request, Response, service_fn};
use shared::store::dynamo::schema::{PK, SK};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let table = std::env::var("TABLE_NAME")?;
    let client = Client::new(&shared::aws::load_sdk_config().await?);
    lambda_http::run(service_fn(|_: Request| put_then_get(&client, &table))).await
}

async fn put_then_get(client: &Client, table: &str) -> Result<Response<Body>, Error> {
    let key = AttributeValue::S(format!("FLOOR#{}", ulid::Ulid::generate()));
    client.put_item().table_name(table).item(PK, key.clone()).item(SK, key.clone()).send().await?;
    let read =
        client.get_item().table_name(table).key(PK, key.clone()).key(SK, key).consistent_read(true).send().await?;
    let status = if read.item.is_some() { 200 } else { 500 };
    Ok(Response::builder().status(status).body(Body::Empty)?)
}
