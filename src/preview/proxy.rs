//! The seek-proxy worker: makes a proxy ([`crate::media::ProxyStore`]) for each clip the
//! preview shows, one at a time on a background thread, and hands finished ones to the
//! preview's decode thread. It gives way to the preview: while the decode thread decodes
//! (its `busy` flag), generation pauses between frames.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use crossbeam_channel::{Receiver, Sender, TrySendError, bounded};

use crate::cache::Cache;
use crate::jobs::{CancelToken, JobContext};
use crate::media::{MediaError, Proxy, ProxySettings, ProxyStore};

/// Clips waiting for a proxy at most (more are asked for again when shown again).
const QUEUE: usize = 64;

/// Finished proxies not yet taken by the decode thread, with their source paths.
pub(crate) type ReadyProxies = Arc<Mutex<Vec<(PathBuf, Proxy)>>>;

enum Command {
    Make(PathBuf, Arc<Cache>),
}

/// Owns the proxy thread; dropping it cancels the proxy being made and ends the thread
/// without waiting for it.
pub(crate) struct ProxyWorker {
    tx: Option<Sender<Command>>,
    asked: HashSet<PathBuf>,
    current: Arc<Mutex<Current>>,
    ready: ReadyProxies,
}

/// The token of the proxy being made, and whether the worker was dropped (under one lock,
/// so a proxy started just after the drop is cancelled too).
#[derive(Default)]
struct Current {
    token: CancelToken,
    stopped: bool,
}

impl ProxyWorker {
    /// Starts the thread. `busy` is set by the preview while it decodes.
    pub(crate) fn new(busy: Arc<AtomicBool>) -> Self {
        let (tx, rx) = bounded(QUEUE);
        let ready: ReadyProxies = Arc::default();
        let current: Arc<Mutex<Current>> = Arc::default();
        let (thread_ready, thread_current) = (ready.clone(), current.clone());
        let spawned = std::thread::Builder::new()
            .name("preview-proxy".into())
            .spawn(move || run(&rx, &thread_ready, &thread_current, &busy));
        let tx = match spawned {
            Ok(_) => Some(tx),
            Err(e) => {
                tracing::error!("cannot start the proxy thread, seeks stay slow: {e}");
                None
            }
        };
        Self {
            tx,
            asked: HashSet::new(),
            current,
            ready,
        }
    }

    /// Where finished proxies appear, for the decode thread.
    pub(crate) fn ready(&self) -> ReadyProxies {
        self.ready.clone()
    }

    /// Asks for the proxy of `path` (once per path): found in, or made into, the `proxies`
    /// folder of `cache`'s directory. Nothing happens when the cache is disabled.
    pub(crate) fn want(&mut self, path: &Path, cache: &Arc<Cache>) {
        if !cache.is_enabled() || self.asked.contains(path) {
            return;
        }
        let Some(tx) = &self.tx else {
            return;
        };
        match tx.try_send(Command::Make(path.to_path_buf(), cache.clone())) {
            Ok(()) => {
                self.asked.insert(path.to_path_buf());
            }
            // Full: asked again the next time the clip is shown.
            Err(TrySendError::Full(_)) => {}
            Err(TrySendError::Disconnected(_)) => self.tx = None,
        }
    }
}

impl Drop for ProxyWorker {
    fn drop(&mut self) {
        // Closing the channel ends the thread once the current proxy stops.
        self.tx = None;
        if let Ok(mut current) = self.current.lock() {
            current.stopped = true;
            current.token.cancel();
        }
    }
}

fn run(rx: &Receiver<Command>, ready: &ReadyProxies, current: &Mutex<Current>, busy: &AtomicBool) {
    while let Ok(Command::Make(path, cache)) = rx.recv() {
        let Some(dir) = cache.proxy_dir() else {
            continue;
        };
        let key = match cache.content_key(&path) {
            Ok(key) => key,
            Err(e) => {
                tracing::warn!("no seek proxy ({e})");
                continue;
            }
        };
        let store = ProxyStore::new(dir, ProxySettings::default());
        let proxy = match store.find(&key) {
            Some(proxy) => proxy,
            None => {
                let token = CancelToken::new();
                match current.lock() {
                    Ok(mut current) if !current.stopped => current.token = token.clone(),
                    _ => return,
                }
                let ctx = JobContext::detached(key.to_string(), token, |_| {});
                let started = std::time::Instant::now();
                match store.generate(&path, &key, &ctx, Some(busy)) {
                    Ok(proxy) => {
                        // The new files count against the cache's size bound.
                        cache.trim();
                        tracing::info!(
                            "seek proxy made in {:.1} s ({} frames): {}",
                            started.elapsed().as_secs_f64(),
                            proxy.index.source_times.len(),
                            path.display()
                        );
                        proxy
                    }
                    Err(MediaError::Cancelled) => return,
                    Err(e) => {
                        tracing::warn!("no seek proxy, seeks decode the source ({e})");
                        continue;
                    }
                }
            }
        };
        match ready.lock() {
            Ok(mut list) => list.push((path, proxy)),
            Err(_) => return,
        }
    }
}
