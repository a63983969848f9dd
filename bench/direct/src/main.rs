//! What `bench/bench.py` measures in one process, next to the functions it runs under the
//! emulator: the same store calls each function makes, made directly (so the difference
//! is the handler's own cost), a bare argon2id verify, and list-posts and login on the
//! embedded store. Each command prints one JSON object: `{"samples_ms": [...]}` or `{"seeded": n}`.
use std::future::Future;
use std::time::Instant;

use clap::{Parser, Subcommand, ValueEnum};
use lambda_http::{Body, Response};
use serde_json::json;
use shared::auth::hash_password;
use shared::auth::throttle::AttemptCounter;
use shared::http::DEFAULT_PAGE_LIMIT;
use shared::model::{Author, Credentials, Post, Secret, User, new_id, now, password_only};
use shared::sessions::SessionOpening;
use shared::store::{DynamoStore, EmbeddedStore, PostStore, Store, UserStore};
use shared::testing::TestRequest;

type Error = Box<dyn std::error::Error + Send + Sync>;

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Times the DynamoDB calls one function makes on its happy path, through the same
    /// store code, at TABLE_NAME (AWS_ENDPOINT_URL_DYNAMODB and friends from the environment).
    Dynamo {
        #[arg(long)]
        function: Function,
        #[arg(long)]
        iterations: usize,
        /// The account login reads (it must exist).
        #[arg(long, default_value = "bench@example.com")]
        email: String,
        /// The page size list-posts asks for (the sample event's `limit`).
        #[arg(long, default_value_t = DEFAULT_PAGE_LIMIT)]
        limit: usize,
    },
    /// Stores `count` posts at TABLE_NAME.
    SeedPosts {
        #[arg(long)]
        count: usize,
    },
    /// Times argon2id verifying a hash made by `shared::auth::hash_password`, with nothing
    /// around it: no thread hand-off, no store, its working area reused.
    Argon2Verify {
        #[arg(long)]
        iterations: usize,
    },
    /// Times list-posts' own handler on file-backed embedded stores (local-api's default),
    /// one per `--posts` size, taking turns so that drift hits every size alike.
    /// Prints `{"samples_ms": {"<posts>": [...], ...}}`.
    EmbeddedList {
        #[arg(long, required = true)]
        posts: Vec<usize>,
        #[arg(long)]
        iterations: usize,
    },
    /// Times login's own handler on a file-backed embedded store (local-api's default): the
    /// same account logging in again and again, each call a new session.
    EmbeddedLogin {
        #[arg(long)]
        iterations: usize,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Function {
    Signup,
    Login,
    CreatePost,
    ListPosts,
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::allocator::return_large_blocks_to_the_os();
    let output = match Cli::parse().command {
        Command::Dynamo { function, iterations, email, limit } => {
            let app = &shared::testing::dev_app(dynamo_store().await?);
            let store = &app.store;
            let email = &email;
            // The attempt counters a login from the sample address reserves on.
            let counters = &[
                AttemptCounter::AccountFromAddress { email: email.clone(), address: "192.0.2.1".into() },
                AttemptCounter::Account { email: email.clone() },
            ];
            let samples = match function {
                // What signup writes: the account with its first session, in one transaction.
                Function::Signup => {
                    time(iterations, || async move {
                        let credentials = credentials();
                        let session = SessionOpening::new(app, &credentials.user, Some("bench-direct"), None).await?;
                        store.create_user(&credentials, Some(session.write())).await.map_err(Error::from)
                    })
                    .await?
                }
                Function::Login => time(iterations, || login_store_calls(app, email, counters)).await?,
                // What create-post does: the author's current name, then the write.
                Function::CreatePost => {
                    time(iterations, || async move {
                        let post = post();
                        store.get_user(&post.author.id).await?;
                        store.create_post(&post, None).await
                    })
                    .await?
                }
                Function::ListPosts => time(iterations, || store.list_posts(limit, None)).await?,
            };
            json!({ "samples_ms": samples })
        }
        Command::SeedPosts { count } => {
            seed(&dynamo_store().await?, count).await?;
            json!({ "seeded": count })
        }
        Command::Argon2Verify { iterations } => {
            let hash = hash_password(Secret::from(PASSWORD)).await?;
            json!({ "samples_ms": time_bare_verify(&hash, iterations).await? })
        }
        Command::EmbeddedList { posts, iterations } => {
            let dir = std::env::temp_dir().join(format!("bench-embedded-{}", new_id(now())));
            std::fs::create_dir_all(&dir)?;
            let result = embedded_list(&dir, &posts, iterations).await;
            std::fs::remove_dir_all(&dir)?;
            let by_size: serde_json::Map<String, serde_json::Value> =
                posts.iter().zip(result?).map(|(size, samples)| (size.to_string(), json!(samples))).collect();
            json!({ "samples_ms": by_size })
        }
        Command::EmbeddedLogin { iterations } => {
            let dir = std::env::temp_dir().join(format!("bench-embedded-{}", new_id(now())));
            std::fs::create_dir_all(&dir)?;
            let result = embedded_login(&dir, iterations).await;
            std::fs::remove_dir_all(&dir)?;
            json!({ "samples_ms": result? })
        }
    };
    println!("{output}");
    Ok(())
}

const PASSWORD: &str = "a benchmark passphrase";

/// What a login does on the store, in its order, with no password work: read; reserve an
/// attempt on the address's and the account's counters; clear the one, give back the
/// other and start the session.
async fn login_store_calls<S: Store>(
    app: &shared::app::App<S>,
    email: &str,
    counters: &[AttemptCounter; 2],
) -> Result<(), Error> {
    let store = &app.store;
    let state = store.login_state(email, counters, None).await?;
    let [address, account] = counters;
    let (by_address, by_account) = tokio::join!(
        store.reserve_attempt(address, state.attempts_on(address), now()),
        store.reserve_attempt(account, state.attempts_on(account), now()),
    );
    for reservation in [by_address?, by_account?] {
        if let Some(seconds) = reservation.retry_after_seconds() {
            return Err(format!("the benchmark's login was refused for {seconds} s").into());
        }
    }
    let user = state.credentials.ok_or("the benchmark's login has no account")?.user;
    let session = SessionOpening::new(app, &user, Some("bench-direct"), None).await?;
    let (cleared, given_back, started) = tokio::join!(
        store.clear_attempts(address),
        store.give_back_attempt(account),
        store.start_session(session.write()),
    );
    cleared?;
    given_back?;
    Ok(started?)
}

async fn dynamo_store() -> Result<DynamoStore, Error> {
    let table = std::env::var("TABLE_NAME").map_err(|_| "TABLE_NAME must name the table")?;
    Ok(DynamoStore::new(aws_sdk_dynamodb::Client::new(&shared::aws::load_sdk_config().await?), table))
}

/// Runs `call` once unmeasured (the first call sets up connections, like a cold start's
/// first request), then `iterations` times, one after another; returns each duration in ms.
async fn time<F, Fut, T, E>(iterations: usize, mut call: F) -> Result<Vec<f64>, Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
    E: Into<Error>,
{
    call().await.map_err(Into::into)?;
    let mut samples = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let started = Instant::now();
        call().await.map_err(Into::into)?;
        samples.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(samples)
}

fn credentials() -> Credentials {
    let id = new_id(now());
    let email = format!("{}@bench.example.com", id.to_lowercase());
    let user = User {
        id,
        email,
        display_name: "Bench".into(),
        created_at: now(),
        sign_in_methods: password_only(),
        email_verified: false,
    };
    // The store never looks inside the hash; its size is a real hash's.
    Credentials { user, password_hash: Some(format!("$argon2id$v=19$m=19456,t=2,p=1${}", "x".repeat(66))) }
}

fn post() -> Post {
    Post::new(
        "A benchmark post".into(),
        "Measured, not guessed. ".repeat(20),
        Author { id: "01BENCHAUTHOR0000000000000".into(), display_name: "Bench".into() },
        now(),
    )
}

async fn seed<S: Store>(store: &S, count: usize) -> Result<(), Error> {
    for _ in 0..count {
        store.create_post(&post(), None).await?;
    }
    Ok(())
}

async fn embedded_login(dir: &std::path::Path, iterations: usize) -> Result<Vec<f64>, Error> {
    let app = shared::testing::dev_app(EmbeddedStore::open(&dir.join("blog.redb"))?);
    let mut credentials = credentials();
    credentials.password_hash = Some(hash_password(Secret::from(PASSWORD)).await?);
    app.store.create_user(&credentials, None).await?;
    let body = &json!({ "email": credentials.user.email, "password": PASSWORD });
    let app = &app;
    time(iterations, || async move {
        let request = TestRequest::new("POST", "/login").source_ip("192.0.2.1").json(body).http_api();
        answered_ok("login", login::handle(app, request).await?)
    })
    .await
}

/// Times argon2id checking `PASSWORD` against `hash` in one working area, made once and
/// reused as the functions reuse theirs: the verify's own work, without faulting in a
/// fresh area each time.
async fn time_bare_verify(hash: &str, iterations: usize) -> Result<Vec<f64>, Error> {
    let parsed = argon2::PasswordHash::new(hash)?;
    let params = argon2::Params::try_from(&parsed)?;
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return Err("the hash has no salt or no output".into());
    };
    let argon2 = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params.clone());
    let mut area = vec![argon2::Block::default(); params.block_count()];
    let mut out = vec![0u8; expected.len()];
    time(iterations, || {
        let verified = argon2
            .hash_password_into_with_memory(PASSWORD.as_bytes(), salt.as_ref(), &mut out, &mut area)
            .map_err(Error::from)
            .and_then(|()| if out == expected.as_bytes() { Ok(()) } else { Err("the password did not verify".into()) });
        std::future::ready(verified)
    })
    .await
}

/// A handler's answer, which must be a 200.
fn answered_ok(function: &str, response: Response<Body>) -> Result<(), Error> {
    match response.status().as_u16() {
        200 => Ok(()),
        status => Err(format!("{function} answered {status}").into()),
    }
}

async fn embedded_list(dir: &std::path::Path, sizes: &[usize], iterations: usize) -> Result<Vec<Vec<f64>>, Error> {
    let mut apps = Vec::with_capacity(sizes.len());
    for size in sizes {
        let app = shared::testing::dev_app(EmbeddedStore::open(&dir.join(format!("blog-{size}.redb")))?);
        seed(&app.store, *size).await?;
        apps.push(app);
    }
    let mut samples = vec![Vec::with_capacity(iterations); sizes.len()];
    for round in 0..=iterations {
        for (app, samples) in apps.iter().zip(samples.iter_mut()) {
            let request = TestRequest::new("GET", "/posts").http_api();
            let started = Instant::now();
            answered_ok("list-posts", list_posts::handle(app, request).await?)?;
            let elapsed = started.elapsed().as_secs_f64() * 1000.0;
            if round > 0 {
                samples.push(elapsed); // round 0 warms each store up, as `time` does
            }
        }
    }
    Ok(samples)
}
