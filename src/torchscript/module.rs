//! A TorchScript model under test: loaded with libtorch, run in eval mode
//! without gradients, and probed once at load so that a model that does
//! not match its description fails early, with the file and the shapes.

use std::path::{Path, PathBuf};

use tch::{CModule, Device, IValue, Kind, Tensor};

use super::description::ModelDescription;
use crate::error::{Error, Result};
use crate::models::{Predictor, Task};

/// Canvases in the probe batch. More than one, so that a model traced
/// with a fixed batch size of 1 fails at load rather than mid-check.
const PROBE_BATCH: i64 = 2;

/// Slack for probabilities that a model computes in float arithmetic.
const PROBABILITY_SLACK: f64 = 1e-4;

/// A loaded TorchScript file with its description.
pub struct TorchScriptModel {
    module: CModule,
    path: PathBuf,
    description: ModelDescription,
    /// Number of classes, found by the probe; `None` for mask outputs.
    classes: Option<i64>,
}

impl std::fmt::Debug for TorchScriptModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TorchScriptModel")
            .field("path", &self.path)
            .field("description", &self.description)
            .field("classes", &self.classes)
            .finish()
    }
}

/// Returns the informative line of a libtorch error. Errors raised inside
/// a TorchScript function carry an interpreter traceback whose last
/// `RuntimeError:` line contains the message, and other errors start with
/// it.
pub(crate) fn torch_message(error: &tch::TchError) -> String {
    let text = error.to_string();
    let runtime = text
        .lines()
        .rev()
        .find_map(|line| line.trim().strip_prefix("RuntimeError: "))
        .map(str::to_string);
    runtime.unwrap_or_else(|| text.lines().next().unwrap_or_default().trim().to_string())
}

/// Formats a shape as `[2, 3, 96, 96]`.
fn shape_text(shape: &[i64]) -> String {
    let dims: Vec<String> = shape.iter().map(i64::to_string).collect();
    format!("[{}]", dims.join(", "))
}

/// Names the kind of a non-tensor TorchScript value.
fn ivalue_kind(value: &IValue) -> &'static str {
    match value {
        IValue::None => "None",
        IValue::Tuple(_) => "a tuple",
        IValue::GenericList(_)
        | IValue::TensorList(_)
        | IValue::IntList(_)
        | IValue::DoubleList(_)
        | IValue::BoolList(_)
        | IValue::StringList(_) => "a list",
        IValue::GenericDict(_) => "a dict",
        IValue::String(_) => "a string",
        IValue::Int(_) | IValue::Double(_) | IValue::Bool(_) => "a number",
        IValue::Object(_) => "an object",
        IValue::Device(_) => "a device",
        IValue::Tensor(_) => "a tensor",
        _ => "a non-tensor value",
    }
}

impl TorchScriptModel {
    /// Loads the TorchScript file at `path`, puts it in eval mode and
    /// probes it with a batch of mid-grey canvases. Errors name the file
    /// and, for a mismatch, the input shape and the expected and actual
    /// output shapes.
    pub fn load(path: &Path, description: ModelDescription) -> Result<Self> {
        description.validate(path)?;
        let fail = |reason: String| Error::TorchScript {
            path: path.to_path_buf(),
            reason,
        };
        if !path.is_file() {
            return Err(fail("TorchScript model file not found".into()));
        }
        let mut module = CModule::load_on_device(path, Device::Cpu).map_err(|e| {
            fail(format!(
                "not a TorchScript file (expected the output of torch.jit.trace or torch.jit.script, \
                 saved with .save): {}",
                torch_message(&e)
            ))
        })?;
        module
            .f_set_eval()
            .map_err(|e| fail(format!("could not switch the model to eval mode: {}", torch_message(&e))))?;
        let mut model = TorchScriptModel {
            module,
            path: path.to_path_buf(),
            description,
            classes: None,
        };
        model.probe()?;
        Ok(model)
    }

    /// Returns the description the model was loaded with.
    pub fn description(&self) -> &ModelDescription {
        &self.description
    }

    /// Returns the file the model was loaded from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Returns the number of classes of a classifier; `None` for masks.
    pub fn classes(&self) -> Option<i64> {
        self.classes
    }

    fn error(&self, reason: String) -> Error {
        Error::TorchScript {
            path: self.path.clone(),
            reason,
        }
    }

    /// Runs the module on an encoded input and checks that it returns one
    /// tensor of the described shape.
    fn forward(&self, input: &Tensor) -> Result<Tensor> {
        let _no_grad = tch::no_grad_guard();
        let input_shape = shape_text(&input.size());
        let output = self.module.forward_is(&[IValue::Tensor(input.shallow_clone())]).map_err(|e| {
            self.error(format!(
                "the model failed on an input of shape {input_shape} (canvas {} with 3 channels, from \
                 its description): {}",
                self.description.canvas,
                torch_message(&e)
            ))
        })?;
        let output = match output {
            IValue::Tensor(tensor) => tensor,
            other => {
                return Err(self.error(format!(
                    "the model returned {} for an input of shape {input_shape}; expected one tensor \
                     of shape {} ({})",
                    ivalue_kind(&other),
                    self.description.expected_output(input.size()[0]),
                    self.description.output
                )))
            }
        };
        let batch = input.size()[0];
        let shape = output.size();
        let classes_differ = matches!(self.classes, Some(classes) if shape.get(1) != Some(&classes));
        if !self.description.output_fits(&shape, batch) || classes_differ {
            let expected = match self.classes {
                Some(classes) => shape_text(&[batch, classes]),
                None => self.description.expected_output(batch),
            };
            return Err(self.error(format!(
                "the model returned shape {} for an input of shape {input_shape}; output = \"{}\" \
                 expects {expected}",
                shape_text(&shape),
                self.description.output
            )));
        }
        if !matches!(output.kind(), Kind::Float | Kind::Double | Kind::Half | Kind::BFloat16) {
            return Err(self.error(format!(
                "the model returned {:?} values; expected floating-point {}",
                output.kind(),
                self.description.output
            )));
        }
        Ok(output)
    }

    /// Checks the model once on mid-grey canvases: its input, the shape of
    /// its output, and that declared probabilities are probabilities.
    fn probe(&mut self) -> Result<()> {
        let canvas = self.description.canvas;
        let canvases = Tensor::full([PROBE_BATCH, 3, canvas, canvas], 0.5, (Kind::Float, Device::Cpu));
        let output = self.forward(&self.description.encode(&canvases))?.to_kind(Kind::Float);
        if self.description.output.task() == Task::Classification {
            self.classes = Some(output.size()[1]);
        }
        if output.isfinite().all().int64_value(&[]) == 0 {
            return Err(self.error("the model returned NaN or infinite values on mid-grey canvases".into()));
        }
        if self.description.output.is_probabilities() {
            let (low, high) = (output.min().double_value(&[]), output.max().double_value(&[]));
            if low < -PROBABILITY_SLACK || high > 1.0 + PROBABILITY_SLACK {
                return Err(self.error(format!(
                    "output = \"{}\" needs values in [0, 1], but the model returned values from {low:.4} \
                     to {high:.4}; describe logits with output = \"{}\"",
                    self.description.output,
                    self.description.output.to_string().replace("probabilities", "logits")
                )));
            }
        }
        if self.description.output == super::description::OutputKind::ClassProbabilities {
            let sums = output.sum_dim_intlist([1].as_slice(), false, Kind::Float);
            let worst = (sums - 1.0).abs().max().double_value(&[]);
            if worst > 1e-3 {
                return Err(self.error(format!(
                    "output = \"class-probabilities\" needs rows that sum to 1, but a row is off by \
                     {worst:.4}; describe logits with output = \"class-logits\""
                )));
            }
        }
        Ok(())
    }
}

impl Predictor for TorchScriptModel {
    fn task(&self) -> Task {
        self.description.output.task()
    }

    fn predict(&self, canvases: &Tensor) -> Result<Tensor> {
        let output = self.forward(&self.description.encode(canvases))?;
        if output.isfinite().all().int64_value(&[]) == 0 {
            return Err(Error::NonFinite {
                context: format!("{}: the model output contains NaN or infinity", self.path.display()),
            });
        }
        Ok(self.description.probabilities(&output))
    }
}
