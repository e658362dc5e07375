//! `tessera bench --procs LIST --threads LIST`: a processes × threads grid, for a command
//! taking both (`--cmd '... {procs} ... {threads}'`) or for tessera itself splitting a folder
//! over P `tessera batch --shard` processes of T workers (`--dir`). Prints the table and the
//! verdict, writes `--csv`, `--json` and the heat map `grid.png` in `--png DIR`.

use std::ffi::OsString;
use std::sync::Arc;

use super::bench::{BenchArgs, check_targets, join};
use tessera_engine::io::write_atomic;
use tessera_engine::pool::available_cores;
use tessera_engine::sweep::grid::{self, GridConfig, GridResult, Launch};
use tessera_engine::sweep::report::{self, Machine};
use tessera_engine::tile::TileSize;
use tessera_engine::{Control, EngineError};

/// Runs the grid the arguments describe and writes the requested files.
pub fn run(args: &BenchArgs) -> Result<GridResult, EngineError> {
    let cores = available_cores();
    let cfg = GridConfig::parse(
        args.procs.as_deref().unwrap_or("1"),
        args.threads.as_deref().unwrap_or("1"),
        args.repeats,
        args.warmup,
    )?;
    if args.tiles != [TileSize::Auto] {
        return Err(EngineError::InvalidParam(
            "--tiles does not apply to a --procs/--threads grid".into(),
        ));
    }
    check_targets(args)?;
    // Kept until the grid ends: the shards' results go there.
    let mut _scratch = None;
    let (launch, workload) = match (&args.cmd, &args.dir) {
        (Some(c), _) => {
            if !c.contains("{procs}") && !c.contains("{threads}") {
                return Err(EngineError::InvalidParam(
                    "--cmd with --procs/--threads: put {procs} and {threads} in the command \
                     where it takes them"
                        .into(),
                ));
            }
            (Launch::Shell(c.clone()), format!("the command `{c}`"))
        }
        (None, Some(dir)) => {
            args.op.op()?;
            // Checks the folder and counts its images as the worker sweep does.
            let folder = tessera_engine::sweep::folder::FolderWorkload::new(
                dir,
                false,
                &args.op.settings(),
            )?;
            let info = tessera_engine::sweep::Workload::info(&folder);
            let out = folder.scratch_dir().to_path_buf();
            super::signals::remove_on_stop(out.clone());
            let exe = std::env::current_exe().map_err(|e| {
                EngineError::Internal(format!("cannot find the tessera program: {e}"))
            })?;
            let mut argv: Vec<OsString> = vec![
                exe.into(),
                "batch".into(),
                dir.into(),
                "-o".into(),
                out.into(),
                "--quiet".into(),
                "--shard".into(),
                "{proc}/{procs}".into(),
                "--workers".into(),
                "{threads}".into(),
            ];
            argv.extend(args.op.to_flags().into_iter().map(OsString::from));
            _scratch = Some(folder);
            (
                Launch::Split(argv),
                format!(
                    "tessera batch --shard over {} ({} images), {}",
                    info.name, info.images, info.op_description
                ),
            )
        }
        (None, None) => {
            return Err(EngineError::InvalidParam(
                "--procs/--threads time whole processes: give --cmd '... {procs} ... {threads}' \
                 or --dir FOLDER"
                    .into(),
            ));
        }
    };
    crate::outln!("workload: {workload}");
    let m = Machine::detect(cores);
    crate::outln!(
        "machine: {} cores, {}, {} {}",
        cores,
        m.cpu_model.as_deref().unwrap_or("unknown CPU"),
        m.os,
        m.arch
    );
    crate::outln!(
        "grid: processes {} x threads {}; {} warm-up and {} measured rounds, each round \
         starting at another cell",
        join(cfg.procs.iter()),
        join(cfg.threads.iter()),
        cfg.warmup,
        cfg.repeats
    );

    let ctl = Arc::new(Control::new());
    super::signals::install(&ctl, "stopping the running processes");
    let ctl = &*ctl;
    let total = cfg.cells().len() * (cfg.warmup + cfg.repeats);
    let result = super::with_runs_bar(args.quiet, total, ctl, "grid", || {
        grid::run(&launch, &workload, &cfg, cores, ctl)
    })?;
    crate::out!("{}", format_grid(&result));

    let mut wrote = Vec::new();
    if let Some(p) = &args.csv {
        write_atomic(p, result.to_csv().as_bytes())?;
        wrote.push(p.display().to_string());
    }
    if let Some(p) = &args.json {
        let v = serde_json::json!({ "machine": m, "grid": result });
        let text = serde_json::to_string_pretty(&v)
            .map_err(|e| EngineError::Internal(format!("JSON: {e}")))?;
        report::write_atomic(p, text.as_bytes())?;
        wrote.push(p.display().to_string());
    }
    if let Some(dir) = &args.png {
        std::fs::create_dir_all(dir).map_err(|e| EngineError::Output {
            path: dir.clone(),
            reason: tessera_engine::io::io_reason(&e),
        })?;
        let img = crate::plots::grid_heatmap(&result).map_err(EngineError::Internal)?;
        let p = dir.join("grid.png");
        crate::plots::save_png(&img, &p)?;
        wrote.push(p.display().to_string());
    }
    if !wrote.is_empty() {
        crate::outln!("wrote {}", wrote.join(", "));
    }
    Ok(result)
}

/// The grid as text: speedup and its interval per cell (rows processes, columns threads), `*`
/// where processes × threads pass the cores, then the verdict and any warnings.
pub fn format_grid(g: &GridResult) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = write!(out, "\n{:>10}", "procs \\ thr");
    for t in &g.config.threads {
        let _ = write!(out, "{:>22}", t);
    }
    out.push('\n');
    for &p in &g.config.procs {
        let _ = write!(out, "{p:>11}");
        for &t in &g.config.threads {
            let cell = g.cell(p, t).map_or(String::new(), |c| {
                format!(
                    "{:.2}x [{:.2},{:.2}]{}",
                    c.speedup,
                    c.speedup_ci.0,
                    c.speedup_ci.1,
                    if c.oversubscribed { "*" } else { " " }
                )
            });
            let _ = write!(out, "{cell:>22}");
        }
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "\nSpeedup over {}×{} (median of per-round ratios, 95 % bootstrap interval), {} cores; \
         * processes × threads > cores.",
        g.baseline.0, g.baseline.1, g.cores
    );
    let _ = writeln!(out, "{}", g.verdict());
    for w in &g.warnings {
        let _ = writeln!(out, "warning: {w}");
    }
    out
}
