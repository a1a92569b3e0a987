//! (to be written)

use crate::ToolDescriptor;

pub static TOOLS: &[&ToolDescriptor] = &[];
