//! Fuzzing the project loader: thousands of mutated and random inputs must each load or be
//! refused with an error naming the file, never panic; valid projects round-trip.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use beatcut::project::{Project, ProjectError};

/// xorshift64*: a tiny deterministic generator so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn sample_project() -> Project {
    let mut project = Project::with_media(
        &["/media/a.mp4".into(), "/media/b b.mov".into()],
        Some("/media/song.mp3".into()),
    );
    project.plan.seed = 42;
    project.plan.style = "mtv".into();
    project.constraints.excluded.push((1, 100, 200));
    project
}

const TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "\"",
    "null",
    "true",
    "-1",
    "1e309",
    "99999999999999999999",
    "\"version\"",
    "\"format\"",
    "\"clips\"",
    "\"plan\"",
    "\"fps\"",
    "\\u0000",
    "\u{fffd}",
    "NaN",
];

#[test]
fn mutated_projects_never_panic() {
    let path = Path::new("fuzz.beatcut");
    let valid = sample_project().to_json(Path::new("/"));
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut loaded = 0;
    let mut refused = 0;
    for _ in 0..20_000 {
        let mut bytes = valid.clone().into_bytes();
        for _ in 0..1 + rng.below(4) {
            match rng.below(4) {
                0 if !bytes.is_empty() => {
                    let at = rng.below(bytes.len());
                    bytes[at] = rng.next() as u8;
                }
                1 if !bytes.is_empty() => {
                    let at = rng.below(bytes.len());
                    let len = rng.below(16).min(bytes.len() - at);
                    bytes.drain(at..at + len);
                }
                2 => {
                    let at = rng.below(bytes.len() + 1);
                    let token = TOKENS[rng.below(TOKENS.len())].as_bytes();
                    bytes.splice(at..at, token.iter().copied());
                }
                _ => {
                    let at = rng.below(bytes.len() + 1);
                    bytes.truncate(at);
                }
            }
        }
        let text = String::from_utf8_lossy(&bytes);
        match Project::from_json(&text, path) {
            Ok(_) => loaded += 1,
            Err(e) => {
                assert!(
                    e.to_string().contains("fuzz.beatcut"),
                    "error names the file: {e}"
                );
                refused += 1;
            }
        }
    }
    assert!(
        loaded > 0 && refused > 0,
        "{loaded} loaded, {refused} refused"
    );
}

#[test]
fn random_bytes_are_refused() {
    let path = Path::new("noise.beatcut");
    let mut rng = Rng(7);
    for _ in 0..5_000 {
        let len = rng.below(300);
        let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        let result = Project::from_json(&String::from_utf8_lossy(&bytes), path);
        assert!(result.is_err());
    }
}

#[test]
fn round_trips_and_refuses_newer_versions() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.beatcut");
    let project = sample_project();
    project.save(&path).unwrap();
    assert_eq!(Project::load(&path).unwrap(), project);
    let newer = std::fs::read_to_string(&path)
        .unwrap()
        .replace("\"version\": 2", "\"version\": 7");
    std::fs::write(&path, newer).unwrap();
    let err = Project::load(&path).unwrap_err();
    assert!(
        matches!(err, ProjectError::TooNew { found: 7, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("newer Beatcut"), "{err}");
}
