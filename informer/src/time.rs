//! The two timestamp formats of the Kubernetes API, as this crate writes them.

/// `metav1.MicroTime`: RFC 3339 in UTC with exactly six fractional digits.
pub(crate) fn micro_time(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// `metav1.Time`: RFC 3339 in UTC, whole seconds.
pub(crate) fn time(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn micro_time_has_six_fractional_digits_in_utc() {
        let t: jiff::Timestamp = "2024-03-05T07:08:09.123Z".parse().expect("timestamp");
        assert_eq!(micro_time(t), "2024-03-05T07:08:09.123000Z");
        assert_eq!(time(t), "2024-03-05T07:08:09Z");
        let whole: jiff::Timestamp = "2024-03-05T07:08:09Z".parse().expect("timestamp");
        assert_eq!(micro_time(whole), "2024-03-05T07:08:09.000000Z");
    }

    #[test]
    fn micro_time_truncates_to_microseconds() {
        let ts: jiff::Timestamp = "2024-06-01T12:34:56.123456789Z".parse().expect("parses");
        assert_eq!(micro_time(ts), "2024-06-01T12:34:56.123456Z");
        let whole: jiff::Timestamp = "2024-06-01T12:34:56Z".parse().expect("parses");
        assert_eq!(micro_time(whole), "2024-06-01T12:34:56.000000Z");
    }
}
