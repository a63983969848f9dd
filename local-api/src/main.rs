//! `cargo run -p local-api`: the whole blog API on http://127.0.0.1:3000, on an embedded
//! database, with no AWS account and no Docker. See the README's quickstart.
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand};
use local_api::mail::FileMailer;
use local_api::realtime::{self, Realtime};
use local_api::web::{self, PageConfig};
use local_api::{RouteTable, cors_layer, router};
use shared::app::App;
use shared::auth::{TokenKeys, TokenService};
use shared::config::{AccountRules, GoogleConfig, TokenConfig};
use shared::google::GoogleSignIn;
use shared::mail::Links;
use shared::store::{DynamoStore, EmbeddedStore, Store};
use tracing_subscriber::prelude::*;

type Error = Box<dyn std::error::Error + Send + Sync>;

/// Serve every route of template.yaml locally, through the same handlers as the Lambda
/// functions.
#[derive(Debug, Parser)]
#[command(name = "local-api", version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Port to listen on.
    #[arg(long, env = "PORT", default_value_t = 3000)]
    port: u16,
    /// Address to bind; loopback unless you mean to share it.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    host: IpAddr,
    /// Where the embedded database and the generated signing keys live.
    #[arg(long, default_value = ".local")]
    data_dir: PathBuf,
    /// Keep nothing: an in-memory database and throwaway signing keys.
    #[arg(long, conflicts_with = "dynamodb")]
    memory: bool,
    /// Use DynamoDB (TABLE_NAME, and AWS_ENDPOINT_URL_DYNAMODB for a local one) instead of
    /// the embedded database. Implied when both of those variables are set.
    #[arg(long)]
    dynamodb: bool,
    /// An API key realtime subscribers must send (as `x-api-key`), as on AWS; none by default.
    #[arg(long, env = "REALTIME_API_KEY")]
    realtime_api_key: Option<String>,
    /// The blog page's URL, where mailed links lead (default: this server's own).
    #[arg(long, env = "APP_URL")]
    app_url: Option<String>,
    /// Browser origins allowed by CORS (default: the template's AllowedOrigins default).
    #[arg(long = "cors-origin", env = "CORS_ORIGINS", value_delimiter = ',')]
    cors_origins: Vec<String>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create the table TABLE_NAME, exactly as template.yaml defines it, in the DynamoDB at
    /// AWS_ENDPOINT_URL_DYNAMODB (DynamoDB Local or moto).
    CreateTable,
}

#[tokio::main]
async fn main() -> ExitCode {
    let started = Instant::now();
    shared::allocator::return_large_blocks_to_the_os();
    let level = std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into());
    tracing_subscriber::registry()
        .with(shared::logging::filter(&level))
        .with(tracing_subscriber::fmt::layer().with_target(false))
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::CreateTable) => create_table().await,
        None => run(&cli, started).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("{err}");
            ExitCode::FAILURE
        }
    }
}

fn table_name() -> Result<String, Error> {
    std::env::var("TABLE_NAME").map_err(|_| "TABLE_NAME must name the DynamoDB table".into())
}

async fn dynamo_store() -> Result<DynamoStore, Error> {
    let client = aws_sdk_dynamodb::Client::new(&shared::aws::load_sdk_config().await?);
    Ok(DynamoStore::new(client, table_name()?))
}

async fn create_table() -> Result<(), Error> {
    let name = table_name()?;
    let client = aws_sdk_dynamodb::Client::new(&shared::aws::load_sdk_config().await?);
    shared::template::create_table(&client, &name).await?;
    tracing::info!("created table {name} as defined in template.yaml");
    Ok(())
}

async fn run(cli: &Cli, started: Instant) -> Result<(), Error> {
    let use_dynamodb = cli.dynamodb
        || (!cli.memory
            && std::env::var_os("TABLE_NAME").is_some()
            && std::env::var_os("AWS_ENDPOINT_URL_DYNAMODB").is_some());
    let keys_dir = (!cli.memory).then_some(cli.data_dir.as_path());
    let keys_file = std::env::var_os("SIGNING_JWKS_FILE").map(std::path::PathBuf::from);
    let keys = TokenKeys::signing(local_api::keys::load_or_generate(keys_file.as_deref(), keys_dir)?);
    let tokens = (TokenConfig::from_lookup(|name| std::env::var(name).ok())?, keys);
    if use_dynamodb {
        // Realtime needs the store's changes; on DynamoDB they are in its stream, which
        // only the Lambda publisher reads (docs/realtime.md).
        let store = dynamo_store().await?;
        serve(store, None, None, tokens, cli, "DynamoDB".to_owned(), started).await
    } else {
        let (changes, announced) = tokio::sync::broadcast::channel(realtime::BACKLOG);
        let realtime = Some(Realtime::start(announced, cli.realtime_api_key.clone(), realtime::BACKLOG));
        if cli.memory {
            let store = EmbeddedStore::in_memory()?.announcing_changes(changes);
            let mail = Some(store.clone());
            serve(store, realtime, mail, tokens, cli, "in memory (nothing is kept)".to_owned(), started).await
        } else {
            std::fs::create_dir_all(&cli.data_dir)?;
            let path = cli.data_dir.join("blog.redb");
            let store = EmbeddedStore::open(&path)?.announcing_changes(changes);
            let mail = Some(store.clone());
            serve(store, realtime, mail, tokens, cli, format!("embedded, {}", display(&path)), started).await
        }
    }
}

fn display(path: &Path) -> String {
    path.display().to_string()
}

/// Serves `store`; `mail` is the embedded store whose mail requests this process delivers
/// (on DynamoDB they are in its stream, which only the Lambda mail sender reads).
async fn serve<S: Store + 'static>(
    store: S,
    realtime: Option<Realtime>,
    mail: Option<EmbeddedStore>,
    (tokens, keys): (TokenConfig, TokenKeys),
    cli: &Cli,
    store_description: String,
    started: Instant,
) -> Result<(), Error> {
    let cors = shared::template::cors()?;
    let origins = if cli.cors_origins.is_empty() { cors.default_origins.clone() } else { cli.cors_origins.clone() };
    // Google sign-in reads the same variables as on Lambda: GOOGLE_CLIENT_IDS, GOOGLE_JWKS_URL.
    let google = GoogleConfig::from_lookup(|name| std::env::var(name).ok())?;
    let google_status = match google.client_ids.len() {
        0 => "off (set GOOGLE_CLIENT_IDS to turn it on)".to_owned(),
        n => format!("on for {n} client ID(s), keys from {}", google.jwks_url),
    };
    let page =
        PageConfig::same_origin(realtime.is_some(), cli.realtime_api_key.clone(), google.client_ids.first().cloned());
    let accounts = AccountRules::from_lookup(|name| std::env::var(name).ok())?;
    let app = App::new(store, TokenService::new(tokens, &keys)?)
        .with_google(GoogleSignIn::new(google))
        .with_account_rules(accounts);
    let mut app = router(app, RouteTable::from_template()?, cors_layer(&cors, &origins)?)?.merge(web::router(&page)?);
    let realtime_status = match realtime {
        Some(realtime) => {
            app = app.merge(realtime.router());
            "at /event/realtime (the AppSync Events protocol)"
        }
        None => "off (the DynamoDB store's changes reach only the Lambda publisher)",
    };
    let listener = tokio::net::TcpListener::bind(SocketAddr::new(cli.host, cli.port)).await?;
    let address = listener.local_addr()?;
    let url = format!("http://{address}");
    let mail_status = match mail {
        Some(store) => {
            // Links must open in the developer's browser: a wildcard bind is reached as localhost.
            let app_url = cli.app_url.clone().unwrap_or_else(|| {
                if address.ip().is_unspecified() {
                    format!("http://localhost:{}/", address.port())
                } else {
                    format!("{url}/")
                }
            });
            let folder = cli.data_dir.join("mail");
            let status = format!("written to {} (links open {app_url})", display(&folder));
            local_api::mail::start_worker(store, FileMailer::new(folder), Links::new(&app_url)?);
            status
        }
        None => "off (the DynamoDB store's mail requests reach only the Lambda mail sender)".to_owned(),
    };
    tracing::info!(
        "blog API ready at {url} in {:.0} ms (store: {store_description}; CORS: {})",
        started.elapsed().as_secs_f64() * 1000.0,
        origins.join(", ")
    );
    tracing::info!("Google sign-in: {google_status}");
    tracing::info!("realtime: {realtime_status}");
    tracing::info!("mail: {mail_status}");
    tracing::info!("open {url}/ in a browser for the blog, or try: curl -s {url}/posts   (Ctrl-C to stop)");
    // The peer's address is what the login throttle counts by, as API Gateway's sourceIp.
    let app = app.into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app).with_graceful_shutdown(shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

/// Ctrl-C or SIGTERM: stop accepting, finish the requests in flight, exit.
async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
    tracing::info!("shutting down");
}
