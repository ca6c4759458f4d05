//! [`Credentials`]: how requests authenticate, resolved per request.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use parking_lot::Mutex;
use tokio::time::Instant;

use super::{ConfigError, ExecPlugin, Identity};

/// How requests authenticate. Resolved per request by the transport through
/// [`Credentials::authorization`] (the `Authorization` header) and
/// [`Credentials::identity`] (a client certificate that rotates, from exec plugins);
/// a 401 answer calls [`Credentials::invalidate`] and retries once when that says it
/// may help.
///
/// Clones share their caches: a token file read or a plugin run by one clone serves
/// them all.
#[derive(Clone, Default)]
pub enum Credentials {
    /// No credentials (anonymous, or a client certificate alone).
    #[default]
    None,
    /// A bearer token.
    Token(String),
    /// HTTP basic authentication (kubeconfig `username` and `password`).
    Basic {
        /// The user name.
        username: String,
        /// The password.
        password: String,
    },
    /// A bearer token read from a file and re-read as it rotates (kubeconfig
    /// `tokenFile`, the in-cluster service account token).
    TokenFile(TokenFile),
    /// An exec credential plugin (kubeconfig `exec`).
    Exec(ExecPlugin),
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::None => f.write_str("None"),
            Credentials::Token(_) => f.write_str("Token(<redacted>)"),
            Credentials::Basic { username, .. } => f
                .debug_struct("Basic")
                .field("username", username)
                .finish_non_exhaustive(),
            Credentials::TokenFile(t) => f.debug_tuple("TokenFile").field(t).finish(),
            Credentials::Exec(e) => f.debug_tuple("Exec").field(e).finish(),
        }
    }
}

impl Credentials {
    /// The `Authorization` header value for the next request, if any.
    ///
    /// Static credentials answer at once; a token file is re-read when its last read
    /// is a minute old or [`invalidate`](Self::invalidate) was called; an exec plugin
    /// runs when nothing is cached, the cached credential expired, or after
    /// `invalidate`. Concurrent callers share one plugin run.
    ///
    /// # Errors
    ///
    /// [`core::Error::Config`](crate::core::Error::Config) holding a [`ConfigError`]:
    /// the token file could not be read (and no earlier token is known), or the exec
    /// plugin failed.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: dropping the future loses nothing but the work in flight. A
    /// plugin run whose caller is dropped is killed and caches nothing; the next
    /// caller starts a new one.
    pub async fn authorization(&self) -> Result<Option<String>, crate::core::Error> {
        Ok(match self {
            Credentials::None => None,
            Credentials::Token(t) => Some(format!("Bearer {t}")),
            Credentials::Basic { username, password } => {
                let pair = format!("{username}:{password}");
                let b64 = base64::engine::general_purpose::STANDARD.encode(pair);
                Some(format!("Basic {b64}"))
            }
            Credentials::TokenFile(f) => Some(format!("Bearer {}", f.token().await?)),
            Credentials::Exec(e) => {
                let creds = e.credential().await?;
                creds.token.map(|t| format!("Bearer {t}"))
            }
        })
    }

    /// A client certificate these credentials provide, if any: only exec plugins
    /// returning `clientCertificateData` and `clientKeyData` do (a static one is
    /// [`Config::identity`](super::Config::identity)).
    ///
    /// It may change when the plugin runs again (after expiry or
    /// [`invalidate`](Self::invalidate)); the transport compares it with the one its
    /// connections use and reconnects when it differs.
    ///
    /// # Errors
    ///
    /// As [`authorization`](Self::authorization).
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe, as [`authorization`](Self::authorization).
    pub async fn identity(&self) -> Result<Option<Identity>, crate::core::Error> {
        Ok(match self {
            Credentials::Exec(e) => {
                let creds = e.credential().await?;
                creds.identity
            }
            _ => None,
        })
    }

    /// The server answered 401: forget cached credentials. Returns whether resolving
    /// them again could help (and the request should be retried once): `true` for a
    /// token file (re-read on the next call) and an exec plugin (run again on the next
    /// call), `false` for static credentials.
    pub fn invalidate(&self) -> bool {
        match self {
            Credentials::None | Credentials::Token(_) | Credentials::Basic { .. } => false,
            Credentials::TokenFile(f) => {
                f.invalidate();
                true
            }
            Credentials::Exec(e) => {
                e.invalidate();
                true
            }
        }
    }
}

/// How long a token read from a file is used before the file is read again: tokens
/// rotate (kubelet rewrites projected service account tokens well before they expire),
/// and client-go re-reads once a minute too.
pub(crate) const TOKEN_FILE_REFRESH: Duration = Duration::from_secs(60);

/// A bearer token kept in a file, re-read at most once a minute and right after a 401.
///
/// client-go's cached file token source. Clones share the cached token.
#[derive(Clone)]
pub struct TokenFile {
    inner: Arc<TokenFileInner>,
}

struct TokenFileInner {
    path: PathBuf,
    /// Short critical sections only; the file is read with no lock held.
    state: Mutex<TokenState>,
}

#[derive(Default)]
struct TokenState {
    /// The last token read (or the one the kubeconfig gave next to the file).
    /// Invariant: never empty.
    token: Option<String>,
    /// Until when `token` is used without reading the file; `None` means read on the
    /// next call (never read, or invalidated).
    fresh_until: Option<Instant>,
}

impl std::fmt::Debug for TokenFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenFile")
            .field("path", &self.inner.path)
            .finish_non_exhaustive()
    }
}

impl TokenFile {
    /// Credentials read from `path` on first use.
    pub fn new(path: impl Into<PathBuf>) -> TokenFile {
        TokenFile::from_state(path.into(), TokenState::default())
    }

    /// Credentials starting with `token` (read from the file already, or given next to
    /// it in a kubeconfig) and switching to the file's content at the next re-read.
    pub fn with_token(path: impl Into<PathBuf>, token: impl Into<String>) -> TokenFile {
        let token = token.into();
        let state = if token.is_empty() {
            TokenState::default()
        } else {
            TokenState {
                token: Some(token),
                fresh_until: Some(Instant::now() + TOKEN_FILE_REFRESH),
            }
        };
        TokenFile::from_state(path.into(), state)
    }

    fn from_state(path: PathBuf, state: TokenState) -> TokenFile {
        TokenFile {
            inner: Arc::new(TokenFileInner {
                path,
                state: Mutex::new(state),
            }),
        }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Forget when the file was read, so the next call reads it again.
    pub(crate) fn invalidate(&self) {
        self.inner.state.lock().fresh_until = None;
    }

    /// The current token: the cached one while fresh, else the file's content. When
    /// the file cannot be read but a token is known, that token is used for another
    /// period (client-go logs and keeps the old token too: a briefly missing file
    /// during rotation should not fail requests).
    pub(crate) async fn token(&self) -> Result<String, ConfigError> {
        let now = Instant::now();
        {
            let st = self.inner.state.lock();
            if let (Some(t), Some(until)) = (&st.token, st.fresh_until)
                && now < until
            {
                return Ok(t.clone());
            }
        }
        let path = &self.inner.path;
        let read = match tokio::fs::read_to_string(path).await {
            Ok(s) if s.trim().is_empty() => Err(ConfigError::EmptyTokenFile(path.clone())),
            Ok(s) => Ok(s.trim().to_string()),
            Err(source) => Err(ConfigError::Read {
                path: path.clone(),
                source,
            }),
        };
        let mut st = self.inner.state.lock();
        st.fresh_until = Some(now + TOKEN_FILE_REFRESH);
        match read {
            Ok(token) => {
                st.token = Some(token.clone());
                Ok(token)
            }
            Err(e) => match &st.token {
                Some(previous) => {
                    tracing::warn!(error = %e, path = %path.display(), "failed to re-read the token file, keeping the previous token");
                    Ok(previous.clone())
                }
                None => {
                    st.fresh_until = None;
                    Err(e)
                }
            },
        }
    }
}
