//! Subject keys: hashed once, carried inline, interned into dense indices.
//!
//! Every connection, report row, manual interval and registered user names a subject by a
//! string that lives somewhere on the heap. Reading those strings again in random order (to
//! compare them in a hash table) would cost a cache miss each, which dominated the engine's
//! time at scale. So a key is hashed once, in input order, with std's keyed `RandomState`
//! (crafted display names cannot force collisions), and keys of up to [`INLINE`] bytes (user
//! ids, UUIDs, most emails) are copied next to their hash. Interning then compares inline
//! bytes only; longer keys are compared in place.

use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hash, Hasher, RandomState};

/// Longest key stored inline: a UUID fits.
const INLINE: usize = 8 * WORDS;
/// Inline keys are kept as little-endian words, so that they are built and moved with whole
/// word loads and stores (no byte copies for the CPU to forward).
const WORDS: usize = 5;

/// A subject key: a namespace and a string, inline when short enough.
///
/// The representation is canonical (a string of at most [`INLINE`] bytes is always inline), so
/// derived equality is that of the `(namespace, string)` pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Key<'a> {
    /// A short key, copied.
    Inline {
        /// Namespace.
        namespace: u8,
        /// Length of the string.
        length: u8,
        /// The string's bytes, zero padded, as little-endian words.
        words: [u64; WORDS],
    },
    /// A long key, borrowed.
    Borrowed {
        /// Namespace.
        namespace: u8,
        /// The string.
        text: &'a str,
    },
}

impl<'a> Key<'a> {
    fn new(namespace: u8, text: &'a str) -> Self {
        match u8::try_from(text.len()) {
            Ok(length) if text.len() <= INLINE => Key::Inline {
                namespace,
                length,
                words: words_of(text, false),
            },
            _ => Key::Borrowed { namespace, text },
        }
    }

    /// The key's place in string order.
    pub(crate) fn sort_key(&self) -> SortKey<'a> {
        match *self {
            Key::Inline { length, words, .. } => SortKey {
                prefix: words.map(u64::swap_bytes),
                length: usize::from(length),
                long: None,
            },
            Key::Borrowed { text, .. } => SortKey {
                prefix: words_of(text, true),
                length: text.len(),
                long: Some(text),
            },
        }
    }

    /// The string, read from the inline copy when there is one. (Inline bytes were copied
    /// from a `str`, so the lossy conversion never loses anything.)
    pub(crate) fn text(&self) -> Cow<'a, str> {
        match *self {
            Key::Inline { length, words, .. } => {
                let mut bytes = [0; INLINE];
                for (chunk, word) in bytes.chunks_mut(8).zip(words) {
                    chunk.copy_from_slice(&word.to_le_bytes());
                }
                let length = usize::from(length).min(INLINE);
                Cow::Owned(String::from_utf8_lossy(&bytes[..length]).into_owned())
            }
            Key::Borrowed { text, .. } => Cow::Borrowed(text),
        }
    }
}

/// Orders keys like their strings, comparing inline words first so that sorting reads no
/// scattered string (long keys with equal 40-byte prefixes are compared in place).
#[derive(Clone, Copy, Debug)]
pub(crate) struct SortKey<'a> {
    /// The first bytes, big-endian, zero padded.
    prefix: [u64; WORDS],
    /// Length of the string.
    length: usize,
    /// The string, if longer than [`INLINE`].
    long: Option<&'a str>,
}

impl PartialEq for SortKey<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}

impl Eq for SortKey<'_> {}

impl PartialOrd for SortKey<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for SortKey<'_> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        // Equal prefixes: a shorter string is a prefix of the longer one, so it comes first;
        // two long strings are compared in full.
        self.prefix
            .cmp(&other.prefix)
            .then_with(|| match (self.long, other.long) {
                (Some(a), Some(b)) => a.cmp(b),
                _ => self.length.cmp(&other.length),
            })
    }
}

/// The first `8 * WORDS` bytes of `text` as words, zero padded, little- or big-endian.
/// Whole words are loaded as such; a last partial word is assembled in registers (copying it
/// through a stack buffer made the CPU stall on the store-to-load forwarding).
fn words_of(text: &str, big_endian: bool) -> [u64; WORDS] {
    let mut words = [0; WORDS];
    for (word, chunk) in words.iter_mut().zip(text.as_bytes().chunks(8)) {
        *word = match <[u8; 8]>::try_from(chunk) {
            Ok(bytes) if big_endian => u64::from_be_bytes(bytes),
            Ok(bytes) => u64::from_le_bytes(bytes),
            Err(_) if big_endian => {
                let packed = chunk
                    .iter()
                    .fold(0_u64, |word, &byte| (word << 8) | u64::from(byte));
                // 1 to 7 bytes: shift them to the top, as a big-endian load would place them.
                packed << (8 * (8 - chunk.len().clamp(1, 7)))
            }
            Err(_) => chunk
                .iter()
                .rev()
                .fold(0_u64, |word, &byte| (word << 8) | u64::from(byte)),
        };
    }
    words
}

/// A key with its hash.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Hashed<'a> {
    /// The keyed hash of `(namespace, string)`.
    pub(crate) hash: u64,
    /// The key.
    pub(crate) key: Key<'a>,
}

impl PartialEq for Hashed<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.hash == other.hash && self.key == other.key
    }
}

impl Eq for Hashed<'_> {}

impl Hash for Hashed<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

/// Hashes keys; one per computation, so that all keys of it are comparable.
pub(crate) struct Keys(RandomState);

impl Keys {
    /// A hasher with fresh random keys.
    pub(crate) fn new() -> Self {
        Self(RandomState::new())
    }

    /// `text` in `namespace`, hashed.
    pub(crate) fn key<'a>(&self, namespace: u8, text: &'a str) -> Hashed<'a> {
        Hashed {
            hash: self.0.hash_one((namespace, text)),
            key: Key::new(namespace, text),
        }
    }
}

/// Passes the precomputed hash through.
#[derive(Default)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // `Hashed` only calls `write_u64`; fold anything else rather than lose it.
        for &byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(byte);
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }
}

/// Interns keys into dense indices `0, 1, 2, …` in first-seen order.
#[derive(Default)]
pub(crate) struct Interner<'a> {
    table: HashMap<Hashed<'a>, u32, BuildHasherDefault<PassThrough>>,
}

impl<'a> Interner<'a> {
    /// Forgets every key, keeping the memory.
    pub(crate) fn clear(&mut self) {
        self.table.clear();
    }

    /// The index of `key`, and whether it was interned just now.
    pub(crate) fn intern(&mut self, key: Hashed<'a>) -> (u32, bool) {
        let next = u32::try_from(self.table.len()).unwrap_or(u32::MAX);
        let index = *self.table.entry(key).or_insert(next);
        (index, index == next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dense_indices_per_namespace() {
        let keys = Keys::new();
        let mut interner = Interner::default();
        assert_eq!(interner.intern(keys.key(0, "a")), (0, true));
        assert_eq!(interner.intern(keys.key(1, "a")), (1, true));
        assert_eq!(interner.intern(keys.key(0, "b")), (2, true));
        assert_eq!(interner.intern(keys.key(0, "a")), (0, false));
        assert_eq!(interner.intern(keys.key(1, "a")), (1, false));
        assert_eq!(interner.intern(keys.key(0, "")), (3, true));
        assert_eq!(interner.intern(keys.key(0, "")), (3, false));
        interner.clear();
        assert_eq!(interner.intern(keys.key(0, "b")), (0, true));
    }

    #[test]
    fn long_and_short_keys_and_their_boundary() {
        let keys = Keys::new();
        let long = "x".repeat(INLINE + 1);
        let edge = "y".repeat(INLINE);
        let (long_again, edge_again) = (long.clone(), edge.clone());
        let mut interner = Interner::default();
        assert_eq!(interner.intern(keys.key(0, &long)), (0, true));
        assert_eq!(interner.intern(keys.key(0, &edge)), (1, true));
        assert_eq!(interner.intern(keys.key(0, &long_again)), (0, false));
        assert_eq!(interner.intern(keys.key(0, &edge_again)), (1, false));
        assert_eq!(interner.intern(keys.key(0, &long[..INLINE])), (2, true));
        assert_eq!(interner.intern(keys.key(0, "a\0")), (3, true));
        assert_eq!(interner.intern(keys.key(0, "a")), (4, true));
        assert_eq!(keys.key(0, &long).key.text(), long.as_str());
        assert_eq!(keys.key(0, "é").key.text(), "é");
    }

    #[test]
    fn sort_keys_order_like_strings() {
        let keys = Keys::new();
        let long = "m".repeat(INLINE + 5);
        let mut texts = vec![
            "", "a", "a\0", "a\0b", "ab", "b", "é", "user-10", "user-9", "zz", &long,
        ];
        let longer = format!("{long}a");
        let prefix = long[..INLINE].to_owned();
        texts.push(&longer);
        texts.push(&prefix);
        let mut by_key = texts.clone();
        by_key.sort_by_key(|text| keys.key(0, text).key.sort_key());
        texts.sort_unstable();
        assert_eq!(by_key, texts);
    }

    #[test]
    fn keys_stay_small() {
        assert!(std::mem::size_of::<Key<'_>>() <= 48);
    }

    #[test]
    fn colliding_hashes_are_told_apart() {
        let keys = Keys::new();
        let mut interner = Interner::default();
        let mut a = keys.key(0, "a");
        let mut b = keys.key(0, "b");
        a.hash = 7;
        b.hash = 7;
        assert_eq!(interner.intern(a), (0, true));
        assert_eq!(interner.intern(b), (1, true));
        assert_eq!(interner.intern(a), (0, false));
        assert_eq!(interner.intern(b), (1, false));
    }
}
