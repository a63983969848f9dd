//! One suite, both stores: each case below runs against the embedded store (in memory,
//! and in a file) and against DynamoDB (a fresh table from template.yaml in the server at
//! `AWS_ENDPOINT_URL_DYNAMODB`).
//!
//! Without that variable the DynamoDB cases are skipped with a message, except under CI
//! (`CI` set), where they fail: they must never be skipped silently there.
use std::future::Future;
use std::sync::Arc;

use shared::auth::throttle::{AttemptCounter, Attempts, PER_ADDRESS, Reservation};
use shared::auth::{MailedToken, TokenPurpose};
use shared::model::{
    Author, Credentials, Identity, MAIL_INTERVAL, MailRequest, PAGE_CONTENT_BYTES, POST_BODY_BYTES, Post, PostEdit,
    Precondition, SessionInfo, SessionStart, SessionUser, SignInMethod, TrustedDevice, User, new_id, now,
    password_only,
};
use shared::store::{
    DeletedAccount, DynamoStore, EmbeddedStore, NewSession, PostCreation, RefreshGrant, Rotation, Store, StoreError,
};
use time::{Duration, OffsetDateTime};

fn credentials(email: &str) -> Credentials {
    let created_at = now();
    Credentials {
        user: User {
            id: new_id(created_at),
            email: email.into(),
            display_name: "Ada".into(),
            created_at,
            sign_in_methods: password_only(),
            email_verified: false,
        },
        password_hash: Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA".into()),
    }
}

fn post_at(created_at: OffsetDateTime, title: &str, body: &str) -> Post {
    Post::new(title.into(), body.into(), Author { id: "01AUTHOR".into(), display_name: "Ada".into() }, created_at)
}

async fn stores_and_finds_accounts_by_email(store: Arc<impl Store>) {
    let ada = credentials("ada@example.com");
    store.create_user(&ada, None).await.unwrap();
    assert_eq!(store.login_state("ada@example.com", &[], None).await.unwrap().credentials, Some(ada));
    assert_eq!(store.login_state("nobody@example.com", &[], None).await.unwrap().credentials, None);
}

async fn renames_an_account_in_its_profile_and_its_login_record(store: Arc<impl Store>) {
    let ada = credentials("rename@example.com");
    store.create_user(&ada, None).await.unwrap();
    let renamed = store.rename_user(&ada.user.id, "Ada Lovelace").await.unwrap().unwrap();
    assert_eq!((renamed.id.as_str(), renamed.display_name.as_str()), (ada.user.id.as_str(), "Ada Lovelace"));
    assert_eq!(store.get_user(&ada.user.id).await.unwrap().unwrap(), renamed);
    let login = store.login_state("rename@example.com", &[], None).await.unwrap().credentials.unwrap();
    assert_eq!(login.user, renamed);
    assert_eq!(login.password_hash, ada.password_hash, "the password is untouched");
    assert_eq!(store.rename_user(&new_id(now()), "Nobody").await.unwrap(), None);
}

async fn refuses_a_second_account_with_the_same_email(store: Arc<impl Store>) {
    let first = credentials("ada@example.com");
    store.create_user(&first, None).await.unwrap();
    let second = credentials("ada@example.com");
    assert!(matches!(store.create_user(&second, None).await, Err(StoreError::EmailTaken)));
    assert_eq!(store.login_state("ada@example.com", &[], None).await.unwrap().credentials, Some(first));
}

fn google_user(email: &str) -> User {
    let created_at = now();
    User {
        id: new_id(created_at),
        email: email.into(),
        display_name: "Grace".into(),
        created_at,
        sign_in_methods: [SignInMethod::Google].into(),
        email_verified: false,
    }
}

async fn an_account_made_with_an_identity_has_no_password(store: Arc<impl Store>) {
    let grace = google_user("grace@example.com");
    let identity = Identity::google("1001");
    store.create_user_with_identity(&grace, &identity, None).await.unwrap();
    assert_eq!(store.user_by_identity(&identity).await.unwrap().as_ref(), Some(&grace));
    assert_eq!(store.get_user(&grace.id).await.unwrap().as_ref(), Some(&grace));
    let login = store.login_state("grace@example.com", &[], None).await.unwrap().credentials.unwrap();
    assert_eq!((login.user, login.password_hash), (grace, None));
    assert!(matches!(store.create_user(&credentials("grace@example.com"), None).await, Err(StoreError::EmailTaken)));
    assert_eq!(store.user_by_identity(&Identity::google("1002")).await.unwrap(), None);
}

async fn an_identity_and_an_email_each_belong_to_one_account(store: Arc<impl Store>) {
    let ada = credentials("ada@example.com");
    store.create_user(&ada, None).await.unwrap();
    let taken = store.create_user_with_identity(&google_user("ada@example.com"), &Identity::google("2001"), None).await;
    assert!(matches!(taken, Err(StoreError::EmailTaken)), "{taken:?}");
    assert_eq!(store.user_by_identity(&Identity::google("2001")).await.unwrap(), None, "nothing was written");
    let grace = google_user("grace@example.com");
    store.create_user_with_identity(&grace, &Identity::google("2002"), None).await.unwrap();
    let other = google_user("other@example.com");
    let taken = store.create_user_with_identity(&other, &Identity::google("2002"), None).await;
    assert!(matches!(taken, Err(StoreError::IdentityTaken)), "{taken:?}");
    assert_eq!(store.login_state("other@example.com", &[], None).await.unwrap().credentials, None);
    assert_eq!(store.get_user(&other.id).await.unwrap(), None);
}

async fn racing_first_sign_ins_make_one_account(store: Arc<impl Store + 'static>) {
    let results = race(&store, 10, |store, _| async move {
        store.create_user_with_identity(&google_user("race@example.com"), &Identity::google("3001"), None).await
    })
    .await;
    assert_eq!(winners(results, |lost| matches!(lost, StoreError::IdentityTaken)), 1);
}

async fn linking_adds_the_method_to_the_account(store: Arc<impl Store>) {
    let ada = credentials("ada@example.com");
    store.create_user(&ada, None).await.unwrap();
    let identity = Identity::google("4001");
    let linked = store.link_identity(&ada.user, &identity).await.unwrap();
    assert_eq!(linked.sign_in_methods, [SignInMethod::Password, SignInMethod::Google].into());
    assert_eq!(store.get_user(&ada.user.id).await.unwrap().as_ref(), Some(&linked));
    assert_eq!(store.user_by_identity(&identity).await.unwrap().as_ref(), Some(&linked));
    let login = store.login_state("ada@example.com", &[], None).await.unwrap().credentials.unwrap();
    assert_eq!((&login.user, &login.password_hash), (&linked, &ada.password_hash), "the password stays");
    assert_eq!(store.link_identity(&linked, &identity).await.unwrap(), linked, "linking again changes nothing");

    let grace = google_user("grace@example.com");
    store.create_user_with_identity(&grace, &Identity::google("4002"), None).await.unwrap();
    let taken = store.link_identity(&linked, &Identity::google("4002")).await;
    assert!(matches!(taken, Err(StoreError::IdentityTaken)), "{taken:?}");
    assert_eq!(store.user_by_identity(&Identity::google("4002")).await.unwrap(), Some(grace));
    assert_eq!(store.get_user(&ada.user.id).await.unwrap(), Some(linked), "unchanged by the refused link");
}

/// Runs `attempt(store, i)` for each `i` in `0..count` as concurrent tasks; their results.
async fn race<S, T, F>(store: &Arc<S>, count: usize, attempt: impl Fn(Arc<S>, usize) -> F) -> Vec<T>
where
    S: Store + 'static,
    T: Send + 'static,
    F: Future<Output = T> + Send + 'static,
{
    let tasks: Vec<_> = (0..count).map(|i| tokio::spawn(attempt(Arc::clone(store), i))).collect();
    let mut results = Vec::with_capacity(count);
    for task in tasks {
        results.push(task.await.unwrap());
    }
    results
}

async fn racing_signups_with_one_email_have_one_winner(store: Arc<impl Store + 'static>) {
    let results =
        race(&store, 20, |store, _| async move { store.create_user(&credentials("race@example.com"), None).await })
            .await;
    assert_eq!(winners(results, |lost| matches!(lost, StoreError::EmailTaken)), 1);
}

/// How many of racing writes won; every other one must have lost as `lost` tells.
fn winners(results: Vec<Result<(), StoreError>>, lost: fn(&StoreError) -> bool) -> usize {
    for result in &results {
        if let Err(err) = result {
            assert!(lost(err), "unexpected {err:?}");
        }
    }
    results.iter().filter(|result| result.is_ok()).count()
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

async fn pages_of_large_posts_stop_at_the_content_budget(store: Arc<impl Store>) {
    // 40 posts at the largest body (four-byte characters): about 1.3 MB in all.
    let body = "🦀".repeat(POST_BODY_BYTES.end() / 4);
    let start = time::macros::datetime!(2026-03-01 00:00:00.000 UTC);
    let mut created = Vec::new();
    for i in 0..40 {
        let post = post_at(start + Duration::seconds(i), &format!("Big {i}"), &body);
        store.create_post(&post, None).await.unwrap();
        created.push(post.id);
    }
    created.reverse();
    let (mut seen, mut sizes, mut after) = (Vec::new(), Vec::new(), None);
    loop {
        let page = store.list_posts(100, after.as_deref()).await.unwrap();
        let bytes: usize = page.posts.iter().map(Post::content_bytes).sum();
        assert!(bytes <= PAGE_CONTENT_BYTES, "{bytes}");
        assert!(page.posts.iter().all(|p| p.body == body));
        sizes.push(page.posts.len());
        seen.extend(page.posts.into_iter().map(|p| p.id));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    // Titles "Big 0" to "Big 39", author "Ada": every post within a byte of this size.
    let per_page = PAGE_CONTENT_BYTES / (body.len() + "Big 10".len() + "Ada".len());
    assert_eq!(sizes, [per_page, per_page, 40 - 2 * per_page], "pages stop at the budget, not at the limit");
    assert_eq!(seen, created, "every post once, newest first");
}

fn by(author: &str, post: Post) -> Post {
    Post { author: Author { id: author.into(), display_name: author.into() }, ..post }
}

async fn a_repeated_idempotency_key_replays_the_original(store: Arc<impl Store>) {
    let first = post_at(now(), "First", "body");
    assert_eq!(store.create_post(&first, Some("key-1")).await.unwrap(), PostCreation::Created);
    let again = post_at(now() + Duration::seconds(1), "First", "body");
    assert_eq!(store.create_post(&again, Some("key-1")).await.unwrap(), PostCreation::Replayed(first.clone()));
    let other_key = post_at(now() + Duration::seconds(2), "Other key", "body");
    assert_eq!(store.create_post(&other_key, Some("key-2")).await.unwrap(), PostCreation::Created);
    let titles: Vec<String> = store.list_posts(10, None).await.unwrap().posts.into_iter().map(|p| p.title).collect();
    assert_eq!(titles, ["Other key", "First"]);
}

async fn a_key_repeated_with_other_content_stores_nothing(store: Arc<impl Store>) {
    let ada = author(&*store, "ada@example.com").await;
    let first = Post::new("First".into(), "body".into(), ada.clone(), now());
    assert_eq!(store.create_post(&first, Some("k")).await.unwrap(), PostCreation::Created);
    for (title, body) in [("First!", "body"), ("First", "body."), ("Firstbody", ""), ("", "Firstbody")] {
        let other = Post::new(title.into(), body.into(), ada.clone(), now() + Duration::seconds(1));
        assert_eq!(store.create_post(&other, Some("k")).await.unwrap(), PostCreation::KeyMismatch, "{title}/{body}");
    }
    // Even once the original is deleted, other content is a mismatch, not a reused key.
    store.delete_post(&first.id, &ada.id, &Precondition::Any).await.unwrap();
    let other = Post::new("Second".into(), "body".into(), ada, now() + Duration::seconds(2));
    assert_eq!(store.create_post(&other, Some("k")).await.unwrap(), PostCreation::KeyMismatch);
    assert!(store.list_posts(10, None).await.unwrap().posts.is_empty());
}

async fn idempotency_keys_belong_to_one_user(store: Arc<impl Store>) {
    let ada = by("01ADA", post_at(now(), "Ada's", "body"));
    let grace = by("01GRACE", post_at(now() + Duration::seconds(1), "Grace's", "body"));
    assert_eq!(store.create_post(&ada, Some("shared-key")).await.unwrap(), PostCreation::Created);
    assert_eq!(store.create_post(&grace, Some("shared-key")).await.unwrap(), PostCreation::Created);
    assert_eq!(store.list_posts(10, None).await.unwrap().posts.len(), 2);
}

async fn racing_creates_with_one_key_store_one_post(store: Arc<impl Store + 'static>) {
    let results = race(&store, 10, |store, i| async move {
        let post = post_at(now() + Duration::milliseconds(i as i64), "Attempt", "body");
        let creation = store.create_post(&post, Some("once")).await.unwrap();
        (post, creation)
    })
    .await;
    let mut created = Vec::new();
    let mut replayed = Vec::new();
    for result in results {
        match result {
            (post, PostCreation::Created) => created.push(post),
            (_, PostCreation::Replayed(original)) => replayed.push(original),
            (_, other) => panic!("every attempt has one content, and nothing was deleted: {other:?}"),
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
    store.create_user(&ada, None).await.unwrap();
    assert!(!store.replace_password_hash("ada@example.com", "not-the-current-hash", "$new-1").await.unwrap());
    let old_hash = ada.password_hash.as_deref().unwrap();
    assert!(store.replace_password_hash("ada@example.com", old_hash, "$new-2").await.unwrap());
    let stored = store.login_state("ada@example.com", &[], None).await.unwrap().credentials.unwrap();
    assert_eq!((stored.password_hash.as_deref(), stored.user), (Some("$new-2"), ada.user));
    assert!(!store.replace_password_hash("nobody@example.com", "x", "y").await.unwrap());
    assert_eq!(store.login_state("nobody@example.com", &[], None).await.unwrap().credentials, None, "nothing created");
}

fn from_address(email: &str) -> AttemptCounter {
    AttemptCounter::AccountFromAddress { email: email.into(), address: "192.0.2.1".into() }
}

async fn reserve(store: &impl Store, counter: &AttemptCounter, at: OffsetDateTime) -> Reservation {
    let seen = store.login_state("any@example.com", std::slice::from_ref(counter), None).await.unwrap();
    store.reserve_attempt(counter, seen.attempts_on(counter), at).await.unwrap()
}

async fn attempts_reserve_up_to_the_limit_then_refuse(store: Arc<impl Store>) {
    let start = time::macros::datetime!(2026-04-01 10:00:00.000 UTC);
    let ada = credentials("ada@example.com");
    store.create_user(&ada, None).await.unwrap();
    let counter = from_address("ada@example.com");
    for i in 1..=PER_ADDRESS.max {
        let at = start + Duration::seconds(i64::from(i));
        assert_eq!(reserve(&*store, &counter, at).await, Reservation::Granted(Attempts { count: i, last_at: at }));
    }
    let refused = reserve(&*store, &counter, start + Duration::seconds(10)).await;
    assert!(matches!(refused, Reservation::Refused { retry_after_seconds: 25 }), "{refused:?}");
    // The account, its counters and a device come back from one read, each in its place.
    let account = AttemptCounter::Account { email: "ada@example.com".into() };
    let state = store.login_state("ada@example.com", &[counter.clone(), account.clone()], None).await.unwrap();
    assert_eq!(state.credentials, Some(ada.clone()));
    assert_eq!(state.attempts_on(&counter).map(|a| a.count), Some(PER_ADDRESS.max));
    assert_eq!(state.attempts_on(&account), None, "counted per counter");
    assert_eq!(state.device, None);
    store.clear_attempts(&counter).await.unwrap();
    let state = store.login_state("ada@example.com", std::slice::from_ref(&counter), None).await.unwrap();
    assert_eq!(state.attempts_on(&counter), None);
    store.clear_attempts(&counter).await.unwrap();
}

async fn a_given_back_attempt_no_longer_counts(store: Arc<impl Store>) {
    let at = now();
    let counter = AttemptCounter::Account { email: "ada@example.com".into() };
    for _ in 0..3 {
        reserve(&*store, &counter, at).await;
    }
    store.give_back_attempt(&counter).await.unwrap();
    let state = store.login_state("ada@example.com", std::slice::from_ref(&counter), None).await.unwrap();
    assert_eq!(state.attempts_on(&counter), Some(Attempts { count: 2, last_at: at }));
    store.give_back_attempt(&AttemptCounter::Account { email: "nobody@example.com".into() }).await.unwrap();
}

async fn attempts_restart_after_a_quiet_window(store: Arc<impl Store>) {
    let start = time::macros::datetime!(2026-04-02 10:00:00.000 UTC);
    let counter = from_address("ada@example.com");
    for _ in 0..4 {
        reserve(&*store, &counter, start).await;
    }
    let later = start + Duration::try_from(PER_ADDRESS.window).unwrap() + Duration::SECOND;
    assert_eq!(reserve(&*store, &counter, later).await, Reservation::Granted(Attempts { count: 1, last_at: later }));
}

async fn racing_reservations_never_pass_the_limit(store: Arc<impl Store + 'static>) {
    let at = now();
    // Every racer read the counter empty before any wrote it: the store must still count.
    let results = race(&store, 12, |store, _| async move {
        store.reserve_attempt(&from_address("race@example.com"), None, at).await.unwrap()
    })
    .await;
    let granted = results.iter().filter(|r| matches!(r, Reservation::Granted(_))).count();
    assert_eq!(granted, PER_ADDRESS.max as usize, "{results:?}");
    let counter = from_address("race@example.com");
    let state = store.login_state("race@example.com", std::slice::from_ref(&counter), None).await.unwrap();
    assert_eq!(state.attempts_on(&counter).map(|a| a.count), Some(PER_ADDRESS.max));
}

/// The first session of `user`, trusting a new device, as signup and a first Google
/// sign-in store it with the account.
fn first_session(user: &User) -> NewSession {
    let at = user.created_at;
    NewSession {
        first: RefreshGrant {
            hash: new_id(now()),
            family_id: new_id(at),
            user: SessionUser { user_id: user.id.clone(), display_name: user.display_name.clone() },
            expires_at: at + Duration::days(30),
            session_ends_at: at + Duration::days(90),
        },
        started: SessionStart::new(at, Some("Signup/1.0")),
        new_device: Some(TrustedDevice {
            token_hash: new_id(now()),
            user_id: user.id.clone(),
            expires_at: at + Duration::days(365),
        }),
    }
}

/// Whether `session` was stored: listed, its device trusted and its token usable.
async fn session_stored(store: &impl Store, session: &NewSession, email: &str) -> bool {
    let user_id = &session.first.user.user_id;
    let listed = store.list_sessions(user_id, now()).await.unwrap().iter().any(|s| s.id == session.first.family_id);
    let device_hash = session.new_device.as_ref().map(|d| d.token_hash.as_str());
    let trusted = store.login_state(email, &[], device_hash).await.unwrap().device.is_some();
    let next = new_id(now());
    let rotation = store.rotate_refresh_token(&session.first.hash, &next, now() + Duration::days(1), now()).await;
    let usable = matches!(rotation.unwrap(), Rotation::Rotated { .. });
    assert_eq!((listed, trusted), (usable, usable), "a session is stored whole or not at all");
    usable
}

async fn an_account_and_its_first_session_are_one_write(store: Arc<impl Store>) {
    let ada = credentials("first-session@example.com");
    let session = first_session(&ada.user);
    store.create_user(&ada, Some(&session)).await.unwrap();
    assert!(session_stored(&*store, &session, "first-session@example.com").await);

    // A refused signup leaves none of its session behind.
    let again = credentials("first-session@example.com");
    let refused = first_session(&again.user);
    assert!(matches!(store.create_user(&again, Some(&refused)).await, Err(StoreError::EmailTaken)));
    assert!(!session_stored(&*store, &refused, "first-session@example.com").await);

    let grace = google_user("first-google@example.com");
    let session = first_session(&grace);
    store.create_user_with_identity(&grace, &Identity::google("first-1"), Some(&session)).await.unwrap();
    assert!(session_stored(&*store, &session, "first-google@example.com").await);
    let other = google_user("first-other@example.com");
    let refused = first_session(&other);
    let taken = store.create_user_with_identity(&other, &Identity::google("first-1"), Some(&refused)).await;
    assert!(matches!(taken, Err(StoreError::IdentityTaken)));
    assert!(!session_stored(&*store, &refused, "first-other@example.com").await);
}

/// Starts the session `first` at `at`, trusting `device`.
async fn start_trusting(store: &impl Store, first: RefreshGrant, device: &TrustedDevice, at: OffsetDateTime) {
    let started = SessionStart::new(at, None);
    store.start_session(&NewSession { first, started, new_device: Some(device.clone()) }).await.unwrap();
}

async fn a_session_can_trust_a_device(store: Arc<impl Store>) {
    let at = now();
    let device = TrustedDevice {
        token_hash: "device-hash".into(),
        user_id: "01ADA".into(),
        expires_at: at + Duration::days(365),
    };
    let grant = RefreshGrant {
        hash: "first-token-hash".into(),
        family_id: new_id(at),
        user: SessionUser { user_id: "01ADA".into(), display_name: "Ada".into() },
        expires_at: at + Duration::days(30),
        session_ends_at: at + Duration::days(30),
    };
    start_trusting(&*store, grant, &device, at).await;
    let found = store.login_state("ada@example.com", &[], Some("device-hash")).await.unwrap().device.unwrap();
    assert_eq!((found.token_hash.as_str(), found.user_id.as_str()), ("device-hash", "01ADA"));
    assert_eq!(found.expires_at.unix_timestamp(), device.expires_at.unix_timestamp());
    assert_eq!(store.login_state("ada@example.com", &[], Some("other-hash")).await.unwrap().device, None);
}

/// A signed-up user, as a post's author.
async fn author(store: &impl Store, email: &str) -> Author {
    let credentials = credentials(email);
    store.create_user(&credentials, None).await.unwrap();
    Author { id: credentials.user.id, display_name: credentials.user.display_name }
}

/// A post by `author`, created `seconds` after a fixed start.
async fn post_by(store: &impl Store, author: &Author, seconds: i64) -> Post {
    let at = time::macros::datetime!(2026-05-01 00:00:00.000 UTC) + Duration::seconds(seconds);
    let post = Post::new(format!("Post {seconds}"), "body".into(), author.clone(), at);
    assert_eq!(store.create_post(&post, None).await.unwrap(), PostCreation::Created);
    post
}

fn retitle(title: &str) -> PostEdit {
    PostEdit { title: Some(title.into()), body: None }
}

/// Every post of a listing, page by page (`author`: one author's listing, else all).
async fn every_page(store: &impl Store, author: Option<&str>, limit: usize) -> Vec<String> {
    let mut ids = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = match author {
            Some(author) => store.list_posts_by_author(author, limit, after.as_deref()).await.unwrap().unwrap(),
            None => store.list_posts(limit, after.as_deref()).await.unwrap(),
        };
        ids.extend(page.posts.into_iter().map(|p| p.id));
        match page.next {
            Some(next) => after = Some(next),
            None => return ids,
        }
    }
}

async fn reads_one_post_and_one_user(store: Arc<impl Store>) {
    let ada = author(&*store, "ada@example.com").await;
    let post = post_by(&*store, &ada, 1).await;
    assert_eq!(store.get_post(&post.id).await.unwrap(), Some(post.clone()));
    assert_eq!((post.version, post.updated_at), (1, None));
    assert_eq!(store.get_post(&new_id(now())).await.unwrap(), None);
    let user = store.get_user(&ada.id).await.unwrap().unwrap();
    assert_eq!((user.id, user.email), (ada.id, "ada@example.com".to_owned()));
    assert_eq!(store.get_user(&new_id(now())).await.unwrap(), None);
}

async fn edits_apply_and_count_versions(store: Arc<impl Store>) {
    let ada = author(&*store, "ada@example.com").await;
    let post = post_by(&*store, &ada, 1).await;
    let at = now();
    let edited = store.update_post(&post.id, &ada.id, &retitle("New title"), &Precondition::Any, at).await.unwrap();
    let expected = Post { title: "New title".into(), updated_at: Some(at), version: 2, ..post.clone() };
    assert_eq!(edited, expected);
    let body_only = PostEdit { title: None, body: Some("New body".into()) };
    let again = store.update_post(&post.id, &ada.id, &body_only, &Precondition::OneOf(vec![2]), at).await.unwrap();
    assert_eq!((again.title.as_str(), again.body.as_str(), again.version), ("New title", "New body", 3));
    assert_eq!(store.get_post(&post.id).await.unwrap(), Some(again.clone()));
    assert_eq!(store.list_posts(10, None).await.unwrap().posts, std::slice::from_ref(&again));
    assert_eq!(store.list_posts_by_author(&ada.id, 10, None).await.unwrap().unwrap().posts, [again]);
}

async fn only_the_author_may_edit_or_delete(store: Arc<impl Store>) {
    let ada = author(&*store, "ada@example.com").await;
    let grace = author(&*store, "grace@example.com").await;
    let post = post_by(&*store, &ada, 1).await;
    for precondition in [Precondition::Any, Precondition::OneOf(vec![1]), Precondition::OneOf(vec![7])] {
        let edit = store.update_post(&post.id, &grace.id, &retitle("Mine now"), &precondition, now()).await;
        assert!(matches!(edit, Err(StoreError::NotAuthor)), "{precondition:?}: {edit:?}");
        let delete = store.delete_post(&post.id, &grace.id, &precondition).await;
        assert!(matches!(delete, Err(StoreError::NotAuthor)), "{precondition:?}: {delete:?}");
    }
    assert_eq!(store.get_post(&post.id).await.unwrap(), Some(post));
}

async fn missing_posts_are_not_found(store: Arc<impl Store>) {
    let ada = author(&*store, "ada@example.com").await;
    let never = new_id(now());
    for precondition in [Precondition::Any, Precondition::OneOf(vec![1])] {
        let edit = store.update_post(&never, &ada.id, &retitle("t"), &precondition, now()).await;
        assert!(matches!(edit, Err(StoreError::NotFound)), "{edit:?}");
        assert!(matches!(store.delete_post(&never, &ada.id, &precondition).await, Err(StoreError::NotFound)));
    }
    let post = post_by(&*store, &ada, 1).await;
    store.delete_post(&post.id, &ada.id, &Precondition::Any).await.unwrap();
    assert!(matches!(store.delete_post(&post.id, &ada.id, &Precondition::Any).await, Err(StoreError::NotFound)));
    let edit = store.update_post(&post.id, &ada.id, &retitle("t"), &Precondition::Any, now()).await;
    assert!(matches!(edit, Err(StoreError::NotFound)), "an edit never brings a deleted post back: {edit:?}");
    assert_eq!(store.get_post(&post.id).await.unwrap(), None);
}

async fn a_stale_version_is_refused(store: Arc<impl Store>) {
    let ada = author(&*store, "ada@example.com").await;
    let post = post_by(&*store, &ada, 1).await;
    store.update_post(&post.id, &ada.id, &retitle("v2"), &Precondition::OneOf(vec![1]), now()).await.unwrap();
    for stale in [Precondition::OneOf(vec![1]), Precondition::OneOf(vec![]), Precondition::OneOf(vec![1, 3])] {
        let edit = store.update_post(&post.id, &ada.id, &retitle("lost"), &stale, now()).await;
        assert!(matches!(edit, Err(StoreError::VersionMismatch)), "{stale:?}: {edit:?}");
        let delete = store.delete_post(&post.id, &ada.id, &stale).await;
        assert!(matches!(delete, Err(StoreError::VersionMismatch)), "{stale:?}: {delete:?}");
    }
    let current = store.get_post(&post.id).await.unwrap().unwrap();
    assert_eq!((current.title.as_str(), current.version), ("v2", 2));
    store.delete_post(&post.id, &ada.id, &Precondition::OneOf(vec![1, 2])).await.unwrap();
    assert_eq!(store.get_post(&post.id).await.unwrap(), None);
}

async fn racing_edits_against_one_version_have_one_winner(store: Arc<impl Store + 'static>) {
    let ada = author(&*store, "ada@example.com").await;
    let post = post_by(&*store, &ada, 1).await;
    let results = race(&store, 10, |store, i| {
        let (id, author) = (post.id.clone(), ada.id.clone());
        async move {
            store.update_post(&id, &author, &retitle(&format!("Edit {i}")), &Precondition::OneOf(vec![1]), now()).await
        }
    })
    .await;
    let mut winners = Vec::new();
    for result in results {
        match result {
            Ok(post) => winners.push(post),
            Err(StoreError::VersionMismatch) => {}
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    assert_eq!(store.get_post(&post.id).await.unwrap(), Some(winners.remove(0)), "the winner's edit is the one kept");
}

async fn racing_edits_without_a_precondition_each_get_a_version(store: Arc<impl Store + 'static>) {
    let ada = author(&*store, "ada@example.com").await;
    let post = post_by(&*store, &ada, 1).await;
    let results = race(&store, 10, |store, i| {
        let (id, author) = (post.id.clone(), ada.id.clone());
        async move { store.update_post(&id, &author, &retitle(&format!("Edit {i}")), &Precondition::Any, now()).await }
    })
    .await;
    let mut versions = Vec::new();
    let mut by_version = std::collections::HashMap::new();
    for edited in results {
        let edited = edited.unwrap();
        versions.push(edited.version);
        by_version.insert(edited.version, edited.title);
    }
    versions.sort_unstable();
    assert_eq!(versions, (2..=11).collect::<Vec<u64>>(), "no two edits share a version");
    let last = store.get_post(&post.id).await.unwrap().unwrap();
    assert_eq!((last.version, Some(&last.title)), (11, by_version.get(&11)), "the last edit is the one kept");
}

async fn lists_an_authors_posts_newest_first_in_pages(store: Arc<impl Store>) {
    let ada = author(&*store, "ada@example.com").await;
    let grace = author(&*store, "grace@example.com").await;
    let mut adas = Vec::new();
    for i in 0..7 {
        adas.push(post_by(&*store, &ada, 2 * i).await.id);
        post_by(&*store, &grace, 2 * i + 1).await;
    }
    adas.reverse();
    assert_eq!(every_page(&*store, Some(&ada.id), 3).await, adas);
    let first = store.list_posts_by_author(&ada.id, 7, None).await.unwrap().unwrap();
    assert_eq!((first.posts.len(), first.next), (7, None), "a full last page has no next");
    assert!(first.posts.iter().all(|p| p.author == ada));
    assert_eq!(store.list_posts_by_author(&new_id(now()), 10, None).await.unwrap(), None, "unknown author");
    let quiet = author(&*store, "quiet@example.com").await;
    let empty = store.list_posts_by_author(&quiet.id, 10, None).await.unwrap().unwrap();
    assert!(empty.posts.is_empty() && empty.next.is_none());
}

async fn paging_stays_exact_while_posts_change(store: Arc<impl Store>) {
    let ada = author(&*store, "ada@example.com").await;
    let mut ids = Vec::new();
    for i in 0..10 {
        ids.push(post_by(&*store, &ada, i).await.id);
    }
    ids.reverse();
    for author in [None, Some(ada.id.as_str())] {
        let first = match author {
            Some(a) => store.list_posts_by_author(a, 3, None).await.unwrap().unwrap(),
            None => store.list_posts(3, None).await.unwrap(),
        };
        let cursor = first.next.clone().unwrap();
        let mut seen: Vec<String> = first.posts.into_iter().map(|p| p.id).collect();
        // Between pages: the cursor's own post and a later one go, another is edited.
        store.delete_post(&cursor, &ada.id, &Precondition::Any).await.unwrap();
        let later = ids[5].clone();
        store.delete_post(&later, &ada.id, &Precondition::Any).await.unwrap();
        store.update_post(&ids[7], &ada.id, &retitle("Edited"), &Precondition::Any, now()).await.unwrap();
        let mut after = Some(cursor.clone());
        while let Some(position) = after {
            let page = match author {
                Some(a) => store.list_posts_by_author(a, 3, Some(&position)).await.unwrap().unwrap(),
                None => store.list_posts(3, Some(&position)).await.unwrap(),
            };
            seen.extend(page.posts.into_iter().map(|p| p.id));
            after = page.next;
        }
        // The cursor's post was listed before it went; the later one never is.
        let listed: Vec<String> = ids.iter().filter(|id| **id != later).cloned().collect();
        assert_eq!(seen, listed, "listing {author:?}: every post still there exactly once");
        ids = listed.into_iter().filter(|id| *id != cursor).collect();
    }
}

async fn deleted_posts_leave_every_listing(store: Arc<impl Store>) {
    let ada = author(&*store, "ada@example.com").await;
    let kept = post_by(&*store, &ada, 1).await;
    let gone = post_by(&*store, &ada, 2).await;
    store.delete_post(&gone.id, &ada.id, &Precondition::OneOf(vec![1])).await.unwrap();
    assert_eq!(store.get_post(&gone.id).await.unwrap(), None);
    assert_eq!(every_page(&*store, None, 10).await, std::slice::from_ref(&kept.id));
    assert_eq!(every_page(&*store, Some(&ada.id), 10).await, [kept.id]);
}

async fn the_key_of_a_deleted_post_creates_nothing(store: Arc<impl Store>) {
    let ada = author(&*store, "ada@example.com").await;
    let post = Post::new("Once".into(), "body".into(), ada.clone(), now());
    assert_eq!(store.create_post(&post, Some("k")).await.unwrap(), PostCreation::Created);
    store.delete_post(&post.id, &ada.id, &Precondition::Any).await.unwrap();
    let retry = Post::new("Once".into(), "body".into(), ada.clone(), now() + Duration::seconds(1));
    assert_eq!(store.create_post(&retry, Some("k")).await.unwrap(), PostCreation::OriginalDeleted);
    assert!(store.list_posts(10, None).await.unwrap().posts.is_empty());
    assert_eq!(store.get_post(&retry.id).await.unwrap(), None);
}

/// A session started at `at`: its first token's hash (the stores see only hashes).
async fn session(store: &impl Store, at: OffsetDateTime) -> String {
    session_ending(store, at, at + Duration::days(90)).await
}

/// A session started at `at` that ends at `ends_at`: its first token's hash.
async fn session_ending(store: &impl Store, at: OffsetDateTime, ends_at: OffsetDateTime) -> String {
    session_of(store, "01USER", at, ends_at, None).await.0
}

/// A session of `user_id` started at `at` from `user_agent`: its first token's hash and its id.
async fn session_of(
    store: &impl Store,
    user_id: &str,
    at: OffsetDateTime,
    ends_at: OffsetDateTime,
    user_agent: Option<&str>,
) -> (String, String) {
    let hash = new_id(now());
    let user = SessionUser { user_id: user_id.into(), display_name: "Ada".into() };
    let expires_at = (at + Duration::days(30)).min(ends_at);
    let family_id = new_id(at);
    let grant =
        RefreshGrant { hash: hash.clone(), family_id: family_id.clone(), user, expires_at, session_ends_at: ends_at };
    store
        .start_session(&NewSession { first: grant, started: SessionStart::new(at, user_agent), new_device: None })
        .await
        .unwrap();
    (hash, family_id)
}

fn ids(sessions: &[SessionInfo]) -> Vec<&str> {
    sessions.iter().map(|s| s.id.as_str()).collect()
}

async fn lists_a_users_live_sessions_with_their_client_and_last_use(store: Arc<impl Store>) {
    let at = now();
    let user = new_id(at);
    let (phone, phone_id) = session_of(&*store, &user, at, at + Duration::days(90), Some("Phone/1.0")).await;
    let (_, laptop_id) =
        session_of(&*store, &user, at + Duration::seconds(1), at + Duration::days(90), Some("Laptop\u{7}/2.0")).await;
    session_of(&*store, &new_id(at), at, at + Duration::days(90), None).await;
    let sessions = store.list_sessions(&user, at + Duration::seconds(2)).await.unwrap();
    assert_eq!(ids(&sessions), [phone_id.as_str(), laptop_id.as_str()], "oldest first, this user's only");
    assert_eq!(sessions[0].user_agent.as_deref(), Some("Phone/1.0"));
    assert_eq!(sessions[1].user_agent.as_deref(), Some("Laptop/2.0"), "control characters dropped");
    assert_eq!((sessions[0].created_at, sessions[0].last_used_at), (at, at));
    // A refresh is a use; a replay revokes the session and takes it off the list.
    let later = at + Duration::minutes(5);
    let (_, rotation) = rotate(&*store, &phone, later).await;
    assert!(matches!(rotation, Rotation::Rotated { ref session_id, .. } if *session_id == phone_id), "{rotation:?}");
    let sessions = store.list_sessions(&user, later).await.unwrap();
    assert_eq!((sessions[0].created_at, sessions[0].last_used_at), (at, later));
    assert_eq!(rotate(&*store, &phone, later).await.1, Rotation::Reused);
    assert_eq!(ids(&store.list_sessions(&user, later).await.unwrap()), [laptop_id.as_str()]);
    // An expired session is not listed.
    assert!(store.list_sessions(&user, at + Duration::days(31)).await.unwrap().is_empty());
}

async fn revoking_a_session_ends_it_for_its_user_only(store: Arc<impl Store>) {
    let at = now();
    let (ada, bob) = (new_id(at), new_id(at + Duration::milliseconds(1)));
    let ends = at + Duration::days(90);
    let (ada_token, ada_session) = session_of(&*store, &ada, at, ends, None).await;
    let (bob_token, bob_session) = session_of(&*store, &bob, at, ends, None).await;
    assert!(!store.revoke_session(&ada, &bob_session, at).await.unwrap(), "not Ada's to end");
    assert!(matches!(rotate(&*store, &bob_token, at).await.1, Rotation::Rotated { .. }));
    assert!(store.revoke_session(&ada, &ada_session, at).await.unwrap());
    assert_eq!(rotate(&*store, &ada_token, at).await.1, Rotation::Refused);
    assert!(store.list_sessions(&ada, at).await.unwrap().is_empty());
    assert!(!store.revoke_session(&ada, &ada_session, at).await.unwrap(), "already ended");
    assert!(!store.revoke_session(&ada, &new_id(at), at).await.unwrap(), "never was");
    // Logging out takes the session off the list too.
    let (token, _) = session_of(&*store, &ada, at, ends, None).await;
    store.end_session(&token, at).await.unwrap();
    assert!(store.list_sessions(&ada, at).await.unwrap().is_empty());
}

async fn revoking_every_session_leaves_other_users_alone(store: Arc<impl Store>) {
    let at = now();
    let (ada, bob) = (new_id(at), new_id(at + Duration::milliseconds(1)));
    let ends = at + Duration::days(90);
    let mut tokens = Vec::new();
    for n in 0..3 {
        tokens.push(session_of(&*store, &ada, at + Duration::milliseconds(n), ends, None).await.0);
    }
    let (bob_token, _) = session_of(&*store, &bob, at, ends, None).await;
    assert_eq!(store.revoke_all_sessions(&ada, None, at).await.unwrap(), 3);
    for token in &tokens {
        assert_eq!(rotate(&*store, token, at).await.1, Rotation::Refused);
    }
    assert!(store.list_sessions(&ada, at).await.unwrap().is_empty());
    assert_eq!(store.list_sessions(&bob, at).await.unwrap().len(), 1);
    assert!(matches!(rotate(&*store, &bob_token, at).await.1, Rotation::Rotated { .. }));
    assert_eq!(store.revoke_all_sessions(&ada, None, at).await.unwrap(), 0, "nothing left");
    // Keeping one: the caller's own goes on.
    let (kept_token, kept) = session_of(&*store, &ada, at, ends, None).await;
    let (ended_token, _) = session_of(&*store, &ada, at, ends, None).await;
    assert_eq!(store.revoke_all_sessions(&ada, Some(&kept), at).await.unwrap(), 1);
    assert_eq!(rotate(&*store, &ended_token, at).await.1, Rotation::Refused);
    assert!(matches!(rotate(&*store, &kept_token, at).await.1, Rotation::Rotated { .. }));
}

/// Rotates `presented` at `at` into a fresh token; that token's hash and what happened.
async fn rotate(store: &impl Store, presented: &str, at: OffsetDateTime) -> (String, Rotation) {
    let next = new_id(now());
    let rotation = store.rotate_refresh_token(presented, &next, at + Duration::days(30), at).await.unwrap();
    (next, rotation)
}

async fn refresh_tokens_rotate_once(store: Arc<impl Store>) {
    let at = now();
    let first = session(&*store, at).await;
    let (second, rotation) = rotate(&*store, &first, at).await;
    let ada = SessionUser { user_id: "01USER".into(), display_name: "Ada".into() };
    let Rotation::Rotated { user, session_id } = rotation else { panic!("{rotation:?}") };
    assert_eq!(user, ada);
    let (third, rotation) = rotate(&*store, &second, at + Duration::minutes(1)).await;
    assert_eq!(rotation, Rotation::Rotated { user: ada, session_id }, "one session throughout");
    assert_eq!(rotate(&*store, "never-issued", at).await.1, Rotation::Refused);
    // Replaying the first token revokes the family: the current token dies with it.
    assert_eq!(rotate(&*store, &first, at).await.1, Rotation::Reused);
    assert_eq!(rotate(&*store, &third, at).await.1, Rotation::Refused);
    assert_eq!(rotate(&*store, &second, at).await.1, Rotation::Reused, "every used token stays a replay");
}

async fn an_expired_refresh_token_is_refused(store: Arc<impl Store>) {
    let at = now();
    let token = session(&*store, at).await;
    let (_, rotation) = rotate(&*store, &token, at + Duration::days(30) + Duration::seconds(1)).await;
    assert_eq!(rotation, Rotation::Refused);
    assert!(matches!(rotate(&*store, &token, at).await.1, Rotation::Rotated { .. }), "refusing it changed nothing");
}

async fn a_session_ends_at_its_limit_however_often_it_is_refreshed(store: Arc<impl Store>) {
    let at = now();
    let first = session_ending(&*store, at, at + Duration::hours(1)).await;
    let (second, rotation) = rotate(&*store, &first, at + Duration::minutes(30)).await;
    assert!(matches!(rotation, Rotation::Rotated { .. }), "{rotation:?}");
    // Asked for 30 days, the new token still dies with its session.
    let (third, rotation) = rotate(&*store, &second, at + Duration::minutes(59)).await;
    assert!(matches!(rotation, Rotation::Rotated { .. }), "{rotation:?}");
    assert_eq!(rotate(&*store, &third, at + Duration::minutes(61)).await.1, Rotation::Refused);
    assert!(
        matches!(rotate(&*store, &third, at + Duration::minutes(59)).await.1, Rotation::Rotated { .. }),
        "refusing it changed nothing"
    );
}

async fn racing_refreshes_with_one_token_have_one_winner(store: Arc<impl Store + 'static>) {
    let at = now();
    let token = session(&*store, at).await;
    let results = race(&store, 8, |store, _| {
        let token = token.clone();
        async move { rotate(&*store, &token, at).await }
    })
    .await;
    let winners: Vec<&String> =
        results.iter().filter(|(_, r)| matches!(r, Rotation::Rotated { .. })).map(|(next, _)| next).collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    // A loser sees the used token (a replay: `Reused`), or, when another loser has revoked
    // the family first, a revoked family (`Refused`); either way it gets no token.
    assert!(results.iter().any(|(_, r)| *r == Rotation::Reused), "the replay is detected: {results:?}");
    // The losers presented a used token: a replay, so the winner's new token is revoked too.
    assert_eq!(rotate(&*store, winners[0], at).await.1, Rotation::Refused);
}

async fn ending_a_session_revokes_its_family_only(store: Arc<impl Store>) {
    let at = now();
    let first = session(&*store, at).await;
    let (current, _) = rotate(&*store, &first, at).await;
    let other_login = session(&*store, at).await;
    store.end_session(&first, at).await.unwrap();
    assert_eq!(rotate(&*store, &current, at).await.1, Rotation::Refused, "logging out with an old token works too");
    store.end_session(&current, at).await.unwrap();
    store.end_session("never-issued", at).await.unwrap();
    assert!(matches!(rotate(&*store, &other_login, at).await.1, Rotation::Rotated { .. }), "another login lives on");
}

fn verification_token(user: &User, hash: &str, expires_at: OffsetDateTime) -> MailedToken {
    MailedToken {
        hash: hash.into(),
        purpose: TokenPurpose::VerifyEmail,
        user_id: user.id.clone(),
        email: user.email.clone(),
        expires_at,
    }
}

async fn signup_asks_for_its_verification_mail_and_requests_wait_their_interval(store: Arc<impl Store>) {
    let ada = credentials("mail-interval@example.com");
    store.create_user(&ada, None).await.unwrap();
    let verify = MailRequest::VerifyEmail { user_id: ada.user.id.clone() };
    let created = ada.user.created_at;
    assert!(!store.request_mail(&verify, created + Duration::seconds(59)).await.unwrap(), "signup asked already");
    assert!(store.request_mail(&verify, created + MAIL_INTERVAL).await.unwrap());
    assert!(!store.request_mail(&verify, created + MAIL_INTERVAL + Duration::seconds(1)).await.unwrap());
    let other = MailRequest::VerifyEmail { user_id: new_id(created) };
    assert!(store.request_mail(&other, created).await.unwrap(), "each recipient has an interval of its own");
}

async fn a_verification_token_verifies_its_account_once(store: Arc<impl Store>) {
    let ada = credentials("verify@example.com");
    store.create_user(&ada, None).await.unwrap();
    let at = now();
    store.store_mailed_token(&verification_token(&ada.user, "verify-hash", at + Duration::hours(1))).await.unwrap();
    let verified = store.verify_email("verify-hash", at).await.unwrap().expect("the token verifies");
    assert_eq!(verified, User { email_verified: true, ..ada.user.clone() });
    assert_eq!(store.get_user(&ada.user.id).await.unwrap(), Some(verified.clone()));
    let login = store.login_state("verify@example.com", &[], None).await.unwrap().credentials.unwrap();
    assert_eq!((login.user, login.password_hash), (verified, ada.password_hash), "the login record agrees");
    assert_eq!(store.verify_email("verify-hash", at).await.unwrap(), None, "a token works once");
}

async fn expired_foreign_and_unknown_tokens_verify_nothing(store: Arc<impl Store>) {
    let ada = credentials("unverified@example.com");
    store.create_user(&ada, None).await.unwrap();
    let at = now();
    store.store_mailed_token(&verification_token(&ada.user, "expired", at)).await.unwrap();
    let elsewhere = User { email: "old-address@example.com".into(), ..ada.user.clone() };
    store.store_mailed_token(&verification_token(&elsewhere, "old-address", at + Duration::hours(1))).await.unwrap();
    let nobody = User { id: new_id(at), ..ada.user.clone() };
    store.store_mailed_token(&verification_token(&nobody, "no-account", at + Duration::hours(1))).await.unwrap();
    for hash in ["expired", "old-address", "no-account", "never-made"] {
        assert_eq!(store.verify_email(hash, at).await.unwrap(), None, "{hash}");
    }
    assert!(!store.get_user(&ada.user.id).await.unwrap().unwrap().email_verified);
}

async fn racing_uses_of_one_token_have_one_winner(store: Arc<impl Store + 'static>) {
    let ada = credentials("verify-race@example.com");
    store.create_user(&ada, None).await.unwrap();
    let at = now();
    store.store_mailed_token(&verification_token(&ada.user, "raced", at + Duration::hours(1))).await.unwrap();
    let results = race(&store, 8, |store, _| async move { store.verify_email("raced", at).await.unwrap() }).await;
    assert_eq!(results.iter().filter(|verified| verified.is_some()).count(), 1, "{results:?}");
}

fn mailed(user: &User, hash: &str, purpose: TokenPurpose, expires_at: OffsetDateTime) -> MailedToken {
    MailedToken { purpose, ..verification_token(user, hash, expires_at) }
}

async fn a_reset_token_sets_the_password_once_and_clears_the_lockout(store: Arc<impl Store>) {
    let ada = credentials("reset@example.com");
    store.create_user(&ada, None).await.unwrap();
    let at = now();
    let lockout = AttemptCounter::Account { email: ada.user.email.clone() };
    assert!(matches!(reserve(&*store, &lockout, at).await, Reservation::Granted(_)));
    // Whole seconds: a token's expiry is kept as epoch seconds (the table's TTL).
    let expires_at = (at + Duration::minutes(30)).replace_nanosecond(0).unwrap();
    let token = mailed(&ada.user, "reset-hash", TokenPurpose::ResetPassword, expires_at);
    store.store_mailed_token(&token).await.unwrap();
    assert_eq!(store.find_mailed_token("reset-hash", TokenPurpose::ResetPassword, at).await.unwrap(), Some(token));

    let reset = store.reset_password("reset-hash", "$argon2id$new", at).await.unwrap().expect("the token resets");
    assert_eq!(reset, User { email_verified: true, ..ada.user.clone() }, "the link reached the address");
    let state = store.login_state("reset@example.com", std::slice::from_ref(&lockout), None).await.unwrap();
    assert_eq!(state.attempts_on(&lockout), None, "the account's lockout is cleared");
    let login = state.credentials.unwrap();
    assert_eq!((login.password_hash.as_deref(), login.user), (Some("$argon2id$new"), reset));
    assert_eq!(store.reset_password("reset-hash", "$argon2id$again", at).await.unwrap(), None, "once");
    assert_eq!(store.find_mailed_token("reset-hash", TokenPurpose::ResetPassword, at).await.unwrap(), None);
}

async fn a_token_works_only_for_its_purpose_and_while_live(store: Arc<impl Store>) {
    let ada = credentials("purpose@example.com");
    store.create_user(&ada, None).await.unwrap();
    let at = now();
    let hour = Duration::hours(1);
    store.store_mailed_token(&mailed(&ada.user, "for-verify", TokenPurpose::VerifyEmail, at + hour)).await.unwrap();
    store.store_mailed_token(&mailed(&ada.user, "for-reset", TokenPurpose::ResetPassword, at + hour)).await.unwrap();
    store.store_mailed_token(&mailed(&ada.user, "stale-reset", TokenPurpose::ResetPassword, at)).await.unwrap();
    assert_eq!(store.reset_password("for-verify", "$x", at).await.unwrap(), None);
    assert_eq!(store.verify_email("for-reset", at).await.unwrap(), None);
    assert_eq!(store.reset_password("stale-reset", "$x", at).await.unwrap(), None);
    assert_eq!(store.find_mailed_token("for-verify", TokenPurpose::ResetPassword, at).await.unwrap(), None);
    assert_eq!(store.find_mailed_token("stale-reset", TokenPurpose::ResetPassword, at).await.unwrap(), None);
    let login = store.login_state("purpose@example.com", &[], None).await.unwrap().credentials.unwrap();
    assert_eq!(login, ada, "nothing changed");
    assert!(store.reset_password("for-reset", "$x", at).await.unwrap().is_some(), "each still works for its own");
    assert!(store.verify_email("for-verify", at).await.unwrap().is_some());
}

async fn racing_resets_with_one_token_have_one_winner(store: Arc<impl Store + 'static>) {
    let ada = credentials("reset-race@example.com");
    store.create_user(&ada, None).await.unwrap();
    let at = now();
    let token = mailed(&ada.user, "reset-raced", TokenPurpose::ResetPassword, at + Duration::minutes(30));
    store.store_mailed_token(&token).await.unwrap();
    let results = race(&store, 8, |store, i| async move {
        store.reset_password("reset-raced", &format!("$argon2id$racer-{i}"), at).await.unwrap()
    })
    .await;
    assert_eq!(results.iter().filter(|reset| reset.is_some()).count(), 1, "{results:?}");
}

async fn deleting_an_account_removes_everything_it_owns(store: Arc<impl Store>) {
    let ada = credentials("delete@example.com");
    store.create_user(&ada, None).await.unwrap();
    store.link_identity(&ada.user, &Identity::google("delete-1")).await.unwrap();
    let at = now();
    let device = TrustedDevice {
        token_hash: "delete-device".into(),
        user_id: ada.user.id.clone(),
        expires_at: at + Duration::days(9),
    };
    let grant = RefreshGrant {
        hash: new_id(at),
        family_id: new_id(at),
        user: SessionUser { user_id: ada.user.id.clone(), display_name: "Ada".into() },
        expires_at: at + Duration::days(30),
        session_ends_at: at + Duration::days(30),
    };
    start_trusting(&*store, grant.clone(), &device, at).await;
    let (other_session, _) = session_of(&*store, &ada.user.id, at, at + Duration::days(30), None).await;
    let as_author = Author { id: ada.user.id.clone(), display_name: "Ada".into() };
    for seconds in 0..3 {
        post_by(&*store, &as_author, 1_000 + seconds).await;
    }
    let grace = author(&*store, "grace-stays@example.com").await;
    let graces_post = post_by(&*store, &grace, 2_000).await;

    let deleted = store.delete_account(&ada.user.id, at).await.unwrap();
    assert_eq!(deleted, Some(DeletedAccount { sessions: 2, posts: 3 }));
    assert_eq!(store.get_user(&ada.user.id).await.unwrap(), None);
    let state = store.login_state("delete@example.com", &[], Some("delete-device")).await.unwrap();
    assert_eq!((state.credentials, state.device), (None, None), "no login record, no trusted device");
    assert_eq!(store.user_by_identity(&Identity::google("delete-1")).await.unwrap(), None);
    for token in [&grant.hash, &other_session] {
        assert_eq!(rotate(&*store, token, at).await.1, Rotation::Refused, "every session ended");
    }
    assert_eq!(every_page(&*store, None, 50).await, [graces_post.id], "another author's post stays");
    assert_eq!(store.list_posts_by_author(&ada.user.id, 10, None).await.unwrap().map(|page| page.posts.len()), None);
    assert_eq!(store.delete_account(&ada.user.id, at).await.unwrap(), None, "gone already");

    store.create_user(&credentials("delete@example.com"), None).await.expect("the email is free again");
    let again = User { id: new_id(at), ..google_user("other-delete@example.com") };
    store.create_user_with_identity(&again, &Identity::google("delete-1"), None).await.expect("so is the identity");
}

async fn deleting_an_account_made_with_google_frees_its_identity(store: Arc<impl Store>) {
    let grace = google_user("google-delete@example.com");
    store.create_user_with_identity(&grace, &Identity::google("delete-2"), None).await.unwrap();
    let deleted = store.delete_account(&grace.id, now()).await.unwrap();
    assert_eq!(deleted, Some(DeletedAccount { sessions: 0, posts: 0 }));
    let back = User { id: new_id(now()), ..grace };
    store
        .create_user_with_identity(&back, &Identity::google("delete-2"), None)
        .await
        .expect("a new account can take it");
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
    let client = aws_sdk_dynamodb::Client::new(&shared::aws::load_sdk_config().await.unwrap());
    let table = format!("conformance-{}", ulid::Ulid::generate().to_string().to_lowercase());
    shared::template::create_table(&client, &table).await.unwrap();
    Some(DynamoStore::new(client, table))
}

fn embedded_in_memory() -> Option<EmbeddedStore> {
    Some(EmbeddedStore::in_memory().unwrap())
}

fn embedded_in_a_file() -> Option<EmbeddedStore> {
    // Under target/ (cargo's scratch space for integration tests), gone with `cargo clean`.
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("conformance-{}", ulid::Ulid::generate()));
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
        renames_an_account_in_its_profile_and_its_login_record,
        racing_signups_with_one_email_have_one_winner,
        an_account_made_with_an_identity_has_no_password,
        an_identity_and_an_email_each_belong_to_one_account,
        racing_first_sign_ins_make_one_account,
        linking_adds_the_method_to_the_account,
        lists_posts_newest_first_in_pages_each_once,
        last_page_has_no_next_even_when_it_is_full,
        pages_of_large_posts_stop_at_the_content_budget,
        a_repeated_idempotency_key_replays_the_original,
        a_key_repeated_with_other_content_stores_nothing,
        idempotency_keys_belong_to_one_user,
        racing_creates_with_one_key_store_one_post,
        an_expired_idempotency_key_is_free_again,
        replaces_a_password_hash_only_if_unchanged,
        attempts_reserve_up_to_the_limit_then_refuse,
        a_given_back_attempt_no_longer_counts,
        attempts_restart_after_a_quiet_window,
        racing_reservations_never_pass_the_limit,
        a_session_can_trust_a_device,
        an_account_and_its_first_session_are_one_write,
        reads_one_post_and_one_user,
        edits_apply_and_count_versions,
        only_the_author_may_edit_or_delete,
        missing_posts_are_not_found,
        a_stale_version_is_refused,
        racing_edits_against_one_version_have_one_winner,
        racing_edits_without_a_precondition_each_get_a_version,
        lists_an_authors_posts_newest_first_in_pages,
        paging_stays_exact_while_posts_change,
        deleted_posts_leave_every_listing,
        the_key_of_a_deleted_post_creates_nothing,
        refresh_tokens_rotate_once,
        an_expired_refresh_token_is_refused,
        a_session_ends_at_its_limit_however_often_it_is_refreshed,
        racing_refreshes_with_one_token_have_one_winner,
        ending_a_session_revokes_its_family_only,
        lists_a_users_live_sessions_with_their_client_and_last_use,
        revoking_a_session_ends_it_for_its_user_only,
        revoking_every_session_leaves_other_users_alone,
        signup_asks_for_its_verification_mail_and_requests_wait_their_interval,
        a_verification_token_verifies_its_account_once,
        expired_foreign_and_unknown_tokens_verify_nothing,
        racing_uses_of_one_token_have_one_winner,
        a_reset_token_sets_the_password_once_and_clears_the_lockout,
        a_token_works_only_for_its_purpose_and_while_live,
        racing_resets_with_one_token_have_one_winner,
        deleting_an_account_removes_everything_it_owns,
        deleting_an_account_made_with_google_frees_its_identity,
    ]
);
