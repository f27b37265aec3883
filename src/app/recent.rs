//! Recently opened projects, kept in a small file in the user's data directory.

use std::path::{Path, PathBuf};

/// How many recent projects are remembered.
const MAX_RECENT: usize = 8;

fn store() -> Option<PathBuf> {
    directories::ProjectDirs::from("org", "beatcut", "beatcut")
        .map(|d| d.data_dir().join("recent.json"))
}

/// Recent projects, most recent first, that still exist.
pub fn list() -> Vec<PathBuf> {
    let Some(path) = store() else {
        return Vec::new();
    };
    let list: Vec<PathBuf> = std::fs::read_to_string(path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    list.into_iter().filter(|p| p.exists()).collect()
}

/// Puts `project` at the top of the list.
pub fn remember(project: &Path) {
    let Some(path) = store() else {
        return;
    };
    let project = std::fs::canonicalize(project).unwrap_or_else(|_| project.to_path_buf());
    let mut list = list();
    list.retain(|p| *p != project);
    list.insert(0, project);
    list.truncate(MAX_RECENT);
    if let Ok(text) = serde_json::to_string_pretty(&list)
        && let Err(e) = crate::project::write_atomically(&path, text.as_bytes())
    {
        tracing::warn!("cannot remember recent projects: {e}");
    }
}
