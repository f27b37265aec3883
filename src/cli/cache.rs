//! `beatcut cache`: the analysis cache's statistics, or clearing it.

use super::*;

pub(super) fn cache_command(action: &str) -> Result<ExitCode> {
    let cache = Cache::open_default()?;
    match action {
        "clear" => {
            let before = cache.stats();
            let freed = cache.clear()?;
            println!(
                "cleared {} ({freed} bytes freed: analyses and {} seek proxies of {} bytes)",
                cache
                    .dir()
                    .map(|d| d.display().to_string())
                    .unwrap_or_default(),
                before.proxies,
                before.proxy_bytes
            );
        }
        _ => {
            let stats = cache.stats();
            println!(
                "cache directory: {}",
                stats
                    .dir
                    .as_ref()
                    .map(|d| d.display().to_string())
                    .unwrap_or_else(|| "(disabled)".into())
            );
            println!(
                "entries: {}  bytes on disk: {} (within the size bound, seek proxies included)",
                stats.entries, stats.bytes_on_disk
            );
            println!(
                "seek proxies: {} ({} bytes)",
                stats.proxies, stats.proxy_bytes
            );
            let l = &stats.lifetime;
            println!(
                "lifetime: {} hits ({} memory, {} disk), {} misses, {} writes, {} evictions, {} corrupt dropped, {:.1} s saved",
                l.hits(),
                l.memory_hits,
                l.disk_hits,
                l.misses,
                l.writes,
                l.evictions,
                l.corrupt_dropped,
                l.time_saved().as_secs_f64()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
