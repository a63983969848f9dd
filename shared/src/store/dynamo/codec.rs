//! Attribute values to models and back.
use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::auth::throttle::Attempts;
use crate::model::{Author, Post, SignInMethod, User, password_only};
use crate::store::StoreError;

/// An attempt counter's count, and when its last attempt was made (epoch milliseconds).
pub(super) const COUNT: &str = "count";
pub(super) const LAST_ATTEMPT_AT: &str = "last_attempt_at";
/// The password hash on an account's email item (absent when it has no password).
pub(super) const PASSWORD_HASH: &str = "password_hash";
/// An account's sign-in methods, a string set (absent on accounts made before there were others).
pub(super) const SIGN_IN_METHODS: &str = "sign_in_methods";
/// Whether the account's email is verified (absent on accounts made before verification).
pub(super) const EMAIL_VERIFIED: &str = "email_verified";

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
        (SIGN_IN_METHODS.to_owned(), sign_in_methods(user)?),
        (EMAIL_VERIFIED.to_owned(), AttributeValue::Bool(user.email_verified)),
    ]))
}

/// The account's methods as a string set, which DynamoDB does not allow empty.
pub(super) fn sign_in_methods(user: &User) -> Result<AttributeValue, StoreError> {
    if user.sign_in_methods.is_empty() {
        return Err(StoreError::Corrupt(format!("account {} has no way to sign in", user.id)));
    }
    Ok(AttributeValue::Ss(user.sign_in_methods.iter().map(|m| m.as_str().to_owned()).collect()))
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
            sign_in_methods: match self.0.get(SIGN_IN_METHODS) {
                None => password_only(),
                Some(AttributeValue::Ss(names)) => names
                    .iter()
                    .map(|name| {
                        SignInMethod::from_name(name)
                            .ok_or_else(|| StoreError::Corrupt(format!("unknown sign-in method {name:?}")))
                    })
                    .collect::<Result<_, _>>()?,
                Some(_) => return Err(StoreError::Corrupt(format!("{SIGN_IN_METHODS} is not a string set"))),
            },
            email_verified: match self.0.get(EMAIL_VERIFIED) {
                None => false,
                Some(AttributeValue::Bool(verified)) => *verified,
                Some(_) => return Err(StoreError::Corrupt(format!("{EMAIL_VERIFIED} is not a boolean"))),
            },
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SignInMethod;

    #[test]
    fn users_round_trip_and_older_accounts_have_passwords_and_no_verified_email() {
        let user = User {
            id: "01ADA".into(),
            email: "ada@example.com".into(),
            display_name: "Ada".into(),
            created_at: time::macros::datetime!(2026-01-01 00:00 UTC),
            sign_in_methods: [SignInMethod::Password, SignInMethod::Google].into(),
            email_verified: true,
        };
        let mut item = user_attributes(&user).unwrap();
        assert_eq!(Reader(&item).user("id").unwrap(), user);
        item.remove(EMAIL_VERIFIED);
        assert!(!Reader(&item).user("id").unwrap().email_verified, "older accounts are unverified");
        item.remove(SIGN_IN_METHODS);
        assert_eq!(Reader(&item).user("id").unwrap().sign_in_methods, password_only());
        item.insert(SIGN_IN_METHODS.into(), AttributeValue::Ss(vec!["carrier-pigeon".into()]));
        assert!(Reader(&item).user("id").is_err());
        let no_way_in = User { sign_in_methods: Default::default(), ..user };
        assert!(user_attributes(&no_way_in).is_err());
    }
}
