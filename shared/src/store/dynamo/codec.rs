//! Attribute values to models and back.
use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::auth::throttle::Attempts;
use crate::model::{Author, Post, User};
use crate::store::StoreError;

/// An attempt counter's count, and when its last attempt was made (epoch milliseconds).
pub(super) const COUNT: &str = "count";
pub(super) const LAST_ATTEMPT_AT: &str = "last_attempt_at";

/// A stored item: attribute name to value.
pub(super) type Item = HashMap<String, AttributeValue>;

pub(super) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub(super) fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

pub(super) fn unix_millis(at: OffsetDateTime) -> i128 {
    at.unix_timestamp_nanos() / 1_000_000
}

pub(super) fn timestamp(at: OffsetDateTime) -> Result<AttributeValue, StoreError> {
    at.format(&Rfc3339).map(s).map_err(|e| StoreError::Corrupt(format!("formatting a timestamp: {e}")))
}

pub(super) fn user_attributes(user: &User) -> Result<Item, StoreError> {
    Ok(HashMap::from([
        ("id".to_owned(), s(&user.id)),
        ("email".to_owned(), s(&user.email)),
        ("display_name".to_owned(), s(&user.display_name)),
        ("created_at".to_owned(), timestamp(user.created_at)?),
    ]))
}

/// Reads one attribute of a stored item.
pub(super) struct Reader<'a>(pub(super) &'a Item);

impl Reader<'_> {
    pub(super) fn string(&self, name: &str) -> Result<String, StoreError> {
        match self.0.get(name) {
            Some(AttributeValue::S(value)) => Ok(value.clone()),
            _ => Err(StoreError::Corrupt(format!("item has no string attribute {name:?}"))),
        }
    }

    pub(super) fn number<T: std::str::FromStr>(&self, name: &str) -> Result<T, StoreError> {
        match self.0.get(name) {
            Some(AttributeValue::N(value)) => value.parse().ok(),
            _ => None,
        }
        .ok_or_else(|| StoreError::Corrupt(format!("item has no numeric attribute {name:?}")))
    }

    pub(super) fn attempts(&self) -> Result<Attempts, StoreError> {
        let millis: i128 = self.number(LAST_ATTEMPT_AT)?;
        let last_at = OffsetDateTime::from_unix_timestamp_nanos(millis * 1_000_000)
            .map_err(|e| StoreError::Corrupt(format!("{LAST_ATTEMPT_AT}: {e}")))?;
        Ok(Attempts { count: self.number(COUNT)?, last_at })
    }

    pub(super) fn time(&self, name: &str) -> Result<OffsetDateTime, StoreError> {
        OffsetDateTime::parse(&self.string(name)?, &Rfc3339)
            .map_err(|e| StoreError::Corrupt(format!("attribute {name:?} is not RFC 3339: {e}")))
    }

    pub(super) fn user(&self, id_attribute: &str) -> Result<User, StoreError> {
        Ok(User {
            id: self.string(id_attribute)?,
            email: self.string("email")?,
            display_name: self.string("display_name")?,
            created_at: self.time("created_at")?,
        })
    }

    pub(super) fn post(&self) -> Result<Post, StoreError> {
        Ok(Post {
            id: self.string("id")?,
            title: self.string("title")?,
            body: self.string("body")?,
            author: Author { id: self.string("author_id")?, display_name: self.string("author_display_name")? },
            created_at: self.time("created_at")?,
            updated_at: self.0.contains_key("updated_at").then(|| self.time("updated_at")).transpose()?,
            version: self.number("version")?,
        })
    }
}
