//! Independent work spread over the machine's cores: rule files are parsed one per task, and
//! the runtime recognises devices the same way. Results come back in the order of the input,
//! whichever thread computed them, so output stays deterministic.

use std::sync::atomic::{AtomicUsize, Ordering};

/// Maps `f` over `items` on up to as many threads as the machine has cores, each thread taking
/// `batch` items at a time. Every thread gets a state of its own from `init` (called on this
/// thread, so a state may be a handle that cannot be shared, such as a database snapshot).
/// Small inputs are mapped on this thread alone.
pub fn map_with<T, S, R>(
    items: &[T],
    batch: usize,
    mut init: impl FnMut() -> S,
    f: impl Fn(&mut S, &T) -> R + Sync,
) -> Vec<R>
where
    T: Sync,
    S: Send,
    R: Send,
{
    let batch = batch.max(1);
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(items.len().div_ceil(batch));
    if threads < 2 {
        let mut state = init();
        return items.iter().map(|item| f(&mut state, item)).collect();
    }
    let next = AtomicUsize::new(0);
    let mut parts: Vec<(usize, Vec<R>)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                let mut state = init();
                let (next, f) = (&next, &f);
                scope.spawn(move || {
                    let mut done = Vec::new();
                    loop {
                        let start = next.fetch_add(batch, Ordering::Relaxed);
                        let Some(rest) = items.get(start..).filter(|r| !r.is_empty()) else {
                            break;
                        };
                        let out = rest.iter().take(batch).map(|i| f(&mut state, i)).collect();
                        done.push((start, out));
                    }
                    done
                })
            })
            .collect();
        // A worker that panicked has lost its part; its panic is raised again here.
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    parts.sort_unstable_by_key(|(start, _)| *start);
    parts.into_iter().flat_map(|(_, out)| out).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_input_order() {
        let items: Vec<usize> = (0..1000).collect();
        let out = map_with(
            &items,
            7,
            || 0usize,
            |calls, i| {
                *calls += 1;
                i * 2
            },
        );
        assert_eq!(out, items.iter().map(|i| i * 2).collect::<Vec<_>>());
        assert!(map_with(&[] as &[u8], 4, || (), |_, b| *b).is_empty());
    }
}
