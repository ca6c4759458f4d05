//! Checks recorded watch events against etcd's watch guarantees, by name.
//!
//! A test records what its watches delivered ([`Recorded`]) and, as the reference,
//! the complete sequence of changes (for example from an unfiltered watch started
//! before the first write). Each check fails with the guarantee's name and the
//! resourceVersions involved:
//!
//! - **ordered**: resourceVersions strictly increase along a watch;
//! - **unique**: no change is delivered twice;
//! - **reliable**: no change in the watched window is missing;
//! - **resumable**: a watch restarted from any delivered resourceVersion delivers
//!   exactly the reference's changes after it.

use std::fmt;

/// One delivered event (bookmarks and errors are not recorded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// `ADDED`, `MODIFIED` or `DELETED`.
    pub event_type: String,
    /// `namespace/name` (or `name`).
    pub key: String,
    /// The object's resourceVersion in the event.
    pub resource_version: u64,
}

/// A broken guarantee.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The guarantee's name (`ordered`, `unique`, `reliable`, `resumable`).
    pub guarantee: &'static str,
    /// What went wrong, with the resourceVersions involved.
    pub detail: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "watch guarantee `{}` violated: {}",
            self.guarantee, self.detail
        )
    }
}

impl std::error::Error for Violation {}

/// resourceVersions strictly increase.
///
/// # Errors
///
/// The first pair out of order.
pub fn ordered(events: &[Recorded]) -> Result<(), Violation> {
    for w in events.windows(2) {
        if w[1].resource_version <= w[0].resource_version {
            return Err(Violation {
                guarantee: "ordered",
                detail: format!(
                    "{} {} at {} came after {} {} at {}",
                    w[1].event_type,
                    w[1].key,
                    w[1].resource_version,
                    w[0].event_type,
                    w[0].key,
                    w[0].resource_version
                ),
            });
        }
    }
    Ok(())
}

/// No (key, resourceVersion) twice.
///
/// # Errors
///
/// The first repeat.
pub fn unique(events: &[Recorded]) -> Result<(), Violation> {
    let mut seen = std::collections::HashSet::new();
    for e in events {
        if !seen.insert((e.key.as_str(), e.resource_version)) {
            return Err(Violation {
                guarantee: "unique",
                detail: format!(
                    "{} {} at {} delivered twice",
                    e.event_type, e.key, e.resource_version
                ),
            });
        }
    }
    Ok(())
}

/// Every reference change with `after < rv <= until` is in `events`, and nothing else.
///
/// # Errors
///
/// The first missing or unexpected change.
pub fn reliable(
    events: &[Recorded],
    reference: &[Recorded],
    after: u64,
    until: u64,
) -> Result<(), Violation> {
    let want: Vec<&Recorded> = reference
        .iter()
        .filter(|r| r.resource_version > after && r.resource_version <= until)
        .collect();
    let got: Vec<&Recorded> = events
        .iter()
        .filter(|r| r.resource_version > after && r.resource_version <= until)
        .collect();
    for (i, w) in want.iter().enumerate() {
        match got.get(i) {
            Some(g)
                if g.resource_version == w.resource_version
                    && g.key == w.key
                    && g.event_type == w.event_type => {}
            Some(g) => {
                return Err(Violation {
                    guarantee: "reliable",
                    detail: format!(
                        "expected {} {} at {}, got {} {} at {}",
                        w.event_type,
                        w.key,
                        w.resource_version,
                        g.event_type,
                        g.key,
                        g.resource_version
                    ),
                });
            }
            None => {
                return Err(Violation {
                    guarantee: "reliable",
                    detail: format!(
                        "missing {} {} at {}",
                        w.event_type, w.key, w.resource_version
                    ),
                });
            }
        }
    }
    if let Some(extra) = got.get(want.len()) {
        return Err(Violation {
            guarantee: "reliable",
            detail: format!(
                "unexpected {} {} at {}",
                extra.event_type, extra.key, extra.resource_version
            ),
        });
    }
    Ok(())
}

/// A watch resumed from `from` delivered exactly the reference's changes after it,
/// up to `until`.
///
/// # Errors
///
/// As [`reliable`], named `resumable`.
pub fn resumable(
    resumed: &[Recorded],
    reference: &[Recorded],
    from: u64,
    until: u64,
) -> Result<(), Violation> {
    if let Some(early) = resumed.iter().find(|e| e.resource_version <= from) {
        return Err(Violation {
            guarantee: "resumable",
            detail: format!(
                "resumed from {from} but delivered {} {} at {}, which is not after it",
                early.event_type, early.key, early.resource_version
            ),
        });
    }
    reliable(resumed, reference, from, until).map_err(|v| Violation {
        guarantee: "resumable",
        detail: format!("resumed from {from}: {}", v.detail),
    })?;
    ordered(resumed)
        .and_then(|()| unique(resumed))
        .map_err(|v| Violation {
            guarantee: "resumable",
            detail: format!("resumed from {from}: {v}"),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(t: &str, k: &str, rv: u64) -> Recorded {
        Recorded {
            event_type: t.into(),
            key: k.into(),
            resource_version: rv,
        }
    }

    #[test]
    fn each_guarantee_names_itself() {
        let good = vec![
            ev("ADDED", "a", 1),
            ev("MODIFIED", "a", 2),
            ev("DELETED", "a", 3),
        ];
        assert!(ordered(&good).is_ok());
        assert_eq!(
            ordered(&[ev("ADDED", "a", 2), ev("ADDED", "b", 1)])
                .expect_err("x")
                .guarantee,
            "ordered"
        );
        assert_eq!(
            unique(&[ev("ADDED", "a", 1), ev("ADDED", "a", 1)])
                .expect_err("x")
                .guarantee,
            "unique"
        );
        let gap = vec![ev("ADDED", "a", 1), ev("DELETED", "a", 3)];
        let v = reliable(&gap, &good, 0, 3).expect_err("gap");
        assert_eq!(v.guarantee, "reliable");
        assert!(v.detail.contains('2'), "{v}");
        assert!(resumable(&good[1..], &good, 1, 3).is_ok());
        assert_eq!(
            resumable(&good, &good, 1, 3).expect_err("x").guarantee,
            "resumable"
        );
    }
}
