//! PyTorch models under test: TorchScript files (the output of
//! `torch.jit.trace` or `torch.jit.script`) loaded with libtorch, the
//! description of what each one expects and returns, and the export of
//! the crate's own models to TorchScript.

mod description;
mod export;
mod module;

pub use description::{description_path, ChannelOrder, ModelDescription, OutputKind};
pub use export::{export_torchscript, Export};
pub use module::TorchScriptModel;
