//! The machine and settings a report is measured with.

/// Hardware and libtorch settings printed at the top of the report.
pub struct Machine {
    /// `model name` of the first processor in /proc/cpuinfo, as lscpu
    /// prints it.
    pub cpu_model: String,
    pub logical_cpus: usize,
    /// libtorch's intra-op thread count (`at::get_num_threads`).
    pub torch_threads: i32,
    /// Read from libtorch's headers by build.rs.
    pub libtorch_version: &'static str,
}

impl Machine {
    /// Describes the machine this process runs on.
    pub fn current() -> Self {
        let cpu_model = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|text| {
                text.lines()
                    .find(|line| line.starts_with("model name"))
                    .and_then(|line| line.split_once(':'))
                    .map(|(_, value)| value.trim().to_string())
            })
            .unwrap_or_else(|| "unknown CPU".to_string());
        Machine {
            cpu_model,
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
