//! The batch pipeline (folder in, folder out). Being written: see issue 4.
