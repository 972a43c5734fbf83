//! The machine and settings a report is measured with.

/// Hardware and libtorch settings printed at the top of the report.
pub struct Machine {
    /// `model name` of the first processor in /proc/cpuinfo, as lscpu
    /// prints it.
    pub cpu_model: String,
    /// `cpu family` and `model` of the first processor, which tell apart
    /// CPU generations that share a model name.
    pub cpu_generation: String,
    pub logical_cpus: usize,
    /// libtorch's intra-op thread count (`at::get_num_threads`).
    pub torch_threads: i32,
    /// Read from libtorch's headers by build.rs.
    pub libtorch_version: &'static str,
}

impl Machine {
    /// Describes the machine this process runs on.
    pub fn current() -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let field = |name: &str| {
            cpuinfo
                .lines()
                .filter_map(|line| line.split_once(':'))
                .find(|(key, _)| key.trim() == name)
                .map(|(_, value)| value.trim().to_string())
        };
        let cpu_generation = match (field("cpu family"), field("model")) {
            (Some(family), Some(model)) => format!("family {family}, model {model}"),
            _ => "family unknown".to_string(),
        };
        Machine {
            cpu_model: field("model name").unwrap_or_else(|| "unknown CPU".to_string()),
            cpu_generation,
            logical_cpus: std::thread::available_parallelism().map_or(0, |n| n.get()),
            torch_threads: tch::get_num_threads(),
            libtorch_version: option_env!("EQCHECK_LIBTORCH_VERSION").unwrap_or("unknown"),
        }
    }
}

/// Returns the 1, 5 and 15 minute load averages from /proc/loadavg.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| text.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unavailable".to_string())
}
