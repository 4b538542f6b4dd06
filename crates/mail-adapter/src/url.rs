//! The SMTP URL: the whole mail server configuration in one setting.
//!
//! `smtp://host[:port]` (no TLS, port 25), `smtp://host[:port]?tls=required` (STARTTLS or
//! fail, port 587), `?tls=opportunistic` (STARTTLS when offered, port 587),
//! `smtps://host[:port]` (TLS from the first byte, port 465); each may carry
//! `user:password@` (percent-encoded) to authenticate with, and a path naming the host to
//! greet the server as (`/mail.example.com`; otherwise `[127.0.0.1]`). These are the forms,
//! ports and meanings of lettre's `from_url`; the URL is read here rather than there so that
//! a user without a password, an unknown parameter or a `tls` on `smtps://` is refused
//! instead of ignored, and so that no error message ever repeats a part of the URL: a
//! mistyped URL may hold the password anywhere.

use std::fmt;
use std::net::{IpAddr, Ipv6Addr};

/// Why an SMTP URL was refused. No message quotes the URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MailConfigError {
    #[error("the SMTP URL must start with smtp:// or smtps://")]
    Scheme,
    #[error("the SMTP URL has no host")]
    MissingHost,
    #[error(
        "the SMTP URL's host is neither a host name nor an IP address (a name with other than \
         ASCII letters goes in its xn-- form, an IPv6 address in brackets)"
    )]
    Host,
    #[error("the SMTP URL's port must be a number from 1 to 65535")]
    Port,
    #[error(
        "the SMTP URL's credentials must be user:password@, both non-empty and percent-encoded \
         UTF-8 (write @ as %40, : as %3A, / as %2F, ? as %3F, # as %23, % as %25)"
    )]
    Credentials,
    #[error(
        "the SMTP URL's tls parameter must be tls=required or tls=opportunistic, and only on \
         smtp:// (smtps:// is TLS from the start)"
    )]
    Tls,
    #[error("the SMTP URL takes one parameter only: tls=required or tls=opportunistic")]
    Parameter,
    #[error("the SMTP URL must not have a #fragment (percent-encode a # in the password as %23)")]
    Fragment,
    #[error("the SMTP URL's path must be empty or the host name to greet the server as (EHLO)")]
    HelloName,
    #[error("the SMTP timeout must be longer than zero")]
    Timeout,
    #[error("TLS could not be set up for the SMTP server: {0}")]
    TlsSetup(String),
}

/// How the connection to the server is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Security {
    /// `smtp://`: none. Everything, a password too, travels in the clear.
    Plain,
    /// `smtp://…?tls=opportunistic`: STARTTLS when the server offers it, in the clear when
    /// not (so not proof against an attacker on the path, who can hide the offer).
    StartTlsOpportunistic,
    /// `smtp://…?tls=required`: STARTTLS, or no message at all.
    StartTlsRequired,
    /// `smtps://`: TLS from the first byte.
    ImplicitTls,
}

/// A parsed SMTP URL. Its `Debug` hides the password.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct SmtpUrl {
    pub security: Security,
    /// What is connected to and what the server's certificate must name: a lower-case DNS
    /// name or an IP address (IPv6 without brackets).
    pub host: String,
    pub port: u16,
    /// User and password, percent-decoded.
    pub credentials: Option<(String, String)>,
    /// The name to give in EHLO, from the URL's path.
    pub hello_name: Option<String>,
}

impl SmtpUrl {
    pub(crate) fn parse(text: &str) -> Result<Self, MailConfigError> {
        let (scheme, rest) = text
            .trim()
            .split_once("://")
            .ok_or(MailConfigError::Scheme)?;
        let implicit_tls = match scheme.to_ascii_lowercase().as_str() {
            "smtp" => false,
            "smtps" => true,
            _ => return Err(MailConfigError::Scheme),
        };
        if rest.contains('#') {
            return Err(MailConfigError::Fragment);
        }
        // As in any URL, the authority ends at the first `/` or `?`: a password holding one
        // must percent-encode it.
        let (before_query, query) = match rest.split_once('?') {
            Some((before, query)) => (before, Some(query)),
            None => (rest, None),
        };
        let (authority, path) = before_query.split_once('/').unwrap_or((before_query, ""));
        let (userinfo, host_and_port) = match authority.rsplit_once('@') {
            Some((userinfo, host_and_port)) => (Some(userinfo), host_and_port),
            None => (None, authority),
        };
        let (host, port) = parse_host_and_port(host_and_port)?;
        let tls = parse_query(query)?;
        let security = match (implicit_tls, tls) {
            (true, None) => Security::ImplicitTls,
            (true, Some(_)) => return Err(MailConfigError::Tls),
            (false, None) => Security::Plain,
            (false, Some(TlsParameter::Required)) => Security::StartTlsRequired,
            (false, Some(TlsParameter::Opportunistic)) => Security::StartTlsOpportunistic,
        };
        let port = port.unwrap_or(match security {
            Security::Plain => 25,
            Security::StartTlsOpportunistic | Security::StartTlsRequired => 587,
            Security::ImplicitTls => 465,
        });
        let credentials = userinfo.map(parse_credentials).transpose()?;
        let hello_name = match path.trim_end_matches('/') {
            "" => None,
            name => Some(parse_domain(name).ok_or(MailConfigError::HelloName)?),
        };
        Ok(Self {
            security,
            host,
            port,
            credentials,
            hello_name,
        })
    }

    /// The user to authenticate as, if any.
    pub(crate) fn user(&self) -> Option<&str> {
        self.credentials.as_ref().map(|(user, _)| user.as_str())
    }

    /// `smtp://host:port` or `smtps://host:port`, the server alone: what errors name.
    pub(crate) fn endpoint(&self) -> String {
        let scheme = match self.security {
            Security::ImplicitTls => "smtps",
            _ => "smtp",
        };
        match self.host.parse::<Ipv6Addr>() {
            Ok(_) => format!("{scheme}://[{}]:{}", self.host, self.port),
            Err(_) => format!("{scheme}://{}:{}", self.host, self.port),
        }
    }

    /// The server, its security and the user: `smtp://smtp.example.com:587 (STARTTLS, auth
    /// as mailer)`. Never the password.
    pub(crate) fn describe(&self) -> String {
        let security = match self.security {
            Security::Plain => "no TLS",
            Security::StartTlsOpportunistic => "STARTTLS if offered",
            Security::StartTlsRequired => "STARTTLS",
            Security::ImplicitTls => "TLS",
        };
        match self.user() {
            Some(user) => format!("{} ({security}, auth as {user})", self.endpoint()),
            None => format!("{} ({security}, no auth)", self.endpoint()),
        }
    }

    /// Whether the server is this machine, where a password in the clear stays on it.
    pub(crate) fn is_loopback(&self) -> bool {
        self.host == "localhost"
            || self
                .host
                .parse::<IpAddr>()
                .is_ok_and(|address| address.is_loopback())
    }
}

impl fmt::Debug for SmtpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpUrl")
            .field("security", &self.security)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user())
            .field("hello_name", &self.hello_name)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TlsParameter {
    Required,
    Opportunistic,
}

fn parse_query(query: Option<&str>) -> Result<Option<TlsParameter>, MailConfigError> {
    let mut tls = None;
    for pair in query
        .unwrap_or("")
        .split('&')
        .filter(|pair| !pair.is_empty())
    {
        let (key, value) = pair.split_once('=').ok_or(MailConfigError::Parameter)?;
        if key != "tls" {
            return Err(MailConfigError::Parameter);
        }
        let value = match value.to_ascii_lowercase().as_str() {
            "required" => TlsParameter::Required,
            "opportunistic" => TlsParameter::Opportunistic,
            _ => return Err(MailConfigError::Tls),
        };
        if tls.replace(value).is_some() {
            return Err(MailConfigError::Tls);
        }
    }
    Ok(tls)
}

fn parse_host_and_port(text: &str) -> Result<(String, Option<u16>), MailConfigError> {
    let (host, port) = if let Some(bracketed) = text.strip_prefix('[') {
        let (address, after) = bracketed.split_once(']').ok_or(MailConfigError::Host)?;
        let address: Ipv6Addr = address.parse().map_err(|_| MailConfigError::Host)?;
        let port = match after {
            "" => None,
            after => Some(after.strip_prefix(':').ok_or(MailConfigError::Host)?),
        };
        (address.to_string(), port)
    } else {
        let (host, port) = match text.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (text, None),
        };
        if host.is_empty() {
            return Err(MailConfigError::MissingHost);
        }
        (parse_domain(host).ok_or(MailConfigError::Host)?, port)
    };
    let port = port
        .map(|text| match text.parse::<u16>() {
            Ok(port) if port > 0 && text.bytes().all(|b| b.is_ascii_digit()) => Ok(port),
            _ => Err(MailConfigError::Port),
        })
        .transpose()?;
    Ok((host, port))
}

/// A DNS name or IPv4 address in ASCII (labels of letters, digits, `-` and `_`), lower-cased.
fn parse_domain(text: &str) -> Option<String> {
    let well_formed = !text.is_empty()
        && text.len() <= 253
        && text.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        });
    well_formed.then(|| text.to_ascii_lowercase())
}

fn parse_credentials(userinfo: &str) -> Result<(String, String), MailConfigError> {
    let (user, password) = userinfo
        .split_once(':')
        .ok_or(MailConfigError::Credentials)?;
    let user = percent_decode(user).ok_or(MailConfigError::Credentials)?;
    let password = percent_decode(password).ok_or(MailConfigError::Credentials)?;
    // The user is shown in logs (`describe`): no control characters there.
    if user.is_empty() || password.is_empty() || user.chars().any(char::is_control) {
        return Err(MailConfigError::Credentials);
    }
    Ok((user, password))
}

/// `%XX` to its byte; `None` for a malformed escape or a result that is not UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(text.len());
    let mut rest = text.as_bytes();
    while let Some((&byte, after)) = rest.split_first() {
        if byte == b'%' {
            let hex = after.get(..2)?;
            let hex = std::str::from_utf8(hex).ok()?;
            if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return None;
            }
            bytes.push(u8::from_str_radix(hex, 16).ok()?);
            rest = &after[2..];
        } else {
            bytes.push(byte);
            rest = after;
        }
    }
    String::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> SmtpUrl {
        SmtpUrl::parse(text).unwrap_or_else(|error| panic!("{text}: {error}"))
    }

    #[test]
    fn plain_smtp_defaults_to_port_25_without_auth() {
        let url = parse("smtp://Mail.Example.com");
        assert_eq!(url.security, Security::Plain);
        assert_eq!(url.host, "mail.example.com");
        assert_eq!(url.port, 25);
        assert_eq!(url.credentials, None);
        assert_eq!(url.hello_name, None);
        assert_eq!(
            url.describe(),
            "smtp://mail.example.com:25 (no TLS, no auth)"
        );
    }

    #[test]
    fn the_development_form_keeps_its_port() {
        let url = parse("smtp://127.0.0.1:1025");
        assert_eq!((url.host.as_str(), url.port), ("127.0.0.1", 1025));
        assert!(url.is_loopback());
    }

    #[test]
    fn starttls_forms_default_to_the_submission_port() {
        let required = parse("smtp://smtp.example.com?tls=required");
        assert_eq!(required.security, Security::StartTlsRequired);
        assert_eq!(required.port, 587);
        let opportunistic = parse("smtp://smtp.example.com:2587?tls=Opportunistic");
        assert_eq!(opportunistic.security, Security::StartTlsOpportunistic);
        assert_eq!(opportunistic.port, 2587);
        assert_eq!(
            opportunistic.describe(),
            "smtp://smtp.example.com:2587 (STARTTLS if offered, no auth)"
        );
    }

    #[test]
    fn smtps_is_implicit_tls_on_port_465() {
        let url = parse("SMTPS://user:pass@smtp.example.com");
        assert_eq!(url.security, Security::ImplicitTls);
        assert_eq!(url.port, 465);
        assert_eq!(url.endpoint(), "smtps://smtp.example.com:465");
    }

    #[test]
    fn credentials_are_percent_decoded_and_never_described() {
        let url = parse("smtp://us%40er:p%40ss%3Aw%2Fo%25rd@smtp.example.com:587?tls=required");
        assert_eq!(
            url.credentials,
            Some(("us@er".to_owned(), "p@ss:w/o%rd".to_owned()))
        );
        let description = url.describe();
        assert_eq!(
            description,
            "smtp://smtp.example.com:587 (STARTTLS, auth as us@er)"
        );
        assert!(!format!("{url:?}").contains("p@ss"));
    }

    #[test]
    fn a_raw_at_sign_in_the_password_splits_at_the_last_one() {
        let url = parse("smtp://user:p@ss@smtp.example.com");
        assert_eq!(
            url.credentials,
            Some(("user".to_owned(), "p@ss".to_owned()))
        );
    }

    #[test]
    fn ipv6_hosts_in_brackets() {
        let url = parse("smtp://[::1]:2525");
        assert_eq!(url.host, "::1");
        assert_eq!(url.port, 2525);
        assert_eq!(url.endpoint(), "smtp://[::1]:2525");
        assert!(url.is_loopback());
    }

    #[test]
    fn the_path_names_the_host_to_greet_as() {
        let url = parse("smtp://smtp.example.com/Users-API.example.com/?tls=required");
        assert_eq!(url.hello_name.as_deref(), Some("users-api.example.com"));
        assert_eq!(url.security, Security::StartTlsRequired);
    }

    #[test]
    fn refusals_name_the_problem() {
        let cases = [
            ("", MailConfigError::Scheme),
            ("smtp.example.com:25", MailConfigError::Scheme),
            ("http://smtp.example.com", MailConfigError::Scheme),
            ("smtp://", MailConfigError::MissingHost),
            ("smtp://:25", MailConfigError::MissingHost),
            ("smtp://user:pass@", MailConfigError::MissingHost),
            ("smtp://smtp example.com", MailConfigError::Host),
            ("smtp://bücher.example", MailConfigError::Host),
            ("smtp://a..b", MailConfigError::Host),
            ("smtp://[::1", MailConfigError::Host),
            ("smtp://[nope]:25", MailConfigError::Host),
            ("smtp://host:0", MailConfigError::Port),
            ("smtp://host:65536", MailConfigError::Port),
            ("smtp://host:+25", MailConfigError::Port),
            ("smtp://host:", MailConfigError::Port),
            ("smtp://host:25:26", MailConfigError::Port),
            ("smtp://user@host", MailConfigError::Credentials),
            ("smtp://user:@host", MailConfigError::Credentials),
            ("smtp://:pass@host", MailConfigError::Credentials),
            ("smtp://user:p%zzss@host", MailConfigError::Credentials),
            ("smtp://user:p%ffss@host", MailConfigError::Credentials),
            ("smtp://us%0Aer:pass@host", MailConfigError::Credentials),
            ("smtp://host?tls=always", MailConfigError::Tls),
            (
                "smtp://host?tls=required&tls=opportunistic",
                MailConfigError::Tls,
            ),
            ("smtps://host?tls=required", MailConfigError::Tls),
            ("smtp://host?auth=plain", MailConfigError::Parameter),
            ("smtp://host?tls", MailConfigError::Parameter),
            ("smtp://host#top", MailConfigError::Fragment),
            ("smtp://host/a/b", MailConfigError::HelloName),
            ("smtp://host/not a name", MailConfigError::HelloName),
        ];
        for (text, expected) in cases {
            assert_eq!(SmtpUrl::parse(text), Err(expected), "{text}");
        }
    }

    #[test]
    fn no_refusal_repeats_the_password() {
        // Unencoded `/`, `?` and `#` end the authority early, so the password lands in the
        // port, the path, the query or the fragment: the message quotes none of them.
        for text in [
            "smtp://user:se/cret-pass@host",
            "smtp://user:se?cret-pass@host",
            "smtp://user:se#cret-pass@host",
            "smtp://user:secret-pass/@host",
            "smtp://user:cret-pass@host?tls=secret-pass",
        ] {
            let error = SmtpUrl::parse(text).expect_err(text).to_string();
            assert!(!error.contains("cret"), "{text}: {error}");
        }
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%20b%C3%A9").as_deref(), Some("a bé"));
        assert_eq!(percent_decode("%"), None);
        assert_eq!(percent_decode("%4"), None);
        assert_eq!(percent_decode("%+1"), None);
        assert_eq!(percent_decode("plain").as_deref(), Some("plain"));
    }
}
