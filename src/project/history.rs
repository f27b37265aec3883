//! Undo and redo: small project snapshots before each change.

use super::Project;

/// Maximum snapshots kept for undo.
const MAX_UNDO: usize = 200;

/// Undo/redo stacks of project snapshots.
#[derive(Debug, Default, Clone)]
pub struct History {
    undo: Vec<Project>,
    redo: Vec<Project>,
}

impl History {
    /// Records `before` (the state prior to a change) and clears the redo stack.
    pub fn record(&mut self, before: Project) {
        if self.undo.last() == Some(&before) {
            return;
        }
        self.undo.push(before);
        if self.undo.len() > MAX_UNDO {
            self.undo.remove(0);
        }
        self.redo.clear();
    }

    /// Steps back: returns the previous state, remembering `current` for redo.
    pub fn undo(&mut self, current: Project) -> Option<Project> {
        let previous = self.undo.pop()?;
        self.redo.push(current);
        Some(previous)
    }

    /// Steps forward again after an undo.
    pub fn redo(&mut self, current: Project) -> Option<Project> {
        let next = self.redo.pop()?;
        self.undo.push(current);
        Some(next)
    }

    /// True when there is something to undo.
    pub fn can_undo(&self) -> bool {
        !self.undo.is_empty()
    }

    /// True when there is something to redo.
    pub fn can_redo(&self) -> bool {
        !self.redo.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn undo_redo_walks_snapshots() {
        let mut history = History::default();
        let a = Project::default();
        let mut b = a.clone();
        b.plan.seed = 1;
        let mut c = a.clone();
        c.plan.seed = 2;
        history.record(a.clone());
        history.record(b.clone());
        assert_eq!(history.undo(c.clone()), Some(b.clone()));
        assert_eq!(history.undo(b.clone()), Some(a.clone()));
        assert_eq!(history.undo(a.clone()), None);
        assert_eq!(history.redo(a.clone()), Some(b.clone()));
        assert_eq!(history.redo(b), Some(c));
    }
}
