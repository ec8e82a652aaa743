//! The one error type of the service. Every failure a client can see is one of these variants;
//! each carries Twilio's error `code`, an HTTP status (a plain `u16`, so the domain stays free of
//! HTTP types) and a message. Rendering lives in `http::error`. Imports nothing but std/thiserror.
//!
//! Codes are Twilio's, see `../shared/reference/API.md` §3.2 for the source of each.

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// 404 / 20404 "The requested resource {path} was not found" (https://www.twilio.com/docs/errors/20404).
    /// The path is filled in by the HTTP layer, which alone knows it.
    #[error("The requested resource was not found")]
    NotFound,
    /// 400 with a Twilio code: 20001 "Invalid parameter" and the product codes (50206, 81022, …).
    #[error("{message}")]
    Invalid {
        code: u32,
        message: String,
        details: Option<serde_json::Value>,
    },
    /// A clash with stored state, e.g. 409 / 50201 "User already exists".
    #[error("{message}")]
    Conflict {
        code: u32,
        status: u16,
        message: String,
    },
    /// 401 / 20003 (https://www.twilio.com/docs/errors/20003): bad or missing credentials, an
    /// inactive account, a deleted key, or a Standard key on Accounts/Keys.
    #[error("Authenticate")]
    Unauthenticated,
    /// 405 / 20004 (https://www.twilio.com/docs/errors/20004).
    #[error("Method not allowed")]
    MethodNotAllowed,
    /// 413 with code 20001 *(ours: Twilio documents no code for an oversized body)*.
    #[error("Invalid request: the body exceeds {limit} bytes")]
    PayloadTooLarge { limit: usize },
    /// 408 with code 20001 *(ours)*: the client did not send its body in time.
    #[error("Invalid request: the request body was not received in time")]
    RequestTimeout,
    /// 429 / 20429 (https://www.twilio.com/docs/errors/20429).
    #[error("Too Many Requests")]
    TooManyRequests { retry_after_secs: u64 },
    /// 503 / 20503 "Service unavailable" (https://www.twilio.com/docs/api/errors/20503): the
    /// database cannot be written (disk full, read-only file, I/O error). The cause is logged.
    #[error("Service unavailable: the database cannot be written right now; retry later")]
    Unavailable(#[source] anyhow::Error),
    /// 500 / 20500: must not happen. The cause is logged once and never sent.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

/// The code Twilio uses for a bad or missing parameter (docs title "Invalid parameter").
pub const INVALID_PARAMETER: u32 = 20001;

impl Error {
    /// 400 20001 "Missing required parameter X in the post body" — the exact wording of real
    /// Twilio responses (API.md §3.2). A present-but-empty value counts as missing (DESIGN.md).
    pub fn missing(param: &str) -> Self {
        Self::invalid(format!(
            "Missing required parameter {param} in the post body"
        ))
    }

    /// 400 20001 with a message naming the problem.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::Invalid {
            code: INVALID_PARAMETER,
            message: message.into(),
            details: None,
        }
    }

    /// 400 with a product-specific code (50206, 50207, 21101, 21481 …).
    pub fn invalid_code(code: u32, message: impl Into<String>) -> Self {
        Self::Invalid {
            code,
            message: message.into(),
            details: None,
        }
    }

    pub fn internal(cause: impl Into<anyhow::Error>) -> Self {
        Self::Internal(cause.into())
    }

    pub fn status(&self) -> u16 {
        match self {
            Self::NotFound => 404,
            Self::Invalid { .. } => 400,
            Self::Conflict { status, .. } => *status,
            Self::Unauthenticated => 401,
            Self::MethodNotAllowed => 405,
            Self::PayloadTooLarge { .. } => 413,
            Self::RequestTimeout => 408,
            Self::TooManyRequests { .. } => 429,
            Self::Unavailable(_) => 503,
            Self::Internal(_) => 500,
        }
    }

    pub fn code(&self) -> u32 {
        match self {
            Self::NotFound => 20404,
            Self::Invalid { code, .. } | Self::Conflict { code, .. } => *code,
            Self::PayloadTooLarge { .. } | Self::RequestTimeout => INVALID_PARAMETER,
            Self::Unauthenticated => 20003,
            Self::MethodNotAllowed => 20004,
            Self::TooManyRequests { .. } => 20429,
            Self::Unavailable(_) => 20503,
            Self::Internal(_) => 20500,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
