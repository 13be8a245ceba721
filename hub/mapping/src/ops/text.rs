//! String functions: trim, pad, case, substring, split, regex replace.

use regex::Regex;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Left,
    Right,
}

pub fn pad(s: &str, width: usize, ch: char, side: Side) -> String {
    let len = s.chars().count();
    if len >= width {
        return s.to_string();
    }
    let fill: String = std::iter::repeat_n(ch, width - len).collect();
    match side {
        Side::Left => fill + s,
        Side::Right => s.to_string() + &fill,
    }
}

/// Characters `start..start+len` (counted in characters; out of range yields what exists).
pub fn substring(s: &str, start: usize, len: Option<usize>) -> String {
    let it = s.chars().skip(start);
    match len {
        Some(n) => it.take(n).collect(),
        None => it.collect(),
    }
}

/// Part `index` of `s` split by `sep`; negative indexes count from the end.
pub fn split(s: &str, sep: &str, index: i64) -> Option<String> {
    let parts: Vec<&str> = s.split(sep).collect();
    let i = if index < 0 {
        parts.len() as i64 + index
    } else {
        index
    };
    usize::try_from(i)
        .ok()
        .and_then(|i| parts.get(i))
        .map(|p| p.to_string())
}

pub fn replace(s: &str, re: &Regex, with: &str) -> String {
    re.replace_all(s, with).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_functions() {
        assert_eq!(pad("42", 5, '0', Side::Left), "00042");
        assert_eq!(pad("ab", 4, ' ', Side::Right), "ab  ");
        assert_eq!(pad("abcdef", 3, '0', Side::Left), "abcdef");
        assert_eq!(substring("żółw-123", 2, Some(3)), "łw-");
        assert_eq!(substring("abc", 5, None), "");
        assert_eq!(split("a|b|c", "|", -1).as_deref(), Some("c"));
        assert_eq!(split("a|b|c", "|", 3), None);
        let re = Regex::new(r"\s+").unwrap();
        assert_eq!(replace("a  b \t c", &re, " "), "a b c");
    }
}
