//! Syntax rules for names, label keys and label values (DNS-1123 labels and
//! subdomains, qualified names). Each check returns every problem it finds as a
//! message, empty when the input is valid; callers wrap them into
//! [`FieldError`](super::FieldError)s or selector errors.
//!
//! The messages say what upstream's say, so clients that show them to people read the
//! same text from either server.

const DNS1123_LABEL_MAX: usize = 63;
const DNS1123_SUBDOMAIN_MAX: usize = 253;
const QUALIFIED_NAME_MAX: usize = 63;
const LABEL_VALUE_MAX: usize = 63;

fn is_lower_alnum(c: u8) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

/// `[a-z0-9]([-a-z0-9]*[a-z0-9])?`
fn dns1123_label_syntax(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && is_lower_alnum(b[0])
        && is_lower_alnum(b[b.len() - 1])
        && b.iter().all(|&c| is_lower_alnum(c) || c == b'-')
}

/// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`
fn qualified_name_part_syntax(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter()
            .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

/// Problems with `s` as an RFC 1123 label (namespace names, most `metadata.name`s of
/// kinds that become DNS labels).
pub fn dns1123_label(s: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if s.len() > DNS1123_LABEL_MAX {
        errs.push(format!(
            "must be no more than {DNS1123_LABEL_MAX} characters"
        ));
    }
    if !dns1123_label_syntax(s) {
        errs.push(
            "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', \
             and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', \
             regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
                .to_owned(),
        );
    }
    errs
}

/// Problems with `s` as an RFC 1123 subdomain (most object names).
pub fn dns1123_subdomain(s: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if s.len() > DNS1123_SUBDOMAIN_MAX {
        errs.push(format!(
            "must be no more than {DNS1123_SUBDOMAIN_MAX} characters"
        ));
    }
    if s.is_empty() || !s.split('.').all(dns1123_label_syntax) {
        errs.push(
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' \
             or '.', and must start and end with an alphanumeric character (e.g. 'example.com', \
             regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
                .to_owned(),
        );
    }
    errs
}

/// Problems with `s` as a qualified name: `[prefix/]name`, where the optional prefix is
/// a DNS subdomain and the name at most 63 characters of `[-A-Za-z0-9_.]` beginning
/// and ending alphanumeric. Label keys, annotation keys and finalizers are qualified
/// names.
pub fn qualified_name(s: &str) -> Vec<String> {
    let mut errs = Vec::new();
    let (prefix, name) = match s.split_once('/') {
        None => (None, s),
        Some((p, n)) if !n.contains('/') => (Some(p), n),
        Some(_) => {
            errs.push(
                "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must \
                 start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or \
                 '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') \
                 with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
                    .to_owned(),
            );
            return errs;
        }
    };
    if let Some(prefix) = prefix {
        if prefix.is_empty() {
            errs.push("prefix part must be non-empty".to_owned());
        } else {
            errs.extend(
                dns1123_subdomain(prefix)
                    .into_iter()
                    .map(|m| format!("prefix part {m}")),
            );
        }
    }
    if name.is_empty() {
        errs.push("name part must be non-empty".to_owned());
    } else {
        if name.len() > QUALIFIED_NAME_MAX {
            errs.push(format!(
                "name part must be no more than {QUALIFIED_NAME_MAX} characters"
            ));
        }
        if !qualified_name_part_syntax(name) {
            errs.push(
                "name part must consist of alphanumeric characters, '-', '_' or '.', and must start \
                 and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', \
                 regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
                    .to_owned(),
            );
        }
    }
    errs
}

/// Problems with `s` as a label value: empty, or at most 63 characters of
/// `[-A-Za-z0-9_.]` beginning and ending alphanumeric.
pub fn label_value(s: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if s.len() > LABEL_VALUE_MAX {
        errs.push(format!("must be no more than {LABEL_VALUE_MAX} characters"));
    }
    if !s.is_empty() && !qualified_name_part_syntax(s) {
        errs.push(
            "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' \
             or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or \
             'my_value',  or '12345', regex used for validation is \
             '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
                .to_owned(),
        );
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_names() {
        let cases: &[(&str, bool, bool)] = &[
            // (input, valid label, valid subdomain)
            ("a", true, true),
            ("my-name", true, true),
            ("123-abc", true, true),
            ("example.com", false, true),
            ("Upper", false, false),
            ("-lead", false, false),
            ("trail-", false, false),
            ("a..b", false, false),
            ("", false, false),
            ("under_score", false, false),
        ];
        for &(s, label, subdomain) in cases {
            assert_eq!(dns1123_label(s).is_empty(), label, "label {s:?}");
            assert_eq!(
                dns1123_subdomain(s).is_empty(),
                subdomain,
                "subdomain {s:?}"
            );
        }
        assert!(!dns1123_label(&"a".repeat(64)).is_empty());
        assert!(dns1123_subdomain(&"a".repeat(63)).is_empty());
        assert!(!dns1123_subdomain(&format!("{}.{}", "a".repeat(200), "b".repeat(60))).is_empty());
    }

    #[test]
    fn qualified_names_and_label_values() {
        let cases: &[(&str, bool)] = &[
            ("app", true),
            ("App.Name_1", true),
            ("example.com/app", true),
            ("kubernetes.io/metadata.name", true),
            ("Example.com/app", false), // prefix must be a lowercase subdomain
            ("/app", false),
            ("example.com/", false),
            ("a/b/c", false),
            ("-app", false),
            ("", false),
        ];
        for &(s, ok) in cases {
            assert_eq!(qualified_name(s).is_empty(), ok, "qualified name {s:?}");
        }
        assert!(qualified_name(&"a".repeat(64)).len() == 1);
        for (s, ok) in [
            ("", true),
            ("v1.2_3-x", true),
            ("a b", false),
            ("-x", false),
        ] {
            assert_eq!(label_value(s).is_empty(), ok, "label value {s:?}");
        }
        assert!(!label_value(&"a".repeat(64)).is_empty());
    }
}
