//! `JobScheduler`: a priority queue of keyed, deduplicated, cancellable jobs on a rayon pool.

use std::any::Any;
use std::cmp::Ordering as CmpOrdering;
use std::collections::{BinaryHeap, HashMap};
use std::fmt::Display;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crossbeam_channel::{Receiver, SendTimeoutError, Sender, bounded};

use super::cancel::CancelToken;
use super::context::JobContext;
use super::event::{JobEvent, JobEventKind, JobOutcome};
use super::handle::JobHandle;

/// Default capacity of the event channel.
pub const EVENT_CAPACITY: usize = 1024;
/// How long a result send waits on a full channel before checking for shutdown again.
const SEND_RETRY: Duration = Duration::from_millis(20);

/// How urgent a job is; higher runs first, equal priorities run in submission order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Priority(pub i32);

impl Priority {
    /// Work nobody is looking at (prefetch, the rest of the bin).
    pub const BACKGROUND: Self = Self(0);
    /// An item visible on screen.
    pub const VISIBLE: Self = Self(100);
    /// The item under the playhead or selected: first.
    pub const FOCUS: Self = Self(200);
}

/// Errors of the scheduler itself (jobs report theirs as `JobOutcome::Failed`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JobError {
    /// The worker thread pool could not be created.
    #[error("cannot start job worker threads: {0}")]
    ThreadPool(String),
}

/// Whether a job waits for a worker or runs on one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStatus {
    /// In the queue.
    Queued,
    /// On a worker.
    Running,
}

type Work<T> = Box<dyn FnOnce(&JobContext) -> Result<T, String> + Send>;

/// One job the scheduler knows about.
struct Entry<T> {
    key: String,
    priority: Priority,
    /// Bumped on each reprioritisation; older queue items of this job are stale.
    version: u64,
    token: CancelToken,
    /// `Some` while queued, taken when a worker starts it.
    work: Option<Work<T>>,
    /// One per attached handle.
    waiters: Vec<Sender<JobOutcome<T>>>,
}

/// A queue position; the heap may hold stale ones, skipped when popped.
#[derive(Debug, PartialEq, Eq)]
struct Queued {
    priority: Priority,
    seq: u64,
    id: u64,
    version: u64,
}

impl Ord for Queued {
    fn cmp(&self, other: &Self) -> CmpOrdering {
        // Max-heap: higher priority first, then the earlier submission.
        self.priority
            .cmp(&other.priority)
            .then_with(|| other.seq.cmp(&self.seq))
    }
}

impl PartialOrd for Queued {
    fn partial_cmp(&self, other: &Self) -> Option<CmpOrdering> {
        Some(self.cmp(other))
    }
}

struct State<T> {
    heap: BinaryHeap<Queued>,
    jobs: HashMap<u64, Entry<T>>,
    /// The live (not cancelled) job of each key, for deduplication.
    by_key: HashMap<String, u64>,
    next_id: u64,
    next_seq: u64,
}

type Waker = Arc<dyn Fn() + Send + Sync>;

/// State shared by the scheduler, its workers and its handles.
pub(crate) struct Shared<T> {
    state: Mutex<State<T>>,
    /// `Some` once someone subscribed to events.
    events: Mutex<Option<Sender<JobEvent<T>>>>,
    waker: Mutex<Option<Waker>>,
    shutdown: AtomicBool,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_owned()
    }
}

impl<T: Clone + Send + 'static> Shared<T> {
    /// Sends an event to the subscriber, if any. Progress is dropped when the channel is full;
    /// results wait for room, but give up when the scheduler shuts down or nobody listens.
    fn emit(&self, key: &str, kind: JobEventKind<T>) {
        let Some(tx) = lock(&self.events).clone() else {
            return;
        };
        let droppable = matches!(
            kind,
            JobEventKind::Progress(_) | JobEventKind::Partial(_) | JobEventKind::Started
        );
        let mut event = JobEvent {
            key: key.to_owned(),
            kind,
        };
        if droppable || self.shutdown.load(Ordering::Relaxed) {
            let _ = tx.try_send(event);
        } else {
            loop {
                match tx.send_timeout(event, SEND_RETRY) {
                    Ok(()) | Err(SendTimeoutError::Disconnected(_)) => break,
                    Err(SendTimeoutError::Timeout(back)) => {
                        if self.shutdown.load(Ordering::Relaxed) {
                            break;
                        }
                        event = back;
                    }
                }
            }
        }
        self.wake();
    }

    fn wake(&self) {
        let waker = lock(&self.waker).clone();
        if let Some(waker) = waker {
            waker();
        }
    }

    /// Tells every waiter and the subscriber how a job ended.
    fn finish(&self, key: &str, waiters: Vec<Sender<JobOutcome<T>>>, outcome: JobOutcome<T>) {
        for waiter in waiters {
            // Capacity 1 and one message: never blocks; a dropped handle is fine.
            let _ = waiter.try_send(outcome.clone());
        }
        self.emit(key, outcome.into());
    }

    /// Removes a job that has not started yet (it was cancelled) and reports it.
    pub(crate) fn drop_if_queued(&self, id: u64) {
        let removed = {
            let mut state = lock(&self.state);
            match state.jobs.get(&id) {
                Some(entry) if entry.work.is_some() => {
                    let entry = state.jobs.remove(&id);
                    if let Some(entry) = &entry
                        && state.by_key.get(&entry.key) == Some(&id)
                    {
                        state.by_key.remove(&entry.key);
                    }
                    entry
                }
                _ => None,
            }
        };
        if let Some(entry) = removed {
            self.finish(&entry.key, entry.waiters, JobOutcome::Cancelled);
        }
    }

    /// Runs the most urgent queued job, if any. One call is spawned per submitted job, so
    /// there are always at least as many calls pending as jobs queued.
    fn run_next(self: &Arc<Self>) {
        let mut cancelled = Vec::new();
        let next = {
            let mut state = lock(&self.state);
            loop {
                let Some(item) = state.heap.pop() else {
                    break None;
                };
                let Some(entry) = state.jobs.get_mut(&item.id) else {
                    continue;
                };
                if entry.version != item.version || entry.work.is_none() {
                    continue;
                }
                if entry.token.is_cancelled() {
                    if let Some(entry) = state.jobs.remove(&item.id) {
                        if state.by_key.get(&entry.key) == Some(&item.id) {
                            state.by_key.remove(&entry.key);
                        }
                        cancelled.push(entry);
                    }
                    continue;
                }
                if let Some(work) = entry.work.take() {
                    break Some((item.id, entry.key.clone(), entry.token.clone(), work));
                }
            }
        };
        for entry in cancelled {
            self.finish(&entry.key, entry.waiters, JobOutcome::Cancelled);
        }
        let Some((id, key, token, work)) = next else {
            return;
        };
        self.emit(&key, JobEventKind::Started);
        let weak = Arc::downgrade(self);
        let progress_key = key.clone();
        let partial_weak = Arc::downgrade(self);
        let partial_key = key.clone();
        let ctx = JobContext::new(
            key.clone(),
            token.clone(),
            Arc::new(move |progress| {
                if let Some(shared) = weak.upgrade() {
                    shared.emit(&progress_key, JobEventKind::Progress(progress));
                }
            }),
        )
        .with_partial(Arc::new(move |value: Box<dyn std::any::Any + Send>| {
            if let (Some(shared), Ok(value)) = (partial_weak.upgrade(), value.downcast::<T>()) {
                shared.emit(&partial_key, JobEventKind::Partial(*value));
            }
        }));
        let outcome = match catch_unwind(AssertUnwindSafe(|| work(&ctx))) {
            Ok(Ok(value)) => JobOutcome::Finished(value),
            Ok(Err(_)) if token.is_cancelled() => JobOutcome::Cancelled,
            Ok(Err(message)) => JobOutcome::Failed(message),
            Err(payload) => {
                JobOutcome::Failed(format!("job panicked: {}", panic_message(payload.as_ref())))
            }
        };
        let waiters = {
            let mut state = lock(&self.state);
            if state.by_key.get(&key) == Some(&id) {
                state.by_key.remove(&key);
            }
            state
                .jobs
                .remove(&id)
                .map(|e| e.waiters)
                .unwrap_or_default()
        };
        self.finish(&key, waiters, outcome);
    }
}

/// Runs keyed jobs on a dedicated rayon pool, most urgent first.
///
/// The GUI submits analysis jobs, calls [`JobScheduler::events`] once and drains that channel
/// every frame (with [`JobScheduler::set_waker`] set to `ctx.request_repaint()`); the CLI waits
/// on the returned [`JobHandle`]s. Jobs with the same key are deduplicated. Dropping the
/// scheduler cancels everything and returns at once; running jobs stop at their next token
/// check.
pub struct JobScheduler<T> {
    shared: Arc<Shared<T>>,
    /// Kept so `events` can hand out clones.
    events_rx: Mutex<Option<Receiver<JobEvent<T>>>>,
    event_capacity: usize,
    pool: rayon::ThreadPool,
}

impl<T> std::fmt::Debug for JobScheduler<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobScheduler")
            .field("threads", &self.pool.current_num_threads())
            .finish_non_exhaustive()
    }
}

impl<T: Clone + Send + 'static> JobScheduler<T> {
    /// A scheduler with `threads` workers (0: one per available core).
    pub fn new(threads: usize) -> Result<Self, JobError> {
        Self::with_event_capacity(threads, EVENT_CAPACITY)
    }

    /// As [`JobScheduler::new`], with the event channel bounded to `capacity` events.
    pub fn with_event_capacity(threads: usize, capacity: usize) -> Result<Self, JobError> {
        let threads = if threads == 0 {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        } else {
            threads
        };
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("beatcut-job-{i}"))
            .panic_handler(|payload| {
                tracing::error!("job worker panicked: {}", panic_message(payload.as_ref()));
            })
            .build()
            .map_err(|e| JobError::ThreadPool(e.to_string()))?;
        Ok(Self {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    heap: BinaryHeap::new(),
                    jobs: HashMap::new(),
                    by_key: HashMap::new(),
                    next_id: 0,
                    next_seq: 0,
                }),
                events: Mutex::new(None),
                waker: Mutex::new(None),
                shutdown: AtomicBool::new(false),
            }),
            events_rx: Mutex::new(None),
            event_capacity: capacity.max(1),
            pool,
        })
    }

    /// The event channel: `Started`, `Progress`, and one terminal event per job. Events are
    /// sent only once this was called (so a CLI using handles alone never fills it); every
    /// call returns a receiver of the same channel.
    pub fn events(&self) -> Receiver<JobEvent<T>> {
        let mut rx = lock(&self.events_rx);
        if let Some(rx) = rx.as_ref() {
            return rx.clone();
        }
        let (tx, new_rx) = bounded(self.event_capacity);
        *lock(&self.shared.events) = Some(tx);
        *rx = Some(new_rx.clone());
        new_rx
    }

    /// Called after every event is sent, e.g. `move || ctx.request_repaint()`.
    pub fn set_waker(&self, waker: impl Fn() + Send + Sync + 'static) {
        *lock(&self.shared.waker) = Some(Arc::new(waker));
    }

    /// Worker threads.
    pub fn threads(&self) -> usize {
        self.pool.current_num_threads()
    }

    /// Queues `job` under `key`. If a job with this key is queued or running (and not
    /// cancelled), no new job is made: the handle attaches to it, and its priority is raised
    /// to `priority` if that is higher. A cancelled job of the same key is superseded.
    ///
    /// The job gets a [`JobContext`]; its error `E` becomes `JobOutcome::Failed(e.to_string())`,
    /// or `Cancelled` if the token was cancelled by then.
    pub fn submit<E, F>(&self, key: impl Into<String>, priority: Priority, job: F) -> JobHandle<T>
    where
        E: Display,
        F: FnOnce(&JobContext) -> Result<T, E> + Send + 'static,
    {
        let key = key.into();
        let (tx, rx) = bounded(1);
        let mut state = lock(&self.shared.state);
        let existing = state.by_key.get(&key).copied();
        if let Some(id) = existing {
            let next_seq = state.next_seq;
            if let Some(entry) = state.jobs.get_mut(&id)
                && !entry.token.is_cancelled()
            {
                entry.waiters.push(tx);
                let token = entry.token.clone();
                let requeue = entry.work.is_some() && priority > entry.priority;
                if requeue {
                    entry.priority = priority;
                    entry.version += 1;
                    let version = entry.version;
                    state.next_seq += 1;
                    state.heap.push(Queued {
                        priority,
                        seq: next_seq,
                        id,
                        version,
                    });
                }
                return self.handle(key, id, token, rx);
            }
        }
        let id = state.next_id;
        state.next_id += 1;
        let seq = state.next_seq;
        state.next_seq += 1;
        let token = CancelToken::new();
        let work: Work<T> = Box::new(move |ctx| job(ctx).map_err(|e| e.to_string()));
        state.jobs.insert(
            id,
            Entry {
                key: key.clone(),
                priority,
                version: 0,
                token: token.clone(),
                work: Some(work),
                waiters: vec![tx],
            },
        );
        state.by_key.insert(key.clone(), id);
        state.heap.push(Queued {
            priority,
            seq,
            id,
            version: 0,
        });
        drop(state);
        let shared = self.shared.clone();
        self.pool.spawn(move || shared.run_next());
        self.handle(key, id, token, rx)
    }

    fn handle(
        &self,
        key: String,
        id: u64,
        token: CancelToken,
        outcome: Receiver<JobOutcome<T>>,
    ) -> JobHandle<T> {
        JobHandle {
            key,
            id,
            token,
            outcome,
            shared: Arc::downgrade(&self.shared),
        }
    }

    /// Changes the priority of the queued job `key` (e.g. it scrolled into view). Returns
    /// false if no such job is queued (unknown, running or done).
    pub fn reprioritise(&self, key: &str, priority: Priority) -> bool {
        let mut state = lock(&self.shared.state);
        let Some(id) = state.by_key.get(key).copied() else {
            return false;
        };
        let seq = state.next_seq;
        let Some(entry) = state.jobs.get_mut(&id) else {
            return false;
        };
        if entry.work.is_none() {
            return false;
        }
        entry.priority = priority;
        entry.version += 1;
        let version = entry.version;
        state.next_seq += 1;
        state.heap.push(Queued {
            priority,
            seq,
            id,
            version,
        });
        true
    }

    /// Cancels the job `key` if there is one: dropped if queued, asked to stop if running.
    pub fn cancel(&self, key: &str) {
        let found = {
            let state = lock(&self.shared.state);
            state
                .by_key
                .get(key)
                .and_then(|id| state.jobs.get(id).map(|e| (*id, e.token.clone())))
        };
        if let Some((id, token)) = found {
            token.cancel();
            self.shared.drop_if_queued(id);
        }
    }

    /// Cancels every job.
    pub fn cancel_all(&self) {
        let (queued, running): (Vec<Entry<T>>, Vec<CancelToken>) = {
            let mut state = lock(&self.shared.state);
            state.heap.clear();
            state.by_key.clear();
            let ids: Vec<u64> = state
                .jobs
                .iter()
                .filter(|(_, e)| e.work.is_some())
                .map(|(id, _)| *id)
                .collect();
            let queued = ids.iter().filter_map(|id| state.jobs.remove(id)).collect();
            let running = state.jobs.values().map(|e| e.token.clone()).collect();
            (queued, running)
        };
        for token in running {
            token.cancel();
        }
        for entry in queued {
            entry.token.cancel();
            self.shared
                .finish(&entry.key, entry.waiters, JobOutcome::Cancelled);
        }
    }

    /// Whether `key` is queued or running, `None` if neither.
    pub fn status(&self, key: &str) -> Option<JobStatus> {
        let state = lock(&self.shared.state);
        let entry = state.by_key.get(key).and_then(|id| state.jobs.get(id))?;
        Some(if entry.work.is_some() {
            JobStatus::Queued
        } else {
            JobStatus::Running
        })
    }

    /// Jobs queued or running.
    pub fn active(&self) -> usize {
        lock(&self.shared.state).jobs.len()
    }
}

impl<T> Drop for JobScheduler<T> {
    fn drop(&mut self) {
        self.shared.shutdown.store(true, Ordering::Relaxed);
        let entries: Vec<Entry<T>> = {
            let mut state = lock(&self.shared.state);
            state.heap.clear();
            state.by_key.clear();
            state.jobs.drain().map(|(_, e)| e).collect()
        };
        // Running jobs stop at their next check and find nothing left to report to but their
        // handles' channels, which are gone with these entries: waiters see `Cancelled`.
        for entry in entries {
            entry.token.cancel();
            for waiter in entry.waiters {
                let _ = waiter.try_send(JobOutcome::Cancelled);
            }
        }
        // No more events: receivers see the channel close once running jobs let go of it.
        *lock(&self.shared.events) = None;
        // The rayon pool's drop does not wait for its threads.
    }
}
