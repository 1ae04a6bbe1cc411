//! What reads compute from the records, kept while the store's generation is unchanged.
//!
//! Providers ask for the pacts to verify, and consumers whether they can deploy, far
//! more often than anyone publishes: each answer is a function of the records alone, so
//! one computed at generation `g` is still the answer while the store is at `g`. Every
//! change of a record moves the generation in the change's own transaction (by any
//! replica), so an answer is never served after a write that returned.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard};

/// Answers of one kind by question, all of one generation, within a total weight (what
/// an answer holds: rows, pacts, versions), so that memory stays bounded whatever is asked.
pub(crate) struct Memo<K, V> {
    capacity: usize,
    state: Mutex<State<K, V>>,
}

struct State<K, V> {
    generation: i64,
    weight: usize,
    entries: HashMap<K, (Arc<V>, usize)>,
}

impl<K: Hash + Eq, V> Memo<K, V> {
    /// A memo holding at most `capacity` weight; 0 keeps nothing.
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            capacity,
            state: Mutex::new(State {
                generation: i64::MIN,
                weight: 0,
                entries: HashMap::new(),
            }),
        }
    }

    fn state(&self) -> MutexGuard<'_, State<K, V>> {
        // The state is consistent after every statement: a panic elsewhere cannot leave
        // it half-changed.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The answer to `key` computed at `generation`, if kept.
    pub(crate) fn get(&self, generation: i64, key: &K) -> Option<Arc<V>> {
        let state = self.state();
        if state.generation != generation {
            return None;
        }
        state.entries.get(key).map(|(v, _)| v.clone())
    }

    /// Keeps `value`, computed from the records at `generation`. An answer from an older
    /// generation than the one kept is dropped; a newer one drops everything kept. One
    /// heavier than a quarter of the capacity is not kept (it would push out the rest).
    pub(crate) fn put(&self, generation: i64, key: K, value: Arc<V>, weight: usize) {
        let weight = weight.max(1);
        if weight > self.capacity / 4 {
            return;
        }
        let mut state = self.state();
        if generation < state.generation {
            return;
        }
        if generation > state.generation {
            state.generation = generation;
            state.weight = 0;
            state.entries.clear();
        }
        if let Some((_, old)) = state.entries.remove(&key) {
            state.weight -= old;
        }
        // Room is made by dropping whichever answers the map yields first: questions repeat
        // across builds, and a dropped answer is only computed again.
        let excess = (state.weight + weight).saturating_sub(self.capacity);
        if excess > 0 {
            let mut freed = 0;
            state.entries.retain(|_, (_, w)| {
                let keep = freed >= excess;
                if !keep {
                    freed += *w;
                }
                keep
            });
            state.weight -= freed;
        }
        state.weight += weight;
        state.entries.insert(key, (value, weight));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_is_kept_for_its_generation_only() {
        let memo = Memo::new(100);
        memo.put(7, "q", Arc::new(1), 1);
        assert_eq!(memo.get(7, &"q").as_deref(), Some(&1));
        assert!(
            memo.get(8, &"q").is_none(),
            "a newer generation never sees it"
        );
        // An answer computed before a write that another request has already seen is
        // not kept over the newer one.
        memo.put(9, "q", Arc::new(2), 1);
        memo.put(8, "q", Arc::new(3), 1);
        assert_eq!(memo.get(9, &"q").as_deref(), Some(&2));
        assert!(memo.get(8, &"q").is_none());
    }

    #[test]
    fn the_weight_stays_within_the_capacity() {
        let memo = Memo::new(100);
        for i in 0..1000 {
            memo.put(1, i, Arc::new(i), 10);
            let state = memo.state();
            assert!(state.weight <= 100, "weight {} after {i}", state.weight);
            assert_eq!(
                state.weight,
                state.entries.values().map(|(_, w)| w).sum::<usize>()
            );
        }
        assert_eq!(
            memo.get(1, &999).as_deref(),
            Some(&999),
            "the newest is kept"
        );
        memo.put(1, 5000, Arc::new(0), 26);
        assert!(
            memo.get(1, &5000).is_none(),
            "over a quarter of the capacity: not kept"
        );
        let off = Memo::new(0);
        off.put(1, 1, Arc::new(1), 1);
        assert!(off.get(1, &1).is_none(), "capacity 0 keeps nothing");
    }
}
