//! tessera: an image-processing workbench. OpenCV-exact grayscale and thresholding, tiled
//! across a chosen number of workers; a window (`ui`) and headless subcommands (`cli`) over
//! one engine (`engine`, which never imports the UI).

pub mod assets;
pub mod cli;
pub mod engine;
pub mod ui;
