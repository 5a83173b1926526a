//! Incremental digests of the kinds a recipe can name.

use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};

use crate::recipe::HashKind;

/// A digest fed chunk by chunk, so a download is hashed as it streams and never held in
/// memory whole.
#[derive(Debug, Clone)]
pub enum StreamDigest {
    /// MD5.
    Md5(Md5),
    /// SHA-1.
    Sha1(Sha1),
    /// SHA-256.
    Sha256(Sha256),
    /// SHA-512.
    Sha512(Sha512),
}

impl StreamDigest {
    /// A fresh digest of the given kind.
    pub fn new(kind: HashKind) -> StreamDigest {
        match kind {
            HashKind::Md5 => StreamDigest::Md5(Md5::new()),
            HashKind::Sha1 => StreamDigest::Sha1(Sha1::new()),
            HashKind::Sha256 => StreamDigest::Sha256(Sha256::new()),
            HashKind::Sha512 => StreamDigest::Sha512(Sha512::new()),
        }
    }

    /// Feeds the next chunk.
    pub fn update(&mut self, chunk: &[u8]) {
        match self {
            StreamDigest::Md5(d) => d.update(chunk),
            StreamDigest::Sha1(d) => d.update(chunk),
            StreamDigest::Sha256(d) => d.update(chunk),
            StreamDigest::Sha512(d) => d.update(chunk),
        }
    }

    /// The lowercase hex digest.
    pub fn finish(self) -> String {
        match self {
            StreamDigest::Md5(d) => hex::encode(d.finalize()),
            StreamDigest::Sha1(d) => hex::encode(d.finalize()),
            StreamDigest::Sha256(d) => hex::encode(d.finalize()),
            StreamDigest::Sha512(d) => hex::encode(d.finalize()),
        }
    }

    /// The digest of a whole byte string.
    pub fn of(kind: HashKind, bytes: &[u8]) -> String {
        let mut digest = StreamDigest::new(kind);
        digest.update(bytes);
        digest.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_of_a_known_string_match_their_published_values() {
        let abc = b"abc";
        assert_eq!(
            StreamDigest::of(HashKind::Md5, abc),
            "900150983cd24fb0d6963f7d28e17f72"
        );
        assert_eq!(
            StreamDigest::of(HashKind::Sha1, abc),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(
            StreamDigest::of(HashKind::Sha256, abc),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(StreamDigest::of(HashKind::Sha512, abc).starts_with("ddaf35a193617aba"));
    }

    #[test]
    fn chunked_and_whole_digests_agree() {
        let mut d = StreamDigest::new(HashKind::Sha256);
        d.update(b"ab");
        d.update(b"c");
        assert_eq!(d.finish(), StreamDigest::of(HashKind::Sha256, b"abc"));
    }
}
