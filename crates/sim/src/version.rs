//! Release numbers (`major.minor[.patch]`) as the Atlassian emulators take them on
//! the command line. Each product keeps its own version type and feature gates;
//! this module owns only the dotted-number parsing they share.

/// Parses `s` (surrounding white space ignored) as up to three dot-separated
/// numbers, of which the first `required` must be present; a missing part is 0.
/// `None` when a part is not a number, too few parts are given or there are more
/// than three, so each caller can word the error for its own product.
pub(crate) fn parse_release(s: &str, required: usize) -> Option<(u32, u32, u32)> {
    let parts: Vec<&str> = s.trim().split('.').collect();
    if parts.len() < required || parts.len() > 3 {
        return None;
    }
    let number = |i: usize| parts.get(i).map_or(Some(0), |p| p.parse().ok());
    Some((number(0)?, number(1)?, number(2)?))
}

#[cfg(test)]
mod tests {
    use super::parse_release;

    #[test]
    fn releases_fill_missing_parts_with_zero_beyond_the_required_ones() {
        assert_eq!(parse_release(" 9.12.2 ", 1), Some((9, 12, 2)));
        assert_eq!(parse_release("9", 1), Some((9, 0, 0)));
        assert_eq!(parse_release("9", 2), None);
        assert_eq!(parse_release("9.2", 2), Some((9, 2, 0)));
        assert_eq!(parse_release("9.2.0.1", 1), None);
        assert_eq!(parse_release("nine", 1), None);
        assert_eq!(parse_release("", 1), None);
    }
}
