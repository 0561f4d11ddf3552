//! Runs a closure over many items on a fixed number of threads, the way a crowd of phones
//! syncs: each thread takes the next item as soon as it is free.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// `f(index, item)` for every item on `threads` threads; results come back in item order.
pub fn run_parallel<T, R, F>(threads: usize, items: Vec<T>, f: F) -> Vec<R>
where
    T: Send,
    R: Send,
    F: Fn(usize, T) -> R + Sync,
{
    let count = items.len();
    let slots: Vec<Mutex<Option<T>>> = items.into_iter().map(|t| Mutex::new(Some(t))).collect();
    let results: Vec<Mutex<Option<R>>> = (0..count).map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..threads.clamp(1, count.max(1)) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= count {
                        break;
                    }
                    let item = take(&slots[i]).expect("each item is taken once");
                    let result = f(i, item);
                    *results[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(result);
                }
            });
        }
    });
    results
        .into_iter()
        .map(|slot| {
            slot.into_inner()
                .unwrap_or_else(|e| e.into_inner())
                .expect("every item produced a result")
        })
        .collect()
}

fn take<T>(slot: &Mutex<Option<T>>) -> Option<T> {
    slot.lock().unwrap_or_else(|e| e.into_inner()).take()
}

#[cfg(test)]
mod tests {
    #[test]
    fn keeps_item_order() {
        let out = super::run_parallel(3, (0..100).collect(), |i, x: u32| (i, x * 2));
        assert!(
            out.iter()
                .enumerate()
                .all(|(i, &(j, y))| i == j && y == 2 * i as u32)
        );
        assert!(super::run_parallel(4, Vec::<u8>::new(), |_, x| x).is_empty());
    }
}
