//! Label selectors: the grammar of `?labelSelector=` and `kubectl -l`.
//!
//! ```text
//! selector    = [ requirement { "," requirement } ]
//! requirement = [ "!" ] key
//!             | key ( "=" | "==" | "!=" | ">" | "<" ) [ value ]
//!             | key ( "in" | "notin" ) "(" [ value { "," [ value ] } ] ")"
//! ```
//!
//! Keys are qualified names, values label values; whitespace separates tokens and is
//! otherwise ignored. A missing value (`a=`, `a in ()`) is the empty value.

use std::fmt;
use std::str::FromStr;

use super::{Labels, ParseSelectorError, ParseSelectorErrorKind};
use crate::core::validation;

/// How a [`Requirement`] compares a label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operator {
    /// `key=value`: present with this value.
    Equals,
    /// `key==value`: the same as `=`, kept apart so it prints back as written.
    DoubleEquals,
    /// `key!=value`: absent, or present with another value.
    NotEquals,
    /// `key in (a,b)`: present with one of the values.
    In,
    /// `key notin (a,b)`: absent, or present with none of the values.
    NotIn,
    /// `key`: present.
    Exists,
    /// `!key`: absent.
    DoesNotExist,
    /// `key>n`: present with an integer value greater than `n`.
    GreaterThan,
    /// `key<n`: present with an integer value less than `n`.
    LessThan,
}

/// One requirement of a label selector; all requirements must hold.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Requirement {
    key: String,
    operator: Operator,
    /// Sorted and de-duplicated; one value for the comparison operators, none for
    /// existence, one or more for set operators.
    values: Vec<String>,
}

impl Requirement {
    /// Builds and validates a requirement (the key must be a qualified name, values
    /// label values; the value count must fit the operator).
    ///
    /// # Errors
    ///
    /// A [`ParseSelectorError`] at position 0 of the printed requirement.
    pub fn new(
        key: impl Into<String>,
        operator: Operator,
        values: impl IntoIterator<Item = impl Into<String>>,
    ) -> Result<Self, ParseSelectorError> {
        let key = key.into();
        let mut values: Vec<String> = values.into_iter().map(Into::into).collect();
        values.sort();
        values.dedup();
        let req = Requirement {
            key,
            operator,
            values,
        };
        let input = req.to_string();
        req.validate().map_err(|kind| ParseSelectorError {
            input,
            position: 0,
            kind,
        })?;
        Ok(req)
    }

    fn validate(&self) -> Result<(), ParseSelectorErrorKind> {
        let reasons = validation::qualified_name(&self.key);
        if !reasons.is_empty() {
            return Err(ParseSelectorErrorKind::InvalidKey {
                key: self.key.clone(),
                reasons,
            });
        }
        let count_ok = match self.operator {
            Operator::In | Operator::NotIn => !self.values.is_empty(),
            Operator::Exists | Operator::DoesNotExist => self.values.is_empty(),
            _ => self.values.len() == 1,
        };
        if !count_ok {
            return Err(ParseSelectorErrorKind::Unexpected {
                found: format!("{} values", self.values.len()),
                expected: match self.operator {
                    Operator::In | Operator::NotIn => "at least one value".to_owned(),
                    Operator::Exists | Operator::DoesNotExist => "no values".to_owned(),
                    _ => "exactly one value".to_owned(),
                },
            });
        }
        for value in &self.values {
            let reasons = validation::label_value(value);
            if !reasons.is_empty() {
                return Err(ParseSelectorErrorKind::InvalidValue {
                    value: value.clone(),
                    reasons,
                });
            }
            if matches!(self.operator, Operator::GreaterThan | Operator::LessThan)
                && value.parse::<i64>().is_err()
            {
                return Err(ParseSelectorErrorKind::NotAnInteger {
                    value: value.clone(),
                });
            }
        }
        Ok(())
    }

    /// The label key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The operator.
    pub fn operator(&self) -> Operator {
        self.operator
    }

    /// The values, sorted.
    pub fn values(&self) -> &[String] {
        &self.values
    }

    /// Whether `labels` satisfy this requirement.
    pub fn matches<L: Labels + ?Sized>(&self, labels: &L) -> bool {
        let has = |v: &str| self.values.binary_search_by(|x| x.as_str().cmp(v)).is_ok();
        match self.operator {
            Operator::Equals | Operator::DoubleEquals | Operator::In => {
                labels.get(&self.key).is_some_and(has)
            }
            Operator::NotEquals | Operator::NotIn => !labels.get(&self.key).is_some_and(has),
            Operator::Exists => labels.get(&self.key).is_some(),
            Operator::DoesNotExist => labels.get(&self.key).is_none(),
            Operator::GreaterThan | Operator::LessThan => {
                let Some(actual) = labels.get(&self.key).and_then(|v| v.parse::<i64>().ok()) else {
                    return false;
                };
                let Some(bound) = self.values.first().and_then(|v| v.parse::<i64>().ok()) else {
                    return false;
                };
                if self.operator == Operator::GreaterThan {
                    actual > bound
                } else {
                    actual < bound
                }
            }
        }
    }
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.operator == Operator::DoesNotExist {
            f.write_str("!")?;
        }
        f.write_str(&self.key)?;
        let op = match self.operator {
            Operator::Exists | Operator::DoesNotExist => return Ok(()),
            Operator::Equals => "=",
            Operator::DoubleEquals => "==",
            Operator::NotEquals => "!=",
            Operator::GreaterThan => ">",
            Operator::LessThan => "<",
            Operator::In => " in ",
            Operator::NotIn => " notin ",
        };
        f.write_str(op)?;
        let set = matches!(self.operator, Operator::In | Operator::NotIn);
        if set {
            f.write_str("(")?;
        }
        f.write_str(&self.values.join(","))?;
        if set {
            f.write_str(")")?;
        }
        Ok(())
    }
}

/// A parsed label selector: requirements that must all hold. The empty selector
/// matches everything.
///
/// ```
/// use kubeforge_client::core::LabelSelector;
/// use std::collections::BTreeMap;
///
/// let sel: LabelSelector = "tier in (web, api), !canary, env!=prod".parse()?;
/// let labels = BTreeMap::from([("tier".to_owned(), "web".to_owned())]);
/// assert!(sel.matches(&labels));
/// // printed canonically: requirements sorted by key, set values sorted
/// assert_eq!(sel.to_string(), "!canary,env!=prod,tier in (api,web)");
/// # Ok::<(), kubeforge_client::core::ParseSelectorError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct LabelSelector {
    /// Sorted by key (stable), as apimachinery sorts them.
    requirements: Vec<Requirement>,
}

impl LabelSelector {
    /// The selector that matches everything.
    pub fn everything() -> Self {
        Self::default()
    }

    /// Builds a selector from requirements (sorted by key).
    pub fn from_requirements(requirements: impl IntoIterator<Item = Requirement>) -> Self {
        let mut requirements: Vec<Requirement> = requirements.into_iter().collect();
        requirements.sort_by(|a, b| a.key.cmp(&b.key));
        Self { requirements }
    }

    /// Parses a selector string.
    ///
    /// # Errors
    ///
    /// [`ParseSelectorError`] naming the position and what was expected there, or the
    /// invalid key or value.
    pub fn parse(input: &str) -> Result<Self, ParseSelectorError> {
        let tokens = lex(input);
        let mut parser = Parser {
            input,
            tokens,
            pos: 0,
        };
        let requirements = parser.parse()?;
        Ok(Self::from_requirements(requirements))
    }

    /// Whether the selector has no requirements (matches everything).
    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    /// The requirements, sorted by key.
    pub fn requirements(&self) -> &[Requirement] {
        &self.requirements
    }

    /// Whether `labels` satisfy every requirement.
    pub fn matches<L: Labels + ?Sized>(&self, labels: &L) -> bool {
        self.requirements.iter().all(|r| r.matches(labels))
    }

    /// The value `key` must equal, when a requirement pins it to exactly one value
    /// (`key=v`, `key==v`, `key in (v)`). Servers use it to pick an index.
    pub fn requires_exact_match(&self, key: &str) -> Option<&str> {
        self.requirements.iter().find_map(|r| {
            (r.key == key
                && matches!(
                    r.operator,
                    Operator::Equals | Operator::DoubleEquals | Operator::In
                )
                && r.values.len() == 1)
                .then(|| r.values[0].as_str())
        })
    }
}

impl FromStr for LabelSelector {
    type Err = ParseSelectorError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for LabelSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.requirements.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    /// An identifier; `in`/`notin` are identifiers too, and the parser decides from
    /// context whether they are keywords (they are only in operator position).
    Ident(String),
    Bang,
    Eq,
    DoubleEq,
    NotEq,
    Gt,
    Lt,
    Open,
    Close,
    Comma,
    End,
}

impl Tok {
    fn literal(&self) -> String {
        match self {
            Tok::Ident(s) => s.clone(),
            Tok::Bang => "!".into(),
            Tok::Eq => "=".into(),
            Tok::DoubleEq => "==".into(),
            Tok::NotEq => "!=".into(),
            Tok::Gt => ">".into(),
            Tok::Lt => "<".into(),
            Tok::Open => "(".into(),
            Tok::Close => ")".into(),
            Tok::Comma => ",".into(),
            Tok::End => "end of string".into(),
        }
    }
}

fn is_special(c: char) -> bool {
    matches!(c, '=' | '!' | '(' | ')' | ',' | '>' | '<')
}

/// Splits the input into tokens with their byte offsets; always ends with `End`.
fn lex(input: &str) -> Vec<(Tok, usize)> {
    let mut out = Vec::new();
    let mut chars = input.char_indices().peekable();
    while let Some(&(pos, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        if is_special(c) {
            chars.next();
            let next_is_eq = chars.peek().is_some_and(|&(_, n)| n == '=');
            let tok = match c {
                '!' if next_is_eq => {
                    chars.next();
                    Tok::NotEq
                }
                '!' => Tok::Bang,
                '=' if next_is_eq => {
                    chars.next();
                    Tok::DoubleEq
                }
                '=' => Tok::Eq,
                '(' => Tok::Open,
                ')' => Tok::Close,
                ',' => Tok::Comma,
                '>' => Tok::Gt,
                _ => Tok::Lt,
            };
            out.push((tok, pos));
            continue;
        }
        let start = pos;
        let mut end = input.len();
        while let Some(&(p, c)) = chars.peek() {
            if c.is_whitespace() || is_special(c) {
                end = p;
                break;
            }
            chars.next();
        }
        out.push((Tok::Ident(input[start..end].to_owned()), start));
    }
    out.push((Tok::End, input.len()));
    out
}

struct Parser<'a> {
    input: &'a str,
    tokens: Vec<(Tok, usize)>,
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> &Tok {
        &self.tokens[self.pos.min(self.tokens.len() - 1)].0
    }

    fn offset(&self) -> usize {
        self.tokens[self.pos.min(self.tokens.len() - 1)].1
    }

    fn next(&mut self) -> Tok {
        let tok = self.peek().clone();
        if self.pos < self.tokens.len() - 1 {
            self.pos += 1;
        }
        tok
    }

    fn error_at(&self, position: usize, kind: ParseSelectorErrorKind) -> ParseSelectorError {
        ParseSelectorError {
            input: self.input.to_owned(),
            position,
            kind,
        }
    }

    fn unexpected(&self, position: usize, found: &Tok, expected: &str) -> ParseSelectorError {
        self.error_at(
            position,
            ParseSelectorErrorKind::Unexpected {
                found: found.literal(),
                expected: expected.to_owned(),
            },
        )
    }

    fn parse(&mut self) -> Result<Vec<Requirement>, ParseSelectorError> {
        let mut reqs = Vec::new();
        loop {
            match self.peek() {
                Tok::End => return Ok(reqs),
                Tok::Ident(_) | Tok::Bang => {}
                other => {
                    return Err(self.unexpected(
                        self.offset(),
                        other,
                        "!, identifier, or 'end of string'",
                    ));
                }
            }
            reqs.push(self.requirement()?);
            let at = self.offset();
            match self.next() {
                Tok::End => return Ok(reqs),
                Tok::Comma => {
                    if !matches!(self.peek(), Tok::Ident(_) | Tok::Bang) {
                        return Err(self.unexpected(
                            self.offset(),
                            self.peek(),
                            "identifier after ','",
                        ));
                    }
                }
                other => return Err(self.unexpected(at, &other, "',' or 'end of string'")),
            }
        }
    }

    fn requirement(&mut self) -> Result<Requirement, ParseSelectorError> {
        let start = self.offset();
        let negated = *self.peek() == Tok::Bang;
        if negated {
            self.next();
        }
        let key_at = self.offset();
        let key = match self.next() {
            Tok::Ident(k) => k,
            other => return Err(self.unexpected(key_at, &other, "identifier")),
        };
        let unary = if negated {
            Some(Operator::DoesNotExist)
        } else if matches!(self.peek(), Tok::End | Tok::Comma) {
            Some(Operator::Exists)
        } else {
            None
        };
        let (operator, values) = match unary {
            Some(op) => (op, Vec::new()),
            None => {
                let op_at = self.offset();
                let op = match self.next() {
                    Tok::Ident(k) if k == "in" => Operator::In,
                    Tok::Ident(k) if k == "notin" => Operator::NotIn,
                    Tok::Eq => Operator::Equals,
                    Tok::DoubleEq => Operator::DoubleEquals,
                    Tok::NotEq => Operator::NotEquals,
                    Tok::Gt => Operator::GreaterThan,
                    Tok::Lt => Operator::LessThan,
                    other => {
                        return Err(self.unexpected(op_at, &other, "in, notin, =, ==, !=, gt, lt"));
                    }
                };
                let values = if matches!(op, Operator::In | Operator::NotIn) {
                    self.value_set()?
                } else {
                    self.exact_value()?
                };
                (op, values)
            }
        };
        let mut values = values;
        values.sort();
        values.dedup();
        let req = Requirement {
            key,
            operator,
            values,
        };
        req.validate().map_err(|kind| self.error_at(start, kind))?;
        Ok(req)
    }

    fn exact_value(&mut self) -> Result<Vec<String>, ParseSelectorError> {
        match self.peek() {
            Tok::End | Tok::Comma => Ok(vec![String::new()]),
            Tok::Ident(_) => match self.next() {
                Tok::Ident(v) => Ok(vec![v]),
                _ => unreachable!("peeked an identifier"),
            },
            other => Err(self.unexpected(self.offset(), other, "identifier")),
        }
    }

    fn value_set(&mut self) -> Result<Vec<String>, ParseSelectorError> {
        let at = self.offset();
        match self.next() {
            Tok::Open => {}
            other => return Err(self.unexpected(at, &other, "'('")),
        }
        let mut values = Vec::new();
        // `()` is the set holding the empty value; a comma next to another comma or a
        // parenthesis stands for an empty value too.
        let mut expect_value = true;
        loop {
            let at = self.offset();
            match self.next() {
                Tok::Close => {
                    if expect_value {
                        values.push(String::new());
                    }
                    return Ok(values);
                }
                Tok::Comma => {
                    if expect_value {
                        values.push(String::new());
                    }
                    expect_value = true;
                }
                Tok::Ident(v) if expect_value => {
                    values.push(v);
                    expect_value = false;
                    if !matches!(self.peek(), Tok::Comma | Tok::Close) {
                        return Err(self.unexpected(self.offset(), self.peek(), "',' or ')'"));
                    }
                }
                other => return Err(self.unexpected(at, &other, "',', ')' or identifier")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn parses_and_prints_canonically() {
        let cases: &[(&str, &str)] = &[
            // empty and blank selectors select everything
            ("", ""),
            ("   ", ""),
            // equality keeps the operator as written
            ("a=b", "a=b"),
            ("a==b", "a==b"),
            ("a != b", "a!=b"),
            // empty value
            ("a=", "a="),
            // existence
            ("a", "a"),
            ("!a", "!a"),
            (" ! a ", "!a"),
            // sets: sorted, de-duplicated, empty members kept
            ("a in (z,b,b)", "a in (b,z)"),
            ("a notin (x)", "a notin (x)"),
            ("a in ()", "a in ()"),
            ("a in (,x)", "a in (,x)"),
            ("a in (x,)", "a in (,x)"),
            // numeric comparisons
            ("a>5", "a>5"),
            ("a < 3", "a<3"),
            // requirements sorted by key
            ("z=1,a=2,m", "a=2,m,z=1"),
            // keywords are plain identifiers outside operator position
            ("in=notin", "in=notin"),
            ("a in (in,notin)", "a in (in,notin)"),
            // prefixed keys
            ("app.kubernetes.io/name=web", "app.kubernetes.io/name=web"),
        ];
        for (input, want) in cases {
            let sel = LabelSelector::parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
            assert_eq!(sel.to_string(), *want, "input {input:?}");
            assert_eq!(
                LabelSelector::parse(want).expect("reparse"),
                sel,
                "round trip of {want:?}"
            );
        }
    }

    #[test]
    fn errors_name_the_position() {
        let cases: &[(&str, usize, &str)] = &[
            // (input, position, substring of the message)
            ("a=b,", 4, "identifier after ','"),
            (",a", 0, "expected: !, identifier"),
            ("a in (b", 7, "found 'end of string', expected: ',' or ')'"),
            ("a in b", 5, "expected: '('"),
            ("a b", 2, "expected: in, notin"),
            ("a=b=c", 3, "expected: ',' or 'end of string'"),
            ("!a=b", 2, "expected: ',' or 'end of string'"),
            ("a=(", 2, "expected: identifier"),
            ("a>x", 0, "must be an integer"),
            ("-a=b", 0, "key: Invalid value"),
            ("a=b c", 4, "expected: ',' or 'end of string'"),
            ("a=-b", 0, "values[0]: Invalid value"),
            ("a in (b c)", 8, "expected: ',' or ')'"),
        ];
        for (input, position, msg) in cases {
            let err = LabelSelector::parse(input).expect_err(input);
            assert_eq!(err.position, *position, "position for {input:?}: {err}");
            assert!(
                err.to_string().contains(msg),
                "message for {input:?}: {err}"
            );
            assert_eq!(err.input, *input);
        }
    }

    #[test]
    fn matches_like_apimachinery() {
        let l = labels(&[("app", "web"), ("tier", "front"), ("n", "7"), ("empty", "")]);
        let cases: &[(&str, bool)] = &[
            ("", true),
            ("app=web", true),
            ("app==web", true),
            ("app=api", false),
            ("app!=api", true),
            ("missing!=x", true), // absent satisfies !=
            ("app in (api,web)", true),
            ("app notin (web)", false),
            ("missing notin (web)", true),
            ("app", true),
            ("missing", false),
            ("!missing", true),
            ("!app", false),
            ("n>5", true),
            ("n<5", false),
            ("app>1", false), // non-integer label never compares
            ("missing>1", false),
            ("empty=", true),
            ("empty in ()", true),
            ("app=web,tier=back", false),
        ];
        for (input, want) in cases {
            let sel = LabelSelector::parse(input).expect(input);
            assert_eq!(sel.matches(&l), *want, "selector {input:?}");
        }
    }

    #[test]
    fn exact_match_requirement_is_found() {
        let sel = LabelSelector::parse("a in (x), b=y, c in (1,2)").expect("parse");
        assert_eq!(sel.requires_exact_match("a"), Some("x"));
        assert_eq!(sel.requires_exact_match("b"), Some("y"));
        assert_eq!(sel.requires_exact_match("c"), None);
    }
}
