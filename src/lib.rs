//! tessera, the app: the command line ([`cli`]) and the window ([`ui`]) over one engine,
//! [`tessera_engine`], which never imports either. `cli` and `ui` do not import each other;
//! what both need lives here ([`assets`], [`plots`], [`exit`]).

pub mod assets;
pub mod cli;
pub mod colormap;
pub mod exit;
#[cfg(feature = "png-charts")]
pub mod plots;
#[cfg(not(feature = "png-charts"))]
#[path = "plots_off.rs"]
pub mod plots;
pub mod sheet;
pub mod ui;
