//! Outgoing mail over SMTP (lettre with rustls). Settings are edited in the admin console;
//! without them, features show links instead of sending.

use crate::error::{AppError, AppResult};
use crate::platform::settings::SettingsDoc;
use lettre::message::{header::ContentType, Mailbox};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::{Deserialize, Serialize};
use std::time::Duration;

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum SmtpSecurity {
    None,
    #[default]
    Starttls,
    Tls,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct SmtpSettings {
    pub enabled: bool,
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: String,
    pub password: String,
    pub from_address: String,
    pub from_name: String,
}

impl Default for SmtpSettings {
    fn default() -> Self {
        SmtpSettings {
            enabled: false,
            host: String::new(),
            port: 587,
            security: SmtpSecurity::Starttls,
            username: String::new(),
            password: String::new(),
            from_address: String::new(),
            from_name: "OfficeBox".into(),
        }
    }
}

impl SettingsDoc for SmtpSettings {
    const KEY: &'static str = "smtp";
}

impl SmtpSettings {
    pub fn is_usable(&self) -> bool {
        self.enabled && !self.host.is_empty() && !self.from_address.is_empty()
    }

    pub fn validate(&self) -> AppResult<()> {
        if !self.enabled {
            return Ok(());
        }
        if self.host.trim().is_empty() || self.host.contains(char::is_whitespace) {
            return Err(AppError::invalid("host", "validation_failed", "Enter the SMTP server's host name"));
        }
        if self.port == 0 {
            return Err(AppError::invalid("port", "validation_failed", "Enter the SMTP port"));
        }
        self.sender()?;
        Ok(())
    }

    fn sender(&self) -> AppResult<Mailbox> {
        let addr = self.from_address.parse().map_err(|_| {
            AppError::invalid("from_address", "validation_failed", "The sender address is not a valid email address")
        })?;
        Ok(Mailbox::new(Some(self.from_name.clone()).filter(|n| !n.is_empty()), addr))
    }

    fn transport(&self) -> AppResult<AsyncSmtpTransport<Tokio1Executor>> {
        let fail = |e: lettre::transport::smtp::Error| mail_failed(e.to_string());
        let builder = match self.security {
            SmtpSecurity::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&self.host),
            SmtpSecurity::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&self.host).map_err(fail)?,
            SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&self.host).map_err(fail)?,
        };
        let mut builder = builder.port(self.port).timeout(Some(Duration::from_secs(15)));
        if !self.username.is_empty() {
            builder = builder.credentials(Credentials::new(self.username.clone(), self.password.clone()));
        }
        Ok(builder.build())
    }
}

pub fn mail_failed(reason: String) -> AppError {
    AppError::new(
        actix_web::http::StatusCode::BAD_GATEWAY,
        "mail_failed",
        format!("The mail could not be sent: {reason}"),
    )
}

/// A plain-text mail to one address.
pub async fn send(settings: &SmtpSettings, to: &str, subject: &str, body: &str) -> AppResult<()> {
    if !settings.is_usable() {
        return Err(AppError::conflict(
            "smtp_not_configured",
            "Mail is not set up; ask an administrator to configure SMTP",
        ));
    }
    let to: Mailbox =
        to.parse().map_err(|_| AppError::invalid("to", "validation_failed", "Not a valid email address"))?;
    let msg = Message::builder()
        .from(settings.sender()?)
        .to(to)
        .subject(subject)
        .header(ContentType::TEXT_PLAIN)
        .body(body.to_owned())
        .map_err(|e| mail_failed(e.to_string()))?;
    settings.transport()?.send(msg).await.map_err(|e| mail_failed(e.to_string()))?;
    Ok(())
}
