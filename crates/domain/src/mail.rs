//! E-mail (ACCOUNTS.md §3): the templates and their rendering, the [`Postman`] that issues a
//! one-time token together with the message carrying it (one store operation), and the
//! [`OutboxSender`] that delivers the outbox through the [`Mailer`] port with leases, retries
//! and exponential back-off.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use schema_validation::{Violation, Violations};
use sha2::{Digest as _, Sha256};
use storage_port::{
    AppRecord, Claim, Delivery, MailSettings, MailStatus, MailTemplate, MemberRole, MessagePage,
    MessageQuery, OneTimeToken, OutboxMessage, Storage, StorageError, Timestamp, TokenPurpose,
};
use tokio::sync::Notify;

use crate::accounts::random_text;
use crate::{Mailer, SendError};

/// How the service sends mail, from the configuration (`mail.*`, `tokens.issuer`).
#[derive(Debug, Clone)]
pub struct MailConfig {
    /// The sender's address (`mail.from`); the display name is the app's.
    pub from: String,
    /// The service's public URL: the built-in pages the links lead to by default.
    pub public_url: String,
    pub verify_email_ttl: Duration,
    pub reset_password_ttl: Duration,
    pub invitation_ttl: Duration,
    /// A person asking again within this time gets no new message (resend, forgot).
    pub resend_interval: Duration,
    /// Whether the e-mail log shows the links' tokens: only with the development mailer, where
    /// the log is the mailbox. With real mail, an operator reading the log must not be able to
    /// use a person's reset or invitation link, so tokens show as `token=[hidden]`.
    pub show_tokens_in_log: bool,
}

impl Default for MailConfig {
    fn default() -> Self {
        Self {
            from: "no-reply@localhost".to_owned(),
            public_url: "http://localhost:8080".to_owned(),
            verify_email_ttl: Duration::from_secs(24 * 60 * 60),
            reset_password_ttl: Duration::from_secs(60 * 60),
            invitation_ttl: Duration::from_secs(7 * 24 * 60 * 60),
            resend_interval: Duration::from_secs(60),
            show_tokens_in_log: true,
        }
    }
}

impl MailConfig {
    pub fn ttl(&self, purpose: TokenPurpose) -> Duration {
        match purpose {
            TokenPurpose::VerifyEmail => self.verify_email_ttl,
            TokenPurpose::ResetPassword => self.reset_password_ttl,
            TokenPurpose::Invitation => self.invitation_ttl,
        }
    }

    /// The built-in page a link of `purpose` leads to when the app names none.
    pub fn default_link_target(&self, purpose: TokenPurpose) -> String {
        let page = match purpose {
            TokenPurpose::VerifyEmail => "verify-email",
            TokenPurpose::ResetPassword => "reset-password",
            TokenPurpose::Invitation => "accept-invite",
        };
        format!("{}/account/{page}", self.public_url.trim_end_matches('/'))
    }
}

/// The names a template may use, with what each stands for.
pub const TEMPLATE_VARIABLES: &[(&str, &str)] = &[
    ("app_name", "the app's name"),
    (
        "link",
        "the link with its token (verification, reset, invitation)",
    ),
    ("email", "the recipient's address"),
    (
        "name",
        "the recipient's name, or the address when it has none",
    ),
    ("expires_in", "how long the link works, e.g. \"24 hours\""),
    ("organization_name", "invitations: the organization"),
    ("role", "invitations: the role offered"),
    ("inviter", "invitations: who invites (name or address)"),
    ("message", "invitations: the inviter's words (may be empty)"),
];

const MAX_SUBJECT: usize = 200;
const MAX_BODY: usize = 50_000;
const MAX_SENDER_NAME: usize = 100;

/// The built-in template of each kind.
pub fn default_template(purpose: TokenPurpose) -> MailTemplate {
    let (subject, text, html) = match purpose {
        TokenPurpose::VerifyEmail => (
            "Confirm your email address for {{app_name}}",
            "Hello {{name}},\n\nplease confirm your email address for {{app_name}} by opening this link:\n\n{{link}}\n\nThe link works for {{expires_in}}. If you did not create an account, ignore this message.\n",
            "<p>Hello {{name}},</p>\n<p>please confirm your email address for {{app_name}}:</p>\n<p><a href=\"{{link}}\">Confirm my email address</a></p>\n<p>The link works for {{expires_in}}. If you did not create an account, ignore this message.</p>\n",
        ),
        TokenPurpose::ResetPassword => (
            "Reset your {{app_name}} password",
            "Hello {{name}},\n\nsomeone asked to reset the password of your {{app_name}} account. To choose a new one, open this link:\n\n{{link}}\n\nThe link works for {{expires_in}}. If it was not you, ignore this message: your password stays as it is.\n",
            "<p>Hello {{name}},</p>\n<p>someone asked to reset the password of your {{app_name}} account.</p>\n<p><a href=\"{{link}}\">Choose a new password</a></p>\n<p>The link works for {{expires_in}}. If it was not you, ignore this message: your password stays as it is.</p>\n",
        ),
        TokenPurpose::Invitation => (
            "{{inviter}} invites you to {{organization_name}} on {{app_name}}",
            "Hello,\n\n{{inviter}} invites you to join {{organization_name}} on {{app_name}} as {{role}}.\n\n{{message}}\n\nTo accept, open this link:\n\n{{link}}\n\nThe invitation works for {{expires_in}}.\n",
            "<p>Hello,</p>\n<p>{{inviter}} invites you to join <strong>{{organization_name}}</strong> on {{app_name}} as {{role}}.</p>\n<blockquote>{{message}}</blockquote>\n<p><a href=\"{{link}}\">Accept the invitation</a></p>\n<p>The invitation works for {{expires_in}}.</p>\n",
        ),
    };
    MailTemplate {
        subject: subject.to_owned(),
        text: text.to_owned(),
        html: html.to_owned(),
    }
}

/// The template an app uses for `purpose`: its own, else the built-in one.
pub fn template_for(settings: &MailSettings, purpose: TokenPurpose) -> MailTemplate {
    settings
        .templates
        .get(purpose.as_str())
        .cloned()
        .unwrap_or_else(|| default_template(purpose))
}

/// A rendered message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Fills `{{name}}` placeholders (spaces inside the braces allowed): as they are in the text
/// part, HTML-escaped in the HTML part; the subject on one line. Unknown names stay as
/// written (a saved template has none: [`check_mail_settings`] refuses them).
pub fn render(template: &MailTemplate, values: &BTreeMap<&str, String>) -> Rendered {
    let one_line = |text: String| {
        text.chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect::<String>()
    };
    Rendered {
        subject: one_line(fill(&template.subject, values, |v| v.to_owned())),
        text: fill(&template.text, values, |v| v.to_owned()),
        html: fill(&template.html, values, escape_html),
    }
}

fn fill(
    template: &str,
    values: &BTreeMap<&str, String>,
    encode: impl Fn(&str) -> String,
) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find("}}") {
            Some(end) => {
                let name = after[..end].trim();
                match values.get(name) {
                    Some(value) => out.push_str(&encode(value)),
                    None => out.push_str(&rest[start..start + 2 + end + 2]),
                }
                rest = &after[end + 2..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// The placeholders a template part uses.
fn placeholders(text: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        found.push(after[..end].trim());
        rest = &after[end + 2..];
    }
    found
}

/// The text with every `token=<value>` of its links shown as `token=[hidden]`.
pub fn hide_tokens(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("token=") {
        let (before, after) = rest.split_at(at + "token=".len());
        out.push_str(before);
        let end = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
            .unwrap_or(after.len());
        if end > 0 {
            out.push_str("[hidden]");
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// Text safe inside HTML elements and quoted attributes.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

/// Checks an app's mail settings as an operator sends them: link targets are http(s) URLs,
/// the sender name is one short line, templates are of known kinds, within size, and use only
/// known placeholders. `field` names the settings' member in the errors.
pub fn check_mail_settings(settings: &MailSettings) -> Result<(), Violations> {
    let mut problems = Vec::new();
    if let Some(name) = &settings.sender_name {
        let length = name.chars().count();
        if length == 0
            || length > MAX_SENDER_NAME
            || name
                .chars()
                .any(|c| c.is_control() || matches!(c, '<' | '>' | '"' | '\\'))
        {
            problems.push(Violation::new(
                "senderName",
                "invalid",
                format!(
                    "must be 1 to {MAX_SENDER_NAME} characters, without control characters, <, >, \" or \\"
                ),
            ));
        }
    }
    for (field, url) in [
        ("verifyEmailUrl", &settings.verify_email_url),
        ("resetPasswordUrl", &settings.reset_password_url),
        ("acceptInviteUrl", &settings.accept_invite_url),
    ] {
        if let Some(url) = url {
            let well_formed = (url.starts_with("https://") || url.starts_with("http://"))
                && url.len() <= 2000
                && !url.contains('#')
                && !url.chars().any(|c| c.is_whitespace() || c.is_control());
            if !well_formed {
                problems.push(Violation::new(
                    field,
                    "url",
                    "must be an http or https URL without a fragment (the link gets ?token=)",
                ));
            }
        }
    }
    for (kind, template) in &settings.templates {
        let field = format!("templates.{kind}");
        if TokenPurpose::parse(kind).is_none() {
            problems.push(Violation::new(
                &field,
                "unknown",
                "must be verify_email, reset_password or invitation",
            ));
            continue;
        }
        for (part, text, max) in [
            ("subject", &template.subject, MAX_SUBJECT),
            ("text", &template.text, MAX_BODY),
            ("html", &template.html, MAX_BODY),
        ] {
            let field = format!("{field}.{part}");
            if text.trim().is_empty() || text.chars().count() > max {
                problems.push(Violation::new(
                    &field,
                    "length",
                    format!("must be 1 to {max} characters"),
                ));
            }
            if part == "subject" && text.chars().any(char::is_control) {
                problems.push(Violation::new(
                    &field,
                    "invalid",
                    "must be one line without control characters",
                ));
            }
            for name in placeholders(text) {
                if !TEMPLATE_VARIABLES.iter().any(|(known, _)| *known == name) {
                    problems.push(Violation::new(
                        &field,
                        "unknown_variable",
                        format!("{{{{{name}}}}} is not a template variable"),
                    ));
                }
            }
        }
        if !placeholders(&template.text).contains(&"link")
            && !placeholders(&template.html).contains(&"link")
        {
            problems.push(Violation::new(
                &field,
                "missing_link",
                "the text or the HTML part must contain {{link}}",
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Violations(problems))
    }
}

/// `1 hour`, `24 hours`, `7 days`, `90 minutes`.
pub fn describe_duration(duration: Duration) -> String {
    let seconds = duration.as_secs();
    let plural = |n: u64, unit: &str| {
        if n == 1 {
            format!("1 {unit}")
        } else {
            format!("{n} {unit}s")
        }
    };
    if seconds >= 2 * 86_400 && seconds.is_multiple_of(86_400) {
        plural(seconds / 86_400, "day")
    } else if seconds >= 3_600 && seconds.is_multiple_of(3_600) {
        plural(seconds / 3_600, "hour")
    } else if seconds >= 60 {
        plural(seconds.div_ceil(60), "minute")
    } else {
        plural(seconds, "second")
    }
}

/// What a message is about beyond its kind.
#[derive(Debug, Clone, Default)]
pub(crate) struct Letter {
    pub email: String,
    pub user_id: Option<String>,
    pub name: Option<String>,
    /// Verification of a registration that named an organization, and invitations.
    pub organization_id: Option<String>,
    pub organization_name: Option<String>,
    pub role: Option<MemberRole>,
    pub invited_by: Option<String>,
    pub inviter: Option<String>,
    pub message: Option<String>,
}

/// A token just issued; `secret` is what the link carries (never stored).
#[derive(Debug, Clone)]
pub(crate) struct Issued {
    pub token: OneTimeToken,
}

/// Issues one-time tokens with their messages, and wakes the sender.
#[derive(Debug)]
pub(crate) struct Postman<S: ?Sized> {
    storage: Arc<S>,
    pub config: MailConfig,
    wake: Arc<Notify>,
    /// Held from the resend-interval check to the issue of a throttled message, so that a
    /// burst of requests in this instance sends one.
    throttle: tokio::sync::Mutex<()>,
}

pub(crate) fn token_hash(secret: &str) -> String {
    crate::ids::lower_hex(&Sha256::digest(secret.as_bytes()))
}

fn later(now: Timestamp, duration: Duration) -> Timestamp {
    let millis = i64::try_from(duration.as_millis()).unwrap_or(i64::MAX);
    Timestamp::from_unix_millis(now.as_unix_millis().saturating_add(millis))
}

fn link(target: &str, secret: &str) -> String {
    let joiner = if target.contains('?') { '&' } else { '?' };
    format!("{target}{joiner}token={secret}")
}

/// `"Name" <address>`.
/// A message of `app` to `to`, due now, never tried.
fn pending_message(
    from: String,
    app: &AppRecord,
    kind: &str,
    to: String,
    rendered: Rendered,
    token_id: Option<String>,
    now: Timestamp,
) -> OutboxMessage {
    OutboxMessage {
        id: uuid::Uuid::now_v7().to_string(),
        app_id: app.id.clone(),
        kind: kind.to_owned(),
        from,
        to,
        subject: rendered.subject,
        text: rendered.text,
        html: rendered.html,
        token_id,
        status: MailStatus::Pending,
        attempts: 0,
        next_attempt_at: now,
        lease_owner: None,
        lease_until: None,
        last_error: None,
        created_at: now,
        sent_at: None,
    }
}

pub(crate) fn sender(config: &MailConfig, app: &AppRecord) -> String {
    let name: String = app
        .account_settings
        .mail
        .sender_name
        .as_deref()
        .unwrap_or(&app.name)
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | '\\' | '<' | '>'))
        .collect();
    if name.trim().is_empty() {
        config.from.clone()
    } else {
        format!("\"{}\" <{}>", name.trim(), config.from)
    }
}

impl<S: Storage + ?Sized> Postman<S> {
    pub fn new(storage: Arc<S>, config: MailConfig, wake: Arc<Notify>) -> Self {
        Self {
            storage,
            config,
            wake,
            throttle: tokio::sync::Mutex::new(()),
        }
    }

    /// [`Self::issue`] unless a usable token of `purpose` for the letter's address was issued
    /// within the resend interval: then `Err(wait)`, nothing issued. The check and the issue
    /// are one step in this instance (instances racing may still each send one).
    pub async fn issue_unless_recent(
        &self,
        app: &AppRecord,
        purpose: TokenPurpose,
        letter: Letter,
    ) -> Result<Result<Issued, Duration>, StorageError> {
        let _turn = self.throttle.lock().await;
        if let Some(wait) = self
            .recently_issued(&app.id, purpose, &letter.email)
            .await?
        {
            return Ok(Err(wait));
        }
        self.issue(app, purpose, letter).await.map(Ok)
    }

    /// The values of a letter's placeholders.
    fn values(
        &self,
        app: &AppRecord,
        purpose: TokenPurpose,
        letter: &Letter,
        link: String,
    ) -> BTreeMap<&'static str, String> {
        let mut values = BTreeMap::new();
        values.insert("app_name", app.name.clone());
        values.insert("link", link);
        values.insert("email", letter.email.clone());
        values.insert(
            "name",
            letter.name.clone().unwrap_or_else(|| letter.email.clone()),
        );
        values.insert("expires_in", describe_duration(self.config.ttl(purpose)));
        values.insert(
            "organization_name",
            letter
                .organization_name
                .clone()
                .unwrap_or_else(|| app.name.clone()),
        );
        values.insert(
            "role",
            letter
                .role
                .map(|role| role.as_str().to_owned())
                .unwrap_or_default(),
        );
        values.insert(
            "inviter",
            letter
                .inviter
                .clone()
                .unwrap_or_else(|| format!("The {} team", app.name)),
        );
        values.insert("message", letter.message.clone().unwrap_or_default());
        values
    }

    /// Stores a new token of `purpose` for `letter` with its message (replacing an older
    /// unused one of the same kind), and wakes the sender.
    pub async fn issue(
        &self,
        app: &AppRecord,
        purpose: TokenPurpose,
        letter: Letter,
    ) -> Result<Issued, StorageError> {
        let now = Timestamp::now();
        let secret = random_text(32);
        let settings = &app.account_settings.mail;
        let target = match purpose {
            TokenPurpose::VerifyEmail => settings.verify_email_url.clone(),
            TokenPurpose::ResetPassword => settings.reset_password_url.clone(),
            TokenPurpose::Invitation => settings.accept_invite_url.clone(),
        }
        .unwrap_or_else(|| self.config.default_link_target(purpose));
        let values = self.values(app, purpose, &letter, link(&target, &secret));
        let rendered = render(&template_for(settings, purpose), &values);
        let token = OneTimeToken {
            id: random_text(16),
            app_id: app.id.clone(),
            purpose,
            token_hash: token_hash(&secret),
            user_id: letter.user_id,
            email: letter.email.clone(),
            organization_id: letter.organization_id,
            role: letter.role,
            invited_by: letter.invited_by,
            message: letter.message,
            created_at: now,
            expires_at: later(now, self.config.ttl(purpose)),
            used_at: None,
        };
        let message = pending_message(
            sender(&self.config, app),
            app,
            purpose.as_str(),
            letter.email,
            rendered,
            Some(token.id.clone()),
            now,
        );
        self.storage.issue_token(&token, &message).await?;
        tracing::info!(
            app_id = %app.id,
            kind = purpose.as_str(),
            token_id = %token.id,
            message_id = %message.id,
            "one-time token issued, its message queued"
        );
        self.wake.notify_one();
        Ok(Issued { token })
    }

    /// Queues a message without a token (an operator's test send).
    pub async fn enqueue(&self, message: OutboxMessage) -> Result<(), StorageError> {
        self.storage.enqueue_message(&message).await?;
        self.wake.notify_one();
        Ok(())
    }

    /// Whether a usable token of `purpose` for `email` was issued within the resend interval.
    pub async fn recently_issued(
        &self,
        app_id: &str,
        purpose: TokenPurpose,
        email: &str,
    ) -> Result<Option<Duration>, StorageError> {
        let now = Timestamp::now();
        let tokens = self
            .storage
            .list_usable_tokens(app_id, purpose, None, now)
            .await?;
        let interval = i64::try_from(self.config.resend_interval.as_millis()).unwrap_or(i64::MAX);
        Ok(tokens
            .iter()
            .filter(|token| token.email == email)
            .map(|token| now.as_unix_millis() - token.created_at.as_unix_millis())
            .filter(|age| *age < interval)
            .min()
            .map(|age| Duration::from_millis(u64::try_from(interval - age).unwrap_or(0))))
    }
}

/// How the sender delivers: its round, leases, retries and clean-up.
#[derive(Debug, Clone)]
pub struct DeliveryPolicy {
    /// How often the outbox is looked at when nothing wakes the sender.
    pub poll_interval: Duration,
    /// How long a claimed message is the sender's before another may take it.
    pub lease: Duration,
    /// Messages per claim.
    pub batch: u32,
    /// The first retry's delay; each next one doubles, up to `retry_max`.
    pub retry_base: Duration,
    pub retry_max: Duration,
    /// Attempts before a message is `failed`.
    pub max_attempts: u32,
    /// How long one attempt may take.
    pub send_timeout: Duration,
    /// A message whose token is missing this long after it was queued is `failed` (a token
    /// replaced or revoked, or, on MongoDB, an issue that stopped half-way); younger, it waits.
    pub orphan_grace: Duration,
    /// Sent and failed messages, and spent or expired tokens, are deleted after this.
    pub keep: Duration,
}

impl Default for DeliveryPolicy {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_secs(2),
            lease: Duration::from_secs(60),
            batch: 20,
            retry_base: Duration::from_secs(30),
            retry_max: Duration::from_secs(60 * 60),
            max_attempts: 8,
            send_timeout: Duration::from_secs(30),
            orphan_grace: Duration::from_secs(30),
            keep: Duration::from_secs(30 * 24 * 60 * 60),
        }
    }
}

impl DeliveryPolicy {
    /// The delay before the attempt after `attempts` failed ones: `retry_base × 2^(attempts-1)`,
    /// at most `retry_max`.
    pub fn backoff(&self, attempts: u32) -> Duration {
        let factor = 2_u32.saturating_pow(attempts.saturating_sub(1).min(20));
        self.retry_base.saturating_mul(factor).min(self.retry_max)
    }
}

/// What one round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    pub claimed: usize,
    pub sent: usize,
    pub retried: usize,
    pub failed: usize,
}

/// Delivers the outbox: claims due messages with a lease, sends each through the [`Mailer`],
/// records the outcome. Several senders (instances) may run on one store: a claim gives each
/// message to one of them.
#[derive(Debug)]
pub struct OutboxSender<S: ?Sized> {
    storage: Arc<S>,
    mailer: Arc<dyn Mailer>,
    policy: DeliveryPolicy,
    wake: Arc<Notify>,
}

impl<S: Storage + ?Sized> OutboxSender<S> {
    pub(crate) fn new(
        storage: Arc<S>,
        mailer: Arc<dyn Mailer>,
        policy: DeliveryPolicy,
        wake: Arc<Notify>,
    ) -> Self {
        Self {
            storage,
            mailer,
            policy,
            wake,
        }
    }

    pub fn mailer(&self) -> &dyn Mailer {
        &*self.mailer
    }

    /// One round at `now`: claim, send, record.
    pub async fn run_once(&self) -> Result<Round, StorageError> {
        let now = Timestamp::now();
        let claim = Claim {
            owner: random_text(12),
            now,
            lease_until: later(now, self.policy.lease),
            limit: self.policy.batch,
        };
        let messages = self.storage.claim_messages(&claim).await?;
        let mut round = Round {
            claimed: messages.len(),
            ..Round::default()
        };
        for message in messages {
            let delivery = self.deliver(&message).await?;
            match &delivery {
                Delivery::Sent { .. } => round.sent += 1,
                Delivery::Retry { .. } => round.retried += 1,
                Delivery::Failed { .. } => round.failed += 1,
            }
            let recorded = self
                .storage
                .record_delivery(&message.id, &claim.owner, &delivery)
                .await?;
            match (&delivery, recorded) {
                (_, false) => tracing::warn!(
                    message_id = %message.id,
                    "the lease ran out before the outcome was recorded; another sender has the message"
                ),
                (Delivery::Sent { .. }, true) => tracing::info!(
                    message_id = %message.id,
                    app_id = %message.app_id,
                    kind = %message.kind,
                    "e-mail sent"
                ),
                (Delivery::Retry { error, .. }, true) => tracing::warn!(
                    message_id = %message.id,
                    attempts = message.attempts + 1,
                    %error,
                    "e-mail not sent; it will be retried"
                ),
                (Delivery::Failed { error }, true) => tracing::error!(
                    message_id = %message.id,
                    app_id = %message.app_id,
                    attempts = message.attempts + 1,
                    %error,
                    "e-mail failed for good"
                ),
            }
        }
        Ok(round)
    }

    async fn deliver(&self, message: &OutboxMessage) -> Result<Delivery, StorageError> {
        let now = Timestamp::now();
        if let Some(token_id) = &message.token_id {
            let token = self
                .storage
                .find_token_by_id(&message.app_id, token_id)
                .await?;
            match token {
                None => {
                    let age = now.as_unix_millis() - message.created_at.as_unix_millis();
                    let grace =
                        i64::try_from(self.policy.orphan_grace.as_millis()).unwrap_or(i64::MAX);
                    return Ok(if age < grace {
                        Delivery::Retry {
                            error: "its token is not stored (yet)".to_owned(),
                            next_attempt_at: later(now, Duration::from_secs(1)),
                        }
                    } else {
                        Delivery::Failed {
                            error: "not sent: its link no longer exists (replaced by a newer one, revoked, or never stored)".to_owned(),
                        }
                    });
                }
                Some(token) if !token.is_usable(now) => {
                    return Ok(Delivery::Failed {
                        error: "not sent: its link was used or has expired".to_owned(),
                    });
                }
                Some(_) => {}
            }
        }
        let outcome = tokio::time::timeout(self.policy.send_timeout, self.mailer.send(message))
            .await
            .unwrap_or_else(|_| {
                Err(SendError::Transient(format!(
                    "no answer within {} s",
                    self.policy.send_timeout.as_secs()
                )))
            });
        let attempts = message.attempts.saturating_add(1);
        Ok(match outcome {
            Ok(()) => Delivery::Sent {
                at: Timestamp::now(),
            },
            Err(SendError::Permanent(error)) => Delivery::Failed { error },
            Err(SendError::Transient(error)) if attempts >= self.policy.max_attempts => {
                Delivery::Failed {
                    error: format!("{error} (gave up after {attempts} attempts)"),
                }
            }
            Err(SendError::Transient(error)) => Delivery::Retry {
                error,
                next_attempt_at: later(Timestamp::now(), self.policy.backoff(attempts)),
            },
        })
    }

    /// Deletes what is older than the policy keeps; returns how many messages went.
    pub async fn prune(&self) -> Result<u64, StorageError> {
        let keep = i64::try_from(self.policy.keep.as_millis()).unwrap_or(i64::MAX);
        let before = Timestamp::from_unix_millis(Timestamp::now().as_unix_millis() - keep);
        self.storage.prune_mail(before).await
    }

    /// Runs rounds until `stop` resolves: a round whenever a message is queued here (woken),
    /// else every poll interval; a full claim is followed at once by the next. Prunes hourly.
    /// Store errors are logged and the round is tried again at the next interval.
    pub async fn run(self, stop: impl std::future::Future<Output = ()>) {
        tracing::info!(mailer = %self.mailer.describe(), "e-mail sender started");
        tokio::pin!(stop);
        let mut last_prune: Option<tokio::time::Instant> = None;
        loop {
            let full = match self.run_once().await {
                Ok(round) => round.claimed >= self.policy.batch as usize,
                Err(error) => {
                    tracing::warn!(%error, "the e-mail sender could not read the outbox");
                    false
                }
            };
            if last_prune.is_none_or(|at| at.elapsed() >= Duration::from_secs(3600)) {
                last_prune = Some(tokio::time::Instant::now());
                match self.prune().await {
                    Ok(0) => {}
                    Ok(pruned) => tracing::info!(pruned, "old e-mail pruned"),
                    Err(error) => tracing::warn!(%error, "old e-mail could not be pruned"),
                }
            }
            if full {
                continue;
            }
            tokio::select! {
                () = &mut stop => break,
                () = self.wake.notified() => {}
                () = tokio::time::sleep(self.policy.poll_interval) => {}
            }
        }
        tracing::info!("e-mail sender stopped");
    }
}

/// Why an operator's mail request was refused.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("{0}")]
    Invalid(Violations),
    #[error("no app has this id")]
    UnknownApp,
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// New mail settings for an app: they replace the stored ones whole.
#[derive(Debug, Clone, Default)]
pub struct MailSettingsUpdate {
    pub settings: MailSettings,
}

/// A test message an operator asks for.
#[derive(Debug, Clone)]
pub struct TestSend {
    pub to: String,
    /// Which template to try; its link leads nowhere useful (a sample token).
    pub purpose: TokenPurpose,
    /// A template to try instead of the saved one (the dashboard's unsaved edit).
    pub template: Option<MailTemplate>,
}

/// The operators' side of e-mail: an app's mail settings and templates, previews, test sends
/// and the outbox log (the development mailer's messages are read here).
#[derive(Debug)]
pub struct MailService<S: ?Sized> {
    storage: Arc<S>,
    cache: Arc<crate::AppCache>,
    postman: Arc<Postman<S>>,
}

impl<S: Storage + ?Sized> MailService<S> {
    pub(crate) fn new(
        storage: Arc<S>,
        cache: Arc<crate::AppCache>,
        postman: Arc<Postman<S>>,
    ) -> Self {
        Self {
            storage,
            cache,
            postman,
        }
    }

    /// How mail is addressed (the defaults the dashboard shows).
    pub fn config(&self) -> &MailConfig {
        &self.postman.config
    }

    async fn app(&self, access: &crate::AppAccess) -> Result<AppRecord, MailError> {
        self.storage
            .find_app(access.app_id())
            .await?
            .ok_or(MailError::UnknownApp)
    }

    /// The app's stored mail settings.
    pub async fn settings(&self, access: &crate::AppAccess) -> Result<MailSettings, MailError> {
        Ok(self.app(access).await?.account_settings.mail)
    }

    /// Replaces the app's mail settings after [`check_mail_settings`].
    pub async fn update_settings(
        &self,
        access: &crate::AppAccess,
        update: MailSettingsUpdate,
    ) -> Result<MailSettings, MailError> {
        check_mail_settings(&update.settings).map_err(MailError::Invalid)?;
        let mut account_settings = self.app(access).await?.account_settings;
        account_settings.mail = update.settings;
        let changes = storage_port::AppChanges {
            account_settings: Some(account_settings),
            ..storage_port::AppChanges::default()
        };
        let updated = self
            .storage
            .update_app(access.app_id(), &changes, Timestamp::now())
            .await?;
        self.cache.invalidate(access.app_id());
        tracing::info!(
            app_id = access.app_id(),
            subject = access.subject(),
            "mail settings changed"
        );
        Ok(updated.account_settings.mail)
    }

    /// `purpose`'s template (`template`, else the app's own, else the built-in one) filled
    /// with sample values, as the recipient would see it.
    pub async fn preview(
        &self,
        access: &crate::AppAccess,
        purpose: TokenPurpose,
        template: Option<MailTemplate>,
    ) -> Result<(String, Rendered), MailError> {
        let app = self.app(access).await?;
        let template = self.checked_template(&app, purpose, template)?;
        let values = self.sample_values(&app, purpose);
        Ok((
            sender(&self.postman.config, &app),
            render(&template, &values),
        ))
    }

    fn checked_template(
        &self,
        app: &AppRecord,
        purpose: TokenPurpose,
        template: Option<MailTemplate>,
    ) -> Result<MailTemplate, MailError> {
        match template {
            Some(template) => {
                let mut probe = MailSettings::default();
                probe
                    .templates
                    .insert(purpose.as_str().to_owned(), template.clone());
                check_mail_settings(&probe).map_err(MailError::Invalid)?;
                Ok(template)
            }
            None => Ok(template_for(&app.account_settings.mail, purpose)),
        }
    }

    fn sample_values(
        &self,
        app: &AppRecord,
        purpose: TokenPurpose,
    ) -> BTreeMap<&'static str, String> {
        let target = match purpose {
            TokenPurpose::VerifyEmail => app.account_settings.mail.verify_email_url.clone(),
            TokenPurpose::ResetPassword => app.account_settings.mail.reset_password_url.clone(),
            TokenPurpose::Invitation => app.account_settings.mail.accept_invite_url.clone(),
        }
        .unwrap_or_else(|| self.postman.config.default_link_target(purpose));
        self.postman.values(
            app,
            purpose,
            &Letter {
                email: "ada@example.com".to_owned(),
                name: Some("Ada Lovelace".to_owned()),
                organization_name: Some("Analytical Engines".to_owned()),
                role: Some(MemberRole::Member),
                inviter: Some("Charles Babbage".to_owned()),
                message: Some("Looking forward to working with you!".to_owned()),
                ..Letter::default()
            },
            link(&target, "sample-token-for-a-test"),
        )
    }

    /// Queues a test message to `to` (kind `test`, no token: its link is a sample); returns
    /// the message's id, to be found in the outbox log.
    pub async fn test_send(
        &self,
        access: &crate::AppAccess,
        test: TestSend,
    ) -> Result<String, MailError> {
        let Some(to) = crate::EmailAddress::parse(&test.to) else {
            return Err(MailError::Invalid(Violations(vec![Violation::new(
                "to",
                "email",
                "must be a valid email address",
            )])));
        };
        let app = self.app(access).await?;
        let template = self.checked_template(&app, test.purpose, test.template)?;
        let rendered = render(&template, &self.sample_values(&app, test.purpose));
        let now = Timestamp::now();
        let message = pending_message(
            sender(&self.postman.config, &app),
            &app,
            "test",
            to.as_ref().to_owned(),
            Rendered {
                subject: format!("[test] {}", rendered.subject),
                ..rendered
            },
            None,
            now,
        );
        let id = message.id.clone();
        self.postman.enqueue(message).await?;
        tracing::info!(app_id = %app.id, subject = access.subject(), message_id = %id, "test e-mail queued");
        Ok(id)
    }

    /// A page of the app's outbox, newest first.
    pub async fn messages(
        &self,
        access: &crate::AppAccess,
        query: &MessageQuery,
    ) -> Result<MessagePage, MailError> {
        self.app(access).await?;
        let mut page = self.storage.list_messages(access.app_id(), query).await?;
        if !self.postman.config.show_tokens_in_log {
            for message in &mut page.messages {
                message.text = hide_tokens(&message.text);
                message.html = hide_tokens(&message.html);
            }
        }
        Ok(page)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(pairs: &[(&'static str, &str)]) -> BTreeMap<&'static str, String> {
        pairs.iter().map(|(k, v)| (*k, (*v).to_owned())).collect()
    }

    #[test]
    fn values_are_escaped_in_html_only() {
        let template = MailTemplate {
            subject: "Hi {{ name }}\n".to_owned(),
            text: "{{message}} {{unknown}} {{".to_owned(),
            html: "<p>{{message}}</p><a href=\"{{link}}\">".to_owned(),
        };
        let rendered = render(
            &template,
            &values(&[
                ("name", "A\r\nBcc: x@evil"),
                ("message", "<script>alert('x')</script> & \"q\""),
                ("link", "https://a.example/?token=abc&x=\"y"),
            ]),
        );
        assert_eq!(rendered.subject, "Hi A  Bcc: x@evil ");
        assert_eq!(
            rendered.text,
            "<script>alert('x')</script> & \"q\" {{unknown}} {{"
        );
        assert_eq!(
            rendered.html,
            "<p>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;</p><a href=\"https://a.example/?token=abc&amp;x=&quot;y\">"
        );
    }

    #[test]
    fn the_defaults_use_only_known_variables_and_carry_the_link() {
        let mut settings = MailSettings::default();
        for purpose in TokenPurpose::ALL {
            settings
                .templates
                .insert(purpose.as_str().to_owned(), default_template(purpose));
        }
        assert_eq!(check_mail_settings(&settings).map_err(|v| v.0), Ok(()));
    }

    #[test]
    fn bad_settings_are_named() {
        let mut settings = MailSettings {
            sender_name: Some("Evil\r\nBcc: x".to_owned()),
            verify_email_url: Some("javascript:alert(1)".to_owned()),
            reset_password_url: Some("https://ok.example/reset".to_owned()),
            accept_invite_url: Some("https://x.example/#frag".to_owned()),
            templates: BTreeMap::new(),
        };
        settings.templates.insert(
            "invitation".to_owned(),
            MailTemplate {
                subject: "Join {{organisation}}".to_owned(),
                text: "no link".to_owned(),
                html: "<p>none</p>".to_owned(),
            },
        );
        settings.templates.insert(
            "welcome".to_owned(),
            default_template(TokenPurpose::VerifyEmail),
        );
        let problems = check_mail_settings(&settings).expect_err("refused").0;
        let fields: Vec<(&str, &str)> = problems
            .iter()
            .map(|p| (p.field.as_str(), p.code))
            .collect();
        assert_eq!(
            fields,
            [
                ("senderName", "invalid"),
                ("verifyEmailUrl", "url"),
                ("acceptInviteUrl", "url"),
                ("templates.invitation.subject", "unknown_variable"),
                ("templates.invitation", "missing_link"),
                ("templates.welcome", "unknown"),
            ]
        );
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(describe_duration(Duration::from_secs(3600)), "1 hour");
        assert_eq!(describe_duration(Duration::from_secs(86_400)), "24 hours");
        assert_eq!(describe_duration(Duration::from_secs(7 * 86_400)), "7 days");
        assert_eq!(
            describe_duration(Duration::from_secs(90 * 60)),
            "90 minutes"
        );
        assert_eq!(describe_duration(Duration::from_secs(1)), "1 second");
    }

    #[test]
    fn backoff_doubles_up_to_its_maximum() {
        let policy = DeliveryPolicy {
            retry_base: Duration::from_secs(10),
            retry_max: Duration::from_secs(60),
            ..DeliveryPolicy::default()
        };
        let delays: Vec<u64> = (1..=5).map(|n| policy.backoff(n).as_secs()).collect();
        assert_eq!(delays, [10, 20, 40, 60, 60]);
        assert_eq!(policy.backoff(u32::MAX).as_secs(), 60);
    }

    #[test]
    fn tokens_are_hidden_from_the_log() {
        assert_eq!(
            hide_tokens(
                "open https://a.example/r?token=AbC-_9 now, href=\"https://b/?x=1&amp;token=zz\"; token= alone"
            ),
            "open https://a.example/r?token=[hidden] now, href=\"https://b/?x=1&amp;token=[hidden]\"; token= alone"
        );
    }

    #[test]
    fn links_keep_the_targets_query() {
        assert_eq!(
            link("https://a.example/v", "t"),
            "https://a.example/v?token=t"
        );
        assert_eq!(
            link("https://a.example/v?lang=de", "t"),
            "https://a.example/v?lang=de&token=t"
        );
    }
}
