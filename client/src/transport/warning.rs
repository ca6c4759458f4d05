//! `Warning` response headers: deprecations, unknown fields dropped under
//! `fieldValidation=Warn`, admission warnings. Parsed per RFC 7234 §5.5 (the format
//! kube-apiserver writes: `299 - "text"`) and handed to a [`WarningHandler`].

use std::collections::HashSet;
use std::fmt;

use parking_lot::Mutex;

/// One warning the server attached to a response.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Warning {
    /// The warn-code; Kubernetes always sends 299 ("miscellaneous persistent warning").
    pub code: u16,
    /// The warn-agent (`-` from kube-apiserver).
    pub agent: String,
    /// The warning text, unquoted.
    pub text: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Receives the warnings of every response of a client (client-go's
/// `WarningHandler`). Called inline on the request path: keep it quick.
///
/// Any `Fn(&Warning) + Send + Sync` closure is a handler:
///
/// ```
/// use kubeforge_client::transport::{Warning, WarningHandler};
///
/// fn takes(_: impl WarningHandler) {}
/// takes(|w: &Warning| eprintln!("server warning: {w}"));
/// ```
pub trait WarningHandler: Send + Sync + 'static {
    /// Handles one warning.
    fn handle(&self, warning: &Warning);
}

impl<F: Fn(&Warning) + Send + Sync + 'static> WarningHandler for F {
    fn handle(&self, warning: &Warning) {
        self(warning)
    }
}

/// The default handler: logs each distinct warning once, at `warn` level through
/// `tracing` (client-go's default logs every warning; a controller that lists a
/// deprecated kind every resync would repeat itself forever).
///
/// The set of warnings seen is capped at 4096 texts; past that, new texts are logged
/// every time rather than remembered.
#[derive(Debug, Default)]
pub struct LogOnce {
    /// Texts already logged.
    seen: Mutex<HashSet<String>>,
}

const MAX_REMEMBERED: usize = 4096;

impl WarningHandler for LogOnce {
    fn handle(&self, warning: &Warning) {
        let first = {
            let mut seen = self.seen.lock();
            if seen.contains(&warning.text) {
                false
            } else {
                if seen.len() < MAX_REMEMBERED {
                    seen.insert(warning.text.clone());
                }
                true
            }
        };
        if first {
            tracing::warn!(warning = %warning.text, "the apiserver sent a warning");
        }
    }
}

/// A handler that drops every warning (client-go's `NoWarnings`).
#[derive(Debug, Default, Clone, Copy)]
pub struct IgnoreWarnings;

impl WarningHandler for IgnoreWarnings {
    fn handle(&self, _warning: &Warning) {}
}

/// Parses one `Warning` header value, which may hold several comma-separated
/// warnings. Malformed parts are skipped.
pub(crate) fn parse(value: &str) -> Vec<Warning> {
    let mut out = Vec::new();
    let mut rest = value;
    loop {
        rest = rest.trim_start_matches([' ', '\t', ',']);
        if rest.is_empty() {
            return out;
        }
        match parse_one(rest) {
            Some((warning, tail)) => {
                out.push(warning);
                rest = tail;
            }
            None => {
                // Skip to the next comma outside quotes and try again.
                match skip_part(rest) {
                    Some(tail) => rest = tail,
                    None => return out,
                }
            }
        }
    }
}

/// `code SP agent SP quoted-text [SP quoted-date]`, returning what follows.
fn parse_one(s: &str) -> Option<(Warning, &str)> {
    let (code, s) = s.split_once(' ')?;
    let code: u16 = code.parse().ok().filter(|c| (100..1000).contains(c))?;
    let (agent, s) = s.trim_start().split_once(' ')?;
    let (text, mut s) = quoted(s.trim_start())?;
    // optional warn-date
    let after = s.trim_start();
    if after.starts_with('"')
        && let Some((_, tail)) = quoted(after)
    {
        s = tail;
    }
    Some((
        Warning {
            code,
            agent: agent.to_owned(),
            text,
        },
        s,
    ))
}

/// A quoted-string with backslash escapes, returning its content and the rest.
fn quoted(s: &str) -> Option<(String, &str)> {
    let body = s.strip_prefix('"')?;
    let mut text = String::new();
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => text.push(chars.next()?.1),
            '"' => return Some((text, &body[i + 1..])),
            c => text.push(c),
        }
    }
    None
}

fn skip_part(s: &str) -> Option<&str> {
    let mut in_quotes = false;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_quotes => escaped = true,
            '"' => in_quotes = !in_quotes,
            ',' if !in_quotes => return Some(&s[i + 1..]),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(text: &str) -> Warning {
        Warning {
            code: 299,
            agent: "-".into(),
            text: text.into(),
        }
    }

    #[test]
    fn headers_parse_like_kube_apiserver_writes_them() {
        let cases: &[(&str, Vec<Warning>)] = &[
            // one warning
            (
                r#"299 - "v1 ComponentStatus is deprecated in v1.19+""#,
                vec![w("v1 ComponentStatus is deprecated in v1.19+")],
            ),
            // escapes and a comma inside the text
            (
                r#"299 - "unknown field \"spec.foo\", ignored""#,
                vec![w(r#"unknown field "spec.foo", ignored"#)],
            ),
            // two in one value, the first with a date
            (
                r#"299 - "a" "Wed, 21 Oct 2015 07:28:00 GMT", 299 - "b""#,
                vec![w("a"), w("b")],
            ),
            // garbage is skipped, good parts kept
            (r#"nonsense, 299 - "c""#, vec![w("c")]),
            ("", vec![]),
        ];
        for (header, want) in cases {
            assert_eq!(&parse(header), want, "{header}");
        }
    }

    #[test]
    fn log_once_remembers_what_it_logged() {
        let h = LogOnce::default();
        h.handle(&w("x"));
        h.handle(&w("x"));
        h.handle(&w("y"));
        assert_eq!(h.seen.lock().len(), 2);
    }
}
