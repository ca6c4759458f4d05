//! Field selectors: the grammar of `?fieldSelector=` and `kubectl --field-selector`.
//!
//! ```text
//! selector = [ term { "," term } ]
//! term     = field ( "=" | "==" | "!=" ) value
//! ```
//!
//! In values, `\`, `,` and `=` are escaped with a backslash. Which fields may be
//! selected on is up to the server, per kind (every kind supports `metadata.name` and,
//! if namespaced, `metadata.namespace`).

use std::fmt;
use std::str::FromStr;

use super::{Fields, ParseSelectorError, ParseSelectorErrorKind};

/// How a [`FieldRequirement`] compares a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldOperator {
    /// `field=value`.
    Equals,
    /// `field==value`, the same as `=`.
    DoubleEquals,
    /// `field!=value`.
    NotEquals,
}

impl FieldOperator {
    fn as_str(self) -> &'static str {
        match self {
            FieldOperator::Equals => "=",
            FieldOperator::DoubleEquals => "==",
            FieldOperator::NotEquals => "!=",
        }
    }
}

/// One term of a field selector.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FieldRequirement {
    /// The field path (`metadata.name`, `spec.nodeName`).
    pub field: String,
    /// The comparison.
    pub operator: FieldOperator,
    /// The value, unescaped.
    pub value: String,
}

impl FieldRequirement {
    /// Whether `fields` satisfy this term. An absent field compares as the empty
    /// string, as apimachinery's field sets do.
    pub fn matches<F: Fields + ?Sized>(&self, fields: &F) -> bool {
        let actual = fields.get(&self.field).unwrap_or("");
        match self.operator {
            FieldOperator::Equals | FieldOperator::DoubleEquals => actual == self.value,
            FieldOperator::NotEquals => actual != self.value,
        }
    }
}

impl fmt::Display for FieldRequirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}{}{}",
            self.field,
            self.operator.as_str(),
            escape(&self.value)
        )
    }
}

/// A parsed field selector: terms that must all hold. The empty selector matches
/// everything.
///
/// ```
/// use kubeforge_client::core::FieldSelector;
///
/// let sel: FieldSelector = "status.phase!=Running,spec.nodeName=n1".parse()?;
/// assert_eq!(sel.requires_exact_match("spec.nodeName"), Some("n1"));
/// // terms print sorted, values escaped
/// let odd: FieldSelector = r"metadata.name=a\,b".parse()?;
/// assert_eq!(odd.terms()[0].value, "a,b");
/// assert_eq!(odd.to_string(), r"metadata.name=a\,b");
/// # Ok::<(), kubeforge_client::core::ParseSelectorError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct FieldSelector {
    /// Sorted by their printed form, as apimachinery sorts terms.
    terms: Vec<FieldRequirement>,
}

impl FieldSelector {
    /// The selector that matches everything.
    pub fn everything() -> Self {
        Self::default()
    }

    /// Builds a selector from terms.
    pub fn from_terms(terms: impl IntoIterator<Item = FieldRequirement>) -> Self {
        let mut terms: Vec<FieldRequirement> = terms.into_iter().collect();
        terms.sort_by_key(ToString::to_string);
        Self { terms }
    }

    /// Parses a selector string.
    ///
    /// # Errors
    ///
    /// [`ParseSelectorError`] for a term without an operator or a badly escaped value.
    pub fn parse(input: &str) -> Result<Self, ParseSelectorError> {
        let mut terms = Vec::new();
        for (start, part) in split_terms(input) {
            if part.is_empty() {
                continue;
            }
            let err = |position: usize, kind| ParseSelectorError {
                input: input.to_owned(),
                position,
                kind,
            };
            let Some((at, operator)) = find_operator(part) else {
                return Err(err(
                    start,
                    ParseSelectorErrorKind::MissingOperator {
                        term: part.to_owned(),
                    },
                ));
            };
            let value_start = at + operator.as_str().len();
            let value = unescape(&part[value_start..])
                .map_err(|(offset, kind)| err(start + value_start + offset, kind))?;
            terms.push(FieldRequirement {
                field: part[..at].to_owned(),
                operator,
                value,
            });
        }
        Ok(Self::from_terms(terms))
    }

    /// Whether the selector has no terms.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// The terms.
    pub fn terms(&self) -> &[FieldRequirement] {
        &self.terms
    }

    /// Whether `fields` satisfy every term.
    pub fn matches<F: Fields + ?Sized>(&self, fields: &F) -> bool {
        self.terms.iter().all(|t| t.matches(fields))
    }

    /// The value `field` must equal, when a `=`/`==` term pins it.
    pub fn requires_exact_match(&self, field: &str) -> Option<&str> {
        self.terms.iter().find_map(|t| {
            (t.field == field && t.operator != FieldOperator::NotEquals).then_some(t.value.as_str())
        })
    }

    /// Rewrites field names (e.g. a legacy alias to its current name).
    pub fn map_fields(self, f: impl Fn(&str) -> Option<&'static str>) -> Self {
        Self::from_terms(self.terms.into_iter().map(|mut t| {
            if let Some(new) = f(&t.field) {
                t.field = new.to_owned();
            }
            t
        }))
    }
}

impl FromStr for FieldSelector {
    type Err = ParseSelectorError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for FieldSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, t) in self.terms.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{t}")?;
        }
        Ok(())
    }
}

/// Splits on commas not escaped by a backslash; yields each term with its offset.
fn split_terms(input: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut escaped = false;
    for (i, c) in input.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' => escaped = true,
            ',' => {
                out.push((start, &input[start..i]));
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push((start, &input[start..]));
    out
}

/// The first operator in the term; at each offset `!=` and `==` win over `=`.
fn find_operator(term: &str) -> Option<(usize, FieldOperator)> {
    term.char_indices().find_map(|(i, _)| {
        let rest = &term[i..];
        if rest.starts_with("!=") {
            Some((i, FieldOperator::NotEquals))
        } else if rest.starts_with("==") {
            Some((i, FieldOperator::DoubleEquals))
        } else if rest.starts_with('=') {
            Some((i, FieldOperator::Equals))
        } else {
            None
        }
    })
}

fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if matches!(c, '\\' | ',' | '=') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn unescape(value: &str) -> Result<String, (usize, ParseSelectorErrorKind)> {
    let mut out = String::with_capacity(value.len());
    let mut escape_at = None;
    for (i, c) in value.char_indices() {
        if let Some(at) = escape_at.take() {
            if !matches!(c, '\\' | ',' | '=') {
                return Err((
                    at,
                    ParseSelectorErrorKind::InvalidEscape {
                        sequence: format!("\\{c}"),
                    },
                ));
            }
            out.push(c);
            continue;
        }
        match c {
            '\\' => escape_at = Some(i),
            ',' | '=' => return Err((i, ParseSelectorErrorKind::UnescapedRune { rune: c })),
            c => out.push(c),
        }
    }
    if let Some(at) = escape_at {
        return Err((
            at,
            ParseSelectorErrorKind::InvalidEscape {
                sequence: "\\".to_owned(),
            },
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn parses_and_prints() {
        let cases: &[(&str, &str)] = &[
            ("", ""),
            ("metadata.name=a", "metadata.name=a"),
            ("metadata.name==a", "metadata.name==a"),
            ("status.phase!=Running", "status.phase!=Running"),
            // sorted by printed form
            ("b=1,a=2", "a=2,b=1"),
            // empty terms are skipped, empty values kept
            ("a=1,,b=", "a=1,b="),
            // escapes survive a round trip
            (r"a=x\,y\=z\\w", r"a=x\,y\=z\\w"),
        ];
        for (input, want) in cases {
            let sel = FieldSelector::parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
            assert_eq!(sel.to_string(), *want);
            assert_eq!(FieldSelector::parse(want).expect("reparse"), sel);
        }
    }

    #[test]
    fn rejects_bad_terms_with_their_position() {
        let cases: &[(&str, usize, &str)] = &[
            ("a=1,b", 4, "can't understand 'b'"),
            (r"a=x\y", 3, r"invalid escape sequence: \y"),
            (r"a=x\", 3, "invalid escape sequence"),
            ("a=x=y", 3, "unescaped character '='"),
        ];
        for (input, position, msg) in cases {
            let err = FieldSelector::parse(input).expect_err(input);
            assert_eq!(err.position, *position, "{input:?}: {err}");
            assert!(err.to_string().contains(msg), "{input:?}: {err}");
        }
    }

    #[test]
    fn matches_with_absent_fields_as_empty() {
        let fields = BTreeMap::from([("spec.nodeName".to_owned(), "n1".to_owned())]);
        let cases: &[(&str, bool)] = &[
            ("spec.nodeName=n1", true),
            ("spec.nodeName!=n1", false),
            ("status.phase!=Running", true),
            ("status.phase=", true),
            ("status.phase=Running", false),
        ];
        for (input, want) in cases {
            assert_eq!(
                FieldSelector::parse(input).expect(input).matches(&fields),
                *want,
                "{input}"
            );
        }
    }
}
