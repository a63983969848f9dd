//! Realtime: what a post's change is announced as, and on which channels. One event per
//! change, the same whichever way it travels (AppSync Events on AWS, local-api's own
//! WebSocket), so one browser client works against both.
use serde::Serialize;

use crate::model::{Author, Post};

/// The channel namespace every post channel is in (AppSync Events: the first segment).
pub const NAMESPACE: &str = "posts";
/// Every post change.
pub const FEED_CHANNEL: &str = "/posts/feed";

/// One author's post changes. Author ids are ULIDs, which channel segments allow as they are.
pub fn author_channel(author_id: &str) -> String {
    format!("/{NAMESPACE}/authors/{author_id}")
}

/// AppSync's limits on a channel path: segments, and characters in one.
pub const CHANNEL_SEGMENTS: std::ops::RangeInclusive<usize> = 1..=5;
pub const SEGMENT_CHARS: std::ops::RangeInclusive<usize> = 1..=50;

/// Why a channel cannot be subscribed to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChannelError {
    #[error("a channel is 1 to 5 segments of 1 to 50 letters, digits and inner hyphens, `*` only last")]
    Malformed,
    #[error("only channels of the `{NAMESPACE}` namespace exist")]
    OutsideNamespace,
}

/// A channel a subscription names: a path in the namespace, or, ending in `/*`, every
/// channel below that path (AppSync Events' rules).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelPattern {
    segments: Vec<String>,
    wildcard: bool,
}

impl ChannelPattern {
    pub fn parse(text: &str) -> Result<Self, ChannelError> {
        let path = text.strip_prefix('/').unwrap_or(text);
        let path = path.strip_suffix('/').unwrap_or(path);
        let mut segments: Vec<String> = path.split('/').map(str::to_owned).collect();
        let wildcard = segments.last().is_some_and(|last| last == "*");
        if wildcard {
            segments.pop();
        }
        let valid_segment = |segment: &String| {
            SEGMENT_CHARS.contains(&segment.len())
                && segment.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !segment.starts_with('-')
                && !segment.ends_with('-')
        };
        let count = segments.len() + usize::from(wildcard);
        if !CHANNEL_SEGMENTS.contains(&count) || segments.is_empty() || !segments.iter().all(valid_segment) {
            return Err(ChannelError::Malformed);
        }
        if segments[0] != NAMESPACE {
            return Err(ChannelError::OutsideNamespace);
        }
        Ok(Self { segments, wildcard })
    }

    /// Whether an event published on `channel` reaches this subscription.
    pub fn matches(&self, channel: &str) -> bool {
        let published: Vec<&str> = channel.trim_matches('/').split('/').collect();
        let prefix_matches = published.len() >= self.segments.len()
            && self.segments.iter().zip(&published).all(|(mine, theirs)| mine == theirs);
        prefix_matches && (published.len() == self.segments.len()) != self.wildcard
    }
}

/// A post's change, as the store saw it: the post before and after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PostChange {
    Created(Post),
    Updated { before: Option<Post>, after: Post },
    Deleted(Post),
}

/// What subscribers receive: `{"type": "post.created" | "post.updated", "post": …}` with the
/// post as `GET /posts/{id}` returns it, or `{"type": "post.deleted", "post": {id, author,
/// version}}`. Delivery is at least once: `post.version` tells a duplicate or a stale
/// update from a new one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", content = "post")]
pub enum PostEvent {
    #[serde(rename = "post.created")]
    Created(Post),
    #[serde(rename = "post.updated")]
    Updated(Post),
    #[serde(rename = "post.deleted")]
    Deleted(DeletedPost),
}

/// What is left to say of a deleted post.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeletedPost {
    pub id: String,
    pub author: Author,
    /// The version it was deleted at.
    pub version: u64,
}

impl PostChange {
    /// The event announcing this change, if it changed what readers see: a write that left
    /// the post at the same version (none does today) announces nothing.
    pub fn event(self) -> Option<PostEvent> {
        match self {
            Self::Created(post) => Some(PostEvent::Created(post)),
            Self::Updated { before, after } => {
                let changed = before.is_none_or(|before| before.version != after.version);
                changed.then_some(PostEvent::Updated(after))
            }
            Self::Deleted(post) => {
                Some(PostEvent::Deleted(DeletedPost { id: post.id, author: post.author, version: post.version }))
            }
        }
    }
}

impl PostEvent {
    fn author_id(&self) -> &str {
        match self {
            Self::Created(post) | Self::Updated(post) => &post.author.id,
            Self::Deleted(deleted) => &deleted.author.id,
        }
    }

    /// The channels it is published on: the feed and its author's.
    pub fn channels(&self) -> [String; 2] {
        [FEED_CHANNEL.to_owned(), author_channel(self.author_id())]
    }

    /// The event as subscribers receive it: JSON text.
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// One post, at `version`.
    fn post(version: u64) -> Post {
        let at = time::macros::datetime!(2026-11-30 12:00 UTC);
        let author = Author { id: "01AUTHOR".into(), display_name: "Ada".into() };
        Post { id: "01POST".into(), version, ..Post::new("Hello".into(), "World".into(), author, at) }
    }

    #[test]
    fn events_carry_the_post_as_the_api_shows_it() {
        let created = PostChange::Created(post(1)).event().unwrap();
        let value: serde_json::Value = serde_json::from_str(&created.to_json().unwrap()).unwrap();
        assert_eq!(value, json!({"type": "post.created", "post": serde_json::to_value(post(1)).unwrap()}));
        assert_eq!(created.channels(), ["/posts/feed".to_owned(), "/posts/authors/01AUTHOR".to_owned()]);

        let updated = PostChange::Updated { before: Some(post(1)), after: post(2) }.event().unwrap();
        assert_eq!(serde_json::to_value(&updated).unwrap()["type"], "post.updated");
        assert_eq!(PostChange::Updated { before: Some(post(2)), after: post(2) }.event(), None, "nothing changed");

        let deleted = PostChange::Deleted(post(3)).event().unwrap();
        let value = serde_json::to_value(&deleted).unwrap();
        assert_eq!(
            value,
            json!({"type": "post.deleted", "post": {"id": post(3).id, "author": {"id": "01AUTHOR", "display_name": "Ada"}, "version": 3}})
        );
    }

    #[test]
    fn subscriptions_name_a_channel_or_everything_below_one() {
        let feed = ChannelPattern::parse("/posts/feed").unwrap();
        assert!(feed.matches(FEED_CHANNEL) && !feed.matches(&author_channel("01A")));
        assert_eq!(ChannelPattern::parse("posts/feed/").unwrap(), feed, "slashes at either end are optional");
        let everything = ChannelPattern::parse("/posts/*").unwrap();
        assert!(everything.matches(FEED_CHANNEL) && everything.matches(&author_channel("01A")));
        assert!(!everything.matches("/posts"), "a wildcard stands for at least one segment");
        let authors = ChannelPattern::parse("/posts/authors/*").unwrap();
        assert!(authors.matches(&author_channel("01A")) && !authors.matches(FEED_CHANNEL));
        for malformed in [
            "",
            "/",
            "/posts/fe ed",
            "/posts/*/feed",
            "/posts/a/b/c/d/e",
            "/posts/-x",
            "/posts/x_y",
            &format!("/posts/{}", "a".repeat(51)),
            "/*",
        ] {
            assert_eq!(ChannelPattern::parse(malformed), Err(ChannelError::Malformed), "{malformed:?}");
        }
        assert_eq!(ChannelPattern::parse("/default/feed"), Err(ChannelError::OutsideNamespace));
        assert!(ChannelPattern::parse("/posts/a/b/c/*").is_ok(), "five segments, the wildcard one of them");
    }

    #[test]
    fn channels_follow_appsyncs_naming_rules() {
        // 1 to 5 segments of [A-Za-z0-9-], at most 50 characters, the namespace first.
        let ulid = crate::model::new_id(crate::model::now());
        for channel in [FEED_CHANNEL.to_owned(), author_channel(&ulid)] {
            assert!(ChannelPattern::parse(&channel).is_ok_and(|pattern| pattern.matches(&channel)), "{channel}");
            let segments: Vec<&str> = channel.trim_start_matches('/').split('/').collect();
            assert_eq!(segments[0], NAMESPACE);
            assert!(segments.len() <= 5, "{channel}");
            for segment in segments {
                assert!(!segment.is_empty() && segment.len() <= 50, "{channel}");
                assert!(segment.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'), "{channel}");
            }
        }
    }
}
