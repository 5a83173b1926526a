//! The masked copy of a `meta.yaml` that the YAML reader can load: the same bytes,
//! with Jinja replaced so it cannot break the YAML.

/// The recipe with Jinja masked, byte for byte the same length: expressions become `x`s
/// (a value), statements and comments blanks. Line breaks stay.
pub(super) fn mask(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = bytes.to_vec();
    let mut i = 0;
    while i + 1 < bytes.len() {
        let (close, fill): (&[u8], u8) = match (bytes.get(i), bytes.get(i + 1)) {
            (Some(b'{'), Some(b'{')) => (b"}}", b'x'),
            (Some(b'{'), Some(b'%')) => (b"%}", b' '),
            (Some(b'{'), Some(b'#')) => (b"#}", b' '),
            _ => {
                i += 1;
                continue;
            }
        };
        let end = find(bytes, close, i + 2).map_or_else(
            || {
                bytes
                    .iter()
                    .skip(i)
                    .position(|b| *b == b'\n')
                    .map_or(bytes.len(), |p| i + p)
            },
            |at| at + close.len(),
        );
        for byte in out.iter_mut().take(end).skip(i) {
            if *byte != b'\n' {
                *byte = fill;
            }
        }
        i = end;
    }
    // Only ASCII delimiters bound each masked range, so whole characters were replaced.
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| from + p)
}
