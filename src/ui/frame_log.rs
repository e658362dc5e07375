//! Frame-time logging for measuring responsiveness: with `TESSERA_FRAME_LOG=FILE` the window
//! writes one line per frame (`t_ms interval_ms ui_ms job_running results`): `interval_ms` is the time
//! since the previous frame began (drawing and texture upload included), `ui_ms` the time
//! spent in the app's own code, `results` the number of results shown so far (`t_ms` counts
//! from the Unix time on the first line). A summary goes to stderr when the window closes.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::time::Instant;

/// Per-frame timings, written to a file.
pub struct FrameLog {
    out: BufWriter<File>,
    t0: Instant,
    last: Option<Instant>,
    busy: Vec<f64>,
    idle: Vec<f64>,
    ui_ms: Vec<f64>,
}

impl FrameLog {
    /// A log if `TESSERA_FRAME_LOG` names a file that can be created.
    pub fn from_env() -> Option<FrameLog> {
        let path = std::env::var_os("TESSERA_FRAME_LOG")?;
        match File::create(&path) {
            Ok(f) => {
                let mut out = BufWriter::new(f);
                let unix_ms = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_millis());
                let _ = writeln!(out, "# t0_unix_ms {unix_ms}");
                let _ = writeln!(out, "t_ms interval_ms ui_ms job_running results");
                Some(FrameLog {
                    out,
                    t0: Instant::now(),
                    last: None,
                    busy: Vec::new(),
                    idle: Vec::new(),
                    ui_ms: Vec::new(),
                })
            }
            Err(e) => {
                eprintln!("tessera: cannot write the frame log: {e}");
                None
            }
        }
    }

    /// Records a frame that began at `start` (its app code has just finished).
    pub fn frame(&mut self, start: Instant, job_running: bool, results: usize) {
        let ui_ms = start.elapsed().as_secs_f64() * 1e3;
        let interval = self.last.map_or(0.0, |l| (start - l).as_secs_f64() * 1e3);
        self.last = Some(start);
        let t = (start - self.t0).as_secs_f64() * 1e3;
        let _ = writeln!(
            self.out,
            "{t:.1} {interval:.2} {ui_ms:.2} {} {results}",
            job_running as u8
        );
        // Flushed every frame: the window may be killed rather than closed.
        let _ = self.out.flush();
        if interval > 0.0 {
            if job_running {
                self.busy.push(interval);
            } else {
                self.idle.push(interval);
            }
        }
        self.ui_ms.push(ui_ms);
    }

    /// Flushes the file and prints a summary.
    pub fn finish(&mut self) {
        let _ = self.out.flush();
        let stats = |v: &mut Vec<f64>| -> String {
            if v.is_empty() {
                return "no frames".into();
            }
            v.sort_by(f64::total_cmp);
            let q = |p: f64| v[((v.len() - 1) as f64 * p).round() as usize];
            format!(
                "{} frames, median {:.1} ms, p95 {:.1} ms, max {:.1} ms",
                v.len(),
                q(0.5),
                q(0.95),
                q(1.0)
            )
        };
        eprintln!(
            "tessera: frame intervals while a job runs: {}",
            stats(&mut self.busy)
        );
        eprintln!(
            "tessera: frame intervals otherwise: {}",
            stats(&mut self.idle)
        );
        eprintln!(
            "tessera: time in app code per frame: {}",
            stats(&mut self.ui_ms)
        );
    }
}

impl Drop for FrameLog {
    fn drop(&mut self) {
        let _ = self.out.flush();
    }
}
