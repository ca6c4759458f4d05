//! Label and field selectors: parse, print, match.
//!
//! [`LabelSelector`] implements the full label-selector grammar (`=`, `==`, `!=`, `in`,
//! `notin`, `>`, `<`, existence and `!key`), [`FieldSelector`] the field-selector one
//! (`=`, `==`, `!=` with `\`-escaping). Both print in the canonical form the apiserver
//! uses (requirements sorted), and `parse(print(s)) == s`.

mod field;
mod label;

pub use field::{FieldOperator, FieldRequirement, FieldSelector};
pub use label::{LabelSelector, Operator, Requirement};

use std::fmt;

/// Read access to a set of labels, for matching.
pub trait Labels {
    /// The value of `key`, if the label is present.
    fn get(&self, key: &str) -> Option<&str>;
}

impl Labels for std::collections::BTreeMap<String, String> {
    fn get(&self, key: &str) -> Option<&str> {
        std::collections::BTreeMap::get(self, key).map(String::as_str)
    }
}

impl<S: std::hash::BuildHasher> Labels for std::collections::HashMap<String, String, S> {
    fn get(&self, key: &str) -> Option<&str> {
        std::collections::HashMap::get(self, key).map(String::as_str)
    }
}

/// A JSON `metadata.labels` map; non-string values read as absent.
impl Labels for serde_json::Map<String, serde_json::Value> {
    fn get(&self, key: &str) -> Option<&str> {
        serde_json::Map::get(self, key)?.as_str()
    }
}

/// Labels as a sorted slice of pairs (how the server's cache keeps them).
impl Labels for [(String, String)] {
    fn get(&self, key: &str) -> Option<&str> {
        self.binary_search_by(|(k, _)| k.as_str().cmp(key))
            .ok()
            .map(|i| self[i].1.as_str())
    }
}

/// No labels at all.
impl Labels for () {
    fn get(&self, _key: &str) -> Option<&str> {
        None
    }
}

/// Read access to the selectable fields of an object, for matching field selectors.
pub trait Fields {
    /// The value of `field`; a field the object lacks reads as absent (matching treats
    /// it as the empty string, as apimachinery does).
    fn get(&self, field: &str) -> Option<&str>;
}

impl Fields for [(&str, String)] {
    fn get(&self, field: &str) -> Option<&str> {
        self.iter()
            .find(|(f, _)| *f == field)
            .map(|(_, v)| v.as_str())
    }
}

impl Fields for std::collections::BTreeMap<String, String> {
    fn get(&self, field: &str) -> Option<&str> {
        std::collections::BTreeMap::get(self, field).map(String::as_str)
    }
}

/// What went wrong while parsing a selector.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseSelectorErrorKind {
    /// A token other than the expected one was found.
    Unexpected {
        /// What was found (`end of string` at the end).
        found: String,
        /// What would have been valid there.
        expected: String,
    },
    /// A label key is not a valid qualified name.
    InvalidKey {
        /// The key.
        key: String,
        /// Why.
        reasons: Vec<String>,
    },
    /// A label value is not valid.
    InvalidValue {
        /// The value.
        value: String,
        /// Why.
        reasons: Vec<String>,
    },
    /// `>` and `<` need exactly one integer value.
    NotAnInteger {
        /// The value.
        value: String,
    },
    /// A field selector term has no operator.
    MissingOperator {
        /// The term.
        term: String,
    },
    /// A field selector value has a `\` not followed by `\`, `,` or `=`.
    InvalidEscape {
        /// The bad sequence.
        sequence: String,
    },
    /// A field selector value has an unescaped `,` or `=`.
    UnescapedRune {
        /// The character.
        rune: char,
    },
}

/// A selector string could not be parsed. Names the input, the byte position where
/// parsing stopped and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseSelectorError {
    /// The whole selector string.
    pub input: String,
    /// Byte offset in `input` where the problem was found.
    pub position: usize,
    /// What went wrong.
    pub kind: ParseSelectorErrorKind,
}

impl fmt::Display for ParseSelectorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ParseSelectorErrorKind::Unexpected { found, expected } => write!(
                f,
                "unable to parse requirement: found '{found}', expected: {expected}"
            )?,
            ParseSelectorErrorKind::InvalidKey { key, reasons } => write!(
                f,
                "unable to parse requirement: key: Invalid value: {key:?}: {}",
                reasons.join("; ")
            )?,
            ParseSelectorErrorKind::InvalidValue { value, reasons } => write!(
                f,
                "unable to parse requirement: values[0]: Invalid value: {value:?}: {}",
                reasons.join("; ")
            )?,
            ParseSelectorErrorKind::NotAnInteger { value } => write!(
                f,
                "unable to parse requirement: for 'Gt', 'Lt' operators, the value must be an integer, got {value:?}"
            )?,
            ParseSelectorErrorKind::MissingOperator { term } => write!(
                f,
                "invalid selector: '{}'; can't understand '{term}'",
                self.input
            )?,
            ParseSelectorErrorKind::InvalidEscape { sequence } => write!(
                f,
                "invalid field selector: invalid escape sequence: {sequence}"
            )?,
            ParseSelectorErrorKind::UnescapedRune { rune } => {
                write!(f, "invalid field selector: unescaped character '{rune}'")?
            }
        }
        write!(f, " (at position {} of {:?})", self.position, self.input)
    }
}

impl std::error::Error for ParseSelectorError {}

#[cfg(test)]
mod proptests {
    use super::*;
    use proptest::prelude::*;

    fn key() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z][a-z0-9]{0,5}",
            "[a-z]{1,4}\\.(io|com)/[A-Za-z][-A-Za-z0-9_.]{0,4}[a-z]",
        ]
    }

    fn value() -> impl Strategy<Value = String> {
        prop_oneof![
            Just(String::new()),
            "[A-Za-z0-9]([-A-Za-z0-9_.]{0,6}[A-Za-z0-9])?"
        ]
    }

    fn requirement() -> impl Strategy<Value = Requirement> {
        let op = prop_oneof![
            Just(Operator::Equals),
            Just(Operator::DoubleEquals),
            Just(Operator::NotEquals),
            Just(Operator::In),
            Just(Operator::NotIn),
            Just(Operator::Exists),
            Just(Operator::DoesNotExist),
            Just(Operator::GreaterThan),
            Just(Operator::LessThan),
        ];
        (key(), op, prop::collection::vec(value(), 1..4), 0i64..1000).prop_map(
            |(k, op, vals, n)| {
                let vals = match op {
                    Operator::In | Operator::NotIn => vals,
                    Operator::Exists | Operator::DoesNotExist => vec![],
                    Operator::GreaterThan | Operator::LessThan => vec![n.to_string()],
                    _ => vec![vals[0].clone()],
                };
                Requirement::new(k, op, vals).expect("generated requirements are valid")
            },
        )
    }

    fn field_term() -> impl Strategy<Value = FieldRequirement> {
        let op = prop_oneof![
            Just(FieldOperator::Equals),
            Just(FieldOperator::DoubleEquals),
            Just(FieldOperator::NotEquals),
        ];
        ("[a-z]{1,5}(\\.[a-z]{1,5}){0,2}", op, "[a-z0-9,=\\\\ ]{0,6}").prop_map(
            |(field, operator, value)| FieldRequirement {
                field,
                operator,
                value,
            },
        )
    }

    proptest! {
        #[test]
        fn label_selectors_round_trip(reqs in prop::collection::vec(requirement(), 0..5)) {
            let sel = LabelSelector::from_requirements(reqs);
            let printed = sel.to_string();
            let parsed = LabelSelector::parse(&printed).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(&parsed, &sel);
            prop_assert_eq!(parsed.to_string(), printed);
        }

        #[test]
        fn field_selectors_round_trip(terms in prop::collection::vec(field_term(), 0..5)) {
            let sel = FieldSelector::from_terms(terms);
            let printed = sel.to_string();
            let parsed = FieldSelector::parse(&printed).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(&parsed, &sel);
        }

        #[test]
        fn label_parser_never_panics(input in "[a-z!=(), <>in.-/]{0,24}") {
            let _ = LabelSelector::parse(&input);
        }

        #[test]
        fn field_parser_never_panics(input in "[a-z!=,\\\\.]{0,24}") {
            let _ = FieldSelector::parse(&input);
        }
    }
}
