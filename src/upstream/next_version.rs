//! Candidate versions for raw-URL guessing: the bot's `next_version` (reference §4.2).
//!
//! A version is split at `.`, `_` and `-` (the separators are kept) and where digits turn
//! into letters (`1p1` → `1`, `p1`). From the rightmost numeric component leftwards, each
//! component is bumped by one and by two steps; after a bump every later numeric
//! component is reset to 0 and the part to its right is bumped again with one step fewer.
//! With `increment_alpha` a single-letter component counts as a digit in base 26 of its
//! own (`2020a` → `2020b`) and resets to `a`.
//!
//! This is candidate generation, not version comparison: the order is the guessing order.

/// Whether single-letter components are bumped too (`IncrementAlphaRawURL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlphaBump {
    /// Only numeric components change (`RawURL`).
    Digits,
    /// Single-letter components change too (`2020a` → `2020b`).
    Letters,
}

/// Steps each component is bumped by (the bot's `range(2)`).
const STEPS: u32 = 2;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    /// A run of digits, kept as text so leading zeros survive when untouched.
    Number(String),
    /// A single ASCII letter that may be bumped (only with [`AlphaBump::Letters`]).
    Letter(char),
    /// Anything else: separators, multi-letter words, `p1`.
    Text(String),
}

impl Part {
    fn bumpable(&self) -> bool {
        matches!(self, Part::Number(_) | Part::Letter(_))
    }

    fn bumped(&self, steps: u32) -> Option<Part> {
        match self {
            Part::Number(n) => {
                let value: u128 = n.parse().ok()?;
                Some(Part::Number((value + u128::from(steps)).to_string()))
            }
            Part::Letter(c) => {
                let next = u32::from(*c) + steps;
                let limit = if c.is_ascii_lowercase() { 'z' } else { 'Z' };
                char::from_u32(next)
                    .filter(|n| *n <= limit)
                    .map(Part::Letter)
            }
            Part::Text(_) => None,
        }
    }

    fn reset(&self) -> Part {
        match self {
            Part::Number(_) => Part::Number("0".to_string()),
            Part::Letter(c) if c.is_ascii_lowercase() => Part::Letter('a'),
            Part::Letter(_) => Part::Letter('A'),
            Part::Text(t) => Part::Text(t.clone()),
        }
    }
}

/// Every candidate after `version`, in the bot's order (`8.1.5` gives 12, `10.8.1-10` 20).
pub fn next_versions(version: &str, alpha: AlphaBump) -> Vec<String> {
    let parts = split(version, alpha);
    let mut out = Vec::new();
    bump_from(&parts, 0, STEPS, &mut out);
    out
}

/// Bumps each bumpable part at index ≥ `first`, right to left, by 1..=`steps`.
fn bump_from(parts: &[Part], first: usize, steps: u32, out: &mut Vec<String>) {
    if steps == 0 {
        return;
    }
    for k in (first..parts.len()).rev() {
        let Some(part) = parts.get(k).filter(|p| p.bumpable()) else {
            continue;
        };
        for step in 1..=steps {
            let Some(bumped) = part.bumped(step) else {
                break;
            };
            let mut next: Vec<Part> = parts.to_vec();
            for (i, p) in next.iter_mut().enumerate() {
                if i == k {
                    *p = bumped.clone();
                } else if i > k {
                    *p = p.reset();
                }
            }
            out.push(join(&next));
            bump_from(&next, k + 1, steps - 1, out);
        }
    }
}

fn join(parts: &[Part]) -> String {
    let mut s = String::new();
    for part in parts {
        match part {
            Part::Number(n) | Part::Text(n) => s.push_str(n),
            Part::Letter(c) => s.push(*c),
        }
    }
    s
}

/// Splits at `.`, `_`, `-` (kept as text parts) and where digits turn into letters.
fn split(version: &str, alpha: AlphaBump) -> Vec<Part> {
    let mut parts = Vec::new();
    for piece in version.split_inclusive(['.', '_', '-']) {
        let (body, sep) = match piece.char_indices().last() {
            Some((i, c)) if matches!(c, '.' | '_' | '-') => (&piece[..i], Some(c)),
            _ => (piece, None),
        };
        split_body(body, alpha, &mut parts);
        if let Some(sep) = sep {
            parts.push(Part::Text(sep.to_string()));
        }
    }
    parts
}

/// One separator-free piece: a leading digit run, then the rest as one part.
fn split_body(body: &str, alpha: AlphaBump, parts: &mut Vec<Part>) {
    let digits = body.bytes().take_while(u8::is_ascii_digit).count();
    let (number, rest) = body.split_at(digits);
    if !number.is_empty() {
        parts.push(Part::Number(number.to_string()));
    }
    if rest.is_empty() {
        return;
    }
    let mut chars = rest.chars();
    match (chars.next(), chars.next(), alpha) {
        (Some(c), None, AlphaBump::Letters) if c.is_ascii_alphabetic() => {
            parts.push(Part::Letter(c));
        }
        _ => parts.push(Part::Text(rest.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digits(v: &str) -> Vec<String> {
        next_versions(v, AlphaBump::Digits)
    }

    #[test]
    fn three_numeric_components_give_the_reference_sequence() {
        assert_eq!(
            digits("8.1.5"),
            [
                "8.1.6", "8.1.7", "8.2.0", "8.2.1", "8.3.0", "8.3.1", "9.0.0", "9.0.1", "9.1.0",
                "10.0.0", "10.0.1", "10.1.0"
            ]
        );
    }

    #[test]
    fn a_letter_suffix_is_kept_and_not_bumped() {
        assert_eq!(
            digits("8.1p1"),
            ["8.2p1", "8.3p1", "9.0p1", "9.1p1", "10.0p1", "10.1p1"]
        );
    }

    #[test]
    fn underscore_and_dash_separators_are_preserved() {
        assert_eq!(digits("8_1")[..3], ["8_2", "8_3", "9_0"]);
        assert_eq!(digits("1-2")[..3], ["1-3", "1-4", "2-0"]);
    }

    #[test]
    fn four_components_with_mixed_separators_give_twenty_candidates() {
        for v in ["10.8.1-10", "10-8.1_10", "10.8.1.10", "10_8_1_10"] {
            let got = digits(v);
            assert_eq!(got.len(), 20, "{v}: {got:?}");
        }
        let got = digits("10.8.1-10");
        assert_eq!(got[0], "10.8.1-11");
        assert_eq!(got[2], "10.8.2-0");
        assert!(got.contains(&"12.1.0-0".to_string()));
        let got = digits("10-8.1_10");
        assert_eq!(got[0], "10-8.1_11");
        assert_eq!(got.last().map(String::as_str), Some("12-1.0_0"));
    }

    #[test]
    fn increment_alpha_bumps_a_trailing_letter() {
        assert_eq!(
            next_versions("2020a", AlphaBump::Letters),
            ["2020b", "2020c", "2021a", "2021b", "2022a", "2022b"]
        );
        let got = next_versions("1.1.1a", AlphaBump::Letters);
        assert_eq!(got[..4], ["1.1.1b", "1.1.1c", "1.1.2a", "1.1.2b"]);
    }

    #[test]
    fn without_increment_alpha_a_trailing_letter_stays() {
        assert_eq!(digits("2020a"), ["2021a", "2022a"]);
    }

    #[test]
    fn a_letter_at_z_is_not_bumped_past_the_alphabet() {
        let got = next_versions("2020z", AlphaBump::Letters);
        assert_eq!(got, ["2021a", "2021b", "2022a", "2022b"]);
    }

    #[test]
    fn leading_zeros_of_untouched_components_survive() {
        assert_eq!(digits("2024.01.5")[0], "2024.01.6");
    }

    #[test]
    fn a_version_without_digits_has_no_candidates() {
        assert!(digits("latest").is_empty());
    }
}
