//! The one shape of long-lived background work outside the scheduler's pool: a named thread
//! that takes typed commands over a channel and answers with typed events, with a cancel
//! token, waking the UI when it has something. Dropping the owner cancels the token and
//! closes the command channel without waiting for the thread (it ends at its next check).
//! The planner, the export, the preview's decode thread and the seek-proxy maker are such
//! threads.

use std::sync::Arc;

use crossbeam_channel::{Receiver, Sender, TrySendError, bounded};

use super::{CancelToken, JobError};

/// What a background thread's body gets: its commands, a way to send events, its token.
pub struct ThreadContext<E> {
    events: Sender<E>,
    cancel: CancelToken,
    waker: Arc<dyn Fn() + Send + Sync>,
}

impl<E> ThreadContext<E> {
    /// Sends an event and wakes the owner; waits while the owner has not taken earlier
    /// ones. False when the owner is gone (the body should return).
    pub fn emit(&self, event: E) -> bool {
        let sent = self.events.send(event).is_ok();
        (self.waker)();
        sent
    }

    /// Sends an event unless the owner's queue is full (progress: a newer one follows).
    pub fn emit_lossy(&self, event: E) {
        match self.events.try_send(event) {
            Ok(()) => (self.waker)(),
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {}
        }
    }

    /// Cancelled when the owner cancels or goes away; check it once per unit of work.
    pub fn token(&self) -> &CancelToken {
        &self.cancel
    }
}

/// A named thread with a command channel in and an event channel out (see the module).
pub struct BackgroundThread<C, E> {
    name: String,
    commands: Option<Sender<C>>,
    events: Receiver<E>,
    cancel: CancelToken,
}

impl<C: Send + 'static, E: Send + 'static> BackgroundThread<C, E> {
    /// Starts thread `name` running `body` with its commands and context; up to `capacity`
    /// commands and events wait in each direction. `waker` is called when an event is sent.
    pub fn spawn(
        name: &str,
        capacity: usize,
        waker: Arc<dyn Fn() + Send + Sync>,
        body: impl FnOnce(Receiver<C>, ThreadContext<E>) + Send + 'static,
    ) -> Result<Self, JobError> {
        let (command_tx, command_rx) = bounded(capacity.max(1));
        let (event_tx, event_rx) = bounded(capacity.max(1));
        let cancel = CancelToken::new();
        let context = ThreadContext {
            events: event_tx,
            cancel: cancel.clone(),
            waker,
        };
        std::thread::Builder::new()
            .name(name.to_string())
            .spawn(move || body(command_rx, context))
            .map_err(|e| JobError::ThreadPool(format!("{name}: {e}")))?;
        Ok(Self {
            name: name.to_string(),
            commands: Some(command_tx),
            events: event_rx,
            cancel,
        })
    }

    /// Queues a command; false when the thread is gone or its queue is full.
    pub fn send(&self, command: C) -> bool {
        self.commands
            .as_ref()
            .is_some_and(|tx| tx.try_send(command).is_ok())
    }

    /// Events sent since the last call, oldest first.
    pub fn drain(&self) -> Vec<E> {
        self.events.try_iter().collect()
    }

    /// Asks the thread's current and future work to stop.
    pub fn cancel(&self) {
        self.cancel.cancel();
    }

    /// True once cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// The thread's name (for messages).
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl<C, E> Drop for BackgroundThread<C, E> {
    fn drop(&mut self) {
        // Never wait here: the thread sees the token or the closed channel and ends.
        self.cancel.cancel();
        self.commands = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_become_events_and_dropping_cancels_without_waiting() {
        let (ended_tx, ended) = bounded::<bool>(1);
        let (gate_tx, gate) = bounded::<()>(0);
        let worker = BackgroundThread::<u32, u32>::spawn(
            "test-worker",
            4,
            Arc::new(|| {}),
            move |commands, ctx| {
                for n in commands.iter() {
                    ctx.emit(n * 2);
                    if n == 0 {
                        // Blocks until the test has dropped the owner.
                        let _ = gate.recv();
                        let _ = ended_tx.send(ctx.token().is_cancelled());
                        return;
                    }
                }
            },
        )
        .expect("spawn");
        assert!(worker.send(3));
        assert!(worker.send(0));
        let mut events = Vec::new();
        while events.len() < 2 {
            events.extend(worker.drain());
            std::thread::yield_now();
        }
        assert_eq!(events, [6, 0]);
        // The thread is parked inside its body: dropping must not wait for it.
        drop(worker);
        gate_tx.send(()).expect("the thread still runs");
        assert_eq!(ended.recv(), Ok(true), "the drop cancelled the token");
    }
}
