//! `spingraph admin`: operator tasks run against the database directly —
//! bootstrapping users. Passwords come from stdin or a no-echo prompt, never argv.

use std::io::{BufRead, IsTerminal};
use std::str::FromStr;

use anyhow::{Context, bail};
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection};

use spingraph_migrate::DEFAULT_DATABASE_URL;

#[derive(clap::Args)]
pub struct AdminArgs {
    #[command(subcommand)]
    command: AdminCommand,
}

#[derive(clap::Subcommand)]
enum AdminCommand {
    /// Create a user. The password is read from stdin, or prompted for without echo on a terminal.
    CreateUser(CreateUserArgs),
    /// Generate an Ed25519 JWT key pair and the verified-token cache's MAC keys (one per
    /// component group) and print them as SPIN_VARIABLE_* lines on stdout, in the
    /// `.env` format Spin reads (`gen-keys > .env`, then `spin up`) that a POSIX shell also sources.
    /// The signing key is a secret: redirect it into a file or your secret store.
    GenKeys,
}

#[derive(clap::Args)]
struct CreateUserArgs {
    /// The user's email address (their login).
    #[arg(long)]
    email: String,
    /// The user's role.
    #[arg(long, value_enum)]
    role: Role,
    /// Postgres connection string of the spingraph database.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true, default_value = DEFAULT_DATABASE_URL)]
    database_url: String,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Role {
    Admin,
    User,
}

impl Role {
    fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::User => "user",
        }
    }
}

pub fn run(args: AdminArgs) -> anyhow::Result<()> {
    match args.command {
        AdminCommand::CreateUser(args) => create_user(args),
        AdminCommand::GenKeys => gen_keys(),
    }
}

fn gen_keys() -> anyhow::Result<()> {
    let generated = generated_keys()?;
    if std::io::stdout().is_terminal() {
        eprintln!(
            "warning: printing a secret signing key to the terminal; redirect stdout to a file"
        );
    }
    let lines: Vec<(&str, &str)> = generated.iter().map(|(n, v)| (*n, v.as_str())).collect();
    print!("{}", env_file(&lines)?);
    Ok(())
}

/// A fresh key pair and a MAC key of the verified-token cache for each component group.
fn generated_keys() -> anyhow::Result<Vec<(&'static str, String)>> {
    let (signing, public) = crate::cli::dev::generate_signing_keys()?;
    Ok(vec![
        ("SPIN_VARIABLE_JWT_SIGNING_KEY", signing),
        ("SPIN_VARIABLE_JWT_PUBLIC_KEYS", public),
        (
            "SPIN_VARIABLE_AUTH_TOKEN_CACHE_KEY",
            crate::cli::dev::generate_cache_key()?,
        ),
        (
            "SPIN_VARIABLE_DATA_TOKEN_CACHE_KEY",
            crate::cli::dev::generate_cache_key()?,
        ),
    ])
}

/// The key pair as `NAME='value'` lines. Single quotes keep the JWKS JSON literal both for
/// dotenvy (what `spin up` uses to read `.env` from its working directory) and for `sh`'s `.`;
/// neither has an escape inside them, so a value holding a quote or a newline is refused.
fn env_file(lines: &[(&str, &str)]) -> anyhow::Result<String> {
    let mut out = String::new();
    for &(name, value) in lines {
        if value.contains(['\'', '\n', '\r']) {
            bail!(
                "{name}: the value holds a quote or a line break and cannot be written as one .env line"
            );
        }
        out.push_str(&format!("{name}='{value}'\n"));
    }
    Ok(out)
}

fn create_user(args: CreateUserArgs) -> anyhow::Result<()> {
    // Stored lowercased, as the auth component stores the addresses it registers.
    let email = args.email.trim().to_lowercase();
    if email.len() < 3 || !email.contains('@') || email.chars().any(char::is_whitespace) {
        bail!("--email {email:?} is not an email address");
    }
    let password = read_password()?;
    spingraph_password::validate(&password, &email).context("password rejected")?;
    let password_hash = spingraph_password::hash(&password)?;
    drop(password);

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let id = runtime.block_on(insert_user(
        &args.database_url,
        &email,
        args.role,
        &password_hash,
    ))?;
    println!("created {} user {email} with id {id}", args.role.as_str());
    Ok(())
}

/// One line from stdin when it is piped; otherwise a no-echo prompt, twice.
fn read_password() -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ").context("reading the password")?;
        let second =
            rpassword::prompt_password("Repeat password: ").context("reading the password")?;
        if first != second {
            bail!("the passwords do not match");
        }
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from stdin")?;
    let password = line.strip_suffix('\n').unwrap_or(&line);
    let password = password.strip_suffix('\r').unwrap_or(password);
    if password.is_empty() {
        bail!("no password on stdin (pipe it in, or run on a terminal to be prompted)");
    }
    Ok(password.to_owned())
}

async fn insert_user(
    database_url: &str,
    email: &str,
    role: Role,
    password_hash: &str,
) -> anyhow::Result<uuid::Uuid> {
    let mut conn = PgConnectOptions::from_str(database_url)
        .context("parsing the database URL")?
        .disable_statement_logging()
        .connect()
        .await
        .context("connecting to the database")?;
    let id = uuid::Uuid::now_v7();
    let mut tx = conn.begin().await?;
    sqlx::query("INSERT INTO users (id, email, password_hash, role) VALUES ($1::uuid, $2, $3, $4)")
        .bind(id.to_string())
        .bind(email)
        .bind(password_hash)
        .bind(role.as_str())
        .execute(&mut *tx)
        .await
        .map_err(|err| explain(err, "inserting the user", email))?;
    sqlx::query(
        "INSERT INTO audit_log (id, actor_id, action, resource_type, resource_id, details) \
         VALUES ($1::uuid, NULL, 'user.create', 'user', $2::uuid, \
                 jsonb_build_object('email', $3::text, 'role', $4::text, 'via', 'spingraph admin'))",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(id.to_string())
    .bind(email)
    .bind(role.as_str())
    .execute(&mut *tx)
    .await
    .map_err(|err| explain(err, "writing the audit log", email))?;
    tx.commit().await?;
    conn.close().await.ok();
    Ok(id)
}

/// Turns the database errors an operator can act on into plain sentences.
fn explain(err: sqlx::Error, doing: &str, email: &str) -> anyhow::Error {
    let code = err
        .as_database_error()
        .and_then(|e| e.code())
        .map(|c| c.into_owned());
    match code.as_deref() {
        Some("23505") => anyhow::anyhow!("a user with email {email} already exists"),
        // undefined_table: the schema is missing or older than this binary.
        Some("42P01") => anyhow::anyhow!(
            "the database schema is not there yet ({err}); run `spingraph migrate up` first"
        ),
        _ => anyhow::Error::new(err).context(doing.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gen_keys_prints_single_quoted_env_lines() {
        let out = env_file(&[
            ("SPIN_VARIABLE_JWT_SIGNING_KEY", "kid-1:c2VlZA"),
            (
                "SPIN_VARIABLE_JWT_PUBLIC_KEYS",
                r#"{"keys":[{"kid":"kid-1","x":"eA"}]}"#,
            ),
        ])
        .unwrap();
        assert_eq!(
            out,
            "SPIN_VARIABLE_JWT_SIGNING_KEY='kid-1:c2VlZA'\n\
             SPIN_VARIABLE_JWT_PUBLIC_KEYS='{\"keys\":[{\"kid\":\"kid-1\",\"x\":\"eA\"}]}'\n"
        );
    }

    #[test]
    fn gen_keys_output_of_real_keys_reads_back_as_the_same_values() {
        let generated = generated_keys().unwrap();
        let lines: Vec<(&str, &str)> = generated.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let out = env_file(&lines).unwrap();
        let values: Vec<(&str, &str)> = out
            .lines()
            .map(|line| {
                let (name, quoted) = line.split_once('=').unwrap();
                let value = quoted
                    .strip_prefix('\'')
                    .unwrap()
                    .strip_suffix('\'')
                    .unwrap();
                assert!(!value.contains('\''), "{line}");
                (name, value)
            })
            .collect();
        assert_eq!(values, lines);
        assert_eq!(
            values.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
            [
                "SPIN_VARIABLE_JWT_SIGNING_KEY",
                "SPIN_VARIABLE_JWT_PUBLIC_KEYS",
                "SPIN_VARIABLE_AUTH_TOKEN_CACHE_KEY",
                "SPIN_VARIABLE_DATA_TOKEN_CACHE_KEY",
            ]
        );
        serde_json::from_str::<serde_json::Value>(values[1].1).expect("the JWKS stays JSON");
    }

    #[test]
    fn gen_keys_refuses_a_value_it_cannot_quote() {
        assert!(env_file(&[("A", "it's")]).is_err());
        assert!(env_file(&[("A", "{\n}")]).is_err());
    }
}
