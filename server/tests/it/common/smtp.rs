//! A real SMTP server for tests: aiosmtpd (PyPI) writing a Maildir.
//! Python comes from `TEST_PYTHON` (scripts/test.sh points it at the
//! project's venv) or `python3`. Without aiosmtpd the SMTP tests are skipped
//! loudly, except under CI, where that is a failure.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct SmtpSink {
    pub port: u16,
    dir: tempfile::TempDir,
    child: Child,
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn python() -> Option<String> {
    let candidates = [std::env::var("TEST_PYTHON").ok(), Some("python3".to_string())];
    for py in candidates.into_iter().flatten() {
        let ok = Command::new(&py)
            .args(["-c", "import aiosmtpd"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if ok {
            return Some(py);
        }
    }
    None
}

/// A port nothing listens on (yet).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl SmtpSink {
    pub fn start() -> Option<SmtpSink> {
        SmtpSink::start_on(free_port())
    }

    pub fn start_on(port: u16) -> Option<SmtpSink> {
        let Some(py) = python() else {
            if std::env::var("CI").is_ok() {
                panic!("aiosmtpd is not installed: run scripts/setup.sh --test-tools");
            }
            eprintln!("SKIPPED: aiosmtpd not available (scripts/setup.sh --test-tools installs it)");
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        let maildir = dir.path().join("Maildir");
        let child = Command::new(py)
            .args(["-u", "-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start aiosmtpd");
        let deadline = Instant::now() + Duration::from_secs(15);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "aiosmtpd did not start on port {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(SmtpSink { port, dir, child })
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    fn maildir_new(&self) -> PathBuf {
        self.dir.path().join("Maildir").join("new")
    }

    /// Every message received so far, raw (headers and MIME body), oldest first.
    pub fn messages(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(self.maildir_new()) else { return vec![] };
        let mut files: Vec<(std::time::SystemTime, PathBuf)> = entries
            .filter_map(|e| {
                let e = e.ok()?;
                Some((e.metadata().ok()?.modified().ok()?, e.path()))
            })
            .collect();
        files.sort();
        files.into_iter().filter_map(|(_, p)| std::fs::read_to_string(p).ok()).collect()
    }
}
