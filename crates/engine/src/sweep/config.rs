//! What a sweep runs: the worker counts and tile sizes, the repeats, and the order of the runs.

use serde::Serialize;

use crate::error::EngineError;
use crate::pool::{MAX_WORKERS, available_cores};
use crate::tile::TileSize;

/// The most measured repeats (or warm-up rounds) a sweep accepts.
pub const MAX_REPEATS: usize = 1000;

/// Parses a worker list: `1,2,4`, `1-8`, `1,2,4-6`.
pub fn parse_worker_list(s: &str) -> Result<Vec<usize>, EngineError> {
    let bad = || {
        EngineError::InvalidParam(format!(
            "--workers must be a list of worker counts between 1 and {} such as \
             1,2,4 or 1-8, got {s:?}",
            MAX_WORKERS
        ))
    };
    let num = |t: &str| -> Result<usize, EngineError> {
        match t.trim().parse::<usize>() {
            Ok(n) if (1..=MAX_WORKERS).contains(&n) => Ok(n),
            _ => Err(bad()),
        }
    };
    let mut out = Vec::new();
    for part in s.split(',') {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (num(a)?, num(b)?);
                if a > b {
                    return Err(bad());
                }
                out.extend(a..=b);
            }
            None => out.push(num(part)?),
        }
    }
    Ok(out)
}

/// Parses a comma-separated list of tile sizes (`auto`, edges in pixels): `auto,256`.
pub fn parse_tile_list(s: &str) -> Result<Vec<TileSize>, EngineError> {
    s.split(',')
        .filter(|t| !t.trim().is_empty())
        .map(|t| {
            t.trim()
                .parse::<TileSize>()
                .map_err(|e| EngineError::InvalidParam(e.to_string()))
        })
        .collect()
}

/// One configuration of a sweep: a worker count and a tile size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct ConfigKey {
    /// Worker threads.
    pub workers: usize,
    /// Tile size.
    pub tile: TileSize,
}

/// What a sweep runs: worker counts × tile sizes, each `warmup` times unmeasured and
/// `repeats` times measured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SweepConfig {
    /// Worker counts to run.
    pub workers: Vec<usize>,
    /// Tile sizes to run.
    pub tiles: Vec<TileSize>,
    /// Measured runs of each configuration, 1..=[`MAX_REPEATS`].
    pub repeats: usize,
    /// Unmeasured warm-up runs of each configuration, before any measured one.
    pub warmup: usize,
}

impl Default for SweepConfig {
    fn default() -> Self {
        SweepConfig {
            workers: Self::default_workers(available_cores()),
            tiles: vec![TileSize::Auto],
            repeats: 5,
            warmup: 1,
        }
    }
}

impl SweepConfig {
    /// The default worker counts: 1 to twice the number of cores (past the core count the
    /// sweep shows that adding workers stops helping).
    pub fn default_workers(cores: usize) -> Vec<usize> {
        (1..=(2 * cores.max(1)).min(MAX_WORKERS)).collect()
    }

    /// Checks the ranges; a bad value is a usage error.
    pub fn validate(&self) -> Result<(), EngineError> {
        let bad = |m: String| Err(EngineError::InvalidParam(m));
        if self.workers.is_empty() {
            return bad("the sweep needs at least one worker count".into());
        }
        if let Some(&w) = self.workers.iter().find(|&&w| w == 0 || w > MAX_WORKERS) {
            return bad(format!(
                "worker counts must be between 1 and {MAX_WORKERS}, got {w}"
            ));
        }
        if self.tiles.is_empty() {
            return bad("the sweep needs at least one tile size".into());
        }
        if self.tiles.contains(&TileSize::Square(0)) {
            return bad("tile sizes must be positive".into());
        }
        if self.repeats == 0 || self.repeats > MAX_REPEATS {
            return bad(format!(
                "repeats must be between 1 and {MAX_REPEATS}, got {}",
                self.repeats
            ));
        }
        if self.warmup > MAX_REPEATS {
            return bad(format!(
                "warm-up rounds must be at most {MAX_REPEATS}, got {}",
                self.warmup
            ));
        }
        Ok(())
    }

    /// Worker counts sorted ascending and deduplicated, tile sizes deduplicated (first
    /// occurrence kept, `auto` first if present, then ascending).
    pub fn normalized(&self) -> SweepConfig {
        let mut workers = self.workers.clone();
        workers.sort_unstable();
        workers.dedup();
        let mut tiles = self.tiles.clone();
        tiles.sort_by_key(|t| match t {
            TileSize::Auto => 0,
            TileSize::Square(n) => *n as u64 + 1,
        });
        tiles.dedup();
        SweepConfig {
            workers,
            tiles,
            repeats: self.repeats,
            warmup: self.warmup,
        }
    }

    /// The configurations, tile-major: for each tile size, every worker count ascending.
    pub fn configs(&self) -> Vec<ConfigKey> {
        self.tiles
            .iter()
            .flat_map(|&tile| {
                self.workers
                    .iter()
                    .map(move |&workers| ConfigKey { workers, tile })
            })
            .collect()
    }

    /// The order of the runs (see the [sweep module](super) documentation): warm-up rounds, then measured
    /// rounds, each round every configuration once, round `r` rotated to start at `r mod n`.
    pub fn plan(&self) -> Vec<PlannedRun> {
        let n = self.configs().len();
        let mut plan = Vec::with_capacity(n * (self.warmup + self.repeats));
        for round in 0..self.warmup {
            plan.extend((0..n).map(|k| PlannedRun {
                config: (k + round) % n,
                round,
                warmup: true,
            }));
        }
        for round in 0..self.repeats {
            plan.extend((0..n).map(|k| PlannedRun {
                config: (k + round) % n,
                round,
                warmup: false,
            }));
        }
        plan
    }

    /// Runs in all (warm-up included).
    pub fn total_runs(&self) -> usize {
        self.configs().len() * (self.warmup + self.repeats)
    }
}

/// One planned run: which configuration (index into [`SweepConfig::configs`]), which round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlannedRun {
    /// Index into [`SweepConfig::configs`].
    pub config: usize,
    /// The round, counted within warm-ups or within measured rounds.
    pub round: usize,
    /// Whether the run is a warm-up.
    pub warmup: bool,
}
