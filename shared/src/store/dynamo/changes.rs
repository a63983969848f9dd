//! The table's stream, read back: a post item's images become the change they record.
use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use super::codec::Reader;
use super::keys::{POST_KEY_PREFIX, schema::PK};
use crate::realtime::PostChange;
use crate::store::StoreError;

/// What a stream record of `event_name` (`INSERT`, `MODIFY`, `REMOVE`) with these images
/// did to a post; `None` for an item that is not a post.
pub fn post_change(
    event_name: &str,
    old_image: Option<HashMap<String, AttributeValue>>,
    new_image: Option<HashMap<String, AttributeValue>>,
) -> Result<Option<PostChange>, StoreError> {
    let is_post = |image: &HashMap<String, AttributeValue>| matches!(image.get(PK), Some(AttributeValue::S(pk)) if pk.starts_with(POST_KEY_PREFIX));
    let post =
        |image: Option<HashMap<String, AttributeValue>>| image.filter(is_post).map(|i| Reader(&i).post()).transpose();
    let (before, after) = (post(old_image)?, post(new_image)?);
    let missing = |image: &str| StoreError::Corrupt(format!("a {event_name} record of a post has no {image} image"));
    Ok(match event_name {
        _ if before.is_none() && after.is_none() => None,
        "INSERT" => Some(PostChange::Created(after.ok_or_else(|| missing("new"))?)),
        "MODIFY" => Some(PostChange::Updated { before, after: after.ok_or_else(|| missing("new"))? }),
        "REMOVE" => Some(PostChange::Deleted(before.ok_or_else(|| missing("old"))?)),
        other => return Err(StoreError::Corrupt(format!("unknown stream event {other:?}"))),
    })
}
