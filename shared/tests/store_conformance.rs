//! One suite, both stores: each case below runs against the embedded store (in memory,
//! and in a file) and against DynamoDB (a fresh table from template.yaml in the server at
//! `AWS_ENDPOINT_URL_DYNAMODB`).
//!
//! Without that variable the DynamoDB cases are skipped with a message, except under CI
//! (`CI` set), where they fail: they must never be skipped silently there.
use std::collections::HashSet;
use std::sync::Arc;

use shared::auth::throttle::{FAILURE_WINDOW, LoginFailures};
use shared::model::{Author, Credentials, Post, User, new_id, now};
use shared::store::{DynamoStore, EmbeddedStore, LoginState, PostCreation, Store, StoreError};
use time::{Duration, OffsetDateTime};

fn credentials(email: &str) -> Credentials {
    let created_at = now();
    Credentials {
        user: User { id: new_id(created_at), email: email.into(), display_name: "Ada".into(), created_at },
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA".into(),
    }
}

fn post_at(created_at: OffsetDateTime, title: &str, body: &str) -> Post {
    Post {
        id: new_id(created_at),
        title: title.into(),
        body: body.into(),
        author: Author { id: "01AUTHOR".into(), display_name: "Ada".into() },
        created_at,
    }
}

async fn stores_and_finds_accounts_by_email(store: Arc<impl Store>) {
    let ada = credentials("ada@example.com");
    store.create_user(&ada).await.unwrap();
    assert_eq!(store.login_state("ada@example.com").await.unwrap().credentials, Some(ada));
    assert_eq!(store.login_state("nobody@example.com").await.unwrap().credentials, None);
}

async fn refuses_a_second_account_with_the_same_email(store: Arc<impl Store>) {
    let first = credentials("ada@example.com");
    store.create_user(&first).await.unwrap();
    let second = credentials("ada@example.com");
    assert!(matches!(store.create_user(&second).await, Err(StoreError::EmailTaken)));
    assert_eq!(store.login_state("ada@example.com").await.unwrap().credentials, Some(first));
}

async fn racing_signups_with_one_email_have_one_winner(store: Arc<impl Store + 'static>) {
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let store = Arc::clone(&store);
            tokio::spawn(async move { store.create_user(&credentials("race@example.com")).await })
        })
        .collect();
    let mut won = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(()) => won += 1,
            Err(StoreError::EmailTaken) => {}
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(won, 1);
}

async fn lists_posts_newest_first_in_pages_each_once(store: Arc<impl Store>) {
    let start = time::macros::datetime!(2026-01-01 00:00:00.000 UTC);
    let mut created = Vec::new();
    for i in 0..23 {
        let post = post_at(start + Duration::milliseconds(i * 1500), &format!("Post {i}"), "body");
        store.create_post(&post, None).await.unwrap();
        created.push(post);
    }
    let first = store.list_posts(10, None).await.unwrap();
    assert_eq!(first.posts.len(), 10);
    assert_eq!(first.posts[0], created[22], "a post reads back exactly as written");

    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = store.list_posts(10, after.as_deref()).await.unwrap();
        pages += 1;
        seen.extend(page.posts.iter().map(|p| p.title.clone()));
        match page.next {
            Some(next) => {
                assert_eq!(Some(&next), page.posts.last().map(|p| &p.id));
                after = Some(next);
            }
            None => break,
        }
    }
    let expected: Vec<String> = (0..23).rev().map(|i| format!("Post {i}")).collect();
    assert_eq!((seen, pages), (expected, 3));
}

async fn last_page_has_no_next_even_when_it_is_full(store: Arc<impl Store>) {
    let start = time::macros::datetime!(2026-02-01 00:00:00.000 UTC);
    for i in 0..4 {
        store.create_post(&post_at(start + Duration::seconds(i), "t", "b"), None).await.unwrap();
    }
    let first = store.list_posts(2, None).await.unwrap();
    let second = store.list_posts(2, first.next.as_deref()).await.unwrap();
    assert_eq!((first.posts.len(), second.posts.len()), (2, 2));
    assert_eq!(second.next, None);
    assert_eq!(store.list_posts(4, None).await.unwrap().next, None);
    let empty = store.list_posts(5, Some(&new_id(start - Duration::days(1)))).await.unwrap();
    assert!(empty.posts.is_empty() && empty.next.is_none());
}

async fn pages_larger_than_one_megabyte_are_complete(store: Arc<impl Store>) {
    // 60 posts of 20,000 four-byte characters: about 4.8 MB, past DynamoDB's 1 MB per Query.
    let body = "🦀".repeat(20_000);
    let start = time::macros::datetime!(2026-03-01 00:00:00.000 UTC);
    for i in 0..60 {
        store.create_post(&post_at(start + Duration::seconds(i), &format!("Big {i}"), &body), None).await.unwrap();
    }
    let page = store.list_posts(100, None).await.unwrap();
    let ids: HashSet<String> = page.posts.iter().map(|p| p.id.clone()).collect();
    assert_eq!((page.posts.len(), ids.len(), page.next), (60, 60, None));
    assert!(page.posts.iter().all(|p| p.body == body));
}

fn by(author: &str, post: Post) -> Post {
    Post { author: Author { id: author.into(), display_name: author.into() }, ..post }
}

async fn a_repeated_idempotency_key_replays_the_original(store: Arc<impl Store>) {
    let first = post_at(now(), "First", "body");
    assert_eq!(store.create_post(&first, Some("key-1")).await.unwrap(), PostCreation::Created);
    let again = post_at(now() + Duration::seconds(1), "Different", "content");
    assert_eq!(store.create_post(&again, Some("key-1")).await.unwrap(), PostCreation::Replayed(first.clone()));
    let other_key = post_at(now() + Duration::seconds(2), "Other key", "body");
    assert_eq!(store.create_post(&other_key, Some("key-2")).await.unwrap(), PostCreation::Created);
    let titles: Vec<String> = store.list_posts(10, None).await.unwrap().posts.into_iter().map(|p| p.title).collect();
    assert_eq!(titles, ["Other key", "First"]);
}

async fn idempotency_keys_belong_to_one_user(store: Arc<impl Store>) {
    let ada = by("01ADA", post_at(now(), "Ada's", "body"));
    let grace = by("01GRACE", post_at(now() + Duration::seconds(1), "Grace's", "body"));
    assert_eq!(store.create_post(&ada, Some("shared-key")).await.unwrap(), PostCreation::Created);
    assert_eq!(store.create_post(&grace, Some("shared-key")).await.unwrap(), PostCreation::Created);
    assert_eq!(store.list_posts(10, None).await.unwrap().posts.len(), 2);
}

async fn racing_creates_with_one_key_store_one_post(store: Arc<impl Store + 'static>) {
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let store = Arc::clone(&store);
            let post = post_at(now() + Duration::milliseconds(i), &format!("Attempt {i}"), "body");
            tokio::spawn(async move { (post.clone(), store.create_post(&post, Some("once")).await.unwrap()) })
        })
        .collect();
    let mut created = Vec::new();
    let mut replayed = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            (post, PostCreation::Created) => created.push(post),
            (_, PostCreation::Replayed(original)) => replayed.push(original),
        }
    }
    assert_eq!(created.len(), 1);
    assert!(replayed.iter().all(|p| *p == created[0]), "every repeat sees the one stored post");
    assert_eq!(store.list_posts(20, None).await.unwrap().posts, created);
}

async fn an_expired_idempotency_key_is_free_again(store: Arc<impl Store>) {
    let old = post_at(now() - Duration::hours(25), "Yesterday", "body");
    assert_eq!(store.create_post(&old, Some("daily")).await.unwrap(), PostCreation::Created);
    let today = post_at(now(), "Today", "body");
    assert_eq!(store.create_post(&today, Some("daily")).await.unwrap(), PostCreation::Created);
    assert_eq!(store.list_posts(10, None).await.unwrap().posts.len(), 2);
}

async fn replaces_a_password_hash_only_if_unchanged(store: Arc<impl Store>) {
    let ada = credentials("ada@example.com");
    store.create_user(&ada).await.unwrap();
    assert!(!store.replace_password_hash("ada@example.com", "not-the-current-hash", "$new-1").await.unwrap());
    assert!(store.replace_password_hash("ada@example.com", &ada.password_hash, "$new-2").await.unwrap());
    let stored = store.login_state("ada@example.com").await.unwrap().credentials.unwrap();
    assert_eq!((stored.password_hash.as_str(), stored.user), ("$new-2", ada.user));
    assert!(!store.replace_password_hash("nobody@example.com", "x", "y").await.unwrap());
    assert_eq!(store.login_state("nobody@example.com").await.unwrap().credentials, None, "nothing created");
}

async fn login_failures_count_up_and_clear(store: Arc<impl Store>) {
    let start = time::macros::datetime!(2026-04-01 10:00:00.000 UTC);
    let ada = credentials("ada@example.com");
    store.create_user(&ada).await.unwrap();
    assert_eq!(store.login_state("ada@example.com").await.unwrap().failures, None);
    for i in 1..=3 {
        let at = start + Duration::seconds(i64::from(i));
        assert_eq!(
            store.record_login_failure("ada@example.com", at).await.unwrap(),
            LoginFailures { count: i, last_failure_at: at }
        );
    }
    // Both items of one email come back from one read, each in its place.
    let both = LoginState {
        failures: Some(LoginFailures { count: 3, last_failure_at: start + Duration::seconds(3) }),
        credentials: Some(ada.clone()),
    };
    assert_eq!(store.login_state("ada@example.com").await.unwrap(), both);
    assert_eq!(store.login_state("nobody@example.com").await.unwrap(), LoginState::default());
    assert_eq!(store.login_state("other@example.com").await.unwrap().failures, None, "counted per email");
    store.clear_login_failures("ada@example.com").await.unwrap();
    assert_eq!(
        store.login_state("ada@example.com").await.unwrap(),
        LoginState { failures: None, credentials: Some(ada) }
    );
    store.clear_login_failures("ada@example.com").await.unwrap();
}

async fn login_failures_restart_after_a_quiet_window(store: Arc<impl Store>) {
    let start = time::macros::datetime!(2026-04-02 10:00:00.000 UTC);
    for _ in 0..4 {
        store.record_login_failure("ada@example.com", start).await.unwrap();
    }
    let later = start + Duration::try_from(FAILURE_WINDOW).unwrap() + Duration::SECOND;
    assert_eq!(store.record_login_failure("ada@example.com", later).await.unwrap().count, 1);
    assert_eq!(store.record_login_failure("ada@example.com", later).await.unwrap().count, 2);
}

async fn racing_login_failures_are_all_counted(store: Arc<impl Store + 'static>) {
    let at = now();
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let store = Arc::clone(&store);
            tokio::spawn(async move { store.record_login_failure("race@example.com", at).await.unwrap() })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(store.login_state("race@example.com").await.unwrap().failures.unwrap().count, 20);
}

async fn dynamo_store() -> Option<DynamoStore> {
    if std::env::var_os("AWS_ENDPOINT_URL_DYNAMODB").is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run the DynamoDB conformance suite: set AWS_ENDPOINT_URL_DYNAMODB"
        );
        eprintln!("SKIPPED: DynamoDB conformance case (AWS_ENDPOINT_URL_DYNAMODB is not set)");
        return None;
    }
    let client = aws_sdk_dynamodb::Client::new(&shared::aws::load_sdk_config().await);
    let table = format!("conformance-{}", ulid::Ulid::generate().to_string().to_lowercase());
    shared::local::create_table(&client, &table).await.unwrap();
    Some(DynamoStore::new(client, table))
}

fn embedded_in_memory() -> Option<EmbeddedStore> {
    Some(EmbeddedStore::in_memory().unwrap())
}

fn embedded_in_a_file() -> Option<EmbeddedStore> {
    let dir = std::env::temp_dir().join(format!("blog-conformance-{}", ulid::Ulid::generate()));
    std::fs::create_dir_all(&dir).unwrap();
    Some(EmbeddedStore::open(&dir.join("blog.redb")).unwrap())
}

macro_rules! conformance {
    (stores: [$($store:ident => $open:expr),* $(,)?], cases: $cases:tt) => {
        $( conformance!(@store $store, $open, $cases); )*
    };
    (@store $store:ident, $open:expr, [$($case:ident),* $(,)?]) => {
        mod $store {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    if let Some(store) = $open {
                        super::$case(std::sync::Arc::new(store)).await;
                    }
                }
            )*
        }
    };
}

conformance!(
    stores: [
        embedded_memory => super::embedded_in_memory(),
        embedded_file => super::embedded_in_a_file(),
        dynamodb => super::dynamo_store().await,
    ],
    cases: [
        stores_and_finds_accounts_by_email,
        refuses_a_second_account_with_the_same_email,
        racing_signups_with_one_email_have_one_winner,
        lists_posts_newest_first_in_pages_each_once,
        last_page_has_no_next_even_when_it_is_full,
        pages_larger_than_one_megabyte_are_complete,
        a_repeated_idempotency_key_replays_the_original,
        idempotency_keys_belong_to_one_user,
        racing_creates_with_one_key_store_one_post,
        an_expired_idempotency_key_is_free_again,
        replaces_a_password_hash_only_if_unchanged,
        login_failures_count_up_and_clear,
        login_failures_restart_after_a_quiet_window,
        racing_login_failures_are_all_counted,
    ]
);
