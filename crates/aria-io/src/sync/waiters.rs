//! The waiter queue shared by every primitive that parks tasks: [`WaitList`].
//!
//! A `WaitList` is a FIFO of waiters kept in a slab: each node holds the waiter's [`Waker`] and a
//! primitive-specific value (how many permits it still needs, which notification it got), and
//! links to its neighbours by slab index. Enqueue, dequeue and removal from the middle are
//! O(1), and no `unsafe` is involved: the list lives inside the primitive's mutex and a waiting
//! future refers to its node by [`WaiterKey`].
//!
//! # Protocol
//!
//! Every user follows the same rules, which are what makes their futures cancellation-safe:
//!
//! 1. **The future owns its node.** It inserts the node ([`WaitList::push_back`]) on its first
//!    `Pending` poll and is the only one that ever frees it ([`WaitList::remove`]), either when
//!    it completes or in its `Drop`. A key therefore never dangles nor gets reused under a
//!    future that still holds it.
//! 2. **The waker side only unlinks.** Whoever grants something (permits, a notification)
//!    writes the grant into the node's value, *unlinks* it ([`WaitList::pop_front`],
//!    [`WaitList::drain`]) and takes its waker, all under the primitive's lock, then wakes it
//!    after unlocking ([`WakeList`]). An unlinked node is how the future learns it was chosen.
//! 3. **A dropped future hands back what it was granted.** In `Drop`, under the lock, the future
//!    removes its node and reads the value: a semaphore waiter returns the permits already
//!    assigned to it, a `Notify` waiter picked by `notify_one` passes the notification on.
//!    Nothing granted to a waiter is lost because the waiter went away.
//!
//! Wakers are never called with a lock held: a waker may run arbitrary executor code, which
//! could come back into the same primitive.

use std::fmt;
use std::task::Waker;

use slab::Slab;

/// Names one node of a [`WaitList`]; held by the future that inserted the node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WaiterKey(usize);

/// A FIFO of waiters with O(1) push, pop and removal. See the [module docs](self).
pub(crate) struct WaitList<T> {
    nodes: Slab<Node<T>>,
    head: Option<usize>,
    tail: Option<usize>,
    linked: usize,
}

struct Node<T> {
    /// `Some` while the node is queued; unlinked nodes stay in the slab until their owner
    /// removes them.
    links: Option<Links>,
    waker: Option<Waker>,
    value: T,
}

#[derive(Clone, Copy)]
struct Links {
    prev: Option<usize>,
    next: Option<usize>,
}

impl<T> WaitList<T> {
    /// An empty list; allocates nothing until the first push.
    pub(crate) const fn new() -> WaitList<T> {
        WaitList { nodes: Slab::new(), head: None, tail: None, linked: 0 }
    }

    /// How many waiters are queued.
    pub(crate) fn len(&self) -> usize {
        self.linked
    }

    /// Queues a waiter at the back and returns its key. `waker` may be `None` for a waiter that
    /// is registered before it is first polled.
    pub(crate) fn push_back(&mut self, value: T, waker: Option<&Waker>) -> WaiterKey {
        let links = Links { prev: self.tail, next: None };
        let key = self.nodes.insert(Node { links: Some(links), waker: waker.cloned(), value });
        match self.tail {
            Some(tail) => self.links_mut(tail).next = Some(key),
            None => self.head = Some(key),
        }
        self.tail = Some(key);
        self.linked += 1;
        WaiterKey(key)
    }

    /// The key of the first queued waiter.
    pub(crate) fn front(&self) -> Option<WaiterKey> {
        self.head.map(WaiterKey)
    }

    /// Unlinks the first queued waiter and returns its key; its node stays until its owner
    /// removes it.
    pub(crate) fn pop_front(&mut self) -> Option<WaiterKey> {
        let key = self.front()?;
        self.unlink(key);
        Some(key)
    }

    /// Unlinks every queued waiter, front to back, letting `grant` write into each node and
    /// collecting their wakers.
    pub(crate) fn drain(&mut self, wakers: &mut WakeList, mut grant: impl FnMut(&mut T)) {
        while let Some(key) = self.pop_front() {
            grant(self.value_mut(key));
            wakers.extend(self.take_waker(key));
        }
    }

    /// Whether the waiter is still queued, i.e. nobody has picked it yet.
    pub(crate) fn is_queued(&self, key: WaiterKey) -> bool {
        self.nodes[key.0].links.is_some()
    }

    /// The waiter's value, mutably.
    pub(crate) fn value_mut(&mut self, key: WaiterKey) -> &mut T {
        &mut self.nodes[key.0].value
    }

    /// Stores `waker` for the waiter unless the stored one would wake the same task.
    pub(crate) fn register(&mut self, key: WaiterKey, waker: &Waker) {
        let slot = &mut self.nodes[key.0].waker;
        match slot {
            Some(w) if w.will_wake(waker) => {}
            _ => *slot = Some(waker.clone()),
        }
    }

    /// Takes the waiter's waker, to be woken once the lock is released.
    pub(crate) fn take_waker(&mut self, key: WaiterKey) -> Option<Waker> {
        self.nodes[key.0].waker.take()
    }

    /// Frees the waiter's node (unlinking it first if still queued) and returns its value.
    ///
    /// # Panics
    /// If `key` was already removed: only the future that pushed a node may remove it.
    pub(crate) fn remove(&mut self, key: WaiterKey) -> T {
        self.unlink(key);
        let value = self.nodes.remove(key.0).value;
        if self.nodes.is_empty() && self.nodes.capacity() > 64 {
            // Lets a list that briefly held many waiters give the memory back.
            self.nodes.shrink_to_fit();
        }
        value
    }

    fn unlink(&mut self, key: WaiterKey) {
        let Some(links) = self.nodes[key.0].links.take() else { return };
        match links.prev {
            Some(prev) => self.links_mut(prev).next = links.next,
            None => self.head = links.next,
        }
        match links.next {
            Some(next) => self.links_mut(next).prev = links.prev,
            None => self.tail = links.prev,
        }
        self.linked -= 1;
    }

    fn links_mut(&mut self, key: usize) -> &mut Links {
        match &mut self.nodes[key].links {
            Some(links) => links,
            None => unreachable!("a queued node links to an unlinked one"),
        }
    }
}

impl<T> fmt::Debug for WaitList<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitList").field("queued", &self.linked).field("nodes", &self.nodes.len()).finish()
    }
}

/// Wakers collected under a lock, to be woken after it is released.
#[derive(Debug, Default)]
pub(crate) struct WakeList {
    wakers: Vec<Waker>,
}

impl WakeList {
    /// An empty list; allocates nothing until the first push.
    pub(crate) const fn new() -> WakeList {
        WakeList { wakers: Vec::new() }
    }

    /// Wakes every collected waker. Call only with no lock held.
    pub(crate) fn wake_all(self) {
        for waker in self.wakers {
            waker.wake();
        }
    }
}

impl Extend<Waker> for WakeList {
    fn extend<I: IntoIterator<Item = Waker>>(&mut self, iter: I) {
        self.wakers.extend(iter);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn queued<T: Copy>(list: &WaitList<T>) -> Vec<T> {
        let mut out = Vec::new();
        let mut cur = list.head;
        while let Some(k) = cur {
            out.push(list.nodes[k].value);
            cur = list.nodes[k].links.and_then(|l| l.next);
        }
        out
    }

    #[test]
    fn waiters_leave_in_fifo_order() {
        let mut list = WaitList::new();
        let keys: Vec<_> = (0..4).map(|i| list.push_back(i, None)).collect();
        assert_eq!(queued(&list), [0, 1, 2, 3]);
        assert_eq!(list.pop_front(), Some(keys[0]));
        assert!(!list.is_queued(keys[0]));
        assert_eq!(list.remove(keys[0]), 0);
        assert_eq!(list.pop_front(), Some(keys[1]));
        assert_eq!(list.len(), 2);
    }

    #[test]
    fn removing_from_the_middle_keeps_the_order() {
        let mut list = WaitList::new();
        let keys: Vec<_> = (0..5).map(|i| list.push_back(i, None)).collect();
        assert_eq!(list.remove(keys[2]), 2);
        assert_eq!(list.remove(keys[4]), 4);
        assert_eq!(list.remove(keys[0]), 0);
        assert_eq!(queued(&list), [1, 3]);
        let k = list.push_back(9, None);
        assert_eq!(queued(&list), [1, 3, 9]);
        list.remove(keys[1]);
        list.remove(keys[3]);
        list.remove(k);
        assert_eq!(list.len(), 0);
        assert_eq!(list.nodes.len(), 0);
    }

    #[test]
    fn drain_grants_every_queued_waiter_and_collects_wakers() {
        let mut list = WaitList::new();
        let a = list.push_back(0, Some(Waker::noop()));
        let b = list.push_back(0, None);
        let mut wakers = WakeList::new();
        list.drain(&mut wakers, |v| *v = 7);
        assert_eq!(list.len(), 0);
        assert_eq!(wakers.wakers.len(), 1);
        assert_eq!((*list.value_mut(a), *list.value_mut(b)), (7, 7));
        wakers.wake_all();
    }
}
