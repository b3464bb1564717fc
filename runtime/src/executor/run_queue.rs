//! A core's local run queue: a FIFO linked through the tasks themselves (`Task::next`).
//!
//! Pushing and popping move one pointer each: no allocation, no index arithmetic, and no user
//! code, so a wake that arrives while the queue is being changed (from a destructor, say)
//! cannot find it half-changed.

use super::task::Task;
use std::cell::Cell;
use std::sync::Arc;

/// # Invariant
/// Every task linked here was pushed by this core, on its thread, holds one `Arc` count that
/// the queue owns (from `Arc::into_raw`), and is linked at most once: a task is pushed only
/// when its `scheduled` flag goes up, and it stays up until the task is popped and polled.
/// `tail` is null exactly when `head` is.
pub(crate) struct RunQueue {
    head: Cell<*const Task>,
    tail: Cell<*const Task>,
}

impl RunQueue {
    pub(crate) fn new() -> RunQueue {
        RunQueue {
            head: Cell::new(std::ptr::null()),
            tail: Cell::new(std::ptr::null()),
        }
    }

    /// Queues `task` last.
    #[inline]
    pub(crate) fn push(&self, task: Arc<Task>) {
        let task = Arc::into_raw(task);
        // SAFETY: `task` is a live task (the count just taken), and its `next` is touched only
        // by this queue, on this thread (the task invariant).
        unsafe { (*task).next.set(std::ptr::null()) };
        let tail = self.tail.replace(task);
        debug_assert!(!std::ptr::eq(tail, task), "a task was queued twice");
        if tail.is_null() {
            self.head.set(task);
        } else {
            // SAFETY: a linked task is alive (the queue holds a count on it).
            unsafe { (*tail).next.set(task) };
        }
    }

    /// Takes the first task.
    #[inline]
    pub(crate) fn pop(&self) -> Option<Arc<Task>> {
        let head = self.head.get();
        if head.is_null() {
            return None;
        }
        // SAFETY: a linked task is alive, and its `next` is this queue's.
        let next = unsafe { (*head).next.get() };
        self.head.set(next);
        if next.is_null() {
            self.tail.set(std::ptr::null());
        }
        // SAFETY: the count the queue took in `push` is handed back once, now that it is
        // unlinked.
        Some(unsafe { Arc::from_raw(head) })
    }

    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.head.get().is_null()
    }
}

impl Drop for RunQueue {
    fn drop(&mut self) {
        while let Some(task) = self.pop() {
            drop(task);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RunQueue;
    use crate::executor::shared::Shared;
    use crate::executor::task::Task;
    use crate::reactor::unpark::Unparker;
    use std::sync::Arc;

    #[test]
    fn first_in_first_out_and_counts_given_back() {
        let shared = Shared::new(0, Arc::new(Unparker::new().expect("eventfd")));
        let tasks: Vec<_> = (0..3)
            .map(|_| Task::new(shared.clone(), Box::pin(async {})))
            .collect();
        let q = RunQueue::new();
        assert!(q.is_empty());
        for t in &tasks {
            q.push(t.clone());
        }
        assert!(Arc::ptr_eq(&q.pop().unwrap(), &tasks[0]));
        q.push(tasks[0].clone());
        for i in [1, 2, 0] {
            assert!(Arc::ptr_eq(&q.pop().unwrap(), &tasks[i]));
        }
        assert!(q.pop().is_none() && q.is_empty());
        q.push(tasks[1].clone());
        drop(q);
        assert!(tasks.iter().all(|t| Arc::strong_count(t) == 1));
    }
}
