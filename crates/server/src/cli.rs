//! The command line: `serve` (the default), and admin tasks that work on the configured store
//! directly, so that a fresh install can be set up before anything listens.

use std::io::{BufRead, IsTerminal, Read, Write};
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use domain::{AdminAccess, NewApp, RecordListing, SchemaSave, Services};
use secrecy::{ExposeSecret, SecretString};
use storage_port::Storage;

use crate::settings::{Backend, Settings};
use crate::startup::{StartupError, open_storage};

#[derive(Debug, Parser)]
#[command(
    name = "users-api",
    version,
    about = "Collects and manages user data for static sites."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the service (the default).
    Serve,
    /// Manage platform admins.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Manage apps.
    #[command(subcommand)]
    App(AppCommand),
    /// Read an app's users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage the keys that sign accounts' access tokens.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Exit 0 when the local service answers GET /health (for container health checks).
    Healthcheck,
    /// Copy the SQLite database to a new file, safely while the service runs.
    #[command(
        long_about = "Copy the SQLite database (storage.sqlite.path) to PATH with SQLite's online backup API. \
    Safe while the service is serving: the copy is one consistent state, and writes go on meanwhile. \
    The copy is checked with PRAGMA quick_check before it takes its name; PATH must not exist yet.\n\n\
    To restore: stop the service, copy the backup over the database file (and delete any -wal and \
    -shm files beside it), start the service. For MongoDB use mongodump and mongorestore \
    (docs/deployment.md)."
    )]
    Backup(BackupArgs),
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Add a new signing key; it signs from now on (every instance picks it up within a
    /// minute), and the previous one stays in the JWKS until the tokens it signed expire.
    Rotate,
}

pub async fn keys(command: KeysCommand, settings: &Settings) -> Result<(), CliError> {
    let services = services(settings).await?;
    match command {
        KeysCommand::Rotate => {
            services.accounts.prepare_keys().await.map_err(failed)?;
            let kid = services.accounts.rotate_keys().await.map_err(failed)?;
            println!("new signing key {kid}");
        }
    }
    Ok(())
}

/// `users-api backup PATH`.
#[derive(Debug, clap::Args)]
pub struct BackupArgs {
    /// The new file to write the copy to.
    pub path: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create a platform admin; the password is read from standard input (prompted on a terminal).
    Create {
        #[arg(long)]
        email: String,
    },
    /// List the platform admins: email and creation time.
    List,
    /// Give an admin a new password (the recovery for a forgotten one) and end every dashboard
    /// session it has open. The password (at least 12 characters) is read from standard input,
    /// prompted on a terminal.
    ResetPassword {
        #[arg(long)]
        email: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum AppCommand {
    /// Create an app and print its one-time password.
    Create {
        /// The app's sourceAppId: 1-80 characters of [A-Za-z0-9._-].
        #[arg(long)]
        id: String,
        #[arg(long)]
        name: String,
        /// An origin allowed to submit from a browser (repeatable); `*` allows any.
        #[arg(long = "origin")]
        origins: Vec<String>,
        #[arg(long)]
        honeypot: Option<String>,
        #[arg(long)]
        thank_you_url: Option<String>,
        /// Where a plain HTML form that fails is sent (`?error=<code>&field=<key>…`).
        #[arg(long)]
        error_url: Option<String>,
    },
    /// Replace an app's schema with the JSON in FILE (`-` for standard input).
    Schema {
        #[arg(long)]
        id: String,
        #[arg(long)]
        file: PathBuf,
    },
    /// List the apps: id, user count, creation time and name.
    List,
    /// Give an app a new password, print it once, and end its owners' dashboard sessions.
    RotatePassword {
        #[arg(long)]
        id: String,
    },
    /// Delete an app with its schemas and every user record; asks to type the app id unless
    /// --yes is given (without a terminal, the first line of standard input must be the id).
    Delete {
        #[arg(long)]
        id: String,
        /// Delete without asking.
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Print an app's users as NDJSON, oldest first.
    List {
        #[arg(long)]
        app: String,
    },
    /// Export an app's users as the dashboard's export does: CSV (columns id, email,
    /// createdAt, updatedAt, schemaVersion, then the schema's fields) or NDJSON.
    Export {
        #[arg(long)]
        app: String,
        #[arg(long, value_enum, default_value_t = ExportFormatArg::Csv)]
        format: ExportFormatArg,
        /// Write to FILE instead of standard output (replaced if it exists).
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ExportFormatArg {
    Csv,
    Ndjson,
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Startup(#[from] StartupError),
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Failed(String),
}

fn failed(error: impl std::fmt::Display) -> CliError {
    CliError::Failed(error.to_string())
}

async fn services(settings: &Settings) -> Result<Services<dyn Storage>, CliError> {
    if settings.storage.backend == Backend::Memory {
        return Err(CliError::Usage(
            "the memory store lives inside a running server; use the sqlite or mongodb backend for this command".into(),
        ));
    }
    let storage = open_storage(settings).await?;
    let crypto = settings.token_crypto().map_err(failed)?;
    Services::new(storage, &settings.domain(), crypto).map_err(failed)
}

pub async fn admin(command: AdminCommand, settings: &Settings) -> Result<(), CliError> {
    let services = services(settings).await?;
    match command {
        AdminCommand::Create { email } => {
            let password = read_password()?;
            let admin = services
                .admins
                .create_admin(&email, password)
                .await
                .map_err(failed)?;
            println!("created admin {}", admin.email);
        }
        AdminCommand::List => {
            let admins = services.admins.list_admins().await.map_err(failed)?;
            let mut out = std::io::stdout().lock();
            writeln!(out, "EMAIL\tCREATED").map_err(failed)?;
            for admin in admins {
                writeln!(out, "{}\t{}", admin.email, admin.created_at.to_rfc3339())
                    .map_err(failed)?;
            }
        }
        AdminCommand::ResetPassword { email } => {
            let password = read_password()?;
            let admin = services
                .admins
                .reset_password(&email, password)
                .await
                .map_err(failed)?;
            println!(
                "new password set for admin {}; its dashboard sessions have ended",
                admin.email
            );
        }
    }
    Ok(())
}

pub async fn app(command: AppCommand, settings: &Settings) -> Result<(), CliError> {
    let services = services(settings).await?;
    match command {
        AppCommand::Create {
            id,
            name,
            origins,
            honeypot,
            thank_you_url,
            error_url,
        } => {
            let new = NewApp {
                id,
                name,
                allowed_origins: origins,
                honeypot_field: honeypot,
                thank_you_url,
                error_url,
            };
            let (app, password) = services
                .apps
                .create_app(&AdminAccess::command_line(), new)
                .await
                .map_err(failed)?;
            let shown =
                serde_json::json!({ "sourceAppId": app.id, "password": password.expose_secret() });
            println!("{shown}");
            eprintln!("Keep the password now: it is shown once and stored only as a hash.");
        }
        AppCommand::Schema { id, file } => {
            let text = if file.as_os_str() == "-" {
                let mut text = String::new();
                std::io::stdin().read_to_string(&mut text).map_err(failed)?;
                text
            } else {
                std::fs::read_to_string(&file)
                    .map_err(|e| failed(format!("{}: {e}", file.display())))?
            };
            let draft = serde_json::from_str(&text)
                .map_err(|e| failed(format!("the schema is not valid JSON: {e}")))?;
            let access = AdminAccess::command_line().app(&id);
            let change = services
                .apps
                .save_schema(&access, draft, SchemaSave::Save)
                .await
                .map_err(|error| match error {
                    domain::AppError::Invalid(violations) => failed(
                        violations
                            .iter()
                            .map(|v| format!("{}: {}", v.field, v.message))
                            .collect::<Vec<_>>()
                            .join("\n"),
                    ),
                    other => failed(other),
                })?;
            if let Some(saved) = change.saved {
                println!("saved schema version {} of {id}", saved.version);
            }
            if change.impact.failing > 0 {
                eprintln!(
                    "{} of {} stored records do not pass the new schema (they are kept)",
                    change.impact.failing, change.impact.checked
                );
            }
        }
        AppCommand::List => {
            let apps = services
                .apps
                .list_apps(&AdminAccess::command_line())
                .await
                .map_err(failed)?;
            let mut out = std::io::stdout().lock();
            writeln!(out, "ID\tUSERS\tCREATED\tNAME").map_err(failed)?;
            for summary in apps {
                let app = &summary.app;
                writeln!(
                    out,
                    "{}\t{}\t{}\t{}",
                    app.id,
                    summary.user_count,
                    app.created_at.to_rfc3339(),
                    app.name
                )
                .map_err(failed)?;
            }
        }
        AppCommand::RotatePassword { id } => {
            let (app, password) = services
                .apps
                .rotate_password(&AdminAccess::command_line(), &id)
                .await
                .map_err(failed)?;
            let shown =
                serde_json::json!({ "sourceAppId": app.id, "password": password.expose_secret() });
            println!("{shown}");
            eprintln!(
                "Keep the password now: it is shown once. The app's dashboard sessions have ended."
            );
        }
        AppCommand::Delete { id, yes } => {
            let admin = AdminAccess::command_line();
            let app = services
                .apps
                .find_app(&admin.app(&id))
                .await
                .map_err(failed)?;
            if !yes {
                let prompt = format!(
                    "Delete app {} ({}) with its schemas and all its users? Type its id to confirm: ",
                    app.id, app.name
                );
                if read_line(&prompt)?.trim() != app.id {
                    return Err(CliError::Usage(
                        "not confirmed; nothing was deleted (pass --yes to skip the question)"
                            .into(),
                    ));
                }
            }
            services
                .apps
                .delete_app(&admin, &id)
                .await
                .map_err(failed)?;
            println!("deleted app {id}");
        }
    }
    Ok(())
}

pub async fn user(command: UserCommand, settings: &Settings) -> Result<(), CliError> {
    let services = services(settings).await?;
    match command {
        UserCommand::List { app } => list_users(&services, &app).await,
        UserCommand::Export {
            app,
            format,
            output,
        } => export_users(services, &app, format, output).await,
    }
}

async fn export_users(
    services: Services<dyn Storage>,
    app: &str,
    format: ExportFormatArg,
    output: Option<PathBuf>,
) -> Result<(), CliError> {
    let format = match format {
        ExportFormatArg::Csv => http_adapter::ExportFormat::Csv,
        ExportFormatArg::Ndjson => http_adapter::ExportFormat::Ndjson,
    };
    let access = AdminAccess::command_line().app(app);
    match output {
        Some(path) => {
            let file = std::fs::File::create(&path)
                .map_err(|e| failed(format!("{}: {e}", path.display())))?;
            let mut out = std::io::BufWriter::new(file);
            http_adapter::write_export(&services, &access, format, &mut out)
                .await
                .map_err(failed)
        }
        None => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            http_adapter::write_export(&services, &access, format, &mut out)
                .await
                .map_err(failed)
        }
    }
}

async fn list_users(services: &Services<dyn Storage>, app: &str) -> Result<(), CliError> {
    let access = AdminAccess::command_line().app(app);
    let mut listing = RecordListing {
        limit: Some(domain::MAX_PAGE_SIZE),
        ..RecordListing::default()
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    loop {
        let page = services
            .records
            .list(&access, listing.clone())
            .await
            .map_err(failed)?;
        for user in &page.users {
            let line = serde_json::json!({
                "id": user.id, "email": user.email, "data": user.data, "schemaVersion": user.schema_version,
                "createdAt": user.created_at, "updatedAt": user.updated_at,
            });
            writeln!(out, "{line}").map_err(failed)?;
        }
        match page.next_cursor {
            Some(cursor) => listing.after_id = Some(cursor),
            None => return Ok(()),
        }
    }
}

/// A line from the terminal after `prompt`, or the first line of standard input.
fn read_line(prompt: &str) -> Result<String, CliError> {
    if std::io::stdin().is_terminal() {
        eprint!("{prompt}");
        std::io::stderr().flush().map_err(failed)?;
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(failed)?;
    Ok(line)
}

/// `users-api backup PATH`: SQLite's online backup of the configured database.
pub async fn backup(args: BackupArgs, settings: &Settings) -> Result<(), CliError> {
    if settings.storage.backend != Backend::Sqlite {
        return Err(CliError::Usage(
            "backup copies the SQLite store; for MongoDB use mongodump or your host's snapshots (docs/deployment.md)".into(),
        ));
    }
    let source = settings.storage.sqlite.path.clone();
    let destination = args.path.clone();
    let bytes = tokio::task::spawn_blocking(move || sqlite_adapter::backup(&source, &destination))
        .await
        .map_err(failed)?
        .map_err(|e| CliError::Startup(StartupError::Storage(e)))?;
    println!(
        "backed up {} to {} ({bytes} bytes)",
        settings.storage.sqlite.path.display(),
        args.path.display()
    );
    Ok(())
}

/// A password from the terminal without echo, or the first line of standard input.
fn read_password() -> Result<SecretString, CliError> {
    let line = if std::io::stdin().is_terminal() {
        rpassword::prompt_password("Password: ").map_err(failed)?
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(failed)?;
        line
    };
    Ok(SecretString::from(
        line.trim_end_matches(['\r', '\n']).to_owned(),
    ))
}

/// GET /health on the configured port, without any HTTP client library.
pub fn healthcheck(settings: &Settings) -> Result<(), CliError> {
    use std::net::TcpStream;
    use std::time::Duration;
    let address = format!("127.0.0.1:{}", settings.application.port);
    let mut stream = TcpStream::connect(&address).map_err(|e| failed(format!("{address}: {e}")))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(failed)?;
    write!(
        stream,
        "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .map_err(failed)?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).map_err(failed)?;
    if answer.starts_with("HTTP/1.1 200") {
        Ok(())
    } else {
        Err(failed("the service is not healthy"))
    }
}
