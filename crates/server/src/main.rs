use clap::Parser;
use server::cli::{self, Cli, CliError, Command};
use server::{Application, Environment, settings, telemetry};

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let outcome = Environment::from_env()
        .map_err(|e| CliError::Usage(e.to_string()))
        .and_then(|environment| {
            let settings = settings::load(&settings::config_dir(), environment)
                .map_err(|e| CliError::Usage(format!("configuration: {e}")))?;
            Ok((environment, settings))
        })
        .and_then(|(environment, settings)| {
            if matches!(cli.command, Some(Command::Healthcheck)) {
                return cli::healthcheck(&settings);
            }
            telemetry::init(&settings, environment);
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .map_err(|e| CliError::Failed(e.to_string()))?;
            runtime.block_on(run(cli.command.unwrap_or(Command::Serve), settings))
        });
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("users-api: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, settings: server::Settings) -> Result<(), CliError> {
    match command {
        Command::Serve => {
            let application = Application::build(settings).await?;
            tracing::info!(port = application.port(), "listening");
            application
                .run_until_stopped()
                .await
                .map_err(|e| CliError::Failed(e.to_string()))
        }
        Command::Admin(command) => cli::admin(command, &settings).await,
        Command::App(command) => cli::app(command, &settings).await,
        Command::User(command) => cli::user(command, &settings).await,
        Command::Keys(command) => cli::keys(command, &settings).await,
        Command::Healthcheck => Ok(()),
        Command::Backup(args) => cli::backup(args, &settings).await,
    }
}
