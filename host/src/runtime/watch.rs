//! `spingraph up --watch`: watches the files each routed component's wasm is built from (its
//! `source` and its dependencies' `path`s) and, once a change has settled, rebuilds that
//! component alone the way start-up built it ([`Loader`]) and swaps it into [`Components`]. The
//! manifest itself is not watched.
//!
//! Why polling (metadata every [`POLL_INTERVAL`]) rather than inotify through `notify`: the
//! watched set is a handful of files, so a `stat` of each is nothing; polling sees a file
//! replaced by a rename (a watch on the old inode does not) and behaves the same on bind mounts
//! and network file systems where inotify is silent; and the debounce — the file must stop
//! changing before it is read, as cargo may still be writing it — needs the same repeated look
//! either way.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use tokio::sync::watch;

use crate::runtime::loader::Loader;
use crate::runtime::server::Components;

/// How often the watched files are looked at.
pub const POLL_INTERVAL: Duration = Duration::from_millis(300);
/// How long a changed file must stay unchanged before it is read.
pub const QUIET_PERIOD: Duration = Duration::from_millis(500);

/// What a file looks like from its metadata; a different value means different contents may be
/// there. The inode changes when the file is replaced by a rename, the change time when it is
/// written in place, even within the modification time's resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fingerprint {
    len: u64,
    inode: u64,
    modified: (i64, i64),
    changed: (i64, i64),
}

impl Fingerprint {
    /// `None` when the file is missing or unreadable (a rebuild then reports why).
    pub fn of(path: &Path) -> Option<Fingerprint> {
        let meta = std::fs::metadata(path).ok()?;
        Some(Fingerprint {
            len: meta.len(),
            inode: meta.ino(),
            modified: (meta.mtime(), meta.mtime_nsec()),
            changed: (meta.ctime(), meta.ctime_nsec()),
        })
    }
}

/// Debounces the observed state of a set of files: reports a change once the state differs
/// from the last reported one and has stayed the same for the quiet period.
#[derive(Debug)]
pub struct ChangeDetector<S> {
    settled: S,
    pending: Option<(S, Instant)>,
    quiet: Duration,
}

impl<S: PartialEq> ChangeDetector<S> {
    /// Starts from `initial`, the state the served version was built from.
    pub fn new(initial: S, quiet: Duration) -> Self {
        ChangeDetector {
            settled: initial,
            pending: None,
            quiet,
        }
    }

    /// Feeds the state seen at `now`. Returns the previously settled state when `current` is a
    /// settled change (time to rebuild); `current` then becomes the settled state, so a rebuild
    /// that fails is not retried until the files change again.
    pub fn observe(&mut self, current: S, now: Instant) -> Option<S> {
        if current == self.settled {
            self.pending = None;
            return None;
        }
        match &self.pending {
            Some((state, since)) if *state == current => {
                if now.duration_since(*since) < self.quiet {
                    return None;
                }
                self.pending = None;
                Some(std::mem::replace(&mut self.settled, current))
            }
            _ => {
                self.pending = Some((current, now));
                None
            }
        }
    }
}

/// The files of `files` whose fingerprints differ between `before` and `after`.
fn changed_files<'a>(
    files: &'a [PathBuf],
    before: &[Option<Fingerprint>],
    after: &[Option<Fingerprint>],
) -> Vec<&'a Path> {
    files
        .iter()
        .zip(before.iter().zip(after))
        .filter(|(_, (b, a))| b != a)
        .map(|(f, _)| f.as_path())
        .collect()
}

/// One watched component.
struct Watched {
    id: String,
    files: Vec<PathBuf>,
    detector: ChangeDetector<Vec<Option<Fingerprint>>>,
}

/// The state of `files`, in order.
fn fingerprints(files: &[PathBuf]) -> Vec<Option<Fingerprint>> {
    files.iter().map(|f| Fingerprint::of(f)).collect()
}

/// The components to watch, with the state of their files taken before they are loaded, so a
/// change made while start-up compiles is still seen.
pub struct Watcher {
    watched: Vec<Watched>,
}

impl Watcher {
    pub fn snapshot(loader: &Loader) -> Watcher {
        let watched = loader
            .routed_ids()
            .into_iter()
            .map(|id| {
                let files = loader.source_files(&id);
                let detector = ChangeDetector::new(fingerprints(&files), QUIET_PERIOD);
                Watched {
                    id,
                    files,
                    detector,
                }
            })
            .collect();
        Watcher { watched }
    }

    /// Watches on a thread of its own until `stop` fires. Rebuilds run on that thread, one at a
    /// time, so compiling never stalls the request tasks and two rebuilds of one component
    /// cannot finish out of order.
    pub fn spawn(
        mut self,
        loader: Arc<Loader>,
        components: Arc<Components>,
        stop: watch::Receiver<bool>,
    ) -> Result<()> {
        for w in &self.watched {
            let files: Vec<String> = w.files.iter().map(|f| f.display().to_string()).collect();
            tracing::info!(component = %w.id, files = ?files, "watching for rebuilds");
        }
        std::thread::Builder::new()
            .name("component-watch".into())
            .spawn(move || {
                // The sleep paces the polling; it synchronizes nothing.
                while !*stop.borrow() {
                    std::thread::sleep(POLL_INTERVAL);
                    self.poll(&loader, &components, Instant::now());
                }
            })
            .context("cannot start the --watch thread")?;
        Ok(())
    }

    fn poll(&mut self, loader: &Loader, components: &Components, now: Instant) {
        for w in &mut self.watched {
            let current = fingerprints(&w.files);
            let Some(before) = w.detector.observe(current.clone(), now) else {
                continue;
            };
            let changed = changed_files(&w.files, &before, &current);
            reload(loader, components, &w.id, &changed);
        }
    }
}

/// Rebuilds component `id` and swaps it in; on failure the previous version keeps serving. Wasm
/// identical to the served version's (cargo re-links unchanged outputs on every build) is left
/// alone.
fn reload(loader: &Loader, components: &Components, id: &str, changed: &[&Path]) {
    let changed: Vec<String> = changed.iter().map(|f| f.display().to_string()).collect();
    let started = Instant::now();
    let rebuilt = loader.read(id).and_then(|wasm| {
        let served = components.get(id);
        if served.is_some_and(|s| s.digest == wasm.digest) {
            return Ok(None);
        }
        loader.build(id, &wasm).map(Some)
    });
    match rebuilt {
        Ok(Some(component)) => {
            if components.replace(component) {
                tracing::info!(
                    component = %id,
                    changed = ?changed,
                    reload_ms = started.elapsed().as_millis() as u64,
                    "component reloaded"
                );
            } else {
                tracing::error!(component = %id, "reloaded a component that is not served");
            }
        }
        Ok(None) => {
            tracing::debug!(component = %id, changed = ?changed, "same wasm as served: not reloaded")
        }
        Err(e) => tracing::error!(
            component = %id,
            changed = ?changed,
            error = format!("{e:#}"),
            "component reload failed; still serving the previous version"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const QUIET: Duration = Duration::from_millis(500);

    fn at(start: Instant, ms: u64) -> Instant {
        start + Duration::from_millis(ms)
    }

    #[test]
    fn unchanged_state_never_reports() {
        let t = Instant::now();
        let mut d = ChangeDetector::new(1, QUIET);
        for ms in [0, 300, 600, 5_000] {
            assert_eq!(d.observe(1, at(t, ms)), None);
        }
    }

    #[test]
    fn change_is_reported_once_it_has_been_quiet_for_the_period() {
        let t = Instant::now();
        let mut d = ChangeDetector::new(1, QUIET);
        assert_eq!(
            d.observe(2, at(t, 0)),
            None,
            "first sight starts the quiet period"
        );
        assert_eq!(
            d.observe(2, at(t, 300)),
            None,
            "still within the quiet period"
        );
        assert_eq!(
            d.observe(2, at(t, 600)),
            Some(1),
            "settled: previous state returned"
        );
        assert_eq!(d.observe(2, at(t, 900)), None, "reported only once");
    }

    #[test]
    fn file_still_being_written_restarts_the_quiet_period() {
        let t = Instant::now();
        let mut d = ChangeDetector::new(1, QUIET);
        assert_eq!(d.observe(2, at(t, 0)), None);
        assert_eq!(d.observe(3, at(t, 300)), None, "changed again: wait anew");
        assert_eq!(d.observe(3, at(t, 600)), None, "only 300 ms quiet");
        assert_eq!(d.observe(3, at(t, 800)), Some(1));
    }

    #[test]
    fn change_reverted_within_the_quiet_period_is_not_reported() {
        let t = Instant::now();
        let mut d = ChangeDetector::new(1, QUIET);
        assert_eq!(d.observe(2, at(t, 0)), None);
        assert_eq!(d.observe(1, at(t, 300)), None);
        assert_eq!(d.observe(1, at(t, 2_000)), None);
    }

    #[test]
    fn each_settled_change_is_reported_against_the_last() {
        let t = Instant::now();
        let mut d = ChangeDetector::new(1, QUIET);
        d.observe(2, at(t, 0));
        assert_eq!(d.observe(2, at(t, 500)), Some(1));
        d.observe(3, at(t, 1_000));
        assert_eq!(d.observe(3, at(t, 1_500)), Some(2));
    }

    #[test]
    fn fingerprint_sees_a_rename_over_and_a_rewrite_of_the_same_length() {
        let dir = std::env::temp_dir().join(format!("spingraph-watch-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("c.wasm");
        assert_eq!(Fingerprint::of(&file), None, "missing file");
        std::fs::write(&file, b"aaaa").unwrap();
        let first = Fingerprint::of(&file).unwrap();

        let tmp = dir.join("c.wasm.tmp");
        std::fs::write(&tmp, b"bbbb").unwrap();
        std::fs::rename(&tmp, &file).unwrap();
        let renamed = Fingerprint::of(&file).unwrap();
        assert_ne!(first, renamed, "replaced by rename");

        // The change time has nanosecond resolution here; make sure it moves regardless.
        let before_rewrite = renamed.changed;
        let deadline = Instant::now() + Duration::from_secs(2);
        let rewritten = loop {
            std::fs::write(&file, b"cccc").unwrap();
            let f = Fingerprint::of(&file).unwrap();
            if f.changed != before_rewrite || Instant::now() >= deadline {
                break f;
            }
        };
        assert_ne!(renamed, rewritten, "rewritten in place, same length");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn changed_files_names_only_the_files_that_differ() {
        let files = vec![PathBuf::from("/a.wasm"), PathBuf::from("/dep.wasm")];
        let x = Fingerprint {
            len: 1,
            inode: 1,
            modified: (0, 0),
            changed: (0, 0),
        };
        let y = Fingerprint { len: 2, ..x };
        assert_eq!(
            changed_files(&files, &[Some(x), Some(x)], &[Some(x), Some(y)]),
            vec![Path::new("/dep.wasm")]
        );
        assert_eq!(
            changed_files(&files, &[Some(x), Some(x)], &[None, Some(x)]),
            vec![Path::new("/a.wasm")]
        );
    }
}
