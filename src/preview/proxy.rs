//! The seek-proxy worker: makes a proxy ([`crate::media::ProxyStore`]) for each clip the
//! preview shows, one at a time on a background thread, and hands finished ones to the
//! preview's decode thread. It gives way to the preview: while the decode thread decodes
//! (its `busy` flag), generation pauses between frames.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use crossbeam_channel::Receiver;

use crate::cache::Cache;
use crate::jobs::{BackgroundThread, JobContext, ThreadContext};
use crate::media::{MediaError, Proxy, ProxySettings, ProxyStore};

/// Clips waiting for a proxy at most (more are asked for again when shown again).
const QUEUE: usize = 64;

/// Finished proxies not yet taken by the decode thread, with their source paths.
pub(crate) type ReadyProxies = Arc<Mutex<Vec<(PathBuf, Proxy)>>>;

/// Make the seek proxy of a clip in the cache's proxy folder.
struct Make(PathBuf, Arc<Cache>);

/// Owns the proxy thread (a [`BackgroundThread`]); dropping it cancels the proxy being made
/// and ends the thread without waiting for it.
pub(crate) struct ProxyWorker {
    thread: Option<BackgroundThread<Make, ()>>,
    asked: HashSet<PathBuf>,
    ready: ReadyProxies,
}

impl ProxyWorker {
    /// Starts the thread. `busy` is set by the preview while it decodes.
    pub(crate) fn new(busy: Arc<AtomicBool>) -> Self {
        let ready: ReadyProxies = Arc::default();
        let thread_ready = ready.clone();
        let thread = BackgroundThread::spawn(
            "preview-proxy",
            QUEUE,
            Arc::new(|| {}),
            move |commands: Receiver<Make>, ctx: ThreadContext<()>| {
                run(&commands, &thread_ready, &ctx, &busy)
            },
        )
        .map_err(|e| tracing::error!("cannot start the proxy thread, seeks stay slow: {e}"))
        .ok();
        Self {
            thread,
            asked: HashSet::new(),
            ready,
        }
    }

    /// Where finished proxies appear, for the decode thread.
    pub(crate) fn ready(&self) -> ReadyProxies {
        self.ready.clone()
    }

    /// Asks for the proxy of `path` (once per path): found in, or made into, the proxy
    /// folder of `cache`'s directory. Nothing happens when the cache is disabled.
    pub(crate) fn want(&mut self, path: &Path, cache: &Arc<Cache>) {
        if !cache.is_enabled() || self.asked.contains(path) {
            return;
        }
        let Some(thread) = &self.thread else {
            return;
        };
        // A full queue: asked again the next time the clip is shown.
        if thread.send(Make(path.to_path_buf(), cache.clone())) {
            self.asked.insert(path.to_path_buf());
        }
    }
}

fn run(rx: &Receiver<Make>, ready: &ReadyProxies, ctx: &ThreadContext<()>, busy: &AtomicBool) {
    while let Ok(Make(path, cache)) = rx.recv() {
        if ctx.token().is_cancelled() {
            return;
        }
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
                let job = JobContext::detached(key.to_string(), ctx.token().clone(), |_| {});
                let started = std::time::Instant::now();
                match store.generate(&path, &key, &job, Some(busy)) {
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
