//! Scheduler tests: priority order, deduplication, cancellation, progress, shutdown.

#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, bounded};

use super::*;

const LONG: Duration = Duration::from_secs(10);

/// Submits a job that holds the only worker until `release` gets a message, and waits until
/// it runs.
fn block_worker(
    scheduler: &JobScheduler<u32>,
    events: &Receiver<JobEvent<u32>>,
) -> crossbeam_channel::Sender<()> {
    let (release, gate) = bounded::<()>(1);
    let _ = scheduler.submit("blocker", Priority(i32::MAX), move |_ctx| {
        gate.recv_timeout(LONG)
            .map(|()| 0)
            .map_err(|e| e.to_string())
    });
    loop {
        let event = events.recv_timeout(LONG).unwrap();
        if event.key == "blocker" && event.kind == JobEventKind::Started {
            return release;
        }
    }
}

#[test]
fn runs_highest_priority_first() {
    let scheduler = JobScheduler::<u32>::new(1).unwrap();
    let events = scheduler.events();
    let release = block_worker(&scheduler, &events);
    let order = Arc::new(Mutex::new(Vec::new()));
    let mut handles = Vec::new();
    for (name, priority) in [("a", 1), ("b", 5), ("c", 3), ("d", 5), ("e", 2)] {
        let order = order.clone();
        handles.push(scheduler.submit(name, Priority(priority), move |_ctx| {
            order.lock().unwrap().push(name);
            Ok::<u32, String>(0)
        }));
    }
    // "e" scrolls under the playhead.
    assert!(scheduler.reprioritise("e", Priority::FOCUS));
    assert_eq!(scheduler.status("a"), Some(JobStatus::Queued));
    release.send(()).unwrap();
    for handle in handles {
        assert_eq!(handle.wait(), JobOutcome::Finished(0));
    }
    assert_eq!(*order.lock().unwrap(), ["e", "b", "d", "c", "a"]);
    assert_eq!(scheduler.active(), 0);
}

#[test]
fn same_key_runs_once_and_every_handle_gets_the_result() {
    let scheduler = JobScheduler::<u32>::new(1).unwrap();
    let events = scheduler.events();
    let release = block_worker(&scheduler, &events);
    let runs = Arc::new(AtomicUsize::new(0));
    let submit = |value: u32| {
        let runs = runs.clone();
        scheduler.submit("clip-1", Priority::VISIBLE, move |_ctx| {
            runs.fetch_add(1, Ordering::SeqCst);
            Ok::<u32, String>(value)
        })
    };
    let first = submit(7);
    let second = submit(8);
    release.send(()).unwrap();
    assert_eq!(first.wait(), JobOutcome::Finished(7));
    assert_eq!(second.wait(), JobOutcome::Finished(7));
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    // Done: a new submission runs again.
    assert_eq!(submit(9).wait(), JobOutcome::Finished(9));
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}

#[test]
fn running_job_stops_at_its_next_check() {
    let scheduler = JobScheduler::<u32>::new(2).unwrap();
    let events = scheduler.events();
    let frames = Arc::new(AtomicUsize::new(0));
    let counted = frames.clone();
    let handle = scheduler.submit(
        "decode",
        Priority::VISIBLE,
        move |ctx| -> Result<u32, Cancelled> {
            loop {
                // One "frame" of work, then the per-frame check.
                std::thread::sleep(Duration::from_millis(2));
                ctx.check()?;
                let done = counted.fetch_add(1, Ordering::SeqCst) + 1;
                ctx.progress(done as u64, 0, "decode");
            }
        },
    );
    // Cancel once the job is well under way.
    while frames.load(Ordering::SeqCst) < 5 {
        assert!(
            events.recv_timeout(LONG).is_ok(),
            "the job never progressed"
        );
    }
    let at_cancel = frames.load(Ordering::SeqCst);
    handle.cancel();
    let outcome = handle.wait_timeout(LONG).unwrap();
    assert_eq!(outcome, JobOutcome::Cancelled);
    // The frame in flight may finish; none starts after it.
    let after = frames.load(Ordering::SeqCst) - at_cancel;
    assert!(after <= 1, "{after} frames ran after the cancel");
    let terminal = events.iter().find(|e| e.kind.is_terminal()).map(|e| e.kind);
    assert_eq!(terminal, Some(JobEventKind::Cancelled));
}

#[test]
fn queued_job_cancelled_never_runs() {
    let scheduler = JobScheduler::<u32>::new(1).unwrap();
    let events = scheduler.events();
    let release = block_worker(&scheduler, &events);
    let ran = Arc::new(AtomicUsize::new(0));
    let ran2 = ran.clone();
    let handle = scheduler.submit("later", Priority::BACKGROUND, move |_ctx| {
        ran2.fetch_add(1, Ordering::SeqCst);
        Ok::<u32, String>(1)
    });
    scheduler.cancel("later");
    // Answered while the only worker is still blocked: the queued job is dropped, not run.
    assert_eq!(handle.wait_timeout(LONG), Some(JobOutcome::Cancelled));
    assert_eq!(scheduler.status("later"), None);
    // A new request for the key supersedes the cancelled one.
    let again = scheduler.submit("later", Priority::BACKGROUND, |_ctx| Ok::<u32, String>(2));
    release.send(()).unwrap();
    assert_eq!(again.wait(), JobOutcome::Finished(2));
    assert_eq!(ran.load(Ordering::SeqCst), 0);
}

#[test]
fn progress_events_arrive_in_order_and_the_last_one_is_kept() {
    let scheduler = JobScheduler::<u32>::new(1).unwrap();
    let events = scheduler.events();
    let woken = Arc::new(AtomicUsize::new(0));
    let woken2 = woken.clone();
    scheduler.set_waker(move || {
        woken2.fetch_add(1, Ordering::SeqCst);
    });
    let handle = scheduler.submit("song", Priority::FOCUS, |ctx| {
        for i in 0..=1000 {
            ctx.progress(i, 1000, "decode");
        }
        ctx.progress(0, 10, "beats");
        ctx.progress(10, 10, "beats");
        Ok::<u32, String>(120)
    });
    assert_eq!(handle.wait(), JobOutcome::Finished(120));
    let kinds: Vec<JobEventKind<u32>> = events.try_iter().map(|e| e.kind).collect();
    assert_eq!(kinds.first(), Some(&JobEventKind::Started));
    assert_eq!(kinds.last(), Some(&JobEventKind::Finished(120)));
    let progress: Vec<Progress> = kinds
        .iter()
        .filter_map(|k| match k {
            JobEventKind::Progress(p) => Some(p.clone()),
            _ => None,
        })
        .collect();
    assert!(progress.len() >= 4, "{progress:?}");
    // Thinned: far fewer than 1,003 reports.
    assert!(progress.len() < 200, "{}", progress.len());
    assert!(progress.contains(&Progress {
        done: 1000,
        total: 1000,
        stage: "decode"
    }));
    assert_eq!(
        progress.last(),
        Some(&Progress {
            done: 10,
            total: 10,
            stage: "beats"
        })
    );
    assert!(woken.load(Ordering::SeqCst) >= kinds.len());
}

#[test]
fn failures_and_panics_are_reported_not_fatal() {
    let scheduler = JobScheduler::<u32>::new(1).unwrap();
    let failed = scheduler.submit("bad", Priority::VISIBLE, |_ctx| {
        Err::<u32, _>("no video stream: a.mp4")
    });
    assert_eq!(
        failed.wait(),
        JobOutcome::Failed("no video stream: a.mp4".to_owned())
    );
    let panicked = scheduler.submit("worse", Priority::VISIBLE, |_ctx| -> Result<u32, String> {
        panic!("boom")
    });
    assert_eq!(
        panicked.wait(),
        JobOutcome::Failed("job panicked: boom".to_owned())
    );
    // The worker survived.
    let ok = scheduler.submit("fine", Priority::VISIBLE, |_ctx| Ok::<u32, String>(3));
    assert_eq!(ok.wait(), JobOutcome::Finished(3));
}

#[test]
fn results_survive_a_full_event_channel() {
    let scheduler = JobScheduler::<u32>::with_event_capacity(2, 2).unwrap();
    let events = scheduler.events();
    let handles: Vec<_> = (0..20u32)
        .map(|i| {
            scheduler.submit(format!("clip-{i}"), Priority(0), move |ctx| {
                for f in 0..50 {
                    ctx.progress(f, 50, "scan");
                }
                Ok::<u32, String>(i)
            })
        })
        .collect();
    let mut finished = 0;
    let deadline = Instant::now() + LONG;
    while finished < 20 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
        if let Ok(event) = events.recv_timeout(LONG)
            && matches!(event.kind, JobEventKind::Finished(_))
        {
            finished += 1;
        }
    }
    assert_eq!(finished, 20);
    for (i, handle) in handles.into_iter().enumerate() {
        assert_eq!(handle.wait(), JobOutcome::Finished(i as u32));
    }
}

#[test]
fn drop_cancels_everything_without_blocking() {
    let scheduler = JobScheduler::<u32>::with_event_capacity(1, 1).unwrap();
    let events = scheduler.events();
    let stopped = Arc::new(AtomicUsize::new(0));
    let stopped2 = stopped.clone();
    // The running job sees the cancel, then cannot finish until the test lets it, which it
    // does only after `drop` returned: a drop that waited for its workers would never return.
    let (release, gate) = bounded::<()>(1);
    let running = scheduler.submit("long", Priority::VISIBLE, move |ctx| {
        while !ctx.is_cancelled() {
            ctx.progress(0, 0, "spin");
            std::thread::sleep(Duration::from_millis(1));
        }
        // Err when the test failed and dropped the sender: the job ends either way.
        let _ = gate.recv();
        stopped2.fetch_add(1, Ordering::SeqCst);
        Err::<u32, _>(Cancelled)
    });
    let queued = scheduler.submit("queued", Priority::VISIBLE, |_ctx| Ok::<u32, String>(1));
    while running.try_outcome().is_none() && scheduler.status("long") != Some(JobStatus::Running) {
        std::thread::sleep(Duration::from_millis(1));
    }
    // Nobody drains the (full) event channel.
    let (dropped, returned) = bounded::<()>(1);
    std::thread::spawn(move || {
        drop(scheduler);
        let _ = dropped.send(());
    });
    assert!(
        returned.recv_timeout(LONG).is_ok(),
        "drop blocked on a running job"
    );
    assert_eq!(
        stopped.load(Ordering::SeqCst),
        0,
        "the job was still running"
    );
    release.send(()).unwrap();
    assert_eq!(running.wait_timeout(LONG), Some(JobOutcome::Cancelled));
    assert_eq!(queued.wait_timeout(LONG), Some(JobOutcome::Cancelled));
    let deadline = Instant::now() + LONG;
    while stopped.load(Ordering::SeqCst) == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(stopped.load(Ordering::SeqCst), 1);
    drop(events);
}

#[test]
fn shared_types_cross_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<JobScheduler<u32>>();
    send_sync::<JobHandle<u32>>();
    send_sync::<JobContext>();
    send_sync::<crate::cache::Cache>();
}

#[test]
fn partial_results_of_the_job_type_reach_subscribers_before_the_final_one() {
    let scheduler = JobScheduler::<u32>::new(1).unwrap();
    let events = scheduler.events();
    let handle = scheduler.submit("grow", Priority::FOCUS, |ctx| {
        ctx.partial(1u32);
        ctx.partial("not a u32: dropped");
        ctx.partial(2u32);
        Ok::<u32, String>(3)
    });
    assert_eq!(handle.wait(), JobOutcome::Finished(3));
    let kinds: Vec<JobEventKind<u32>> = std::iter::from_fn(|| events.recv_timeout(LONG).ok())
        .map(|e| e.kind)
        .take_while(|k| !k.is_terminal())
        .filter(|k| *k != JobEventKind::Started)
        .collect();
    assert_eq!(
        kinds,
        [JobEventKind::Partial(1), JobEventKind::Partial(2)],
        "partials in order, the wrong type dropped"
    );
}
