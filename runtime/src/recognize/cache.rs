//! A bounded, thread-safe memo of what each distinct evidence row matches.
//!
//! Estates repeat themselves: millions of rows hold a few tens of thousands of distinct
//! (publisher, name, version) triples. Which rules a row matches depends only on the row's
//! fields and the pack, so the answer for one row serves every row with the same fields. The
//! memo is keyed by the row's raw fields (kind, publisher, name, version, details), the shared
//! texts by address, so a lookup reads little more than the row itself; it is
//! sharded so that threads recognising different devices rarely wait for one another, and a
//! shard that fills up is emptied, so memory stays bounded whatever the estate. Recognition is
//! still a pure function of the evidence and the pack: the memo only saves work.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::sync::{Arc, Mutex};

use crate::estate::{Evidence, EvidenceField, EvidenceKind, text_address};

/// How many shards the memo has (a power of two).
const SHARDS: usize = 16;
/// How many rows the memo holds at most, over all shards.
const CAPACITY: usize = 1 << 18;

/// The fields of a row that matching reads. The shared texts are held (so they stay alive)
/// and compared by address: rows imported together share each distinct text, so two rows
/// with the same fields almost always point at the same texts, and a row that does not (built
/// elsewhere) only misses the memo, never gets another row's answer.
#[derive(Debug)]
struct Key {
    kind: EvidenceKind,
    publisher: Arc<str>,
    name: Arc<str>,
    version: Arc<str>,
    details: Box<[(EvidenceField, Arc<str>)]>,
}

impl Key {
    fn new(e: &Evidence) -> Self {
        Self {
            kind: e.kind,
            publisher: Arc::clone(&e.publisher),
            name: Arc::clone(&e.name),
            version: Arc::clone(&e.version),
            details: e.details.iter().map(|(f, v)| (*f, Arc::clone(v))).collect(),
        }
    }

    fn is(&self, e: &Evidence) -> bool {
        self.kind == e.kind
            && Arc::ptr_eq(&self.publisher, &e.publisher)
            && Arc::ptr_eq(&self.version, &e.version)
            && Arc::ptr_eq(&self.name, &e.name)
            && self.details.len() == e.details.len()
            && self
                .details
                .iter()
                .zip(&e.details)
                .all(|((f, v), (g, w))| f == g && Arc::ptr_eq(v, w))
    }
}

/// The hash of a row's key fields.
fn hash(e: &Evidence) -> u64 {
    let mut h = FastHasher(0);
    e.kind.hash(&mut h);
    h.write_usize(text_address(&e.publisher));
    h.write_usize(text_address(&e.version));
    h.write_usize(text_address(&e.name));
    for (field, value) in &e.details {
        field.hash(&mut h);
        h.write_usize(text_address(value));
    }
    h.finish()
}

/// A fast, non-cryptographic hash (word-at-a-time multiply–rotate, finished with a 64-bit
/// mix so every bit depends on every input bit). The memo is private and its keys are
/// compared in full, so a collision costs a comparison, never a wrong answer.
struct FastHasher(u64);

impl FastHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let mut word = [0u8; 8];
        let rest = chunks.remainder();
        if let Some(head) = word.get_mut(..rest.len()) {
            head.copy_from_slice(rest);
        }
        self.add(u64::from_le_bytes(word) ^ ((rest.len() as u64) << 56));
    }

    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    fn finish(&self) -> u64 {
        let mut z = self.0;
        z = (z ^ (z >> 33)).wrapping_mul(0xff51_afd7_ed55_8ccd);
        z = (z ^ (z >> 33)).wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        z ^ (z >> 33)
    }
}

/// Passes on a hash already computed: the memo's keys are [`hash`]es, which need no second
/// hashing.
#[derive(Default)]
struct Prehashed(u64);

impl Hasher for Prehashed {
    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is used; anything else is folded in rather than lost.
        for byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*byte);
        }
    }

    fn write_u64(&mut self, i: u64) {
        self.0 = i;
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A remembered row and what it matches.
struct Entry<T> {
    key: Key,
    found: Box<[T]>,
}

/// Rows seen before, by the hash of their fields. Of two rows whose hashes collide only the
/// first is remembered: the other is matched each time (a cost, never a wrong answer).
type Shard<T> = HashMap<u64, Entry<T>, BuildHasherDefault<Prehashed>>;

/// The memo. Clones start empty, and any two memos compare equal: it holds nothing that
/// recognition's results depend on.
pub(super) struct MatchCache<T> {
    shards: [Mutex<Shard<T>>; SHARDS],
}

impl<T> Default for MatchCache<T> {
    fn default() -> Self {
        Self {
            shards: std::array::from_fn(|_| Mutex::default()),
        }
    }
}

impl<T: Copy> MatchCache<T> {
    /// Appends what `e` matches to `out`: from the memo, or from `compute` (then remembered).
    /// The items are copied rather than shared, so threads reading the same popular rows do
    /// not contend for a reference count.
    pub(super) fn extend_matching(
        &self,
        e: &Evidence,
        compute: impl FnOnce() -> Vec<T>,
        out: &mut Vec<T>,
    ) {
        let h = hash(e);
        // The middle bits pick the shard; the table uses the low bits and the top seven.
        let Some(shard) = self.shards.get((h >> 32) as usize % SHARDS) else {
            out.extend(compute());
            return;
        };
        if let Ok(shard) = shard.lock()
            && let Some(entry) = shard.get(&h).filter(|entry| entry.key.is(e))
        {
            out.extend_from_slice(&entry.found);
            return;
        }
        // Matching runs without the lock, so other threads go on meanwhile.
        let found = compute();
        out.extend_from_slice(&found);
        if let Ok(mut shard) = shard.lock() {
            if shard.len() >= CAPACITY / SHARDS {
                shard.clear();
            }
            shard.entry(h).or_insert_with(|| Entry {
                key: Key::new(e),
                found: found.into(),
            });
        }
    }
}

impl<T> Clone for MatchCache<T> {
    fn clone(&self) -> Self {
        Self::default()
    }
}

impl<T> PartialEq for MatchCache<T> {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl<T> Eq for MatchCache<T> {}

impl<T> std::fmt::Debug for MatchCache<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MatchCache")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: String, version: &str) -> Evidence {
        Evidence::from_fields(
            EvidenceKind::Installer,
            [
                (EvidenceField::Publisher, "Acme, Inc."),
                (EvidenceField::Name, name.as_str()),
                (EvidenceField::Version, version),
            ],
        )
    }

    #[test]
    fn distinct_rows_hash_apart_and_are_remembered() {
        let rows: Vec<Evidence> = (0..10_000)
            .map(|i| {
                row(
                    format!("Product {i}"),
                    if i % 2 == 0 { "1.0" } else { "2.0" },
                )
            })
            .collect();
        let hashes: std::collections::HashSet<u64> = rows.iter().map(hash).collect();
        assert_eq!(hashes.len(), rows.len());
        let cache = MatchCache::<usize>::default();
        let (mut first, mut again) = (Vec::new(), Vec::new());
        if let Some(r) = rows.first() {
            cache.extend_matching(r, || vec![1, 2], &mut first);
            cache.extend_matching(r, || vec![3], &mut again);
        }
        assert_eq!(first, [1, 2]);
        assert_eq!(again, [1, 2]);
    }
}
